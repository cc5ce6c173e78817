/**
 * Quotes an SQL identifier (schema, table) for the few statements that cannot take it as a
 * parameter. Values are never quoted by hand: they go in `$n` parameters.
 */
export function quoteIdent(name: string): string {
  if (name.length === 0 || name.includes('\0')) throw new TypeError('an SQL identifier must be non-empty and free of NUL');
  return `"${name.replaceAll('"', '""')}"`;
}
