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

/** The conditions on a book (alias `b`) of a search's filters, their values added by `p`. */
function bookFilters(f: PageRanking['filters'], p: (v: unknown) => string): string[] {
  const filters: string[] = [];
  if (f.bookId) filters.push(`b.id = ${p(f.bookId)}`);
  if (f.registerType) filters.push(`b.register_type = ${p(f.registerType)}`);
  if (f.municipality) filters.push(`arkiva_place_forms(b.municipality) && arkiva_place_forms(${p(f.municipality)})`);
  if (f.yearFrom !== undefined) filters.push(`b.year_to >= ${p(f.yearFrom)}`);
  if (f.yearTo !== undefined) filters.push(`b.year_from <= ${p(f.yearTo)}`);
  return filters;
}

/**
 * Ranks pages for a search, up to `limit + 1` of them, with the candidate forms the query's words
 * matched. Run after `applySearchSettings` in the same transaction.
 *
 * How it stays fast on millions of words: fuzzy and prefix matching run on the vocabulary
 * (search_terms, one row per distinct search form), which gives each query word a short list of
 * candidate forms with their similarity; pages are then found by equality on page_terms (one row
 * per form and page, kept by triggers on page_words). A one-word query walks each candidate's
 * pages in ranking order (index page_terms_rank_idx) and stops after a page of results, so its cost
 * does not grow with the number of pages holding a common name; several words or a phrase walk
 * the pages holding their words next to each other (page_pairs, page_triples), then the rarest word's, and stop
 * as soon as a page of results is certain (`rankByWalk`).
 */
export async function rankPages(tx: Queryable, plan: PageRanking): Promise<{ pages: RankedPage[]; candidates: CandidateForm[] }> {
  if (plan.mode === 'phrase' || plan.terms.length > 1) return rankByWalk(tx, plan);
  const { mode, limit, after, filters: f } = plan;
  const params: unknown[] = [];
  const p = (v: unknown): string => {
    params.push(v);
    return `$${params.length}`;
  };
  const termsP = p(plan.terms);
  const uppersP = p(plan.uppers);

  // Candidate forms per query word: those chosen beforehand (exact, fuzzy within the edit budget,
  // script twins), and for prefixes the vocabulary's forms in the btree range.
  const sources = [`SELECT * FROM unnest(${p(plan.forms.map((c) => c[0]))}::int[], ${p(plan.forms.map((c) => c[1]))}::text[], ${p(plan.forms.map((c) => c[2]))}::float8[])`];
  if (mode === 'prefix') sources.push('SELECT t.pos, s.norm, CASE WHEN s.norm = t.term THEN 1.0 ELSE 0.9 END::float8 FROM terms t JOIN search_terms s ON s.norm ~>=~ t.term AND s.norm ~<~ t.upper');

  const filters = bookFilters(f, p);
  const bookWhere = filters.length ? `AND ${filters.join(' AND ')}` : '';
  const cs = after ? p(after.score) : '';
  const cp = after ? p(after.pageId) : '';
  // A candidate's weight in the score: exact numerics, so the cursor compares exactly.
  const weight = (sim: string) => `round((${sim} * 0.9)::numeric, 4)`;

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
  const ranking = `
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
           NULL::int[] AS starts,
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

/** Most postings of a form counted, per query word, to find the query's rarest word (the walk's driver). */
const RARITY_CAP = 2000;
/** Driver pages evaluated by the first batch of a walk, and at most by any batch (batches double in between). */
const FIRST_BATCH = 64;
const MAX_WALK_BATCH = 4096;
const LAST_UUID = 'ffffffff-ffff-ffff-ffff-ffffffffffff';

/** A pair of forms that links two query words (`link`: which two), with the two forms' similarities. */
type WalkLink = [link: number, a: string, b: string, simA: number, simB: number];

/** Most sources a walk reads from: past it (prefixes of several words), pairs are left out. */
const MAX_SOURCES = 400;

/**
 * A list of postings the walk reads pages from, and the bound of a page listed there:
 * round(((sum of sims + rest) / n) × factor, 4), the query words not in the source counted as
 * exact (`rest` of them).
 */
interface WalkSource {
  kind: 't' | 'p' | 'r';
  /** For a form's postings (page_terms). */
  norm?: string;
  /**
   * For a pair's postings (page_pairs): the form on the left, the one next to it on the right; for
   * a triple's (page_triples): three forms next to each other, in any order.
   */
  forms?: [string, string] | [string, string, string];
  sims: [number] | [number, number] | [number, number, number];
  rest: number;
  factor: number;
  /**
   * Several words: the links (pairs of query words) a pair's or a triple's forms make. Holding only those, a page
   * cannot have the whole name together when they are fewer than n - 1: the walk passes it over.
   */
  links?: number[];
}

/**
 * Where `rankByWalk` reads its pages, each source with its bound (`WalkSource`). Every page that
 * can score holds a posting in a source whose bound is at least its score, so a walk in bound
 * order can stop exactly:
 * - a phrase: the pairs of the two adjacent query words whose pairs have the fewest postings (an
 *   occurrence of the phrase holds that pair, with its own similarities in the bound);
 * - three words whose forms are all distinct, the name together: the triples of their forms
 *   (n consecutive words holding all three hold one of each), bound 0.9 × their own similarities;
 * - other several words, the name together: n consecutive words holding all n query words link
 *   them (word i next to word j, in either order) in a connected graph, which lacks at most
 *   C(n,2) − (n − 1) of the C(n,2) links; so the C(n,2) − n + 2 links with the fewest postings
 *   (one for two words, two for three) list every such page. Bound: 0.9 × the two words' best
 *   similarities, the others exact;
 * - several words apart: the rarest word's pages, bound 0.7;
 * - one word as a phrase, or more pairs than MAX_SOURCES (prefixes): the rarest word's pages, bound 0.9.
 * Postings are counted up to RARITY_CAP a word, link or pair position.
 */
async function walkSources(tx: Queryable, mode: SearchMode, n: number, candidates: readonly CandidateForm[]): Promise<{ sources: WalkSource[]; links: WalkLink[] }> {
  const at = (pos: number) => candidates.filter((c) => c[0] === pos);
  // A query word no form matches: no page holds them all.
  for (let pos = 1; pos <= n; pos++) if (at(pos).length === 0) return { sources: [], links: [] };
  const bestSim = (pos: number) => Math.max(...at(pos).map((c) => c[2]));
  /** Postings of each group of pairs, counted up to the cap (a group: one pair position, or one link). */
  const pairPostings = async (groups: readonly (readonly [string, string])[][]): Promise<number[]> => {
    const flat = groups.flatMap((g, k) => g.map(([a, b]) => ({ k, a, b })));
    const r = await tx.query<{ k: number; n: number }>(
      `SELECT t.k, (SELECT count(*) FROM (
                SELECT 1 FROM unnest($2::int[], $3::text[], $4::text[]) AS c(k, a, b)
                CROSS JOIN LATERAL (SELECT 1 FROM page_pairs q WHERE q.pair = arkiva_pair_key(c.a, c.b) LIMIT $5) z
                 WHERE c.k = t.k LIMIT $5) y)::int AS n
         FROM generate_series(0, $1::int - 1) t(k) ORDER BY t.k`,
      [groups.length, flat.map((x) => x.k), flat.map((x) => x.a), flat.map((x) => x.b), RARITY_CAP],
    );
    return r.rows.map((x) => Number(x.n));
  };
  if (mode === 'phrase' && n > 1) {
    const positions = Array.from({ length: n - 1 }, (_, i) => at(i + 1).flatMap((a) => at(i + 2).map((b) => [a, b] as const)));
    if (positions.every((x) => x.length <= MAX_SOURCES)) {
      const counts = await pairPostings(positions.map((g) => g.map(([a, b]) => [a[1], b[1]] as const)));
      const k = counts.indexOf(Math.min(...counts));
      return { sources: positions[k]!.map(([a, b]) => ({ kind: 'p', forms: [a[1], b[1]], sims: [a[2], b[2]], rest: n - 2, factor: 0.9 })), links: [] };
    }
  }
  const freq = await tx.query<{ pos: number }>(
    `SELECT t.pos FROM generate_series(1, $1::int) t(pos) ORDER BY (SELECT count(*) FROM (
              SELECT 1 FROM unnest($2::int[], $3::text[]) AS c(pos, norm)
              CROSS JOIN LATERAL (SELECT 1 FROM page_terms q WHERE q.norm = c.norm LIMIT $4) z
               WHERE c.pos = t.pos LIMIT $4) y), 1 LIMIT 1`,
    [n, candidates.map((c) => c[0]), candidates.map((c) => c[1]), RARITY_CAP],
  );
  const driver = at(freq.rows[0]!.pos);
  const alone = (): { sources: WalkSource[]; links: WalkLink[] } => ({ sources: driver.map((d) => ({ kind: 't', norm: d[1], sims: [d[2]], rest: n - 1, factor: 0.9 })), links: [] });
  if (mode === 'phrase' || n < 2) return alone();
  // Links between query words i < j, each as its forms' pairs in both orders ("a b"), with the two
  // forms' similarities.
  const links: { i: number; j: number; pairs: [string, string][]; sims: Map<string, [number, number]> }[] = [];
  for (let i = 1; i <= n; i++) {
    for (let j = i + 1; j <= n; j++) {
      const sims = new Map<string, [number, number]>();
      for (const a of at(i)) {
        for (const b of at(j)) {
          for (const key of [`${a[1]} ${b[1]}`, `${b[1]} ${a[1]}`]) {
            if ((sims.get(key)?.reduce((m, v) => m + v, 0) ?? -1) < a[2] + b[2]) sims.set(key, [a[2], b[2]]);
          }
        }
      }
      links.push({ i, j, pairs: [...sims.keys()].map((k) => k.split(' ') as [string, string]), sims });
    }
  }
  const walkLinks = links.flatMap((l, k) => l.pairs.map(([a, b]): WalkLink => [k, a, b, ...l.sims.get(`${a} ${b}`)!]));
  const apart = driver.map((d): WalkSource => ({ kind: 't', norm: d[1], sims: [d[2]], rest: n - 1, factor: 0.7 }));
  // Three words none of whose forms matches another of them: a window of three words holding all
  // three holds one form of each, so the pages with the name together are listed by the triples
  // of their forms (page_triples), each with its own similarities as bound; one short list per
  // combination however common each word is, and no link's postings read.
  if (n === 3) {
    const [x, y, z] = [at(1), at(2), at(3)];
    if (new Set([...x, ...y, ...z].map((c) => c[1])).size === x.length + y.length + z.length && x.length * y.length * z.length <= MAX_SOURCES) {
      const triples = x.flatMap((a) => y.flatMap((b) => z.map((c): WalkSource => (
        { kind: 'r', forms: [a[1], b[1], c[1]], sims: [a[2], b[2], c[2]], rest: 0, factor: 0.9, links: [0, 1, 2] }))));
      return { sources: [...triples, ...apart], links: walkLinks };
    }
  }
  const wanted = (n * (n - 1)) / 2 - n + 2;
  let chosen = links;
  if (links.length > wanted) {
    const counts = await pairPostings(links.map((l) => l.pairs));
    chosen = links.map((l, k) => ({ l, n: counts[k]! })).sort((a, b) => a.n - b.n).slice(0, wanted).map((x) => x.l);
  }
  if (chosen.reduce((m, l) => m + l.pairs.length, 0) > MAX_SOURCES || links.reduce((m, l) => m + l.pairs.length, 0) > 4 * MAX_SOURCES) return alone();
  // The same pair can serve two links (a form matching two query words): once, with the best bound.
  const best = new Map<string, WalkSource>();
  const linksOf = (key: string) => links.flatMap((l, k) => (l.sims.has(key) ? [k] : []));
  for (const l of chosen) {
    const sims: [number, number] = [bestSim(l.i), bestSim(l.j)];
    for (const pair of l.pairs) {
      const key = pair.join(' ');
      const had = best.get(key);
      if (!had || had.sims[0] + (had.sims[1] ?? 0) < sims[0] + sims[1]) best.set(key, { kind: 'p', forms: pair, sims, rest: n - 2, factor: 0.9, links: linksOf(key) });
    }
  }
  return { sources: [...best.values(), ...apart], links: walkLinks };
}

/**
 * Several words, or a phrase: the pages listed by the walk's sources (`walkSources`: the pairs of
 * adjacent words that hold the whole name or the phrase, then the rarest word's pages) are walked
 * in batches, best possible score first, and each batch's pages are probed by primary key for the
 * other words (page_terms) and, for the name together or the phrase, for their own words
 * (page_words); the walk stops as soon as `limit + 1` hits are certain to beat every page not yet
 * walked, so a common full name costs a page of results, not every page holding its rarest word.
 *
 * What makes the stop exact is the ranking key: (score, page id), where the score is the match
 * quality alone, rounded to 4 places: for a phrase, 0.9 × the mean similarity of its best
 * occurrence; for several words, the greater of 0.9 × the mean similarity within the best n
 * consecutive words on one line that hold them all (two words: next to each other, either order), and 0.7 × the mean of the
 * page's best match of each word. A page's score is at most the bound of a source listing it, so
 * the sources are walked by bound, then page id, both descending (their primary keys backwards),
 * and a page not yet walked ranks below the position reached. OCR confidence is no part of these
 * scores: a term summed over every word of a page can only be bounded by reading them all.
 */
async function rankByWalk(tx: Queryable, plan: PageRanking): Promise<{ pages: RankedPage[]; candidates: CandidateForm[] }> {
  const { mode, limit, after, terms } = plan;
  const n = terms.length;
  const best = new Map<string, CandidateForm>();
  const add = (c: CandidateForm) => {
    const key = `${c[0]}\u0000${c[1]}`;
    if ((best.get(key)?.[2] ?? -1) < Number(c[2])) best.set(key, [c[0], c[1], Number(c[2])]);
  };
  plan.forms.forEach(add);
  if (mode === 'prefix') {
    const r = await tx.query<{ pos: number; norm: string; sim: number }>(
      `SELECT t.pos::int AS pos, s.norm, CASE WHEN s.norm = t.term THEN 1.0 ELSE 0.9 END::float8 AS sim
         FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS t(term, upper, pos)
         JOIN search_terms s ON s.norm ~>=~ t.term AND s.norm ~<~ t.upper`,
      [terms, plan.uppers],
    );
    r.rows.forEach((x) => add([x.pos, x.norm, Number(x.sim)]));
  }
  const candidates = [...best.values()];
  const candArrays = [candidates.map((c) => c[0]), candidates.map((c) => c[1]), candidates.map((c) => c[2])];

  // Where the walk reads pages from: its sources, each a list of postings (a form's pages, or a
  // pair's or a triple's: forms next to each other on a line) with the best score a page listed there can
  // have (its bound), walked together by bound, then page id.
  const { sources, links } = await walkSources(tx, mode, n, candidates);

  const params: unknown[] = [];
  const p = (v: unknown): string => {
    params.push(v);
    return `$${params.length}`;
  };
  const [posP, normP, simP] = candArrays.map(p) as [string, string, string];
  const sourceArrays = [
    sources.map((x) => x.kind), sources.map((x) => x.norm ?? null),
    ...[0, 1, 2].map((i) => sources.map((x) => x.forms?.[i] ?? null)), ...[0, 1, 2].map((i) => sources.map((x) => x.sims[i] ?? null)),
    sources.map((x) => x.rest), sources.map((x) => x.factor), sources.map((x) => x.links?.join(',') ?? null),
  ];
  // The sources with their bounds, in numeric as the scores are: a page's score is then never
  // above its source's bound.
  const sourcesSql = (ph: readonly string[]) => `
      SELECT s.kind, s.norm, CASE s.kind WHEN 'p' THEN arkiva_pair_key(s.a, s.b) WHEN 'r' THEN arkiva_triple_key(s.a, s.b, s.c) END AS key,
             round(((s.s1::numeric + coalesce(s.s2::numeric, 0) + coalesce(s.s3::numeric, 0) + s.rest) / ${n}) * s.factor, 4) AS tb,
             string_to_array(s.links, ',')::int[] AS links
        FROM unnest(${ph[0]}::text[], ${ph[1]}::text[], ${ph[2]}::text[], ${ph[3]}::text[], ${ph[4]}::text[], ${ph[5]}::float8[], ${ph[6]}::float8[], ${ph[7]}::float8[],
                    ${ph[8]}::int[], ${ph[9]}::numeric[], ${ph[10]}::text[])
             AS s(kind, norm, a, b, c, s1, s2, s3, rest, factor, links)`;
  // The bounds, best first: the walk reads one at a time, its sources together by page id.
  const levels = (await tx.query<{ tb: string }>(`SELECT DISTINCT x.tb::text AS tb FROM (${sourcesSql(sourceArrays.map((_, i) => `$${i + 1}`))}) x ORDER BY 1 DESC`, sourceArrays))
    .rows.map((x) => x.tb).sort((a, b) => Number(b) - Number(a));
  const sourcePs = sourceArrays.map(p);
  // Several words only (a phrase's statement has no links, and an unused parameter has no type).
  const [linkP, linkAP, linkBP, linkSAP, linkSBP] = mode === 'phrase' ? ['', '', '', '', ''] : [0, 1, 2, 3, 4].map((i) => p(links.map((l) => l[i]))) as [string, string, string, string, string];
  // The walk's position and batch size, set before each batch (their places in params).
  const [tbAt, pidAt, batchAt] = [p(null), p(null), p(FIRST_BATCH)].map((x) => Number(x.slice(1)) - 1) as [number, number, number];
  const [tbP, pidP, batchP] = [tbAt, pidAt, batchAt].map((i) => `$${i + 1}`);
  const filters = bookFilters(plan.filters, p);
  const bookJoin = filters.length ? 'JOIN books b ON b.id = pt.book_id' : '';
  const bookWhere = filters.length ? `AND ${filters.join(' AND ')}` : '';
  // Words mode: how many links a page holds, and the score of the name together (`scored` below).
  const linksHeld = `(SELECT count(DISTINCT split_part(x, ' ', 1)) FROM unnest(pt.held) x)`;
  const together = n === 2
    ? `coalesce((SELECT round((max(split_part(x, ' ', 2)::numeric) / 2) * 0.9, 4) FROM unnest(pt.held) x), 0)`
    : `CASE WHEN ${linksHeld} < ${n - 1} THEN 0 ELSE coalesce((
               WITH m AS (
                 SELECT w.line_index, w.word_index, c.pos, c.sim
                   FROM (SELECT w.norm, w.line_index, w.word_index FROM page_words w WHERE w.page_id = pt.page_id AND w.revision = pt.revision OFFSET 0) w
                   JOIN cand c ON c.norm = w.norm)
               SELECT round(max(r.sim) * 0.9, 4) FROM (
                 SELECT sum(i.sim::numeric) / ${n} AS sim FROM (
                   -- Each window of n words on a line, from each matching word: the best match of each query word in it.
                   SELECT s.line_index, s.word_index AS start, m.pos, max(m.sim) AS sim, min(m.word_index) AS lo, max(m.word_index) AS hi
                     FROM m s JOIN m ON m.line_index = s.line_index AND m.word_index BETWEEN s.word_index AND s.word_index + ${n - 1}
                    GROUP BY s.line_index, s.word_index, m.pos) i
                 GROUP BY i.line_index, i.start HAVING count(*) = ${n} AND max(i.hi) > min(i.lo)) r), 0) END`;
  const scoring = mode === 'phrase'
    ? `
    has AS (
      -- Pages holding every word somewhere (primary-key probes of page_terms): only they are read.
      SELECT d.page_id, d.revision, d.book_id
        FROM pg d
       WHERE (SELECT count(DISTINCT c2.pos) FROM cand c2 JOIN page_terms q ON q.norm = c2.norm AND q.page_id = d.page_id AND q.revision = d.revision) = ${n}
    ),
    firsts AS (
      -- Where the phrase may start: the page's words matching its first word.
      SELECT DISTINCT ON (x.page_id, x.word_index) x.page_id, x.revision, x.book_id, x.word_index, x.line_index, c.sim
        FROM has d
        CROSS JOIN LATERAL (
          SELECT w.page_id, w.revision, w.book_id, w.word_index, w.line_index, w.norm FROM page_words w
           WHERE w.page_id = d.page_id AND w.revision = d.revision OFFSET 0) x
        JOIN cand c ON c.norm = x.norm AND c.pos = 1
       ORDER BY x.page_id, x.word_index, c.sim DESC
    ),
    phrase AS (
      -- Each following word probed by primary key: the next word on the same line, matching.
      SELECT h1.page_id, h1.revision, h1.book_id, h1.word_index AS start, (h1.sim::numeric + coalesce(sum(nx.sim::numeric), 0)) / ${n} AS sim
        FROM firsts h1
        LEFT JOIN LATERAL (
          SELECT k, (SELECT max(c.sim) FROM page_words w JOIN cand c ON c.norm = w.norm AND c.pos = k
                      WHERE w.page_id = h1.page_id AND w.revision = h1.revision AND w.word_index = h1.word_index + k - 1 AND w.line_index = h1.line_index) AS sim
            FROM generate_series(2, ${n}) k) nx ON true
       GROUP BY h1.page_id, h1.revision, h1.book_id, h1.word_index, h1.sim
      HAVING count(nx.sim) = ${n - 1}
    ),
    scored AS (
      SELECT pt.page_id, pt.score, pt.starts FROM (
        SELECT page_id, book_id, round(max(sim) * 0.9, 4) AS score, array_agg(start ORDER BY start) AS starts
          FROM phrase GROUP BY page_id, book_id
      ) pt ${bookJoin}
       WHERE true ${bookWhere}
    )`
    : `
    holding AS (
      SELECT d.page_id, d.revision, d.book_id, sum(o.sim::numeric) / ${n} AS sim
        FROM pg d
        CROSS JOIN LATERAL (
          SELECT c2.pos, max(c2.sim) AS sim
            FROM cand c2 JOIN page_terms q ON q.norm = c2.norm AND q.page_id = d.page_id AND q.revision = d.revision
           GROUP BY c2.pos) o
       GROUP BY d.page_id, d.revision, d.book_id
      HAVING count(*) = ${n}
    ),
    matched AS (
      -- With the links each page holds (probes of page_pairs' primary key).
      SELECT h.*, array(SELECT k.link || ' ' || (k.sa::numeric + k.sb::numeric)::text FROM links k
                         WHERE EXISTS (SELECT 1 FROM page_pairs q WHERE q.pair = k.pair AND q.page_id = h.page_id AND q.revision = h.revision)) AS held
        FROM holding h
    ),
    scored AS (
      -- The whole name together, else the page's words scattered. Two words are together when they
      -- are next to each other, either order (their best such pair, from page_pairs alone); n words
      -- when n consecutive words on one line hold them all, in any order, scored by their own words
      -- (read from page_words only for pages holding n - 1 links, the least such words make).
      -- Walking pairs or triples, a page with no chance of that is not scored: it comes again with
      -- the rarest word's pages.
      SELECT pt.page_id, NULL::int[] AS starts,
             greatest(round(pt.sim * 0.7, 4), ${together}) AS score
        FROM matched pt ${bookJoin}
       WHERE true ${bookWhere}
         AND (NOT (SELECT bool_and(l.kind <> 't') FROM level l) OR ${linksHeld} >= ${n - 1})
    )`;
  // One batch: the next pages of the current bound's sources in walk order (page id descending,
  // each source's primary key read backwards), current revisions only, then their scores. The
  // walk's position is the last page walked.
  const sql = `
    WITH cand AS MATERIALIZED (SELECT * FROM unnest(${posP}::int[], ${normP}::text[], ${simP}::float8[]) AS c(pos, norm, sim)),
    ${mode === 'phrase' ? '' : `links AS MATERIALIZED (
      SELECT l.link, arkiva_pair_key(l.a, l.b) AS pair, l.sa, l.sb
        FROM unnest(${linkP}::int[], ${linkAP}::text[], ${linkBP}::text[], ${linkSAP}::float8[], ${linkSBP}::float8[]) AS l(link, a, b, sa, sb)),`}
    -- Several words: the pairs of the links a pair source does not make, one of which a page must
    -- also hold to be walked (none needed when the source makes n - 1 links itself).
    level AS MATERIALIZED (
      SELECT d.*, ${mode === 'phrase' || n < 3 ? 'NULL::bigint[]' : `CASE WHEN cardinality(d.links) < ${n - 1} THEN (SELECT array_agg(k.pair) FROM links k WHERE NOT k.link = ANY(d.links)) END`} AS others
        FROM (${sourcesSql(sourcePs)}) d WHERE d.tb = ${tbP}::numeric),
    walk AS (
      SELECT x.page_id, x.revision
        FROM level d
        CROSS JOIN LATERAL (
          -- page_id and revision only: an index-only scan of the primary key, read in its order
          -- (its first column too, though fixed: otherwise the planner may sort every posting of
          -- the form from the rank index to take a batch). One branch runs per source, by kind.
          (SELECT pt.page_id, pt.revision FROM page_terms pt
            WHERE d.kind = 't' AND pt.norm = d.norm
              AND pt.page_id < ${pidP}::uuid
            ORDER BY pt.norm DESC, pt.page_id DESC, pt.revision DESC
            LIMIT ${batchP})
          UNION ALL
          (SELECT pp.page_id, pp.revision FROM page_pairs pp
            WHERE d.kind = 'p' AND pp.pair = d.key
              AND pp.page_id < ${pidP}::uuid
              -- The planner chooses between a probe per posting and a hash of the other links' postings.
              AND (d.others IS NULL OR EXISTS (SELECT 1 FROM page_pairs q WHERE q.pair = ANY(d.others) AND q.page_id = pp.page_id AND q.revision = pp.revision))
            ORDER BY pp.pair DESC, pp.page_id DESC, pp.revision DESC
            LIMIT ${batchP})
          UNION ALL
          (SELECT pr.page_id, pr.revision FROM page_triples pr
            WHERE d.kind = 'r' AND pr.triple = d.key
              AND pr.page_id < ${pidP}::uuid
            ORDER BY pr.triple DESC, pr.page_id DESC, pr.revision DESC
            LIMIT ${batchP})
        ) x
       ORDER BY x.page_id DESC
       LIMIT ${batchP}
    ),
    -- The pages walked, their current revisions only (the postings of earlier ones stay until
    -- they are cleared, and are passed over here, once per page rather than once per posting).
    pg AS (SELECT x.* FROM (SELECT w.page_id, w.revision, (SELECT p.book_id FROM pages p WHERE p.id = w.page_id AND p.revision = w.revision) AS book_id
                              FROM (SELECT DISTINCT page_id, revision FROM walk) w) x WHERE x.book_id IS NOT NULL),
    ${scoring}
    SELECT (SELECT count(*) FROM walk)::int AS walked,
           (SELECT w.page_id FROM walk w ORDER BY w.page_id LIMIT 1) AS last,
           (SELECT jsonb_agg(jsonb_build_array(s.page_id, s.score::text, s.starts)) FROM scored s) AS hits`;

  // (score, page id) descending; scores are 4-place decimals and page ids lower-case hex, so
  // numbers and strings order them as PostgreSQL does.
  const above = (a: { score: string; pageId: string }, b: { score: string; pageId: string }) =>
    Number(a.score) > Number(b.score) || (Number(a.score) === Number(b.score) && a.pageId > b.pageId);
  const found = new Map<string, { score: string; pageId: string; starts: number[] | null }>();
  let top: { score: string; pageId: string; starts: number[] | null }[] = [];
  let level = 0;
  params[tbAt] = levels[0];
  params[pidAt] = LAST_UUID;
  for (let batch = FIRST_BATCH; level < levels.length; batch = Math.min(MAX_WALK_BATCH, batch * 2)) {
    params[batchAt] = batch;
    const r = await tx.query<{ walked: number; last: string | null; hits: [string, string, number[] | null][] | string | null }>(sql, params);
    const row = r.rows[0]!;
    const hits = typeof row.hits === 'string' ? (JSON.parse(row.hits) as [string, string, number[] | null][]) : (row.hits ?? []);
    for (const [pageId, score, starts] of hits) {
      const hit = { pageId, score, starts };
      if (!after || above(after, hit)) found.set(pageId, hit);
    }
    top = [...found.values()].sort((a, b) => (above(a, b) ? -1 : above(b, a) ? 1 : 0)).slice(0, limit + 1);
    // This bound's sources are done: the next bound's from their first page.
    if (row.walked < batch) {
      if (++level === levels.length) break;
      params[tbAt] = levels[level];
      params[pidAt] = LAST_UUID;
    } else {
      params[pidAt] = row.last;
    }
    if (top.length === limit + 1 && above(top[limit]!, { score: String(params[tbAt]), pageId: String(params[pidAt]) })) break;
  }

  if (top.length === 0) return { pages: [], candidates };
  const details = await tx.query<{
    page_id: string; book_id: string; revision: number; sequence: number; width: number | null; height: number | null;
    register_type: string; municipality: string; year_from: number; year_to: number; volume: string | null;
  }>(
    `SELECT p.id AS page_id, p.book_id, p.revision, p.sequence, p.width, p.height, b.register_type, b.municipality, b.year_from, b.year_to, b.volume
       FROM unnest($1::uuid[]) AS t(page_id) JOIN pages p ON p.id = t.page_id JOIN books b ON b.id = p.book_id`,
    [top.map((x) => x.pageId)],
  );
  const byId = new Map(details.rows.map((x) => [x.page_id, x]));
  const pages = top.flatMap((t) => {
    const x = byId.get(t.pageId);
    return x ? [{
      pageId: x.page_id, bookId: x.book_id, revision: x.revision, score: t.score, sequence: x.sequence, width: x.width, height: x.height,
      registerType: x.register_type, municipality: x.municipality, yearFrom: x.year_from, yearTo: x.year_to, volume: x.volume,
      starts: mode === 'phrase' ? t.starts : null,
    }] : [];
  });
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
