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
 * paged by an opaque keyset cursor (score, page id).
 *
 * How it stays fast on millions of words: fuzzy and prefix matching run on the vocabulary
 * (search_terms, one row per distinct search form), which gives each query word a short list of
 * candidate forms with their similarity; pages are then found by equality on page_terms (one row
 * per form and page, kept by triggers on page_words). A one-word query walks each candidate's
 * pages in ranking order (index page_terms_rank_idx) and stops after a page of results, so its cost
 * does not grow with the number of pages holding a common name; several words or a phrase join
 * the candidates' pages.
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
  const n = terms.length;

  // Candidate forms per query word, from the vocabulary: trigram GIN for fuzzy, btree for exact and prefixes.
  const sources: string[] = [];
  if (fuzzy) sources.push('SELECT t.pos, s.norm, similarity(s.norm, t.term)::float8 AS sim FROM terms t JOIN search_terms s ON s.norm % t.term');
  if (mode === 'prefix') sources.push('SELECT t.pos, s.norm, CASE WHEN s.norm = t.term THEN 1.0 ELSE 0.9 END::float8 FROM terms t JOIN search_terms s ON s.norm ~>=~ t.term AND s.norm ~<~ t.upper');
  else sources.push('SELECT t.pos, s.norm, 1.0::float8 FROM terms t JOIN search_terms s ON s.norm = t.term');

  const filters: string[] = [];
  if (query.bookId) filters.push(`b.id = ${p(query.bookId)}`);
  if (query.registerType) filters.push(`b.register_type = ${p(query.registerType)}`);
  if (query.municipality) filters.push(`arkiva_place_forms(b.municipality) && arkiva_place_forms(${p(query.municipality)})`);
  if (query.yearFrom !== undefined) filters.push(`b.year_to >= ${p(query.yearFrom)}`);
  if (query.yearTo !== undefined) filters.push(`b.year_from <= ${p(query.yearTo)}`);
  const bookJoin = filters.length ? 'JOIN books b ON b.id = pt.book_id' : '';
  const bookWhere = filters.length ? `AND ${filters.join(' AND ')}` : '';
  const cs = cursor ? p(cursor.s) : '';
  const cp = cursor ? p(cursor.p) : '';
  // A candidate's weight in the score: exact numerics, so the cursor compares exactly.
  const weight = (sim: string) => `round((${sim} * 0.9)::numeric, 4)`;

  let ranking: string;
  if (mode !== 'phrase' && n === 1) {
    // Per candidate form, its best pages in index order (confidence, page id, descending). Past a
    // cursor, the bound is turned into one on (confidence, page id) for the index, and pages that
    // another form already placed before the cursor are left out. The filters become the list of
    // books that pass them, computed once. The page and cursor checks are scalar subqueries on purpose: they stay per-row probes of primary keys beside the ordered
    // index scan, where a join could be planned as a hash over every occurrence (as it was on
    // freshly loaded tables, before their statistics).
    const bound = cursor
      ? `AND (pt.confidence, pt.page_id) < (ceil((${cs}::numeric - c.w) * 1000)::int,
               CASE WHEN (${cs}::numeric - c.w) * 1000 = ceil((${cs}::numeric - c.w) * 1000) THEN ${cp}::uuid ELSE '00000000-0000-0000-0000-000000000000'::uuid END)
         AND NOT (SELECT coalesce(bool_or((c2.w + q.confidence / 1000.0, q.page_id) >= (${cs}::numeric, ${cp}::uuid)), false)
                    FROM cand c2 JOIN page_terms q ON q.norm = c2.norm AND q.page_id = pt.page_id AND q.revision = pt.revision)`
      : '';
    ranking = `
    per AS (
      SELECT x.page_id, x.revision, x.book_id, c.w + x.confidence / 1000.0 AS score
        FROM cand c
        CROSS JOIN LATERAL (
          SELECT pt.page_id, pt.revision, pt.book_id, pt.confidence
            FROM page_terms pt
           WHERE pt.norm = c.norm ${bound}
             AND pt.revision = (SELECT p.revision FROM pages p WHERE p.id = pt.page_id)
             ${filters.length ? `AND pt.book_id = ANY((SELECT array_agg(b.id) FROM books b WHERE true ${bookWhere})::uuid[])` : ''}
           ORDER BY pt.confidence DESC, pt.page_id DESC
           LIMIT ${p(limit + 1)}
        ) x
    ),
    ranked AS (SELECT page_id, revision, book_id, max(score) AS score FROM per GROUP BY page_id, revision, book_id)`;
  } else if (mode !== 'phrase') {
    // Every query word on the page. Each candidate's pages come from the index (OFFSET 0 keeps the
    // planner from turning this into a scan of all of page_terms); the current-revision check and
    // the filters run on the pages that hold every word, not on every occurrence.
    ranking = `
    best AS (
      SELECT c.pos, x.page_id, x.revision, x.book_id, max(c.sim) AS sim, max(x.confidence) AS conf
        FROM cand c
        CROSS JOIN LATERAL (SELECT pt.page_id, pt.revision, pt.book_id, pt.confidence FROM page_terms pt WHERE pt.norm = c.norm OFFSET 0) x
       GROUP BY c.pos, x.page_id, x.revision, x.book_id
    ),
    ranked AS (
      SELECT pt.page_id, pt.revision, pt.book_id, pt.score
        FROM (SELECT page_id, revision, book_id, ${weight(`sum(sim) / ${n}`)} + round(avg(conf)) / 1000.0 AS score
                FROM best GROUP BY page_id, revision, book_id HAVING count(*) = ${n}) pt
        JOIN pages p ON p.id = pt.page_id AND p.revision = pt.revision
        ${bookJoin}
       WHERE true ${bookWhere}
    )`;
  } else {
    // A phrase: the candidates' words (by index, per candidate), then runs of consecutive words on
    // one line in query order; the current-revision check and the filters run on the pages found.
    ranking = `
    hits AS (
      SELECT DISTINCT ON (c.pos, x.page_id, x.word_index) c.pos, c.sim, x.page_id, x.revision, x.book_id, x.word_index, x.line_index, x.confidence
        FROM cand c
        CROSS JOIN LATERAL (
          SELECT w.page_id, w.revision, w.book_id, w.word_index, w.line_index, w.confidence FROM page_words w WHERE w.norm = c.norm OFFSET 0
        ) x
       ORDER BY c.pos, x.page_id, x.word_index, c.sim DESC
    ),
    phrase AS (
      SELECT h1.page_id, h1.revision, h1.book_id, h1.word_index AS start, sum(h.sim) / ${n} AS sim, avg(h.confidence) AS conf
        FROM hits h1
        JOIN hits h ON h.page_id = h1.page_id AND h.revision = h1.revision AND h.line_index = h1.line_index
                   AND h.word_index = h1.word_index + h.pos - 1
       WHERE h1.pos = 1
       GROUP BY h1.page_id, h1.revision, h1.book_id, h1.word_index
      HAVING count(DISTINCT h.pos) = ${n}
    ),
    ranked AS (
      SELECT pt.* FROM (
        SELECT page_id, revision, book_id, ${weight('max(sim)')} + round(max(conf)::numeric) / 1000.0 AS score,
               array_agg(start ORDER BY start) AS starts
          FROM phrase GROUP BY page_id, revision, book_id
      ) pt
      JOIN pages p ON p.id = pt.page_id AND p.revision = pt.revision
      ${bookJoin}
     WHERE true ${bookWhere}
    )`;
  }

  const keyset = cursor ? `WHERE (r.score, r.page_id) < (${cs}::numeric, ${cp}::uuid)` : '';
  const sql = `
    WITH terms AS (
      SELECT t.term, u.upper, t.pos::int AS pos
        FROM unnest(${termsP}::text[]) WITH ORDINALITY AS t(term, pos)
        JOIN unnest(${uppersP}::text[]) WITH ORDINALITY AS u(upper, pos) ON u.pos = t.pos
    ),
    cand AS MATERIALIZED (
      SELECT pos, norm, max(sim) AS sim, ${weight('max(sim)')} AS w FROM (${sources.join(' UNION ALL ')}) x(pos, norm, sim)
       WHERE sim >= ${FUZZY_THRESHOLD.toFixed(2)}
       GROUP BY pos, norm
    ),
    ${ranking},
    top AS (
      SELECT r.* FROM ranked r ${keyset} ORDER BY r.score DESC, r.page_id DESC LIMIT ${p(limit + 1)}
    )
    SELECT top.page_id, top.book_id, top.revision, top.score::text AS score, p.sequence, p.width, p.height,
           b.register_type, b.municipality, b.year_from, b.year_to, b.volume,
           ${mode === 'phrase' ? 'top.starts' : 'NULL::int[]'} AS starts,
           (SELECT jsonb_agg(jsonb_build_array(c.pos, c.norm, c.sim)) FROM cand c) AS cands
      FROM top
      JOIN pages p ON p.id = top.page_id
      JOIN books b ON b.id = top.book_id
     ORDER BY top.score DESC, top.page_id DESC`;

  const r = await db.transaction(async (tx) => {
    // Transaction-local, so a pooled connection goes back with the defaults. JIT off: these queries
    // stop early on indexes, and compiling them (chosen from estimates on fresh tables) cost more than running them.
    await tx.query(`SELECT set_config('pg_trgm.similarity_threshold', $1, true), set_config('work_mem', '32MB', true), set_config('jit', 'off', true)`, [String(FUZZY_THRESHOLD)]);
    return tx.query<{
      page_id: string; book_id: string; revision: number; score: string; sequence: number; width: number | null; height: number | null;
      register_type: string; municipality: string; year_from: number; year_to: number; volume: string | null;
      starts: number[] | null; cands: [number, string, number][] | string | null;
    }>(sql, params);
  });

  const rows = r.rows.slice(0, limit);
  const first = rows[0];
  const cands = first ? (typeof first.cands === 'string' ? (JSON.parse(first.cands) as [number, string, number][]) : (first.cands ?? [])) : [];
  const hits: PageSearchHit[] = rows.map((x) => ({
    pageId: x.page_id, bookId: x.book_id, sequence: x.sequence, revision: x.revision, score: Number(x.score), words: [], snippet: '',
    book: { registerType: x.register_type, municipality: x.municipality, yearFrom: x.year_from, yearTo: x.year_to, volume: x.volume },
    page: { width: x.width, height: x.height },
  }));
  await addWordsAndSnippets(db, hits, cands, mode === 'phrase' ? new Map(rows.map((x) => [x.page_id, x.starts ?? []])) : undefined);
  const last = r.rows.length > limit ? rows[rows.length - 1] : undefined;
  return { hits, nextCursor: last ? encodeCursor({ s: last.score, p: last.page_id }) : null, terms };
}

interface PageWordRow { page_id: string; word_index: number; line_index: number; text: string; confidence: number; x0: number; y0: number; x1: number; y1: number; norm: string | null }

/**
 * The matched words (with boxes) and the snippet of each hit, from one read of the hits' words by
 * primary key: matching them in SQL against the candidate forms tempted the planner into the norm
 * index (every occurrence of a common name) once per page.
 */
async function addWordsAndSnippets(db: Queryable, hits: PageSearchHit[], cands: readonly [number, string, number][], phraseStarts?: Map<string, number[]>): Promise<void> {
  if (hits.length === 0) return;
  const r = await db.query<PageWordRow>(
    `SELECT w.page_id, w.word_index, w.line_index, w.text, w.confidence, w.x0, w.y0, w.x1, w.y1, w.norm
       FROM unnest($1::uuid[], $2::int[]) AS h(page_id, revision)
       JOIN page_words w ON w.page_id = h.page_id AND w.revision = h.revision
      ORDER BY w.page_id, w.word_index`,
    [hits.map((h) => h.pageId), hits.map((h) => h.revision)],
  );
  const byPage = new Map<string, PageWordRow[]>();
  for (const w of r.rows) {
    const list = byPage.get(w.page_id) ?? [];
    list.push(w);
    byPage.set(w.page_id, list);
  }
  // norm → best similarity, and (pos, norm) → similarity for phrases.
  const bestSim = new Map<string, number>();
  const simAt = new Map<string, number>();
  for (const [pos, norm, sim] of cands) {
    bestSim.set(norm, Math.max(bestSim.get(norm) ?? 0, Number(sim)));
    simAt.set(`${pos}\u0000${norm}`, Number(sim));
  }
  const toMatched = (w: PageWordRow, sim: number): MatchedWord => ({
    text: w.text, wordIndex: w.word_index, lineIndex: w.line_index, confidence: w.confidence, similarity: Math.round(sim * 1000) / 1000,
    box: { x0: w.x0, y0: w.y0, x1: w.x1, y1: w.y1 },
  });
  for (const h of hits) {
    const words = byPage.get(h.pageId) ?? [];
    if (phraseStarts) {
      const at = new Map(words.map((w) => [w.word_index, w]));
      const picked = new Map<number, MatchedWord>();
      const n = Math.max(0, ...cands.map((c) => c[0]));
      for (const start of phraseStarts.get(h.pageId) ?? []) {
        for (let pos = 1; pos <= n; pos++) {
          const w = at.get(start + pos - 1);
          const sim = w?.norm ? simAt.get(`${pos}\u0000${w.norm}`) : undefined;
          if (w && sim !== undefined) picked.set(w.word_index, toMatched(w, sim));
        }
      }
      h.words = [...picked.values()].sort((a, b) => a.wordIndex - b.wordIndex);
    } else {
      h.words = words.filter((w) => w.norm !== null && bestSim.has(w.norm)).map((w) => toMatched(w, bestSim.get(w.norm!)!));
    }
    const anchor = [...h.words].sort((a, b) => b.similarity - a.similarity || a.wordIndex - b.wordIndex)[0];
    if (!anchor) continue;
    const marked = new Set(h.words.map((w) => w.wordIndex));
    h.snippet = words.filter((w) => w.line_index === anchor.lineIndex).map((w) => (marked.has(w.word_index) ? `«${w.text}»` : w.text)).join(' ');
  }
}
