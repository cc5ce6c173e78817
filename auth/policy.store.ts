import type { Queryable } from '../db/index.ts';

/** True when the book is under a privacy closure today (`item_retention.closed_until` after today). */
export async function isRestricted(db: Queryable, bookId: string): Promise<boolean> {
  const r = await db.query<{ closed: boolean }>('SELECT closed_until > current_date AS closed FROM item_retention WHERE book_id = $1', [bookId]);
  return r.rows[0]?.closed === true;
}

/** Of the given books, those under a closure today. */
export async function restrictedBooks(db: Queryable, bookIds: readonly string[]): Promise<Set<string>> {
  if (bookIds.length === 0) return new Set();
  const r = await db.query<{ book_id: string }>('SELECT book_id FROM item_retention WHERE book_id = ANY($1::uuid[]) AND closed_until > current_date', [[...new Set(bookIds)]]);
  return new Set(r.rows.map((x) => x.book_id));
}
