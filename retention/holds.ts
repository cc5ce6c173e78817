import { AppError } from '../common/index.ts';
import { isUniqueViolation } from '../db/index.ts';
import type { AppDeps } from '../app/deps.ts';
import type { Queryable } from '../db/index.ts';
import { searchPages, type PageSearchQuery } from '../search/index.ts';
import { syncObjectLocks, type LockReport } from './object-lock.ts';

type Deps = Pick<AppDeps, 'db' | 'store' | 'log'>;

/** What a hold covers: a book, or one page of it. */
export interface HoldTarget {
  bookId: string;
  pageId?: string | null;
}

/** A legal hold. */
export interface LegalHold {
  id: string;
  name: string;
  reason: string;
  authority: string;
  createdBy: string;
  createdAt: Date;
  releasedBy: string | null;
  releasedAt: Date | null;
  releaseReason: string | null;
  /** For a hold placed on search results: the query, how the items were chosen and how many matched. */
  query: HoldQuery | null;
  items: { bookId: string; pageId: string | null }[];
}

/** The search a hold was placed from, kept with it so the hold's scope can be explained later. */
export interface HoldQuery {
  search: Omit<PageSearchQuery, 'cursor' | 'limit'>;
  scope: 'pages' | 'books';
  matchedPages: number;
  runAt: string;
}

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

/**
 * Places a named hold on books or pages and mirrors it to the store's Object Lock legal hold
 * (where the bucket has Object Lock). The database is the authority: the hold is committed first,
 * so a failed mirror leaves drift that reconcile repairs, never a hold that only the store knows.
 */
export async function placeHold(deps: Deps, input: { name: string; reason: string; authority: string; by: string; items: HoldTarget[]; query?: HoldQuery }): Promise<{ hold: LegalHold; lock: LockReport }> {
  for (const f of ['name', 'reason', 'authority', 'by'] as const) {
    if (!input[f]?.trim()) throw new AppError('ERR_VALIDATION', `a legal hold needs ${f}`, { field: f });
  }
  if (input.items.length === 0) throw new AppError('ERR_VALIDATION', 'a legal hold covers at least one book or page', { field: 'items' });
  const id = await deps.db.transaction(async (tx) => {
    let holdId: string;
    try {
      const h = await tx.query<{ id: string }>(
        'INSERT INTO legal_holds (name, reason, authority, created_by, query) VALUES ($1, $2, $3, $4, $5) RETURNING id',
        [input.name.trim(), input.reason.trim(), input.authority.trim(), input.by.trim(), input.query ? JSON.stringify(input.query) : null],
      );
      holdId = h.rows[0]!.id;
    } catch (e) {
      if (isUniqueViolation(e)) throw new AppError('ERR_CONFLICT', `an active legal hold is already named ${input.name.trim()}`);
      throw e;
    }
    for (const it of input.items) {
      // Locks the book against a disposal running at the same moment.
      const b = await tx.query('SELECT id FROM books WHERE id = $1 FOR UPDATE', [it.bookId]);
      if (!b.rows[0]) throw new AppError('ERR_BOOK_NOT_FOUND', `book ${it.bookId} not found`);
      if (it.pageId) {
        const p = await tx.query('SELECT id FROM pages WHERE id = $1 AND book_id = $2', [it.pageId, it.bookId]);
        if (!p.rows[0]) throw new AppError('ERR_PAGE_NOT_FOUND', `page ${it.pageId} is not a page of book ${it.bookId}`);
      }
      await tx.query(
        'INSERT INTO legal_hold_items (hold_id, book_id, page_id, added_by) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING',
        [holdId, it.bookId, it.pageId ?? null, input.by.trim()],
      );
    }
    return holdId;
  });
  const hold = (await withItems(deps.db, (await deps.db.query<HoldRow>('SELECT * FROM legal_holds WHERE id = $1', [id])).rows))[0]!;
  const lock = await syncObjectLocks(deps, { bookIds: [...new Set(hold.items.map((i) => i.bookId))], repair: true });
  return { hold, lock };
}

/** Releases a hold; the store's legal hold is lifted only on objects no other active hold covers. */
export async function releaseHold(deps: Deps, holdId: string, by: { user: string; reason: string }): Promise<{ hold: LegalHold; lock: LockReport }> {
  if (!by.user.trim() || !by.reason.trim()) throw new AppError('ERR_VALIDATION', 'releasing a hold needs who and why', { field: 'reason' });
  const r = await deps.db.query<HoldRow>(
    `UPDATE legal_holds SET released_by = $2, released_at = now(), release_reason = $3 WHERE id = $1 AND released_at IS NULL RETURNING *`,
    [holdId, by.user.trim(), by.reason.trim()],
  );
  if (!r.rows[0]) {
    const exists = await deps.db.query('SELECT 1 FROM legal_holds WHERE id = $1', [holdId]);
    throw exists.rows[0] ? new AppError('ERR_CONFLICT', `legal hold ${holdId} is already released`) : new AppError('ERR_NOT_FOUND', `legal hold ${holdId} not found`);
  }
  const hold = (await withItems(deps.db, r.rows))[0]!;
  const lock = await syncObjectLocks(deps, { bookIds: [...new Set(hold.items.map((i) => i.bookId))], repair: true });
  return { hold, lock };
}

/** Most pages a hold placed from a search may cover; a broader query must be narrowed first. */
export const HOLD_SEARCH_MAX_PAGES = 5000;

/**
 * Places a hold on the results of a page search: every page the query finds (scope 'pages'), or
 * every book with such a page ('books'). All result pages are read, so the hold covers exactly
 * what the search shows; a query matching more than `maxPages` is refused rather than held in part.
 * The query is kept with the hold.
 */
export async function placeHoldOnSearch(
  deps: Deps,
  input: { name: string; reason: string; authority: string; by: string; search: Omit<PageSearchQuery, 'cursor' | 'limit'>; scope?: 'pages' | 'books'; maxPages?: number },
): Promise<{ hold: LegalHold; lock: LockReport; matchedPages: number }> {
  const max = input.maxPages ?? HOLD_SEARCH_MAX_PAGES;
  const scope = input.scope ?? 'pages';
  const pages = new Map<string, string>();
  let cursor: string | undefined;
  do {
    const r = await searchPages(deps.db, { ...input.search, limit: 100, ...(cursor ? { cursor } : {}) });
    for (const h of r.hits) pages.set(h.pageId, h.bookId);
    if (pages.size > max) throw new AppError('ERR_VALIDATION', `the search matches more than ${max} pages: narrow it before placing a hold`, { field: 'search' });
    cursor = r.nextCursor ?? undefined;
  } while (cursor);
  if (pages.size === 0) throw new AppError('ERR_VALIDATION', 'the search matches no page: nothing to hold', { field: 'search' });
  const items: HoldTarget[] = scope === 'books'
    ? [...new Set(pages.values())].map((bookId) => ({ bookId }))
    : [...pages].map(([pageId, bookId]) => ({ bookId, pageId }));
  const query: HoldQuery = { search: input.search, scope, matchedPages: pages.size, runAt: new Date().toISOString() };
  const r = await placeHold(deps, { name: input.name, reason: input.reason, authority: input.authority, by: input.by, items, query });
  return { ...r, matchedPages: pages.size };
}
