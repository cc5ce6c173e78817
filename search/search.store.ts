import type { Db, Queryable } from '../db/index.ts';
import type { RegisterType } from '../archive/index.ts';
import type { WordHit } from './find-words.ts';
import type { SearchMode } from './search-pages.ts';

/**
 * Removes search forms no page holds any more (after pages were re-indexed, corrected or disposed),
 * so a disposed book's names do not linger in the vocabulary. The SHARE lock waits for indexing
 * transactions in flight and holds new ones back for the short delete: without it, a form whose
 * page_terms row is not yet committed could be removed from under it.
 */
export async function pruneSearchTerms(db: Db): Promise<number> {
  return db.transaction(async (tx) => {
    await tx.query('LOCK TABLE page_terms IN SHARE MODE');
    const r = await tx.query('DELETE FROM search_terms s WHERE NOT EXISTS (SELECT 1 FROM page_terms t WHERE t.norm = s.norm)');
    return r.rowCount ?? 0;
  });
}

/**
 * Words whose search form lies in [from, to) (a prefix and its upper bound), optionally of one book:
 * exact forms first, then by OCR confidence, book and page.
 */
export async function wordsInRange(db: Queryable, range: { from: string; to: string; bookId?: string; limit: number }): Promise<WordHit[]> {
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
    [range.from, range.to, range.bookId ?? null, range.limit],
  );
  return r.rows.map((x) => ({
    bookId: x.book_id, pageId: x.page_id, sequence: x.sequence, word: x.text, confidence: x.confidence,
    box: { x0: x.x0, y0: x.y0, x1: x.x1, y1: x.y1 },
    registerType: x.register_type, municipality: x.municipality, yearFrom: x.year_from, yearTo: x.year_to,
  }));
}

/**
 * Settings of a page search, local to the transaction `tx` so a pooled connection goes back with
 * the defaults: the trigram threshold, more sort memory, and JIT off (these queries stop early on
 * indexes, and compiling them, chosen from estimates on fresh tables, cost more than running them).
 */
export async function applySearchSettings(tx: Queryable, threshold: number): Promise<void> {
  await tx.query(`SELECT set_config('pg_trgm.similarity_threshold', $1, true), set_config('work_mem', '32MB', true), set_config('jit', 'off', true)`, [String(threshold)]);
}

/**
 * Forms of the vocabulary trigram-similar to each term (pg_trgm's `%` at the transaction's
 * threshold, `applySearchSettings`), best first, at most `perTerm` per term: the proposals that
 * the edit budget then decides on. Position of the term in the query from 1.
 */
export async function similarForms(tx: Queryable, terms: readonly string[], perTerm: number): Promise<{ pos: number; norm: string }[]> {
  const r = await tx.query<{ pos: number; norm: string }>(
    `SELECT t.pos::int AS pos, s.norm
       FROM unnest($1::text[]) WITH ORDINALITY AS t(term, pos)
      CROSS JOIN LATERAL (SELECT s.norm FROM search_terms s WHERE s.norm % t.term ORDER BY similarity(s.norm, t.term) DESC, s.norm LIMIT $2) s`,
    [terms, perTerm],
  );
  return r.rows;
}

/** Occurrences of a form counted, at most, to find a query's rarest word. */
const RARITY_CAP = 5000;

/** What `rankPages` ranks: the query's words in search form and how to match them, already checked and bounded. */
export interface PageRanking {
  terms: readonly string[];
  /** Per term, the smallest string above every string it prefixes (for the btree range of `prefix`). */
  uppers: readonly string[];
  mode: SearchMode;
  /** The forms each query word matches, with their similarity (`candidateForms`); prefix mode adds the vocabulary's forms it prefixes. */
  forms: readonly CandidateForm[];
  filters: { bookId?: string; registerType?: RegisterType; municipality?: string; yearFrom?: number; yearTo?: number };
  /** Continue below this (score, page id), the last hit of the previous page. */
  after?: { score: string; pageId: string };
  /** Hits wanted: one more is returned when there are more. */
  limit: number;
}

/** A page that matched, as ranked: `score` is the exact numeric as text, for the keyset cursor. */
export interface RankedPage {
  pageId: string;
  bookId: string;
  revision: number;
  score: string;
  sequence: number;
  width: number | null;
  height: number | null;
  registerType: string;
  municipality: string;
  yearFrom: number;
  yearTo: number;
  volume: string | null;
  /** For a phrase, the word index where each occurrence starts; null otherwise. */
  starts: number[] | null;
}

/** A candidate form of a query word: position of the word in the query (from 1), the form, its similarity. */
export type CandidateForm = [pos: number, norm: string, sim: number];

/**
 * Ranks pages for a search, up to `limit + 1` of them, with the candidate forms the query's words
 * matched. Run after `applySearchSettings` in the same transaction.
 *
 * How it stays fast on millions of words: fuzzy and prefix matching run on the vocabulary
 * (search_terms, one row per distinct search form), which gives each query word a short list of
 * candidate forms with their similarity; pages are then found by equality on page_terms (one row
 * per form and page, kept by triggers on page_words). A one-word query walks each candidate's
 * pages in ranking order (index page_terms_rank_idx) and stops after a page of results, so its cost
 * does not grow with the number of pages holding a common name; several words or a phrase join
 * the candidates' pages.
 */
export async function rankPages(tx: Queryable, plan: PageRanking): Promise<{ pages: RankedPage[]; candidates: CandidateForm[] }> {
  const { mode, limit, after, filters: f } = plan;
  const params: unknown[] = [];
  const p = (v: unknown): string => {
    params.push(v);
    return `$${params.length}`;
  };
  const termsP = p(plan.terms);
  const uppersP = p(plan.uppers);
  const n = plan.terms.length;

  // Candidate forms per query word: those chosen beforehand (exact, fuzzy within the edit budget,
  // script twins), and for prefixes the vocabulary's forms in the btree range.
  const sources = [`SELECT * FROM unnest(${p(plan.forms.map((c) => c[0]))}::int[], ${p(plan.forms.map((c) => c[1]))}::text[], ${p(plan.forms.map((c) => c[2]))}::float8[])`];
  if (mode === 'prefix') sources.push('SELECT t.pos, s.norm, CASE WHEN s.norm = t.term THEN 1.0 ELSE 0.9 END::float8 FROM terms t JOIN search_terms s ON s.norm ~>=~ t.term AND s.norm ~<~ t.upper');

  const filters: string[] = [];
  if (f.bookId) filters.push(`b.id = ${p(f.bookId)}`);
  if (f.registerType) filters.push(`b.register_type = ${p(f.registerType)}`);
  if (f.municipality) filters.push(`arkiva_place_forms(b.municipality) && arkiva_place_forms(${p(f.municipality)})`);
  if (f.yearFrom !== undefined) filters.push(`b.year_to >= ${p(f.yearFrom)}`);
  if (f.yearTo !== undefined) filters.push(`b.year_from <= ${p(f.yearTo)}`);
  const bookJoin = filters.length ? 'JOIN books b ON b.id = pt.book_id' : '';
  const bookWhere = filters.length ? `AND ${filters.join(' AND ')}` : '';
  const cs = after ? p(after.score) : '';
  const cp = after ? p(after.pageId) : '';
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
    const bound = after
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
    // Every query word on the page, rarest word first: the pages of the word with the fewest
    // occurrences (counted up to RARITY_CAP per form) drive, and each of them is probed for the
    // other words by primary key, so the cost follows the rarest word, not the commonest. A page
    // holding all the words on one line (the whole name in one entry) ranks above one where they
    // are scattered (a 0.9 against a 0.7 weight). The current-revision check (a per-page probe of
    // the primary key: estimated at one matched page, a join was planned as a scan of pages per
    // page) and the filters run on the pages that hold every word.
    ranking = `
    freq AS (
      SELECT c.pos, sum((SELECT count(*) FROM (SELECT 1 FROM page_terms q WHERE q.norm = c.norm LIMIT ${RARITY_CAP}) z)) AS n
        FROM cand c GROUP BY c.pos
    ),
    driver AS (SELECT pos FROM freq ORDER BY n, pos LIMIT 1),
    drv AS (
      SELECT x.page_id, x.revision, x.book_id, max(c.sim) AS sim, max(x.confidence) AS conf
        FROM cand c JOIN driver d ON d.pos = c.pos
        CROSS JOIN LATERAL (SELECT pt.page_id, pt.revision, pt.book_id, pt.confidence FROM page_terms pt WHERE pt.norm = c.norm OFFSET 0) x
       GROUP BY x.page_id, x.revision, x.book_id
    ),
    matched AS (
      SELECT d.page_id, d.revision, d.book_id, (d.sim + sum(o.sim)) / ${n} AS sim, round((d.conf + sum(o.conf)) / ${n}.0) AS conf
        FROM drv d
        CROSS JOIN LATERAL (
          SELECT c2.pos, max(c2.sim) AS sim, max(q.confidence) AS conf
            FROM cand c2 JOIN page_terms q ON q.norm = c2.norm AND q.page_id = d.page_id AND q.revision = d.revision
           WHERE c2.pos <> (SELECT pos FROM driver)
           GROUP BY c2.pos) o
       GROUP BY d.page_id, d.revision, d.book_id, d.sim, d.conf
      HAVING count(*) = ${n - 1}
    ),
    ranked AS (
      SELECT pt.page_id, pt.revision, pt.book_id,
             round((pt.sim * CASE WHEN EXISTS (
               SELECT 1 FROM (SELECT w.norm, w.line_index FROM page_words w WHERE w.page_id = pt.page_id AND w.revision = pt.revision OFFSET 0) w
                 JOIN cand c ON c.norm = w.norm GROUP BY w.line_index HAVING count(DISTINCT c.pos) = ${n}) THEN 0.9 ELSE 0.7 END)::numeric, 4)
             + pt.conf / 1000.0 AS score
        FROM matched pt
        ${bookJoin}
       WHERE pt.revision = (SELECT p.revision FROM pages p WHERE p.id = pt.page_id) ${bookWhere}
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

  const keyset = after ? `WHERE (r.score, r.page_id) < (${cs}::numeric, ${cp}::uuid)` : '';
  const sql = `
    WITH terms AS (
      SELECT t.term, u.upper, t.pos::int AS pos
        FROM unnest(${termsP}::text[]) WITH ORDINALITY AS t(term, pos)
        JOIN unnest(${uppersP}::text[]) WITH ORDINALITY AS u(upper, pos) ON u.pos = t.pos
    ),
    cand AS MATERIALIZED (
      SELECT pos, norm, max(sim) AS sim, ${weight('max(sim)')} AS w FROM (${sources.join(' UNION ALL ')}) x(pos, norm, sim)
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

  const r = await tx.query<{
    page_id: string; book_id: string; revision: number; score: string; sequence: number; width: number | null; height: number | null;
    register_type: string; municipality: string; year_from: number; year_to: number; volume: string | null;
    starts: number[] | null; cands: CandidateForm[] | string | null;
  }>(sql, params);
  // Every row carries the same candidates.
  const first = r.rows[0];
  const candidates = first ? (typeof first.cands === 'string' ? (JSON.parse(first.cands) as CandidateForm[]) : (first.cands ?? [])) : [];
  const pages = r.rows.map((x) => ({
    pageId: x.page_id, bookId: x.book_id, revision: x.revision, score: x.score, sequence: x.sequence, width: x.width, height: x.height,
    registerType: x.register_type, municipality: x.municipality, yearFrom: x.year_from, yearTo: x.year_to, volume: x.volume, starts: x.starts,
  }));
  return { pages, candidates };
}

/** A word read on a page that a search found, with its search form. */
export interface HitWord {
  pageId: string;
  wordIndex: number;
  lineIndex: number;
  text: string;
  confidence: number;
  x0: number;
  y0: number;
  x1: number;
  y1: number;
  norm: string | null;
}

/**
 * Every word of the given page revisions, by page and word order: one read by primary key
 * (matching them in SQL against the candidate forms tempted the planner into the norm index, every
 * occurrence of a common name, once per page).
 */
export async function wordsOfPages(db: Queryable, pages: readonly { pageId: string; revision: number }[]): Promise<HitWord[]> {
  const r = await db.query<{ page_id: string; word_index: number; line_index: number; text: string; confidence: number; x0: number; y0: number; x1: number; y1: number; norm: string | null }>(
    `SELECT w.page_id, w.word_index, w.line_index, w.text, w.confidence, w.x0, w.y0, w.x1, w.y1, w.norm
       FROM unnest($1::uuid[], $2::int[]) AS h(page_id, revision)
       JOIN page_words w ON w.page_id = h.page_id AND w.revision = h.revision
      ORDER BY w.page_id, w.word_index`,
    [pages.map((h) => h.pageId), pages.map((h) => h.revision)],
  );
  return r.rows.map((w) => ({
    pageId: w.page_id, wordIndex: w.word_index, lineIndex: w.line_index, text: w.text, confidence: w.confidence,
    x0: w.x0, y0: w.y0, x1: w.x1, y1: w.y1, norm: w.norm,
  }));
}
