import type { Queryable } from '../db/index.ts';

/**
 * The book an entry was transcribed from, retired entries included: a closure on the book covers
 * every read through its entries, even of one since retired.
 */
export async function bookOfEntry(db: Queryable, entryId: string): Promise<string | undefined> {
  const r = await db.query<{ book_id: string }>('SELECT book_id FROM entries WHERE id = $1', [entryId]);
  return r.rows[0]?.book_id;
}

/** The book of an entry zone, retired zones included (a closure covers reads of a zone's history too). */
export async function bookOfZone(db: Queryable, zoneId: string): Promise<string | undefined> {
  const r = await db.query<{ book_id: string }>('SELECT book_id FROM entry_zones WHERE id = $1', [zoneId]);
  return r.rows[0]?.book_id;
}
