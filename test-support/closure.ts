import type { Queryable } from '../db/index.ts';

/**
 * Writes a book's computed closure directly, for tests of something else than how it is computed.
 * A book without one is closed (issue 18), so a fixture that needs an open book gives it a closure
 * that has ended (e.g. '2000-12-31'), and one that needs a closed book a closure that has not.
 */
export async function setClosure(db: Queryable, bookId: string, closedUntil: string): Promise<void> {
  await db.query(
    `INSERT INTO item_retention (book_id, explanation, closed_until, closure_explanation, computed_reason) VALUES ($1, 'test', $2::date, $3, 'test')
     ON CONFLICT (book_id) DO UPDATE SET closed_until = EXCLUDED.closed_until, closure_explanation = EXCLUDED.closure_explanation`,
    [bookId, closedUntil, `test: closed until ${closedUntil}`],
  );
}
