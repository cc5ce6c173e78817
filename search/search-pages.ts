import { AppError } from '../common/index.ts';
import type { Db, Queryable } from '../db/index.ts';
import type { RegisterType } from '../archive/index.ts';
import { normaliseTokens } from './normalise.ts';
import { applySearchSettings, rankPages, wordsOfPages, type CandidateForm, type HitWord } from './search.store.ts';

/** How the words of a query must appear on a page. */
export type SearchMode =
  /** Every word somewhere on the page, exactly or fuzzily (OCR errors). */
  | 'words'
  /** The words next to each other, in order, on one line. */
  | 'phrase'
  /** Every word as the beginning of a word on the page ("Kras" finds "Krasniqi"). */
  | 'prefix';

/** Search modes, for schemas and the CLI. */
export const SEARCH_MODES = ['words', 'phrase', 'prefix'] as const satisfies readonly SearchMode[];

/** A page search: the query, how to match it, which books, and where to continue. */
export interface PageSearchQuery {
  q: string;
  mode?: SearchMode;
  /** Allow OCR-damaged spellings (trigram similarity). Default true. */
  fuzzy?: boolean;
  registerType?: RegisterType;
  /** Compared case-insensitively with the book's municipality. */
  municipality?: string;
  /** Books covering any year of [yearFrom, yearTo]. */
  yearFrom?: number;
  yearTo?: number;
  bookId?: string;
  /** Default 20, at most 100. */
  limit?: number;
  /** `nextCursor` of the previous page of results. */
  cursor?: string;
}

/** A word of the page that matched, with its box in master-image pixels. */
export interface MatchedWord {
  text: string;
  wordIndex: number;
  lineIndex: number;
  confidence: number;
  similarity: number;
  box: { x0: number; y0: number; x1: number; y1: number };
}

/** A page that matched, ranked, with what to highlight and a snippet. */
export interface PageSearchHit {
  pageId: string;
  bookId: string;
  sequence: number;
  revision: number;
  /** 0..1: mean best similarity of the query's words (1 = exact), nudged by OCR confidence. */
  score: number;
  words: MatchedWord[];
  /** The OCR line of the best match; matched words are wrapped in «». */
  snippet: string;
  book: { registerType: string; municipality: string; yearFrom: number; yearTo: number; volume: string | null };
  page: { width: number | null; height: number | null };
}

/** One page of search results; `nextCursor` is null on the last one. */
export interface PageSearchResult {
  hits: PageSearchHit[];
  nextCursor: string | null;
  /** The query's words in search form, as compared. */
  terms: string[];
}

/**
 * Words below this trigram similarity are not matches. Set as pg_trgm's `%` threshold for the query:
 * one wrong letter in a five-letter name leaves a similarity of about 0.33.
 */
export const FUZZY_THRESHOLD = 0.25;

const MAX_TERMS = 8;

interface Cursor {
  s: string;
  p: string;
}

function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify(c)).toString('base64url');
}

function decodeCursor(raw: string): Cursor {
  try {
    const c = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as Partial<Cursor>;
    if (typeof c.s === 'string' && /^\d+(\.\d+)?$/.test(c.s) && typeof c.p === 'string' && /^[0-9a-f-]{36}$/.test(c.p)) return { s: c.s, p: c.p };
  } catch {
    // Falls through to the error below.
  }
  throw new AppError('ERR_VALIDATION', 'cursor is not one this server issued', { field: 'cursor' });
}

/** The smallest string greater than every string starting with `prefix` (for a btree range scan). */
export function prefixUpperBound(prefix: string): string {
  const last = prefix.codePointAt(prefix.length - 1)!;
  return prefix.slice(0, -1) + String.fromCodePoint(last + 1);
}

/**
 * Finds pages by the words read on them: accent-insensitive, Cyrillic and Latin alike, surviving
 * OCR errors, as words, a phrase or prefixes, within filters; ranked, with boxes and a snippet, and
 * paged by an opaque keyset cursor (score, page id). How the ranking stays fast: `rankPages`.
 */
export async function searchPages(db: Db, query: PageSearchQuery): Promise<PageSearchResult> {
  const mode = query.mode ?? 'words';
  const fuzzy = query.fuzzy ?? true;
  const terms = normaliseTokens(query.q).slice(0, MAX_TERMS);
  if (terms.length === 0) throw new AppError('ERR_VALIDATION', 'the query has no words to search for', { field: 'q' });
  const limit = Math.min(Math.max(query.limit ?? 20, 1), 100);
  const cursor = query.cursor ? decodeCursor(query.cursor) : undefined;

  const found = await db.transaction(async (tx) => {
    await applySearchSettings(tx, FUZZY_THRESHOLD);
    return rankPages(tx, {
      terms, uppers: terms.map(prefixUpperBound), mode, fuzzy, threshold: FUZZY_THRESHOLD,
      filters: { bookId: query.bookId, registerType: query.registerType, municipality: query.municipality, yearFrom: query.yearFrom, yearTo: query.yearTo },
      after: cursor ? { score: cursor.s, pageId: cursor.p } : undefined, limit,
    });
  });

  const rows = found.pages.slice(0, limit);
  const cands = found.candidates;
  const hits: PageSearchHit[] = rows.map((x) => ({
    pageId: x.pageId, bookId: x.bookId, sequence: x.sequence, revision: x.revision, score: Number(x.score), words: [], snippet: '',
    book: { registerType: x.registerType, municipality: x.municipality, yearFrom: x.yearFrom, yearTo: x.yearTo, volume: x.volume },
    page: { width: x.width, height: x.height },
  }));
  await addWordsAndSnippets(db, hits, cands, mode === 'phrase' ? new Map(rows.map((x) => [x.pageId, x.starts ?? []])) : undefined);
  const last = found.pages.length > limit ? rows[rows.length - 1] : undefined;
  return { hits, nextCursor: last ? encodeCursor({ s: last.score, p: last.pageId }) : null, terms };
}

/**
 * The matched words (with boxes) and the snippet of each hit, from one read of the hits' words
 * (`wordsOfPages`), matched here against the candidate forms.
 */
async function addWordsAndSnippets(db: Queryable, hits: PageSearchHit[], cands: readonly CandidateForm[], phraseStarts?: Map<string, number[]>): Promise<void> {
  if (hits.length === 0) return;
  const words = await wordsOfPages(db, hits);
  const byPage = new Map<string, HitWord[]>();
  for (const w of words) {
    const list = byPage.get(w.pageId) ?? [];
    list.push(w);
    byPage.set(w.pageId, list);
  }
  // norm → best similarity, and (pos, norm) → similarity for phrases.
  const bestSim = new Map<string, number>();
  const simAt = new Map<string, number>();
  for (const [pos, norm, sim] of cands) {
    bestSim.set(norm, Math.max(bestSim.get(norm) ?? 0, Number(sim)));
    simAt.set(`${pos}\u0000${norm}`, Number(sim));
  }
  const toMatched = (w: HitWord, sim: number): MatchedWord => ({
    text: w.text, wordIndex: w.wordIndex, lineIndex: w.lineIndex, confidence: w.confidence, similarity: Math.round(sim * 1000) / 1000,
    box: { x0: w.x0, y0: w.y0, x1: w.x1, y1: w.y1 },
  });
  for (const h of hits) {
    const onPage = byPage.get(h.pageId) ?? [];
    if (phraseStarts) {
      const at = new Map(onPage.map((w) => [w.wordIndex, w]));
      const picked = new Map<number, MatchedWord>();
      const n = Math.max(0, ...cands.map((c) => c[0]));
      for (const start of phraseStarts.get(h.pageId) ?? []) {
        for (let pos = 1; pos <= n; pos++) {
          const w = at.get(start + pos - 1);
          const sim = w?.norm ? simAt.get(`${pos}\u0000${w.norm}`) : undefined;
          if (w && sim !== undefined) picked.set(w.wordIndex, toMatched(w, sim));
        }
      }
      h.words = [...picked.values()].sort((a, b) => a.wordIndex - b.wordIndex);
    } else {
      h.words = onPage.filter((w) => w.norm !== null && bestSim.has(w.norm)).map((w) => toMatched(w, bestSim.get(w.norm!)!));
    }
    const anchor = [...h.words].sort((a, b) => b.similarity - a.similarity || a.wordIndex - b.wordIndex)[0];
    if (!anchor) continue;
    const marked = new Set(h.words.map((w) => w.wordIndex));
    h.snippet = onPage.filter((w) => w.lineIndex === anchor.lineIndex).map((w) => (marked.has(w.wordIndex) ? `«${w.text}»` : w.text)).join(' ');
  }
}
