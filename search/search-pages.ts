import { AppError } from '../common/index.ts';
import type { Db, Queryable } from '../db/index.ts';
import type { RegisterType } from '../archive/index.ts';
import { formSimilarity, normaliseTokens, scriptTwins } from './normalise.ts';
import { cursorKey, openCursor, sealCursor, type CursorPosition } from './cursor.ts';
import { applySearchSettings, rankPages, similarForms, wordsOfPages, type CandidateForm, type HitWord, type RankedPage } from './search.store.ts';

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
  /** Sealed (opaque to the caller); null when no further hit the caller may see was found. */
  nextCursor: string | null;
  /** How many hits this page of results left out because the caller may not see them (`PageSearchScope.withhold`); nothing else is told of them. */
  withheld: number;
  /** The query's words in search form, as compared. */
  terms: string[];
}

/** Who is asking, as far as the search needs to know: which books' hits they may not see. */
export interface PageSearchScope {
  /**
   * Of the given books, those whose hits are withheld from the caller (closed books, no purpose
   * stated). Their hits are left out before the page of results and its cursor are made: pages stay
   * full of hits the caller may see, and only their number is told.
   */
  withhold?: (bookIds: readonly string[]) => Promise<ReadonlySet<string>>;
  /** Most ranked pages one request walks through looking for hits to show. Default `MAX_SCANNED`. */
  maxScanned?: number;
}

/**
 * Vocabulary forms below this trigram similarity are not proposed as fuzzy matches (pg_trgm's `%`
 * threshold for the query): one wrong letter in a five-letter name leaves about 0.33. What is
 * proposed is then kept only within the word's edit budget (`formSimilarity`).
 */
export const FUZZY_THRESHOLD = 0.25;

/** Most vocabulary forms proposed per query word before the edit budget decides. */
const MAX_PROPOSALS = 200;

/** Similarity given to a form the word takes when OCR read it wholly in the other script (`scriptTwins`). */
export const TWIN_SIMILARITY = 0.9;

const MAX_TERMS = 8;

/**
 * Most ranked pages one request walks past withheld hits looking for visible ones; the answer then
 * carries what it found and a cursor to go on from, so a name common in closed books costs each
 * request a bounded amount of work.
 */
export const MAX_SCANNED = 1000;
/** Largest batch of ranked pages read at once while walking past withheld hits. */
const MAX_BATCH = 200;

/** The smallest string greater than every string starting with `prefix` (for a btree range scan). */
export function prefixUpperBound(prefix: string): string {
  const last = prefix.codePointAt(prefix.length - 1)!;
  return prefix.slice(0, -1) + String.fromCodePoint(last + 1);
}

/**
 * Finds pages by the words read on them: accent-insensitive, Cyrillic and Latin alike, surviving
 * OCR errors, as words, a phrase or prefixes, within filters; ranked, with boxes and a snippet, and
 * paged by a sealed keyset cursor (score, page id). How the ranking stays fast: `rankPages`.
 * Hits of books `scope.withhold` names are left out before the page is cut and its cursor made, so
 * neither the hits nor the cursor say anything of them but their number (`withheld`).
 */
export async function searchPages(db: Db, query: PageSearchQuery, scope: PageSearchScope = {}): Promise<PageSearchResult> {
  const mode = query.mode ?? 'words';
  const fuzzy = query.fuzzy ?? true;
  const terms = normaliseTokens(query.q).slice(0, MAX_TERMS);
  if (terms.length === 0) throw new AppError('ERR_VALIDATION', 'the query has no words to search for', { field: 'q' });
  const limit = Math.min(Math.max(query.limit ?? 20, 1), 100);
  const filters = { bookId: query.bookId, registerType: query.registerType, municipality: query.municipality, yearFrom: query.yearFrom, yearTo: query.yearTo };
  // A cursor continues a search for the same words, matched the same way (its score is on their
  // scale); filters may change between pages, as they always could.
  const binding = JSON.stringify([terms, mode, fuzzy]);
  const key = await cursorKey(db);
  const start = query.cursor ? openCursor(key, query.cursor, binding) : undefined;

  // Fuzzy matching stays within each word's edit budget, phrases included (an OCR-damaged name in
  // a phrase is still found, a different name ending alike is not); fuzzy off is exact but for folding.
  const forms = await db.transaction(async (tx) => {
    await applySearchSettings(tx, FUZZY_THRESHOLD);
    return candidateForms(tx, terms, fuzzy);
  });
  const rank = (after: CursorPosition | undefined, batch: number) =>
    db.transaction(async (tx) => {
      await applySearchSettings(tx, FUZZY_THRESHOLD);
      return rankPages(tx, { terms, uppers: terms.map(prefixUpperBound), mode, forms, filters, after, limit: batch });
    });

  // Walk the ranking in batches until limit + 1 visible hits (the one more says there are more),
  // the end, or the scan budget. Withheld hits after the last hit shown are not counted: the next
  // page starts after that hit and meets them again.
  const shown: RankedPage[] = [];
  let cands: CandidateForm[] = [];
  let withheld = 0;
  let pendingWithheld = 0;
  let after = start;
  let batch = limit;
  let scanned = 0;
  let next: CursorPosition | undefined;
  for (;;) {
    const found = await rank(after, batch);
    if (found.pages.length && !cands.length) cands = found.candidates;
    // Outside the ranking's transaction: an embedded database serves one transaction at a time.
    const hidden = scope.withhold && found.pages.length ? await scope.withhold(found.pages.map((x) => x.bookId)) : undefined;
    let more = false;
    for (const x of found.pages) {
      if (hidden?.has(x.bookId)) {
        pendingWithheld++;
      } else if (shown.length === limit) {
        more = true;
        break;
      } else {
        withheld += pendingWithheld;
        pendingWithheld = 0;
        shown.push(x);
      }
    }
    if (more) {
      const last = shown[shown.length - 1]!;
      next = { score: last.score, pageId: last.pageId };
      break;
    }
    scanned += found.pages.length;
    // rankPages returns one more than asked while there are more.
    const ended = found.pages.length <= batch;
    const last = found.pages[found.pages.length - 1];
    if (!ended && last) after = { score: last.score, pageId: last.pageId };
    if (ended || scanned >= (scope.maxScanned ?? MAX_SCANNED)) {
      // The answer goes to the end of what was walked, withheld hits at its end included. Sealed,
      // the position it goes on from (possibly a withheld hit's) tells the caller nothing.
      withheld += pendingWithheld;
      if (!ended) next = after;
      break;
    }
    batch = Math.min(MAX_BATCH, batch * 2);
  }

  const hits: PageSearchHit[] = shown.map((x) => ({
    pageId: x.pageId, bookId: x.bookId, sequence: x.sequence, revision: x.revision, score: Number(x.score), words: [], snippet: '',
    book: { registerType: x.registerType, municipality: x.municipality, yearFrom: x.yearFrom, yearTo: x.yearTo, volume: x.volume },
    page: { width: x.width, height: x.height },
  }));
  await addWordsAndSnippets(db, hits, cands, mode === 'phrase' ? new Map(shown.map((x) => [x.pageId, x.starts ?? []])) : undefined);
  return { hits, nextCursor: next ? sealCursor(key, next, binding) : null, withheld, terms };
}

/**
 * The forms each query word matches, with their similarity: the word itself (1); when fuzzy, the
 * vocabulary's trigram neighbours within the word's edit budget (`formSimilarity`) and the forms it
 * takes when read wholly in the other script (`TWIN_SIMILARITY`).
 */
export async function candidateForms(tx: Queryable, terms: readonly string[], fuzzy: boolean): Promise<CandidateForm[]> {
  const best = new Map<string, CandidateForm>();
  const add = (pos: number, norm: string, sim: number) => {
    const key = `${pos}\u0000${norm}`;
    if ((best.get(key)?.[2] ?? -1) < sim) best.set(key, [pos, norm, sim]);
  };
  terms.forEach((t, i) => add(i + 1, t, 1));
  if (fuzzy) {
    for (const { pos, norm } of await similarForms(tx, terms, MAX_PROPOSALS)) {
      const sim = formSimilarity(terms[pos - 1]!, norm);
      if (sim !== null) add(pos, norm, sim);
    }
    terms.forEach((t, i) => scriptTwins(t).forEach((twin) => add(i + 1, twin, TWIN_SIMILARITY)));
  }
  return [...best.values()];
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
