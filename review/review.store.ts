/**
 * The SQL of the review queue and clerks' corrections: the pages waiting for a clerk, a page's
 * words, the text revision a correction writes, the history of corrections, acceptances, page
 * types found from the words, and the stage durations a book's events hold.
 */
import type { Queryable } from '../db/index.ts';
import type { PageType } from '../ocr/index.ts';
import type { CorrectionRecord, ReviewItem, ReviewReason, ReviewWord } from './review.ts';

/** What the review queue is asked for: which book (or all), which slice, and the thresholds of doubt. */
export interface ReviewQueueQuery {
  bookId: string | null;
  limit: number;
  offset: number;
  /** A page read below this mean confidence is in the queue. */
  lowOcrConfidence: number;
  /** A word read below this confidence (and not corrected) counts as doubtful. */
  lowWordConfidence: number;
  /** A page with ink whose text has fewer characters than this was read as empty ('no-text'). */
  minTextCharacters: number;
  /** Ink share at or below which a page is blank: a page above it that reads as empty is 'no-text'. */
  blankInkRatio: number;
}

/**
 * Pages to review, worst first: OCR out of its time bound, read as empty although it has ink,
 * blank, or read below the page
 * threshold; pages reviewed at their current text revision are left out.
 */
export async function reviewQueuePages(db: Queryable, q: ReviewQueueQuery): Promise<ReviewItem[]> {
  const r = await db.query<{
    id: string; book_id: string; sequence: number; revision: number; text_revision: number; reason: ReviewReason;
    ocr_confidence: number | null; low_words: number; page_type: PageType | null;
  }>(
    `SELECT p.id, p.book_id, p.sequence, p.revision, p.text_revision, p.ocr_confidence, p.page_type, q.reason,
            (SELECT count(*)::int FROM page_words w WHERE w.page_id = p.id AND w.revision = p.revision AND w.confidence < $4 AND w.ocr_text IS NULL) AS low_words
       FROM pages p
       CROSS JOIN LATERAL (SELECT CASE
           WHEN p.status = 'failed' AND p.failure_reason LIKE '%needs review%' THEN 'timeout'
           -- before 'blank': a page with ink that read as nothing is typed blank from its words (review.ts ensurePageType)
           -- (a page mastered before its ink was measured counts as inked unless it was found blank)
           WHEN p.status = 'done' AND p.ocr_confidence IS NOT NULL AND coalesce(p.ink_ratio, CASE WHEN p.page_type = 'blank' THEN 0 ELSE 1 END) > $7
                AND p.ocr_text IS NOT NULL AND char_length(regexp_replace(p.ocr_text, '[[:space:]]', '', 'g')) < $6 THEN 'no-text'
           WHEN p.page_type = 'blank' THEN 'blank'
           -- a handwritten page's low confidence is expected: it waits for keying, not for OCR corrections
           WHEN p.status = 'done' AND p.ocr_confidence < $3 AND p.page_type IS DISTINCT FROM 'handwritten' THEN 'low-confidence'
         END AS reason) q
      WHERE q.reason IS NOT NULL
        AND ($1::uuid IS NULL OR p.book_id = $1)
        AND NOT EXISTS (SELECT 1 FROM page_reviews v WHERE v.page_id = p.id AND v.revision = p.revision AND v.text_revision = p.text_revision)
      ORDER BY (q.reason = 'timeout') DESC, (q.reason = 'no-text') DESC, p.ocr_confidence NULLS FIRST, p.book_id, p.sequence
      LIMIT $2 OFFSET $5`,
    [q.bookId, q.limit, q.lowOcrConfidence, q.lowWordConfidence, q.offset, q.minTextCharacters, q.blankInkRatio],
  );
  return r.rows.map((x) => ({
    pageId: x.id, bookId: x.book_id, sequence: x.sequence, revision: x.revision, textRevision: x.text_revision, reason: x.reason,
    ocrConfidence: x.ocr_confidence, lowWords: x.low_words, pageType: x.page_type,
  }));
}

/** A page's revision, text revision and type; undefined when there is no such page. */
export async function pageTextState(db: Queryable, pageId: string): Promise<{ revision: number; textRevision: number; pageType: PageType | null } | undefined> {
  const page = await db.query<{ revision: number; text_revision: number; page_type: PageType | null }>('SELECT revision, text_revision, page_type FROM pages WHERE id = $1', [pageId]);
  const p = page.rows[0];
  return p ? { revision: p.revision, textRevision: p.text_revision, pageType: p.page_type } : undefined;
}

/** A word of a page revision as stored: text, OCR reading when corrected, confidence and box. */
export type StoredPageWord = Omit<ReviewWord, 'low'>;

/** Every word of a page revision, by word index. */
export async function pageWordsOfRevision(db: Queryable, pageId: string, revision: number): Promise<StoredPageWord[]> {
  const r = await db.query<{ word_index: number; line_index: number; text: string; ocr_text: string | null; confidence: number; x0: number; y0: number; x1: number; y1: number }>(
    'SELECT word_index, line_index, text, ocr_text, confidence, x0, y0, x1, y1 FROM page_words WHERE page_id = $1 AND revision = $2 ORDER BY word_index',
    [pageId, revision],
  );
  return r.rows.map((w) => ({
    wordIndex: w.word_index, lineIndex: w.line_index, text: w.text, ocrText: w.ocr_text, confidence: w.confidence, box: { x0: w.x0, y0: w.y0, x1: w.x1, y1: w.y1 },
  }));
}

/** Holds the page row (FOR UPDATE) for a correction: its book, revision and text revision now. */
export async function lockPageForCorrection(tx: Queryable, pageId: string): Promise<{ bookId: string; revision: number; textRevision: number } | undefined> {
  const page = await tx.query<{ book_id: string; revision: number; text_revision: number }>(
    'SELECT book_id, revision, text_revision FROM pages WHERE id = $1 FOR UPDATE', [pageId],
  );
  const p = page.rows[0];
  return p ? { bookId: p.book_id, revision: p.revision, textRevision: p.text_revision } : undefined;
}

/** The words of a page revision (index, line, current text), by word index. */
export async function pageWordTexts(tx: Queryable, pageId: string, revision: number): Promise<{ wordIndex: number; lineIndex: number; text: string }[]> {
  const words = await tx.query<{ word_index: number; line_index: number; text: string }>(
    'SELECT word_index, line_index, text FROM page_words WHERE page_id = $1 AND revision = $2 ORDER BY word_index', [pageId, revision],
  );
  return words.rows.map((w) => ({ wordIndex: w.word_index, lineIndex: w.line_index, text: w.text }));
}

/** One changed word of a correction, with the search form of its new text. */
export interface ChangedWord {
  wordIndex: number;
  lineIndex: number;
  before: string;
  after: string;
  norm: string;
}

/**
 * Writes a clerk's correction as text revision `textRevision` of the page revision: the words'
 * new text (the OCR reading kept in ocr_text), one ocr_corrections row per word, the page's text
 * revision, and the review it counts as.
 */
export async function recordCorrection(
  tx: Queryable,
  c: { pageId: string; revision: number; textRevision: number; user: string; changed: readonly ChangedWord[] },
): Promise<void> {
  const { pageId, revision, textRevision, changed } = c;
  await tx.query(
    `UPDATE page_words w SET ocr_text = coalesce(w.ocr_text, w.text), text = u.after, norm = u.norm
       FROM unnest($3::int[], $4::text[], $5::text[]) AS u(i, after, norm)
      WHERE w.page_id = $1 AND w.revision = $2 AND w.word_index = u.i`,
    [pageId, revision, changed.map((w) => w.wordIndex), changed.map((w) => w.after), changed.map((w) => w.norm)],
  );
  await tx.query(
    `INSERT INTO ocr_corrections (page_id, revision, text_revision, word_index, line_index, before_text, after_text, corrected_by)
     SELECT $1, $2, $3, i, l, b, a, $4 FROM unnest($5::int[], $6::int[], $7::text[], $8::text[]) AS u(i, l, b, a)`,
    [pageId, revision, textRevision, c.user, changed.map((w) => w.wordIndex), changed.map((w) => w.lineIndex), changed.map((w) => w.before), changed.map((w) => w.after)],
  );
  await tx.query('UPDATE pages SET text_revision = $2, updated_at = now() WHERE id = $1', [pageId, textRevision]);
  await tx.query(`INSERT INTO page_reviews (page_id, revision, text_revision, outcome, reviewed_by) VALUES ($1, $2, $3, 'corrected', $4)`, [pageId, revision, textRevision, c.user]);
}

/** Every correction of a page (all revisions), oldest first. */
export async function listCorrections(db: Queryable, pageId: string): Promise<CorrectionRecord[]> {
  const r = await db.query<{ text_revision: number; word_index: number; line_index: number; before_text: string; after_text: string; corrected_by: string; corrected_at: Date }>(
    'SELECT text_revision, word_index, line_index, before_text, after_text, corrected_by, corrected_at FROM ocr_corrections WHERE page_id = $1 ORDER BY id',
    [pageId],
  );
  return r.rows.map((x) => ({
    textRevision: x.text_revision, wordIndex: x.word_index, lineIndex: x.line_index, before: x.before_text, after: x.after_text,
    correctedBy: x.corrected_by, correctedAt: x.corrected_at,
  }));
}

/** Records a clerk's acceptance of the page's current text; false when there is no such page. */
export async function recordAcceptance(db: Queryable, pageId: string, by: { user: string; note: string | null }): Promise<boolean> {
  const r = await db.query(
    `INSERT INTO page_reviews (page_id, revision, text_revision, outcome, reviewed_by, note)
     SELECT id, revision, text_revision, 'accepted', $2, $3 FROM pages WHERE id = $1`,
    [pageId, by.user, by.note],
  );
  return r.rowCount !== 0;
}

/** A page's revision, type and status; undefined when there is no such page. */
export async function pageTypeState(db: Queryable, pageId: string): Promise<{ revision: number; pageType: PageType | null; status: string } | undefined> {
  const page = await db.query<{ revision: number; page_type: PageType | null; status: string }>('SELECT revision, page_type, status FROM pages WHERE id = $1', [pageId]);
  const p = page.rows[0];
  return p ? { revision: p.revision, pageType: p.page_type, status: p.status } : undefined;
}

/** The words of a page revision with their lines, as page classification reads them. */
export async function pageWordLines(db: Queryable, pageId: string, revision: number): Promise<{ text: string; line: number }[]> {
  const words = await db.query<{ text: string; line_index: number }>('SELECT text, line_index FROM page_words WHERE page_id = $1 AND revision = $2', [pageId, revision]);
  return words.rows.map((w) => ({ text: w.text, line: w.line_index }));
}

/** Records the page's type and why, unless it already has one (a clerk's, or an earlier verdict). */
export async function setUnknownPageType(db: Queryable, pageId: string, type: PageType, reason: string): Promise<void> {
  await db.query('UPDATE pages SET page_type = $2, page_type_reason = $3 WHERE id = $1 AND page_type IS NULL', [pageId, type, reason]);
}

/**
 * The duration of the latest successful run of each page and event type of a book: pipeline runs
 * only (a clerk's review and a re-OCR are left out).
 */
export async function latestStageDurations(db: Queryable, bookId: string, eventTypes: readonly string[]): Promise<{ eventType: string; durationMs: number }[]> {
  const r = await db.query<{ event_type: string; duration_ms: number }>(
    `SELECT DISTINCT ON (page_id, event_type) event_type, duration_ms
       FROM processing_events
      WHERE book_id = $1 AND page_id IS NOT NULL AND duration_ms IS NOT NULL AND outcome <> 'failure'
        AND event_type = ANY($2) AND agent NOT LIKE 'arkiva review%' AND (detail IS NULL OR detail NOT LIKE 're-OCR%')
      ORDER BY page_id, event_type, id DESC`,
    [bookId, eventTypes],
  );
  return r.rows.map((row) => ({ eventType: row.event_type, durationMs: Number(row.duration_ms) }));
}
