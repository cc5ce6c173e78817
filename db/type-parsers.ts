/**
 * How column values come back, identical on pg and PGlite. The two drivers disagree out of the
 * box (pg: int8 as string, date as local midnight, bytea as Buffer, interval as an object;
 * PGlite: int8 as number or bigint, date as UTC midnight, bytea as Uint8Array, interval as text),
 * so both adapters install these parsers on their own connection, never globally.
 *
 * | PostgreSQL            | JavaScript                                        |
 * | --------------------- | ------------------------------------------------- |
 * | int2, int4, int8      | number (int8 beyond 2^53 - 1 throws a RangeError) |
 * | real, double          | number                                            |
 * | numeric               | string (exact decimal)                            |
 * | timestamptz           | Date                                              |
 * | date                  | string 'YYYY-MM-DD' (a calendar day, not an instant) |
 * | interval              | string as PostgreSQL prints it ('1 day 02:00:00') |
 * | json, jsonb           | parsed value                                      |
 * | uuid, text, char(n)   | string                                            |
 * | bytea                 | Buffer                                            |
 * | arrays of the above   | arrays of the above                               |
 */

/** OIDs of the types whose parsing the adapters override. */
export const OID = {
  bytea: 17,
  int8: 20,
  textArray: 1009,
  int8Array: 1016,
  date: 1082,
  dateArray: 1182,
  interval: 1186,
  intervalArray: 1187,
} as const;

/**
 * int8 as a number. Counts, sizes and identity ids fit easily; a value that would lose
 * precision throws rather than silently becoming a different number.
 */
export function parseInt8(text: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw new RangeError(`int8 value ${text} does not fit a JavaScript number exactly`);
  return n;
}

/** Applies `f` to every non-null leaf of a (possibly nested) array parsed from PostgreSQL. */
export function mapArray(value: unknown, f: (s: string) => unknown): unknown {
  if (Array.isArray(value)) return value.map((v) => mapArray(v, f));
  return value === null ? null : f(value as string);
}

/** bytea in PostgreSQL's default hex output as a Buffer; `fallback` handles the old escape format. */
export function parseByteaHex(text: string, fallback: (text: string) => Uint8Array): Buffer {
  if (text.startsWith('\\x')) return Buffer.from(text.slice(2), 'hex');
  const bytes = fallback(text);
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Leaves text as PostgreSQL printed it. */
export function asText(text: string): string {
  return text;
}
