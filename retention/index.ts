/** Retention rules, legal holds, Object Lock sync, reviewed disposal and fixity audit (issue 6). */
export * from './dates.ts';
export * from './rules.ts';
export * from './holds.ts';
export * from './object-lock.ts';
export * from './disposal.ts';
export * from './fixity.ts';
export * from './fixity-restore.ts';
export * from './certificate-pdf.ts';
export * from './fixity-report.store.ts';
export * from './disposal-batches.store.ts';
export * from './rules.store.ts';
export * from './holds.store.ts';
export * from './object-lock.store.ts';
export * from './disposal.store.ts';
export * from './fixity.store.ts';
