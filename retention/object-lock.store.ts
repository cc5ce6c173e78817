import type { Queryable } from '../db/index.ts';

/** One stored object version of a key the lock sync covers, with the retention and holds of the book recording it. */
export interface LockTargetRow {
  key: string;
  versionId: string | null;
  retainUntil: string | null;
  permanent: boolean | null;
  /** False when the recording book's retention was never computed. */
  computed: boolean;
  /** True when an active hold covers this object of the book. */
  held: boolean;
}

/**
 * Every row recording a key of the given books' objects (all books when undefined), including the
 * rows of OTHER books sharing a content-addressed key, each with its book's retention and holds.
 */
export async function lockTargetRows(db: Queryable, bookIds: string[] | undefined): Promise<LockTargetRow[]> {
  const r = await db.query<{ store_key: string; version_id: string | null; retain_until: string | null; permanent: boolean | null; computed: boolean; held: boolean }>(
    `WITH keys AS (
       SELECT DISTINCT store_key FROM stored_objects WHERE $1::uuid[] IS NULL OR book_id = ANY($1)
     )
     SELECT o.store_key, o.version_id, ir.retain_until, ir.permanent, ir.book_id IS NOT NULL AS computed,
            EXISTS (SELECT 1 FROM legal_hold_items hi JOIN legal_holds h ON h.id = hi.hold_id AND h.released_at IS NULL
                     WHERE hi.book_id = o.book_id
                       -- a page hold covers that page's objects and the book-level ones (original, PDF, package) that contain it
                       AND (hi.page_id IS NULL OR o.page_id IS NULL OR hi.page_id = o.page_id)) AS held
       FROM stored_objects o JOIN keys k ON k.store_key = o.store_key
       LEFT JOIN item_retention ir ON ir.book_id = o.book_id`,
    [bookIds ?? null],
  );
  return r.rows.map((row) => ({ key: row.store_key, versionId: row.version_id, retainUntil: row.retain_until, permanent: row.permanent, computed: row.computed, held: row.held }));
}

/**
 * Records on the books' retention the lock the store now carries: their retain-until's end, or
 * `horizon` (an ISO instant) for items with no end date, and when it was synced.
 */
export async function recordLockSync(db: Queryable, bookIds: string[], horizon: string): Promise<void> {
  await db.query(
    `UPDATE item_retention SET lock_until = CASE WHEN permanent OR retain_until IS NULL THEN $2::timestamptz ELSE retain_until + 1 END, lock_synced_at = now()
      WHERE book_id = ANY($1)`,
    [bookIds, horizon],
  );
}
