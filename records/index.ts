export * from './records.ts';
export * from './links.ts';
export { parseCsv, csvRecords, toCsv, csvField } from './csv.ts';
