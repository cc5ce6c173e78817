import type { Queryable } from '../db/index.ts';
import { normaliseWord } from './normalise.ts';

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
  const upper = q.slice(0, -1) + String.fromCodePoint(q.codePointAt(q.length - 1)! + 1);
  const r = await db.query<{
    book_id: string; page_id: string; sequence: number; text: string; confidence: number;
    x0: number; y0: number; x1: number; y1: number; register_type: string; municipality: string; year_from: number; year_to: number;
  }>(
    `SELECT w.book_id, w.page_id, p.sequence, w.text, w.confidence, w.x0, w.y0, w.x1, w.y1,
            b.register_type, b.municipality, b.year_from, b.year_to
       FROM page_words w
       JOIN pages p ON p.id = w.page_id AND p.revision = w.revision
       JOIN books b ON b.id = w.book_id
      WHERE w.norm ~>=~ $1 AND w.norm ~<~ $2 AND ($3::uuid IS NULL OR w.book_id = $3)
      ORDER BY (w.norm = $1) DESC, w.confidence DESC, b.created_at, p.sequence
      LIMIT $4`,
    [q, upper, opts.bookId ?? null, Math.min(opts.limit ?? 20, 200)],
  );
  return r.rows.map((x) => ({
    bookId: x.book_id, pageId: x.page_id, sequence: x.sequence, word: x.text, confidence: x.confidence,
    box: { x0: x.x0, y0: x.y0, x1: x.x1, y1: x.y1 },
    registerType: x.register_type, municipality: x.municipality, yearFrom: x.year_from, yearTo: x.year_to,
  }));
}
