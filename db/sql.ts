/**
 * Quotes an SQL identifier (schema, table) for the few statements that cannot take it as a
 * parameter. Values are never quoted by hand: they go in `$n` parameters.
 */
export function quoteIdent(name: string): string {
  if (name.length === 0 || name.includes('\0')) throw new TypeError('an SQL identifier must be non-empty and free of NUL');
  return `"${name.replaceAll('"', '""')}"`;
}

/** Sends the database the smallest statement there is; resolves when it answers (readiness probes). */
export async function pingDatabase(db: { query(sql: string): Promise<unknown> }): Promise<void> {
  await db.query('SELECT 1');
}
