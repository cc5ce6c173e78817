export * from './entries.ts';
export { parseRegisterRow, type ParsedRow } from './parse-row.ts';
