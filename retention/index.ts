/** Retention rules, legal holds, Object Lock sync, reviewed disposal and fixity audit (issue 6). */
export * from './dates.ts';
export * from './rules.ts';
export * from './holds.ts';
export * from './object-lock.ts';
export * from './disposal.ts';
export * from './fixity.ts';
export * from './fixity-restore.ts';
export * from './schedules.ts';
export * from './certificate-pdf.ts';
