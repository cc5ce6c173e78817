import type { Queryable } from '../db/index.ts';

// A book is closed today when its computed closure runs past today, and also when no closure was
// ever computed for it (no item_retention row: created outside createBookWithRetention, or its
// record class changed and the recompute has not run yet). Failing closed: a book is never open for
// want of a row. A row whose closed_until is null was computed with no closure rule covering the book.
const CLOSED = '(ir.book_id IS NULL OR ir.closed_until > current_date)';

/**
 * True when the book is closed today: under a privacy closure (`item_retention.closed_until` after
 * today) or without a computed closure. False when there is no such book (the route answers 404).
 */
export async function isRestricted(db: Queryable, bookId: string): Promise<boolean> {
  const r = await db.query<{ closed: boolean }>(`SELECT ${CLOSED} AS closed FROM books b LEFT JOIN item_retention ir ON ir.book_id = b.id WHERE b.id = $1`, [bookId]);
  return r.rows[0]?.closed === true;
}

/** Of the given books, those closed today (under a closure, or without a computed one). */
export async function restrictedBooks(db: Queryable, bookIds: readonly string[]): Promise<Set<string>> {
  if (bookIds.length === 0) return new Set();
  const r = await db.query<{ id: string }>(
    `SELECT b.id FROM books b LEFT JOIN item_retention ir ON ir.book_id = b.id WHERE b.id = ANY($1::uuid[]) AND ${CLOSED}`, [[...new Set(bookIds)]],
  );
  return new Set(r.rows.map((x) => x.id));
}
