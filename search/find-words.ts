import type { Queryable } from '../db/index.ts';
import { normaliseWord } from './normalise.ts';
import { prefixUpperBound } from './search-pages.ts';
import { wordsInRange } from './search.store.ts';

/** A page where a searched word was read, with the word's box for highlighting. */
export interface WordHit {
  bookId: string;
  pageId: string;
  sequence: number;
  word: string;
  confidence: number;
  box: { x0: number; y0: number; x1: number; y1: number };
  registerType: string;
  municipality: string;
  yearFrom: number;
  yearTo: number;
}

/**
 * Finds words that start with the query word, accent-insensitive and in either script (the
 * search form in page_words.norm). The one-word lookup of the demo; `searchPages` is the search.
 */
export async function findWords(db: Queryable, word: string, opts: { limit?: number; bookId?: string } = {}): Promise<WordHit[]> {
  const q = normaliseWord(word.trim());
  if (!q) return [];
  return wordsInRange(db, { from: q, to: prefixUpperBound(q), bookId: opts.bookId, limit: Math.min(opts.limit ?? 20, 200) });
}
