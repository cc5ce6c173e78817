import type { Queryable } from '../db/index.ts';
import type { Page, PageStatus } from './types.ts';
import type { PageType } from '../ocr/index.ts';

interface PageRow {
  id: string;
  book_id: string;
  sequence: number;
  status: PageStatus;
  stage: string | null;
  failure_reason: string | null;
  attempts: number;
  width: number | null;
  height: number | null;
  dpi_x: number | null;
  dpi_y: number | null;
  orientation: number;
  ink_ratio: number | null;
  ocr_confidence: number | null;
  revision: number;
  indexed_revision: number | null;
  text_revision: number;
  page_type: PageType | null;
  page_type_reason: string | null;
  ocr_turn: number | null;
  updated_at: Date;
}

function toPage(r: PageRow): Page {
  return {
    id: r.id,
    bookId: r.book_id,
    sequence: r.sequence,
    status: r.status,
    stage: r.stage,
    failureReason: r.failure_reason,
    attempts: r.attempts,
    width: r.width,
    height: r.height,
    dpiX: r.dpi_x,
    dpiY: r.dpi_y,
    orientation: r.orientation,
    inkRatio: r.ink_ratio,
    ocrConfidence: r.ocr_confidence,
    revision: r.revision,
    indexedRevision: r.indexed_revision,
    textRevision: r.text_revision,
    pageType: r.page_type ?? null,
    pageTypeReason: r.page_type_reason ?? null,
    ocrTurn: r.ocr_turn === null || r.ocr_turn === undefined ? null : Number(r.ocr_turn),
    updatedAt: r.updated_at,
  };
}

/** Creates the page row for a sequence, or returns the existing one (a re-run of splitting). */
export async function upsertPage(db: Queryable, bookId: string, sequence: number): Promise<Page> {
  await db.query('INSERT INTO pages (book_id, sequence) VALUES ($1, $2) ON CONFLICT (book_id, sequence) DO NOTHING', [bookId, sequence]);
  const r = await db.query<PageRow>('SELECT * FROM pages WHERE book_id = $1 AND sequence = $2', [bookId, sequence]);
  return toPage(r.rows[0]!);
}

/** A page by id. */
export async function getPage(db: Queryable, id: string): Promise<Page | undefined> {
  const r = await db.query<PageRow>('SELECT * FROM pages WHERE id = $1', [id]);
  return r.rows[0] ? toPage(r.rows[0]) : undefined;
}

/** A page by its book and sequence number. */
export async function getPageBySequence(db: Queryable, bookId: string, sequence: number): Promise<Page | undefined> {
  const r = await db.query<PageRow>('SELECT * FROM pages WHERE book_id = $1 AND sequence = $2', [bookId, sequence]);
  return r.rows[0] ? toPage(r.rows[0]) : undefined;
}

/** The pages of a book in order. */
export async function listPages(db: Queryable, bookId: string, opts: { status?: PageStatus } = {}): Promise<Page[]> {
  const r = await db.query<PageRow>(
    'SELECT * FROM pages WHERE book_id = $1 AND ($2::text IS NULL OR status = $2) ORDER BY sequence',
    [bookId, opts.status ?? null],
  );
  return r.rows.map(toPage);
}

/**
 * Marks a page of `bookId` at `revision` as being in `stage` and returns it, in one statement; or
 * undefined when it is not pending or processing at that revision (gone, failed, done, replaced),
 * which the caller tells apart with `getPage` (rare, so not worth a statement on every stage).
 */
export async function claimPageForStage(db: Queryable, page: { id: string; bookId: string; revision: number }, stage: string): Promise<Page | undefined> {
  const r = await db.query<PageRow>(
    `UPDATE pages SET stage = $4, status = CASE WHEN status = 'pending' THEN 'processing' ELSE status END,
            attempts = attempts + 1, updated_at = now()
      WHERE id = $1 AND book_id = $2 AND revision = $3 AND status IN ('pending', 'processing')
      RETURNING *`,
    [page.id, page.bookId, page.revision, stage],
  );
  return r.rows[0] ? toPage(r.rows[0]) : undefined;
}

/** Records a page's failure with a reason staff can act on. */
export async function markPageFailed(db: Queryable, pageId: string, stage: string, reason: string): Promise<void> {
  await db.query(
    `UPDATE pages SET status = 'failed', stage = $2, failure_reason = $3, updated_at = now() WHERE id = $1`,
    [pageId, stage, reason.slice(0, 2000)],
  );
}

/** Records the master's geometry and how much of it is ink. */
export async function setPageImageInfo(
  db: Queryable,
  pageId: string,
  info: { width: number; height: number; dpiX: number | null; dpiY: number | null; orientation: number; inkRatio?: number },
): Promise<void> {
  await db.query(
    'UPDATE pages SET width = $2, height = $3, dpi_x = $4, dpi_y = $5, orientation = $6, ink_ratio = $7, updated_at = now() WHERE id = $1',
    [pageId, info.width, info.height, info.dpiX, info.dpiY, info.orientation, info.inkRatio ?? null],
  );
}

/** Stores the page's OCR text and confidence. */
export async function setPageOcr(db: Queryable, pageId: string, text: string, confidence: number, engine: string, turn?: number): Promise<void> {
  await db.query(
    'UPDATE pages SET ocr_text = $2, ocr_confidence = $3, ocr_engine = $4, ocr_turn = COALESCE($5, ocr_turn), updated_at = now() WHERE id = $1',
    [pageId, text, confidence, engine, turn ?? null],
  );
}

/** A page of a book read lately: its shape and the turn orientation detection found on it. */
export interface ReadPageShape {
  landscape: boolean;
  turn: number;
}

/** The book's pages read most recently (at most `limit`), newest first, with their shape and OCR turn. */
export async function listRecentPageTurns(db: Queryable, bookId: string, limit = 8): Promise<ReadPageShape[]> {
  const r = await db.query<{ width: number | null; height: number | null; ocr_turn: number }>(
    `SELECT width, height, ocr_turn FROM pages
      WHERE book_id = $1 AND ocr_turn IS NOT NULL
      ORDER BY updated_at DESC, sequence DESC LIMIT $2`,
    [bookId, limit],
  );
  return r.rows.map((x) => ({ landscape: (x.width ?? 0) > (x.height ?? 0), turn: Number(x.ocr_turn) }));
}

/** Records what kind of leaf a page is (register, cover, blank…) and why it was judged so. */
export async function setPageType(db: Queryable, pageId: string, type: PageType, reason: string): Promise<boolean> {
  const r = await db.query('UPDATE pages SET page_type = $2, page_type_reason = $3, updated_at = now() WHERE id = $1', [pageId, type, reason]);
  return r.rowCount > 0;
}

/** Marks a page done: every stage of this revision has run. */
export async function markPageDone(db: Queryable, pageId: string, revision: number): Promise<void> {
  await db.query(
    `UPDATE pages SET status = 'done', stage = NULL, failure_reason = NULL, indexed_revision = $2, updated_at = now()
      WHERE id = $1 AND revision = $2`,
    [pageId, revision],
  );
}

/**
 * Puts a page back to pending for another go through the stages (retry), optionally as a new
 * revision (replacement by a rescanned image): objects of the old revision stay, superseded.
 */
export async function resetPage(db: Queryable, pageId: string, opts: { newRevision: boolean }): Promise<Page> {
  const r = await db.query<PageRow>(
    `UPDATE pages SET status = 'pending', stage = NULL, failure_reason = NULL, attempts = 0,
            revision = revision + $2, updated_at = now()
      WHERE id = $1 RETURNING *`,
    [pageId, opts.newRevision ? 1 : 0],
  );
  return toPage(r.rows[0]!);
}
