import { AppError } from '../common/index.ts';
import type { Db } from '../db/index.ts';
import { searchPages, type PageSearchHit } from '../search/index.ts';
import { bookIiifIds, xywh } from './presentation-ids.ts';

/** The Content Search 2.0 JSON-LD context. */
export const SEARCH2_CONTEXT = 'http://iiif.io/api/search/2/context.json';

/** Parameters of Content Search that Arkiva accepts and ignores (it searches the OCR words, not by these). */
export const IGNORED_SEARCH_PARAMS = ['motivation', 'date', 'user'] as const;

/** Most pages of a book one search answers with (pages of 100, in the search's ranking, then put in page order). */
export const MAX_SEARCH_PAGES = 1000;
const BATCH = 100;

/** One word that matched, where it stands, and the line it stands in when that is known. */
export interface BookSearchMatch {
  sequence: number;
  wordIndex: number;
  text: string;
  box: { x0: number; y0: number; x1: number; y1: number };
  /** Text before and after the word on its line (for the best match of each page, from the search's snippet). */
  before?: string;
  after?: string;
}

/** The words of a book that match `q`, page by page in order, folded as every search of the archive (case, diacritics, script, dj/đ). */
export async function searchBookWords(db: Db, bookId: string, q: string): Promise<BookSearchMatch[]> {
  if (!q.trim()) throw new AppError('ERR_VALIDATION', 'q is empty: give the words to search for', { field: 'q' });
  const hits: PageSearchHit[] = [];
  let cursor: string | undefined;
  do {
    const r = await searchPages(db, { q, bookId, limit: BATCH, ...(cursor ? { cursor } : {}) });
    hits.push(...r.hits);
    cursor = r.nextCursor ?? undefined;
  } while (cursor && hits.length < MAX_SEARCH_PAGES);
  hits.sort((a, b) => a.sequence - b.sequence);
  const out: BookSearchMatch[] = [];
  for (const h of hits) {
    const ctx = snippetParts(h.snippet);
    const words = [...h.words].sort((a, b) => a.lineIndex - b.lineIndex || a.box.x0 - b.box.x0 || a.wordIndex - b.wordIndex);
    const seen = new Set<number>();
    for (const w of words) {
      if (seen.has(w.wordIndex)) continue;
      seen.add(w.wordIndex);
      const inSnippet = ctx && ctx.exact === w.text ? ctx : undefined;
      out.push({ sequence: h.sequence, wordIndex: w.wordIndex, text: w.text, box: w.box, ...(inSnippet ? { before: inSnippet.before, after: inSnippet.after } : {}) });
    }
  }
  return out;
}

/** The first «marked» word of a search snippet and the text around it. */
function snippetParts(snippet: string): { before: string; exact: string; after: string } | undefined {
  const m = /^(.*?)«([^»]*)»(.*)$/s.exec(snippet);
  if (!m) return undefined;
  return { before: m[1]!.replace(/[«»]/g, ''), exact: m[2]!, after: m[3]!.replace(/[«»]/g, '') };
}

/** The request a search answer is for: its own URL, and the parameters given that were ignored. */
export interface SearchAnswerContext {
  base: string;
  bookId: string;
  /** The URL the caller asked (absolute), the answer's id. */
  url: string;
  ignored: readonly string[];
}

/**
 * A Content Search 2.0 answer: an AnnotationPage of `supplementing` annotations, one per matched
 * word, targeting its box on its canvas (`#xywh=`), and the hits' text in context as `highlighting`
 * annotations with a TextQuoteSelector; `ignored` lists the parameters given but not used.
 */
export function search2Answer(matches: readonly BookSearchMatch[], ctx: SearchAnswerContext): Record<string, unknown> {
  const ids = bookIiifIds(ctx.base, ctx.bookId);
  const annoId = (m: BookSearchMatch) => `${ids.search}/annotations/${m.sequence}/${m.wordIndex}`;
  return {
    '@context': SEARCH2_CONTEXT,
    id: ctx.url,
    type: 'AnnotationPage',
    ...(ctx.ignored.length > 0 ? { ignored: [...ctx.ignored] } : {}),
    items: matches.map((m) => ({
      id: annoId(m),
      type: 'Annotation',
      motivation: 'supplementing',
      body: { type: 'TextualBody', value: m.text, format: 'text/plain' },
      target: xywh(ids.canvas(m.sequence), m.box),
    })),
    annotations: [{
      type: 'AnnotationPage',
      items: matches.map((m) => ({
        id: `${annoId(m)}/hit`,
        type: 'Annotation',
        motivation: 'highlighting',
        target: {
          type: 'SpecificResource',
          source: annoId(m),
          selector: [{ type: 'TextQuoteSelector', exact: m.text, ...(m.before ? { prefix: m.before } : {}), ...(m.after ? { suffix: m.after } : {}) }],
        },
      })),
    }],
  };
}

/** The same answer in Content Search 1.0 (an sc:AnnotationList with hits), for viewers that speak only 1.0. */
export function search1Answer(matches: readonly BookSearchMatch[], ctx: SearchAnswerContext): Record<string, unknown> {
  const ids = bookIiifIds(ctx.base, ctx.bookId);
  const annoId = (m: BookSearchMatch) => `${ids.search1}/annotations/${m.sequence}/${m.wordIndex}`;
  return {
    '@context': ['http://iiif.io/api/presentation/2/context.json', 'http://iiif.io/api/search/1/context.json'],
    '@id': ctx.url,
    '@type': 'sc:AnnotationList',
    within: { '@type': 'sc:Layer', total: matches.length, ...(ctx.ignored.length > 0 ? { ignored: [...ctx.ignored] } : {}) },
    resources: matches.map((m) => ({
      '@id': annoId(m),
      '@type': 'oa:Annotation',
      motivation: 'sc:painting',
      resource: { '@type': 'cnt:ContentAsText', chars: m.text },
      on: xywh(ids.canvas(m.sequence), m.box),
    })),
    hits: matches.map((m) => ({
      '@type': 'search:Hit',
      annotations: [annoId(m)],
      match: m.text,
      ...(m.before ? { before: m.before } : {}),
      ...(m.after ? { after: m.after } : {}),
    })),
  };
}
