/**
 * Page words made straight from a generated book's ground truth (no OCR), for search tests and
 * the benchmark: one OCR line per header line and per entry row, words boxed by splitting their
 * cell's text box in proportion to length.
 */
import type { Queryable } from '../db/index.ts';
import type { PageTruth } from '../fixtures/index.ts';
import { normaliseWord } from '../search/normalise.ts';

/** A page_words row before it has a page. */
export interface SeedWord {
  text: string;
  confidence: number;
  line: number;
  block: number;
  box: { x0: number; y0: number; x1: number; y1: number };
}

/** The words of a truth page, in reading order. */
export function wordsFromTruth(page: PageTruth): SeedWord[] {
  const out: SeedWord[] = [];
  let line = 0;
  const split = (text: string, box: { left: number; top: number; width: number; height: number }, block: number) => {
    const tokens = text.split(/\s+/).filter(Boolean);
    const total = tokens.reduce((n, t) => n + t.length + 1, 0) || 1;
    let x = box.left;
    for (const t of tokens) {
      const w = Math.max(1, Math.round((box.width * (t.length + 1)) / total));
      out.push({ text: t, confidence: 90, line, block, box: { x0: x, y0: box.top, x1: x + w, y1: box.top + box.height } });
      x += w;
    }
  };
  for (const h of page.header.lines) {
    split(h.text, h.box, 0);
    line++;
  }
  for (const e of page.entries) {
    for (const c of e.cells) split(c.text, c.textBox, 1);
    line++;
  }
  return out;
}

/** Replaces a page's words (current revision) with `words`, computing their search form. */
export async function insertPageWords(db: Queryable, place: { bookId: string; pageId: string; revision: number }, words: readonly SeedWord[]): Promise<void> {
  await db.query('DELETE FROM page_words WHERE page_id = $1', [place.pageId]);
  const BATCH = 400;
  for (let i = 0; i < words.length; i += BATCH) {
    const slice = words.slice(i, i + BATCH);
    await db.query(
      `INSERT INTO page_words (page_id, revision, word_index, book_id, text, confidence, line_index, block_index, x0, y0, x1, y1, norm)
       SELECT $1, $2, i, $3, t, c, l, b, x0, y0, x1, y1, n
         FROM unnest($4::int[], $5::text[], $6::real[], $7::int[], $8::int[], $9::int[], $10::int[], $11::int[], $12::int[], $13::text[])
              AS u(i, t, c, l, b, x0, y0, x1, y1, n)`,
      [place.pageId, place.revision, place.bookId, slice.map((_, j) => i + j), slice.map((w) => w.text), slice.map((w) => w.confidence),
       slice.map((w) => w.line), slice.map((w) => w.block), slice.map((w) => w.box.x0), slice.map((w) => w.box.y0),
       slice.map((w) => w.box.x1), slice.map((w) => w.box.y1), slice.map((w) => normaliseWord(w.text))],
    );
  }
}
