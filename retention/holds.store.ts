import type { Queryable } from '../db/index.ts';
import type { HoldQuery, LegalHold } from './holds.ts';

interface HoldRow {
  id: string; name: string; reason: string; authority: string; created_by: string; created_at: Date;
  released_by: string | null; released_at: Date | null; release_reason: string | null; query: HoldQuery | null;
}

async function withItems(db: Queryable, rows: HoldRow[]): Promise<LegalHold[]> {
  if (rows.length === 0) return [];
  const items = await db.query<{ hold_id: string; book_id: string; page_id: string | null }>(
    'SELECT hold_id, book_id, page_id FROM legal_hold_items WHERE hold_id = ANY($1) ORDER BY added_at', [rows.map((r) => r.id)],
  );
  return rows.map((r) => ({
    id: r.id, name: r.name, reason: r.reason, authority: r.authority, createdBy: r.created_by, createdAt: r.created_at,
    releasedBy: r.released_by, releasedAt: r.released_at, releaseReason: r.release_reason, query: r.query ?? null,
    items: items.rows.filter((i) => i.hold_id === r.id).map((i) => ({ bookId: i.book_id, pageId: i.page_id })),
  }));
}

/** Holds, active ones only unless `all`. */
export async function listHolds(db: Queryable, opts: { all?: boolean; bookId?: string } = {}): Promise<LegalHold[]> {
  const r = await db.query<HoldRow>(
    `SELECT h.* FROM legal_holds h
      WHERE ($1 OR h.released_at IS NULL)
        AND ($2::uuid IS NULL OR EXISTS (SELECT 1 FROM legal_hold_items i WHERE i.hold_id = h.id AND i.book_id = $2))
      ORDER BY h.created_at`,
    [opts.all ?? false, opts.bookId ?? null],
  );
  return withItems(db, r.rows);
}

/** The active holds covering a book or any of its pages (what blocks its disposal). */
export async function activeHoldsOn(db: Queryable, bookId: string): Promise<{ id: string; name: string }[]> {
  const r = await db.query<{ id: string; name: string }>(
    `SELECT DISTINCT h.id, h.name FROM legal_holds h JOIN legal_hold_items i ON i.hold_id = h.id
      WHERE i.book_id = $1 AND h.released_at IS NULL ORDER BY h.name`, [bookId],
  );
  return r.rows;
}

/** One hold with its items, if it exists. */
export async function getHold(db: Queryable, holdId: string): Promise<LegalHold | undefined> {
  return (await withItems(db, (await db.query<HoldRow>('SELECT * FROM legal_holds WHERE id = $1', [holdId])).rows))[0];
}

/** Stores a new hold (fields already trimmed) and returns its id; a unique violation means an active hold has the name. */
export async function insertHold(tx: Queryable, h: { name: string; reason: string; authority: string; createdBy: string; query: HoldQuery | undefined }): Promise<string> {
  const r = await tx.query<{ id: string }>(
    'INSERT INTO legal_holds (name, reason, authority, created_by, query) VALUES ($1, $2, $3, $4, $5) RETURNING id',
    [h.name, h.reason, h.authority, h.createdBy, h.query ? JSON.stringify(h.query) : null],
  );
  return r.rows[0]!.id;
}

/** True when the page belongs to the book. */
export async function isPageOfBook(tx: Queryable, pageId: string, bookId: string): Promise<boolean> {
  const p = await tx.query('SELECT id FROM pages WHERE id = $1 AND book_id = $2', [pageId, bookId]);
  return p.rows[0] !== undefined;
}

/** Adds a book or page to a hold; adding what it already covers does nothing. */
export async function addHoldItem(tx: Queryable, holdId: string, item: { bookId: string; pageId: string | null }, addedBy: string): Promise<void> {
  await tx.query(
    'INSERT INTO legal_hold_items (hold_id, book_id, page_id, added_by) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING',
    [holdId, item.bookId, item.pageId, addedBy],
  );
}

/** Marks an active hold released now and returns it with its items; undefined when it is not active (released, or no such hold). */
export async function markHoldReleased(db: Queryable, holdId: string, by: { user: string; reason: string }): Promise<LegalHold | undefined> {
  const r = await db.query<HoldRow>(
    `UPDATE legal_holds SET released_by = $2, released_at = now(), release_reason = $3 WHERE id = $1 AND released_at IS NULL RETURNING *`,
    [holdId, by.user, by.reason],
  );
  if (!r.rows[0]) return undefined;
  return (await withItems(db, r.rows))[0]!;
}

/** True when a hold with this id exists, active or released. */
export async function holdExists(db: Queryable, holdId: string): Promise<boolean> {
  const exists = await db.query('SELECT 1 FROM legal_holds WHERE id = $1', [holdId]);
  return exists.rows[0] !== undefined;
}
