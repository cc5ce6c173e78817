/**
 * The OCR review queue and clerks' corrections. A correction never overwrites what OCR read: the
 * archived OCR JSON stays as it was, the word's OCR reading is kept in page_words.ocr_text, every
 * change is a row of ocr_corrections (before, after, who, when) and raises the page's text
 * revision. The corrected words are what search finds (triggers on page_words update the index).
 */
import { AppError } from '../common/index.ts';
import type { ReviewReason } from '../common/vocabulary.ts';
import type { Db, Queryable } from '../db/index.ts';
import { recordEvent, setPageType as recordPageType } from '../archive/index.ts';
import { normaliseWord } from '../search/normalise.ts';
import { BLANK_INK_RATIO, LOW_OCR_CONFIDENCE, MIN_TEXT_CHARACTERS, classifyPageWords, PAGE_TYPES, type PageType } from '../ocr/index.ts';
import {
  listCorrections, lockPageForCorrection, pageTextState, pageTypeState, pageWordLines, pageWordTexts, pageWordsOfRevision, recordAcceptance,
  recordCorrection, reviewQueuePages, setUnknownPageType,
} from './review.store.ts';

/** Words read below this confidence are shown to the clerk as doubtful. */
export const LOW_WORD_CONFIDENCE = 50;

/** Why a page is in the review queue (common/vocabulary.ts REVIEW_REASONS). */
export type { ReviewReason } from '../common/vocabulary.ts';

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
 * confirm), pages with ink on which OCR read no text (under MIN_TEXT_CHARACTERS), and pages read
 * below LOW_OCR_CONFIDENCE; pages a clerk already reviewed at their
 * current text revision are left out.
 */
export async function listReviewQueue(db: Queryable, opts: { bookId?: string; limit?: number; offset?: number } = {}): Promise<ReviewItem[]> {
  return reviewQueuePages(db, {
    bookId: opts.bookId ?? null, limit: Math.min(opts.limit ?? 50, 500), offset: opts.offset ?? 0,
    lowOcrConfidence: LOW_OCR_CONFIDENCE, lowWordConfidence: LOW_WORD_CONFIDENCE, minTextCharacters: MIN_TEXT_CHARACTERS, blankInkRatio: BLANK_INK_RATIO,
  });
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
  const page = await pageTextState(db, pageId);
  if (!page) throw new AppError('ERR_PAGE_NOT_FOUND', `no page ${pageId}`);
  const words = await pageWordsOfRevision(db, pageId, page.revision);
  return {
    revision: page.revision, textRevision: page.textRevision, pageType: page.pageType,
    words: words.map((w) => ({
      wordIndex: w.wordIndex, lineIndex: w.lineIndex, text: w.text, ocrText: w.ocrText, confidence: w.confidence,
      low: w.ocrText === null && w.confidence < LOW_WORD_CONFIDENCE, box: w.box,
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
    const p = await lockPageForCorrection(tx, pageId);
    if (!p) throw new AppError('ERR_PAGE_NOT_FOUND', `no page ${pageId}`);
    if (by.expectedTextRevision !== undefined && by.expectedTextRevision !== p.textRevision) {
      throw new AppError('ERR_CONFLICT', `the page's text changed since revision ${by.expectedTextRevision} (now ${p.textRevision}); reload it`);
    }
    const words = await pageWordTexts(tx, pageId, p.revision);
    const byIndex = new Map(words.map((w) => [w.wordIndex, w]));
    const next = new Map<number, string>();
    for (const c of corrections) {
      const text = c.text.trim();
      if ('wordIndex' in c) {
        if (!byIndex.has(c.wordIndex)) throw new AppError('ERR_VALIDATION', `the page has no word ${c.wordIndex}`, { field: 'wordIndex' });
        if (!text || /\s/.test(text) || text.length > MAX_WORD) throw new AppError('ERR_VALIDATION', 'a word correction is one word (no spaces, 1-200 characters)', { field: 'text' });
        next.set(c.wordIndex, text);
      } else {
        const line = words.filter((w) => w.lineIndex === c.lineIndex);
        if (line.length === 0) throw new AppError('ERR_VALIDATION', `the page has no line ${c.lineIndex}`, { field: 'lineIndex' });
        const tokens = text.split(/\s+/).filter(Boolean);
        if (tokens.length !== line.length || tokens.some((t) => t.length > MAX_WORD)) {
          throw new AppError('ERR_VALIDATION', `line ${c.lineIndex} has ${line.length} words; a line correction gives as many (correct words one by one to split or join)`, { field: 'text' });
        }
        line.forEach((w, i) => next.set(w.wordIndex, tokens[i]!));
      }
    }
    const changed = [...next].map(([i, after]) => ({ wordIndex: i, before: byIndex.get(i)!.text, after, lineIndex: byIndex.get(i)!.lineIndex })).filter((c) => c.before !== c.after);
    if (changed.length === 0) throw new AppError('ERR_VALIDATION', 'the corrections change nothing');
    const textRevision = p.textRevision + 1;
    await recordCorrection(tx, { pageId, revision: p.revision, textRevision, user: by.user, changed: changed.map((c) => ({ ...c, norm: normaliseWord(c.after) })) });
    // PREMIS: the text changed; the event names counts, never the words (personal data).
    await recordEvent(tx, {
      bookId: p.bookId, pageId, type: 'indexing', agent: `arkiva review (user ${by.user})`, outcome: 'success',
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
  return listCorrections(db, pageId);
}

/** Records that a clerk looked at the page and accepts its text as it is (it leaves the queue). */
export async function acceptPage(db: Queryable, pageId: string, by: { user: string; note?: string | null }): Promise<void> {
  if (!(await recordAcceptance(db, pageId, { user: by.user, note: by.note ?? null }))) throw new AppError('ERR_PAGE_NOT_FOUND', `no page ${pageId}`);
}

/** Sets a page's type by hand (a clerk knows a cover when she sees one). */
export async function setPageType(db: Queryable, pageId: string, type: PageType, by: { user: string }): Promise<void> {
  if (!PAGE_TYPES.includes(type)) throw new AppError('ERR_VALIDATION', `page type must be one of ${PAGE_TYPES.join(', ')}`, { field: 'pageType' });
  if (!(await recordPageType(db, pageId, type, `set by ${by.user}`))) throw new AppError('ERR_PAGE_NOT_FOUND', `no page ${pageId}`);
}

/** The page's type; when not yet known, classified from its words and recorded. */
export async function ensurePageType(db: Queryable, pageId: string): Promise<PageType | null> {
  const p = await pageTypeState(db, pageId);
  if (!p) throw new AppError('ERR_PAGE_NOT_FOUND', `no page ${pageId}`);
  if (p.pageType || p.status !== 'done') return p.pageType;
  const verdict = classifyPageWords(await pageWordLines(db, pageId, p.revision));
  await setUnknownPageType(db, pageId, verdict.type, verdict.reason);
  return verdict.type;
}
