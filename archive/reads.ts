import type { Queryable } from '../db/index.ts';
import type { PageStatus } from './types.ts';

// Read-only aggregates over books, pages and their events, for views and progress displays. Each
// is one parameterised query (or a few run side by side); nothing here writes.

/** How many pages of a book are in each status. */
export async function pageStatusCounts(db: Queryable, bookId: string): Promise<Record<PageStatus, number> & { total: number }> {
  const r = await db.query<{ status: string; n: number }>(
    'SELECT status, count(*)::int AS n FROM pages WHERE book_id = $1 GROUP BY status',
    [bookId],
  );
  const counts = { pending: 0, processing: 0, done: 0, failed: 0, total: 0 };
  for (const row of r.rows) {
    if (row.status in counts) counts[row.status as keyof typeof counts] = Number(row.n);
    counts.total += Number(row.n);
  }
  return counts;
}

/** How far a book's pages have got: pages done, failed and in all, and the furthest stage reached. */
export interface PageProgress {
  done: number;
  failed: number;
  total: number;
  stage: string | null;
}

/** The progress of a book's pages, for a progress bar while waiting for it. */
export async function pageProgress(db: Queryable, bookId: string): Promise<PageProgress> {
  const r = await db.query<PageProgress>(
    `SELECT count(*) FILTER (WHERE status = 'done')::int AS done, count(*) FILTER (WHERE status = 'failed')::int AS failed,
            count(*)::int AS total, max(stage) AS stage
       FROM pages WHERE book_id = $1`,
    [bookId],
  );
  return r.rows[0]!;
}

/** Archive-wide counts for the metrics endpoint. */
export interface ArchiveStats {
  pagesByStatus: Record<string, number>;
  booksByStatus: Record<string, number>;
  pagesArchivedLastHour: number;
  pagesArchivedLast10Minutes: number;
  pageFailureEvents: number;
}

/** Counts pages and books by status, recent throughput, and page failures ever recorded. */
export async function archiveStats(db: Queryable): Promise<ArchiveStats> {
  const [pages, books, recent, failures] = await Promise.all([
    db.query<{ status: string; n: number }>('SELECT status, count(*)::int AS n FROM pages GROUP BY status'),
    db.query<{ status: string; n: number }>('SELECT status, count(*)::int AS n FROM books GROUP BY status'),
    // A done page is not touched again until it is retried or replaced, so updated_at is when it was archived.
    db.query<{ last_hour: number; last_10m: number }>(
      `SELECT count(*) FILTER (WHERE updated_at > now() - interval '1 hour')::int AS last_hour,
              count(*) FILTER (WHERE updated_at > now() - interval '10 minutes')::int AS last_10m
         FROM pages WHERE status = 'done' AND updated_at > now() - interval '1 hour'`,
    ),
    db.query<{ n: number }>(`SELECT count(*)::int AS n FROM processing_events WHERE page_id IS NOT NULL AND outcome = 'failure'`),
  ]);
  const byStatus = (rows: { status: string; n: number }[]) => Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
  return {
    pagesByStatus: byStatus(pages.rows),
    booksByStatus: byStatus(books.rows),
    pagesArchivedLastHour: Number(recent.rows[0]?.last_hour ?? 0),
    pagesArchivedLast10Minutes: Number(recent.rows[0]?.last_10m ?? 0),
    pageFailureEvents: Number(failures.rows[0]?.n ?? 0),
  };
}
