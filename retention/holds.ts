import { AppError } from '../common/index.ts';
import { isUniqueViolation } from '../db/index.ts';
import type { AppDeps } from '../app/deps.ts';
import { searchPages, type PageSearchQuery, type PageSearchScope } from '../search/index.ts';
import { restrictedBooks } from '../auth/index.ts';
import { syncObjectLocks, type LockReport } from './object-lock.ts';
import { addHoldItem, getHold, holdExists, insertHold, isPageOfBook, markHoldReleased } from './holds.store.ts';
import { lockBook } from './rules.store.ts';

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
  /** The purpose the records manager stated, with which pages of closed books were held too. */
  purpose?: string;
  /** Pages of closed books the search found and the hold left out (no purpose stated). */
  withheldPages?: number;
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
      holdId = await insertHold(tx, { name: input.name.trim(), reason: input.reason.trim(), authority: input.authority.trim(), createdBy: input.by.trim(), query: input.query });
    } catch (e) {
      if (isUniqueViolation(e)) throw new AppError('ERR_CONFLICT', `an active legal hold is already named ${input.name.trim()}`);
      throw e;
    }
    for (const it of input.items) {
      // Locks the book against a disposal running at the same moment.
      if (!(await lockBook(tx, it.bookId))) throw new AppError('ERR_BOOK_NOT_FOUND', `book ${it.bookId} not found`);
      if (it.pageId && !(await isPageOfBook(tx, it.pageId, it.bookId))) throw new AppError('ERR_PAGE_NOT_FOUND', `page ${it.pageId} is not a page of book ${it.bookId}`);
      await addHoldItem(tx, holdId, { bookId: it.bookId, pageId: it.pageId ?? null }, input.by.trim());
    }
    return holdId;
  });
  const hold = (await getHold(deps.db, id))!;
  const lock = await syncObjectLocks(deps, { bookIds: [...new Set(hold.items.map((i) => i.bookId))], repair: true });
  return { hold, lock };
}

/** Releases a hold; the store's legal hold is lifted only on objects no other active hold covers. */
export async function releaseHold(deps: Deps, holdId: string, by: { user: string; reason: string }): Promise<{ hold: LegalHold; lock: LockReport }> {
  if (!by.user.trim() || !by.reason.trim()) throw new AppError('ERR_VALIDATION', 'releasing a hold needs who and why', { field: 'reason' });
  const hold = await markHoldReleased(deps.db, holdId, { user: by.user.trim(), reason: by.reason.trim() });
  if (!hold) {
    throw (await holdExists(deps.db, holdId)) ? new AppError('ERR_CONFLICT', `legal hold ${holdId} is already released`) : new AppError('ERR_NOT_FOUND', `legal hold ${holdId} not found`);
  }
  const lock = await syncObjectLocks(deps, { bookIds: [...new Set(hold.items.map((i) => i.bookId))], repair: true });
  return { hold, lock };
}

/** Most pages a hold placed from a search may cover; a broader query must be narrowed first. */
export const HOLD_SEARCH_MAX_PAGES = 5000;

/**
 * Places a hold on the results of a page search: every page the query finds (scope 'pages'), or
 * every book with such a page ('books'). All result pages are read, so the hold covers exactly
 * what the search shows its reader; a query matching more than `maxPages` is refused rather than
 * held in part. The search applies the closure filter of every listing: pages of the books
 * `withhold` names (by default every closed book) are left out and only counted, so a hold cannot
 * show which closed pages hold a name; a records manager who needs them held states a purpose,
 * kept with the hold's query (with `withhold` then letting closed books through). The query is
 * kept with the hold.
 */
export async function placeHoldOnSearch(
  deps: Deps,
  input: {
    name: string; reason: string; authority: string; by: string; search: Omit<PageSearchQuery, 'cursor' | 'limit'>; scope?: 'pages' | 'books'; maxPages?: number;
    purpose?: string | undefined; withhold?: PageSearchScope['withhold'];
  },
): Promise<{ hold: LegalHold; lock: LockReport; matchedPages: number; withheld: number }> {
  const max = input.maxPages ?? HOLD_SEARCH_MAX_PAGES;
  const scope = input.scope ?? 'pages';
  const withhold = input.withhold ?? ((ids: readonly string[]) => restrictedBooks(deps.db, ids));
  const pages = new Map<string, string>();
  let withheld = 0;
  let cursor: string | undefined;
  do {
    const r = await searchPages(deps.db, { ...input.search, limit: 100, ...(cursor ? { cursor } : {}) }, { withhold });
    for (const h of r.hits) pages.set(h.pageId, h.bookId);
    withheld += r.withheld;
    if (pages.size > max) throw new AppError('ERR_VALIDATION', `the search matches more than ${max} pages: narrow it before placing a hold`, { field: 'search' });
    cursor = r.nextCursor ?? undefined;
  } while (cursor);
  if (pages.size === 0) {
    const closed = withheld ? `; ${withheld} page(s) of closed books were left out: state a purpose (x-access-purpose) to hold them` : '';
    throw new AppError('ERR_VALIDATION', `the search matches no page: nothing to hold${closed}`, { field: 'search' });
  }
  const items: HoldTarget[] = scope === 'books'
    ? [...new Set(pages.values())].map((bookId) => ({ bookId }))
    : [...pages].map(([pageId, bookId]) => ({ bookId, pageId }));
  const query: HoldQuery = {
    search: input.search, scope, matchedPages: pages.size, runAt: new Date().toISOString(), withheldPages: withheld, ...(input.purpose ? { purpose: input.purpose } : {}),
  };
  const r = await placeHold(deps, { name: input.name, reason: input.reason, authority: input.authority, by: input.by, items, query });
  return { ...r, matchedPages: pages.size, withheld };
}
