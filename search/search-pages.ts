import { AppError } from '../common/index.ts';
import type { Db, Queryable } from '../db/index.ts';
import type { RegisterType } from '../archive/index.ts';
import { normaliseTokens } from './normalise.ts';

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
function prefixUpperBound(prefix: string): string {
  const last = prefix.codePointAt(prefix.length - 1)!;
  return prefix.slice(0, -1) + String.fromCodePoint(last + 1);
}

/**
 * Finds pages by the words read on them: accent-insensitive, Cyrillic and Latin alike, surviving
 * OCR errors, as words, a phrase or prefixes, within filters; ranked, with boxes and a snippet, and
 * paged by an opaque keyset cursor (score, page id) so a deep page costs what the first one does.
 */
export async function searchPages(db: Db, query: PageSearchQuery): Promise<PageSearchResult> {
  const mode = query.mode ?? 'words';
  const fuzzy = query.fuzzy ?? true;
  const terms = normaliseTokens(query.q).slice(0, MAX_TERMS);
  if (terms.length === 0) throw new AppError('ERR_VALIDATION', 'the query has no words to search for', { field: 'q' });
  const limit = Math.min(Math.max(query.limit ?? 20, 1), 100);
  const cursor = query.cursor ? decodeCursor(query.cursor) : undefined;

  const params: unknown[] = [];
  const p = (v: unknown): string => {
    params.push(v);
    return `$${params.length}`;
  };
  const termsP = p(terms);
  const uppersP = p(terms.map(prefixUpperBound));
  const nP = p(terms.length);
  // A constant of this module, not input: inlined so an unused parameter never goes untyped.
  const thresholdP = FUZZY_THRESHOLD.toFixed(2);

  // One branch per index: trigram GIN for exact-or-fuzzy, text_pattern_ops btree for exact and prefixes.
  const branches: string[] = [];
  if (fuzzy) branches.push(`SELECT w.*, similarity(w.norm, t.term) AS sim, t.pos FROM page_words w WHERE w.norm % t.term AND similarity(w.norm, t.term) >= ${thresholdP}`);
  if (mode === 'prefix') branches.push(`SELECT w.*, CASE WHEN w.norm = t.term THEN 1.0 ELSE 0.9 END AS sim, t.pos FROM page_words w WHERE w.norm ~>=~ t.term AND w.norm ~<~ t.upper`);
  else branches.push(`SELECT w.*, 1.0 AS sim, t.pos FROM page_words w WHERE w.norm = t.term`);

  const filters: string[] = [];
  if (query.bookId) filters.push(`b.id = ${p(query.bookId)}`);
  if (query.registerType) filters.push(`b.register_type = ${p(query.registerType)}`);
  if (query.municipality) filters.push(`lower(b.municipality) = lower(${p(query.municipality)})`);
  if (query.yearFrom !== undefined) filters.push(`b.year_to >= ${p(query.yearFrom)}`);
  if (query.yearTo !== undefined) filters.push(`b.year_from <= ${p(query.yearTo)}`);

  const scored = mode === 'phrase'
    ? `phrase AS (
         SELECT h1.page_id, h1.revision, h1.book_id, h1.word_index AS start, sum(h.sim) / ${nP} AS sim, avg(h.confidence) AS conf
           FROM hits h1
           JOIN hits h ON h.page_id = h1.page_id AND h.revision = h1.revision AND h.line_index = h1.line_index
                      AND h.word_index = h1.word_index + h.pos - 1
          WHERE h1.pos = 1
          GROUP BY h1.page_id, h1.revision, h1.book_id, h1.word_index
         HAVING count(DISTINCT h.pos) = ${nP}
       ),
       matched AS (
         SELECT h.* FROM hits h JOIN phrase ph ON ph.page_id = h.page_id AND ph.revision = h.revision
            AND h.word_index BETWEEN ph.start AND ph.start + ${nP} - 1 AND h.word_index = ph.start + h.pos - 1
       ),
       ranked AS (
         SELECT page_id, revision, book_id, round((max(sim) * 0.9 + max(conf) / 1000)::numeric, 6) AS score
           FROM phrase GROUP BY page_id, revision, book_id
       )`
    : `best AS (
         SELECT page_id, revision, book_id, pos, max(sim) AS sim, max(confidence) AS conf FROM hits GROUP BY page_id, revision, book_id, pos
       ),
       matched AS (SELECT * FROM hits),
       ranked AS (
         SELECT page_id, revision, book_id, round((sum(sim) / ${nP} * 0.9 + avg(conf) / 1000)::numeric, 6) AS score
           FROM best GROUP BY page_id, revision, book_id HAVING count(*) = ${nP}
       )`;

  const keyset = cursor ? `WHERE (r.score, r.page_id) < (${p(cursor.s)}::numeric, ${p(cursor.p)}::uuid)` : '';
  const limitP = p(limit + 1);
  const sql = `
    WITH terms AS (
      SELECT t.term, u.upper, t.pos::int AS pos
        FROM unnest(${termsP}::text[]) WITH ORDINALITY AS t(term, pos)
        JOIN unnest(${uppersP}::text[]) WITH ORDINALITY AS u(upper, pos) ON u.pos = t.pos
    ),
    hits AS (
      SELECT DISTINCT ON (m.pos, m.page_id, m.word_index)
             m.pos, m.page_id, m.revision, m.book_id, m.word_index, m.line_index, m.text, m.confidence,
             m.x0, m.y0, m.x1, m.y1, m.sim::float8 AS sim
        FROM terms t
        CROSS JOIN LATERAL (${branches.join(' UNION ALL ')}) m
        JOIN pages p ON p.id = m.page_id AND p.revision = m.revision
        JOIN books b ON b.id = m.book_id
       ${filters.length ? `WHERE ${filters.join(' AND ')}` : ''}
       ORDER BY m.pos, m.page_id, m.word_index, m.sim DESC
    ),
    ${scored},
    top AS (
      SELECT r.* FROM ranked r ${keyset} ORDER BY r.score DESC, r.page_id DESC LIMIT ${limitP}
    )
    SELECT top.page_id, top.book_id, top.revision, top.score::text AS score, p.sequence, p.width, p.height,
           b.register_type, b.municipality, b.year_from, b.year_to, b.volume,
           (SELECT jsonb_agg(jsonb_build_object('text', m.text, 'wordIndex', m.word_index, 'lineIndex', m.line_index,
                     'confidence', m.confidence, 'similarity', round(m.sim::numeric, 3),
                     'box', jsonb_build_object('x0', m.x0, 'y0', m.y0, 'x1', m.x1, 'y1', m.y1)) ORDER BY m.word_index)
              FROM matched m WHERE m.page_id = top.page_id) AS words
      FROM top
      JOIN pages p ON p.id = top.page_id
      JOIN books b ON b.id = top.book_id
     ORDER BY top.score DESC, top.page_id DESC`;

  const r = await db.transaction(async (tx) => {
    // Transaction-local, so a pooled connection goes back with pg_trgm's default.
    await tx.query(`SELECT set_config('pg_trgm.similarity_threshold', $1, true)`, [String(FUZZY_THRESHOLD)]);
    return tx.query<{
    page_id: string; book_id: string; revision: number; score: string; sequence: number; width: number | null; height: number | null;
    register_type: string; municipality: string; year_from: number; year_to: number; volume: string | null;
    words: (Omit<MatchedWord, 'similarity'> & { similarity: number | string })[] | string;
  }>(sql, params);
  });

  const rows = r.rows.slice(0, limit);
  const hits: PageSearchHit[] = rows.map((x) => {
    const raw = typeof x.words === 'string' ? (JSON.parse(x.words) as typeof x.words) : x.words;
    const words = (raw as (Omit<MatchedWord, 'similarity'> & { similarity: number | string })[]).map((w) => ({ ...w, similarity: Number(w.similarity) }));
    return {
      pageId: x.page_id, bookId: x.book_id, sequence: x.sequence, revision: x.revision, score: Number(x.score), words, snippet: '',
      book: { registerType: x.register_type, municipality: x.municipality, yearFrom: x.year_from, yearTo: x.year_to, volume: x.volume },
      page: { width: x.width, height: x.height },
    };
  });
  await addSnippets(db, hits);
  const last = r.rows.length > limit ? rows[rows.length - 1] : undefined;
  return { hits, nextCursor: last ? encodeCursor({ s: last.score, p: last.page_id }) : null, terms };
}

// The line of each hit's best word, with the matched words marked, read in one query.
async function addSnippets(db: Queryable, hits: PageSearchHit[]): Promise<void> {
  if (hits.length === 0) return;
  const anchors = hits.map((h) => [...h.words].sort((a, b) => b.similarity - a.similarity || a.wordIndex - b.wordIndex)[0]!);
  const r = await db.query<{ page_id: string; words: { t: string; i: number }[] | string }>(
    `SELECT w.page_id, jsonb_agg(jsonb_build_object('t', w.text, 'i', w.word_index) ORDER BY w.word_index) AS words
       FROM unnest($1::uuid[], $2::int[], $3::int[]) AS a(page_id, revision, line_index)
       JOIN page_words w ON w.page_id = a.page_id AND w.revision = a.revision AND w.line_index = a.line_index
      GROUP BY w.page_id`,
    [hits.map((h) => h.pageId), hits.map((h) => h.revision), anchors.map((a) => a.lineIndex)],
  );
  const byPage = new Map(r.rows.map((x) => [x.page_id, typeof x.words === 'string' ? (JSON.parse(x.words) as { t: string; i: number }[]) : x.words]));
  for (const h of hits) {
    const marked = new Set(h.words.map((w) => w.wordIndex));
    h.snippet = (byPage.get(h.pageId) ?? []).map((w) => (marked.has(w.i) ? `«${w.t}»` : w.t)).join(' ');
  }
}
