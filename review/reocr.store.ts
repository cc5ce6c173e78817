/**
 * The SQL of re-OCR: which pages can be read again, the page's revisions a job checks, and the
 * rows a new reading replaces (the current OCR objects, the page's words, its text revision).
 */
import type { Queryable } from '../db/index.ts';

/** A page as a re-OCR request sees it: where it is in the book and which text it holds now. */
export interface ReocrPage {
  id: string;
  sequence: number;
  revision: number;
  textRevision: number;
}

/**
 * The book's pages with a current master (all of them, or those numbered in `sequences`), in
 * sequence order: only they can be read again.
 */
export async function pagesWithMaster(db: Queryable, bookId: string, sequences: readonly number[] | null): Promise<ReocrPage[]> {
  const r = await db.query<{ id: string; sequence: number; revision: number; text_revision: number }>(
    `SELECT p.id, p.sequence, p.revision, p.text_revision FROM pages p
      WHERE p.book_id = $1 AND ($2::int[] IS NULL OR p.sequence = ANY($2))
        AND EXISTS (SELECT 1 FROM stored_objects o WHERE o.page_id = p.id AND o.revision = p.revision AND o.role = 'master' AND o.superseded_at IS NULL)
      ORDER BY p.sequence`,
    [bookId, sequences],
  );
  return r.rows.map((p) => ({ id: p.id, sequence: p.sequence, revision: p.revision, textRevision: p.text_revision }));
}

/** A page's sequence, revision and text revision now; undefined when there is no such page. */
export async function pageRevisions(db: Queryable, pageId: string): Promise<Omit<ReocrPage, 'id'> | undefined> {
  const page = (await db.query<{ sequence: number; revision: number; text_revision: number }>('SELECT sequence, revision, text_revision FROM pages WHERE id = $1', [pageId])).rows[0];
  return page ? { sequence: page.sequence, revision: page.revision, textRevision: page.text_revision } : undefined;
}

/** Holds the page revision's row (FOR UPDATE) and returns its text revision; undefined when the page is at another revision. */
export async function lockPageTextRevision(tx: Queryable, pageId: string, revision: number): Promise<number | undefined> {
  const locked = await tx.query<{ text_revision: number }>('SELECT text_revision FROM pages WHERE id = $1 AND revision = $2 FOR UPDATE', [pageId, revision]);
  return locked.rows[0]?.text_revision;
}

/** Marks the page revision's current OCR objects (JSON and hOCR) superseded; they stay archived. */
export async function supersedeOcrReadings(tx: Queryable, pageId: string, revision: number): Promise<void> {
  await tx.query(
    `UPDATE stored_objects SET superseded_at = now()
      WHERE page_id = $1 AND revision = $2 AND role = 'ocr' AND variant IN ('ocr-json', 'hocr') AND superseded_at IS NULL`,
    [pageId, revision],
  );
}

/** Raises the page's text revision by one; a page classified blank is classified again from the new words. */
export async function raiseTextRevision(tx: Queryable, pageId: string): Promise<void> {
  await tx.query(`UPDATE pages SET text_revision = text_revision + 1, page_type = CASE WHEN page_type = 'blank' THEN NULL ELSE page_type END, updated_at = now() WHERE id = $1`, [pageId]);
}
