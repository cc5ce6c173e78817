/**
 * The rows the pipeline's jobs read and write beyond one book, page or object at a time: which
 * books and pages are unfinished (resume, reconcile), the figures a book's completion sums up,
 * a page's indexed words, its orientation and a book's OCR timings, a page's sources.
 */
import type { Queryable } from '../db/index.ts';
import type { BookStatus } from './types.ts';

/** A book the pipeline has not finished with: received, splitting or processing. */
export interface UnfinishedBook {
  id: string;
  status: BookStatus;
}

/** A page still to go through the stages (pending or processing), at its current revision. */
export interface PendingPage {
  id: string;
  revision: number;
}

/** Books received, splitting or processing, oldest first: the work resume and the reconciler look for. */
export async function listUnfinishedBooks(db: Queryable): Promise<UnfinishedBook[]> {
  const r = await db.query<{ id: string; status: BookStatus }>(
    `SELECT id, status FROM books WHERE status IN ('received', 'splitting', 'processing') ORDER BY created_at`,
  );
  return r.rows.map((b) => ({ id: b.id, status: b.status }));
}

/** The pending and processing pages of a book, in sequence order. */
export async function listPendingPages(db: Queryable, bookId: string): Promise<PendingPage[]> {
  const r = await db.query<{ id: string; revision: number }>(
    `SELECT id, revision FROM pages WHERE book_id = $1 AND status IN ('pending', 'processing') ORDER BY sequence`,
    [bookId],
  );
  return r.rows.map((p) => ({ id: p.id, revision: p.revision }));
}

/** The pending and processing pages of several books in one statement, by book then sequence. */
export async function listPendingPagesOfBooks(db: Queryable, bookIds: readonly string[]): Promise<(PendingPage & { bookId: string })[]> {
  const r = await db.query<{ book_id: string; id: string; revision: number }>(
    `SELECT book_id, id, revision FROM pages WHERE book_id = ANY($1::uuid[]) AND status IN ('pending', 'processing') ORDER BY book_id, sequence`,
    [bookIds],
  );
  return r.rows.map((p) => ({ bookId: p.book_id, id: p.id, revision: p.revision }));
}

/**
 * Takes the reconciler's lock (one per schema) until transaction `tx` ends; false when another
 * process holds it, so N workers do not queue N copies of the same lost work.
 */
export async function tryReconcilerLock(tx: Queryable): Promise<boolean> {
  const lock = await tx.query<{ ok: boolean }>(`SELECT pg_try_advisory_xact_lock(hashtext('arkiva.reconcile:' || current_schema())) AS ok`);
  return !!lock.rows[0]?.ok;
}

/** What a book's completion summary is figured from: its done pages' mean OCR confidence and when it was first ingested. */
export async function bookRunFigures(db: Queryable, bookId: string): Promise<{ meanOcrConfidence: number | null; ingestedAt: Date | null }> {
  const r = await db.query<{ mean: number | null; first: Date | null }>(
    `SELECT avg(ocr_confidence)::float8 AS mean,
            (SELECT min(occurred_at) FROM processing_events WHERE book_id = $1 AND event_type = 'ingestion') AS first
       FROM pages WHERE book_id = $1 AND status = 'done'`,
    [bookId],
  );
  return { meanOcrConfidence: r.rows[0]?.mean ?? null, ingestedAt: r.rows[0]?.first ?? null };
}

/** The failed pages of a book, in sequence order, with the reason each failed. */
export async function listPageFailures(db: Queryable, bookId: string): Promise<{ sequence: number; failureReason: string | null }[]> {
  const r = await db.query<{ sequence: number; failure_reason: string | null }>(
    `SELECT sequence, failure_reason FROM pages WHERE book_id = $1 AND status = 'failed' ORDER BY sequence`,
    [bookId],
  );
  return r.rows.map((f) => ({ sequence: f.sequence, failureReason: f.failure_reason }));
}

/** A word as the index holds it: an archived OCR word with its search form. */
export interface PageWord {
  text: string;
  confidence: number;
  line: number;
  block: number;
  /** Box in the master's pixels (rounded to whole pixels when stored). */
  bbox: { x0: number; y0: number; x1: number; y1: number };
  /** The normalised form search matches on. */
  norm: string;
}

const WORD_BATCH = 500;

/**
 * Replaces a page's indexed words (any earlier revision's) with `words` of `page.revision`, word
 * index = position in `words`. Meant for the transaction that also marks the page done, so a
 * crash leaves either the old index or the new one.
 */
export async function replacePageWords(tx: Queryable, page: { bookId: string; pageId: string; revision: number }, words: readonly PageWord[]): Promise<void> {
  await tx.query('DELETE FROM page_words WHERE page_id = $1', [page.pageId]);
  for (let i = 0; i < words.length; i += WORD_BATCH) {
    const slice = words.slice(i, i + WORD_BATCH);
    const params: unknown[] = [];
    const values = slice.map((w, j) => {
      const b = params.length;
      params.push(page.pageId, page.revision, i + j, page.bookId, w.text, w.confidence, w.line, w.block,
        Math.round(w.bbox.x0), Math.round(w.bbox.y0), Math.round(w.bbox.x1), Math.round(w.bbox.y1), w.norm);
      return `(${Array.from({ length: 13 }, (_, k) => `$${b + k + 1}`).join(', ')})`;
    });
    await tx.query(
      `INSERT INTO page_words (page_id, revision, word_index, book_id, text, confidence, line_index, block_index, x0, y0, x1, y1, norm)
           VALUES ${values.join(', ')}`,
      params,
    );
  }
}

/** Records a page's orientation: the clockwise turn that shows its source upright. */
export async function setPageOrientation(db: Queryable, pageId: string, orientation: number): Promise<void> {
  await db.query('UPDATE pages SET orientation = $2, updated_at = now() WHERE id = $1', [pageId, orientation]);
}

/** How long the latest successful OCR runs of a book's pages took, newest first (at most 200: enough for a stable median, cheap on long books). */
export async function listRecentOcrDurations(db: Queryable, bookId: string): Promise<number[]> {
  const r = await db.query<{ duration_ms: number }>(
    `SELECT duration_ms FROM processing_events
     WHERE book_id = $1 AND event_type = 'ocr' AND outcome = 'success' AND duration_ms IS NOT NULL
     ORDER BY id DESC LIMIT 200`,
    [bookId],
  );
  return r.rows.map((x) => Number(x.duration_ms));
}

/** Whether a source image is recorded for this revision of a page (one the split could read, or a rescan). */
export async function hasPageSource(db: Queryable, page: { id: string; revision: number }): Promise<boolean> {
  const src = await db.query('SELECT 1 FROM stored_objects WHERE page_id = $1 AND role = $2 AND revision = $3', [page.id, 'source', page.revision]);
  return src.rowCount > 0;
}

/** Marks every current object of a page superseded (a rescan replaces it); the objects stay archived. */
export async function supersedePageObjects(tx: Queryable, pageId: string): Promise<void> {
  await tx.query('UPDATE stored_objects SET superseded_at = now() WHERE page_id = $1 AND superseded_at IS NULL', [pageId]);
}
