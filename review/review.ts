/**
 * The OCR review queue and clerks' corrections. A correction never overwrites what OCR read: the
 * archived OCR JSON stays as it was, the word's OCR reading is kept in page_words.ocr_text, every
 * change is a row of ocr_corrections (before, after, who, when) and raises the page's text
 * revision. The corrected words are what search finds (triggers on page_words update the index).
 */
import { AppError } from '../common/index.ts';
import type { Db, Queryable } from '../db/index.ts';
import { recordEvent } from '../archive/index.ts';
import { normaliseWord } from '../search/normalise.ts';
import { LOW_OCR_CONFIDENCE, classifyPageWords, PAGE_TYPES, type PageType } from '../ocr/index.ts';

/** Words read below this confidence are shown to the clerk as doubtful. */
export const LOW_WORD_CONFIDENCE = 50;

/** Why a page is in the review queue. */
export type ReviewReason = 'timeout' | 'low-confidence' | 'blank';

/** A page waiting for a clerk. */
export interface ReviewItem {
  pageId: string;
  bookId: string;
  sequence: number;
  revision: number;
  textRevision: number;
  reason: ReviewReason;
  ocrConfidence: number | null;
  /** Words below LOW_WORD_CONFIDENCE. */
  lowWords: number;
  pageType: PageType | null;
}

/**
 * Pages to review, worst first: pages whose OCR ran out of its time bound, blank pages (to
 * confirm), and pages read below LOW_OCR_CONFIDENCE; pages a clerk already reviewed at their
 * current text revision are left out.
 */
export async function listReviewQueue(db: Queryable, opts: { bookId?: string; limit?: number; offset?: number } = {}): Promise<ReviewItem[]> {
  const r = await db.query<{
    id: string; book_id: string; sequence: number; revision: number; text_revision: number; reason: ReviewReason;
    ocr_confidence: number | null; low_words: number; page_type: PageType | null;
  }>(
    `SELECT p.id, p.book_id, p.sequence, p.revision, p.text_revision, p.ocr_confidence, p.page_type, q.reason,
            (SELECT count(*)::int FROM page_words w WHERE w.page_id = p.id AND w.revision = p.revision AND w.confidence < $4 AND w.ocr_text IS NULL) AS low_words
       FROM pages p
       CROSS JOIN LATERAL (SELECT CASE
           WHEN p.status = 'failed' AND p.failure_reason LIKE '%needs review%' THEN 'timeout'
           WHEN p.page_type = 'blank' THEN 'blank'
           WHEN p.status = 'done' AND p.ocr_confidence < $3 THEN 'low-confidence'
         END AS reason) q
      WHERE q.reason IS NOT NULL
        AND ($1::uuid IS NULL OR p.book_id = $1)
        AND NOT EXISTS (SELECT 1 FROM page_reviews v WHERE v.page_id = p.id AND v.revision = p.revision AND v.text_revision = p.text_revision)
      ORDER BY (q.reason = 'timeout') DESC, p.ocr_confidence NULLS FIRST, p.book_id, p.sequence
      LIMIT $2 OFFSET $5`,
    [opts.bookId ?? null, Math.min(opts.limit ?? 50, 500), LOW_OCR_CONFIDENCE, LOW_WORD_CONFIDENCE, opts.offset ?? 0],
  );
  return r.rows.map((x) => ({
    pageId: x.id, bookId: x.book_id, sequence: x.sequence, revision: x.revision, textRevision: x.text_revision, reason: x.reason,
    ocrConfidence: x.ocr_confidence, lowWords: x.low_words, pageType: x.page_type,
  }));
}

/** A word as the review screen shows it. */
export interface ReviewWord {
  wordIndex: number;
  lineIndex: number;
  text: string;
  /** What OCR read, when a clerk changed it. */
  ocrText: string | null;
  confidence: number;
  low: boolean;
  box: { x0: number; y0: number; x1: number; y1: number };
}

/** A page's words for review: every word with its box, doubtful ones marked. */
export async function pageWordsForReview(db: Queryable, pageId: string): Promise<{ revision: number; textRevision: number; pageType: PageType | null; words: ReviewWord[] }> {
  const page = await db.query<{ revision: number; text_revision: number; page_type: PageType | null }>('SELECT revision, text_revision, page_type FROM pages WHERE id = $1', [pageId]);
  if (!page.rows[0]) throw new AppError('ERR_PAGE_NOT_FOUND', `no page ${pageId}`);
  const r = await db.query<{ word_index: number; line_index: number; text: string; ocr_text: string | null; confidence: number; x0: number; y0: number; x1: number; y1: number }>(
    'SELECT word_index, line_index, text, ocr_text, confidence, x0, y0, x1, y1 FROM page_words WHERE page_id = $1 AND revision = $2 ORDER BY word_index',
    [pageId, page.rows[0].revision],
  );
  return {
    revision: page.rows[0].revision, textRevision: page.rows[0].text_revision, pageType: page.rows[0].page_type,
    words: r.rows.map((w) => ({
      wordIndex: w.word_index, lineIndex: w.line_index, text: w.text, ocrText: w.ocr_text, confidence: w.confidence,
      low: w.ocr_text === null && w.confidence < LOW_WORD_CONFIDENCE, box: { x0: w.x0, y0: w.y0, x1: w.x1, y1: w.y1 },
    })),
  };
}

/** One change: a word by its index, or a whole line by its index (same number of words). */
export type Correction = { wordIndex: number; text: string } | { lineIndex: number; text: string };

/** What a correction did. */
export interface CorrectionResult {
  textRevision: number;
  changed: { wordIndex: number; before: string; after: string }[];
}

const MAX_WORD = 200;

/**
 * Applies a clerk's corrections to the current revision of a page as one new text revision.
 * `expectedTextRevision` (the revision the clerk saw) turns a concurrent edit into ERR_CONFLICT
 * instead of a silent overwrite. Unchanged words are ignored; nothing changed is an error.
 */
export async function correctPage(
  db: Db,
  pageId: string,
  corrections: readonly Correction[],
  by: { user: string; expectedTextRevision?: number },
): Promise<CorrectionResult> {
  if (corrections.length === 0) throw new AppError('ERR_VALIDATION', 'no corrections given');
  const result = await db.transaction(async (tx) => {
    const page = await tx.query<{ book_id: string; revision: number; text_revision: number }>(
      'SELECT book_id, revision, text_revision FROM pages WHERE id = $1 FOR UPDATE', [pageId],
    );
    const p = page.rows[0];
    if (!p) throw new AppError('ERR_PAGE_NOT_FOUND', `no page ${pageId}`);
    if (by.expectedTextRevision !== undefined && by.expectedTextRevision !== p.text_revision) {
      throw new AppError('ERR_CONFLICT', `the page's text changed since revision ${by.expectedTextRevision} (now ${p.text_revision}); reload it`);
    }
    const words = await tx.query<{ word_index: number; line_index: number; text: string }>(
      'SELECT word_index, line_index, text FROM page_words WHERE page_id = $1 AND revision = $2 ORDER BY word_index', [pageId, p.revision],
    );
    const byIndex = new Map(words.rows.map((w) => [w.word_index, w]));
    const next = new Map<number, string>();
    for (const c of corrections) {
      const text = c.text.trim();
      if ('wordIndex' in c) {
        if (!byIndex.has(c.wordIndex)) throw new AppError('ERR_VALIDATION', `the page has no word ${c.wordIndex}`, { field: 'wordIndex' });
        if (!text || /\s/.test(text) || text.length > MAX_WORD) throw new AppError('ERR_VALIDATION', 'a word correction is one word (no spaces, 1-200 characters)', { field: 'text' });
        next.set(c.wordIndex, text);
      } else {
        const line = words.rows.filter((w) => w.line_index === c.lineIndex);
        if (line.length === 0) throw new AppError('ERR_VALIDATION', `the page has no line ${c.lineIndex}`, { field: 'lineIndex' });
        const tokens = text.split(/\s+/).filter(Boolean);
        if (tokens.length !== line.length || tokens.some((t) => t.length > MAX_WORD)) {
          throw new AppError('ERR_VALIDATION', `line ${c.lineIndex} has ${line.length} words; a line correction gives as many (correct words one by one to split or join)`, { field: 'text' });
        }
        line.forEach((w, i) => next.set(w.word_index, tokens[i]!));
      }
    }
    const changed = [...next].map(([i, after]) => ({ wordIndex: i, before: byIndex.get(i)!.text, after, line: byIndex.get(i)!.line_index })).filter((c) => c.before !== c.after);
    if (changed.length === 0) throw new AppError('ERR_VALIDATION', 'the corrections change nothing');
    const textRevision = p.text_revision + 1;
    await tx.query(
      `UPDATE page_words w SET ocr_text = coalesce(w.ocr_text, w.text), text = u.after, norm = u.norm
         FROM unnest($3::int[], $4::text[], $5::text[]) AS u(i, after, norm)
        WHERE w.page_id = $1 AND w.revision = $2 AND w.word_index = u.i`,
      [pageId, p.revision, changed.map((c) => c.wordIndex), changed.map((c) => c.after), changed.map((c) => normaliseWord(c.after))],
    );
    await tx.query(
      `INSERT INTO ocr_corrections (page_id, revision, text_revision, word_index, line_index, before_text, after_text, corrected_by)
       SELECT $1, $2, $3, i, l, b, a, $4 FROM unnest($5::int[], $6::int[], $7::text[], $8::text[]) AS u(i, l, b, a)`,
      [pageId, p.revision, textRevision, by.user, changed.map((c) => c.wordIndex), changed.map((c) => c.line), changed.map((c) => c.before), changed.map((c) => c.after)],
    );
    await tx.query('UPDATE pages SET text_revision = $2, updated_at = now() WHERE id = $1', [pageId, textRevision]);
    await tx.query(`INSERT INTO page_reviews (page_id, revision, text_revision, outcome, reviewed_by) VALUES ($1, $2, $3, 'corrected', $4)`, [pageId, p.revision, textRevision, by.user]);
    // PREMIS: the text changed; the event names counts, never the words (personal data).
    await recordEvent(tx, {
      bookId: p.book_id, pageId, type: 'indexing', agent: `arkiva review (user ${by.user})`, outcome: 'success',
      detail: `OCR correction: ${changed.length} word(s) changed; text revision ${textRevision} of page revision ${p.revision}`,
    });
    return { textRevision, changed: changed.map(({ wordIndex, before, after }) => ({ wordIndex, before, after })) };
  });
  return result;
}

/** One correction as history shows it. */
export interface CorrectionRecord {
  textRevision: number;
  wordIndex: number;
  lineIndex: number;
  before: string;
  after: string;
  correctedBy: string;
  correctedAt: Date;
}

/** Every correction of a page (all revisions), oldest first. */
export async function correctionHistory(db: Queryable, pageId: string): Promise<CorrectionRecord[]> {
  const r = await db.query<{ text_revision: number; word_index: number; line_index: number; before_text: string; after_text: string; corrected_by: string; corrected_at: Date }>(
    'SELECT text_revision, word_index, line_index, before_text, after_text, corrected_by, corrected_at FROM ocr_corrections WHERE page_id = $1 ORDER BY id',
    [pageId],
  );
  return r.rows.map((x) => ({
    textRevision: x.text_revision, wordIndex: x.word_index, lineIndex: x.line_index, before: x.before_text, after: x.after_text,
    correctedBy: x.corrected_by, correctedAt: x.corrected_at,
  }));
}

/** Records that a clerk looked at the page and accepts its text as it is (it leaves the queue). */
export async function acceptPage(db: Queryable, pageId: string, by: { user: string; note?: string | null }): Promise<void> {
  const r = await db.query(
    `INSERT INTO page_reviews (page_id, revision, text_revision, outcome, reviewed_by, note)
     SELECT id, revision, text_revision, 'accepted', $2, $3 FROM pages WHERE id = $1`,
    [pageId, by.user, by.note ?? null],
  );
  if (r.rowCount === 0) throw new AppError('ERR_PAGE_NOT_FOUND', `no page ${pageId}`);
}

/** Sets a page's type by hand (a clerk knows a cover when she sees one). */
export async function setPageType(db: Queryable, pageId: string, type: PageType, by: { user: string }): Promise<void> {
  if (!PAGE_TYPES.includes(type)) throw new AppError('ERR_VALIDATION', `page type must be one of ${PAGE_TYPES.join(', ')}`, { field: 'pageType' });
  const r = await db.query('UPDATE pages SET page_type = $2, page_type_reason = $3, updated_at = now() WHERE id = $1', [pageId, type, `set by ${by.user}`]);
  if (r.rowCount === 0) throw new AppError('ERR_PAGE_NOT_FOUND', `no page ${pageId}`);
}

/** The page's type; when not yet known, classified from its words and recorded. */
export async function ensurePageType(db: Queryable, pageId: string): Promise<PageType | null> {
  const page = await db.query<{ revision: number; page_type: PageType | null; status: string }>('SELECT revision, page_type, status FROM pages WHERE id = $1', [pageId]);
  const p = page.rows[0];
  if (!p) throw new AppError('ERR_PAGE_NOT_FOUND', `no page ${pageId}`);
  if (p.page_type || p.status !== 'done') return p.page_type;
  const words = await db.query<{ text: string; line_index: number }>('SELECT text, line_index FROM page_words WHERE page_id = $1 AND revision = $2', [pageId, p.revision]);
  const verdict = classifyPageWords(words.rows.map((w) => ({ text: w.text, line: w.line_index })));
  await db.query('UPDATE pages SET page_type = $2, page_type_reason = $3 WHERE id = $1 AND page_type IS NULL', [pageId, verdict.type, verdict.reason]);
  return verdict.type;
}
