export * from './entries.ts';
export { parseRegisterRow, type ParsedRow } from './parse-row.ts';
export { getEntry, listPageEntries } from './entries.store.ts';
