/**
 * Search at archive scale (issue 23): pages and entries generated in bulk, then page search (one
 * word, several words, a phrase, a prefix) and entry search (name + year range + place), each with
 * fuzzy tolerance on, timed with p50/p95/p99; the search tables' sizes; shared_buffers hit ratios;
 * and EXPLAIN (ANALYZE, BUFFERS) of every statement of each shape's slowest query.
 *
 *   npm run bench:search-scale                                  # CI-sized: 2,000 pages
 *   SCALE_PAGES=100000 SCALE_KEEP=1 npm run bench:search-scale  # grows the kept data to 100k pages
 *
 * What is generated, row for row what the indexer and the entry screens write: register pages of 12
 * entries (a header line and one line per entry: number, given name, surname, father's given name,
 * mother's given name and surname, year, place), 100 words a page with their search forms
 * (normaliseWord), OCR confidence skewed high, 4% of the names with a misread letter; half the books
 * Albanian, three tenths Serbian Latin, a fifth Serbian Cyrillic; names drawn from the fixture lists
 * (fixtures/names.ts) with a skew (a few names common, most rare), as in real registers. Each line's
 * entry is an entry row with its three names (subject, father, mother), so SCALE_PAGES pages carry
 * 12 × SCALE_PAGES entries. Loaded as a large import would be: triggers and secondary indexes off,
 * page_terms / search_terms and the name postings built from the rows with the triggers' own
 * statements, indexes built after, VACUUM ANALYZE.
 *
 * The data is kept in a schema of its own (`scale`) of SCALE_URL (default: database arkiva_scale on
 * 127.0.0.1) when SCALE_KEEP=1, and grown to SCALE_PAGES by the next run, so a series of sizes is
 * generated once. Without SCALE_KEEP the schema is dropped at the end.
 * SCALE_PARTS=pages|entries generates and measures page search or entry search alone (default
 * both), so that a million pages and ten million entries each fit a machine's disk in turn.
 * SCALE_QUERIES: queries per shape (default 60). SCALE_ROWWISE_PAGES: pages also written one page
 * per statement with the triggers and indexes live, as the indexer writes (default 200; 0 skips).
 */
import os from 'node:os';
import { openDb, type Db, type Queryable } from '../db/index.ts';
import { silentLogger } from '../common/index.ts';
import { createBook } from '../archive/index.ts';
import { createRng, toSerbianCyrillic } from '../fixtures/index.ts';
import {
  ALBANIAN_FEMALE_NAMES, ALBANIAN_MALE_NAMES, ALBANIAN_SURNAMES, PLACES,
  SERBIAN_FEMALE_NAMES, SERBIAN_MALE_NAMES, SERBIAN_SURNAMES,
} from '../fixtures/names.ts';
import { normaliseText, normaliseWord } from '../search/normalise.ts';
import { searchPages, type SearchMode } from '../search/index.ts';
import { candidateForms, FUZZY_THRESHOLD, prefixUpperBound } from '../search/search-pages.ts';
import { applySearchSettings, rankPages } from '../search/search.store.ts';
import { searchEntries, type EntrySearch } from '../entries/index.ts';
import { percentile, r1 } from './bench-support.ts';

const url = process.env.SCALE_URL ?? 'postgres://postgres@127.0.0.1:5432/arkiva_scale';
const PAGES = Number(process.env.SCALE_PAGES ?? 2000);
const QUERIES = Number(process.env.SCALE_QUERIES ?? 60);
const KEEP = process.env.SCALE_KEEP === '1';
const ROWWISE = Number(process.env.SCALE_ROWWISE_PAGES ?? 200);
const schema = process.env.SCALE_SCHEMA ?? 'scale';
/**
 * What is generated and measured: page search (`pages`), entry search (`entries`) or both (`all`).
 * Apart, the two fit a machine's disk at a million pages / ten million entries, each measured on its own.
 */
const PARTS = (process.env.SCALE_PARTS ?? 'all') as 'all' | 'pages' | 'entries';
if (!['all', 'pages', 'entries'].includes(PARTS)) throw new Error(`SCALE_PARTS must be all, pages or entries, not ${PARTS}`);
const withPages = PARTS !== 'entries';
const withEntries = PARTS !== 'pages';
const PAGES_PER_BOOK = 500;
const LINES = 12;
const sec = (ms: number) => (ms / 1000).toFixed(1);

type Lang = 'sq' | 'sr-Latn' | 'sr-Cyrl';
const LANGS: Lang[] = ['sq', 'sr-Latn', 'sr-Cyrl'];
const bookLang = (b: number): Lang => (b % 10 < 5 ? 'sq' : b % 10 < 8 ? 'sr-Latn' : 'sr-Cyrl');
const inScript = (lang: Lang, w: string) => (lang === 'sr-Cyrl' ? toSerbianCyrillic(w) : w);
/** A misread letter (OCR's l for i, r, t…), the third letter of the word. */
const misread = (w: string) => (w.length > 3 ? w.slice(0, 2) + (w[2] === 'l' ? 'i' : 'l') + w.slice(3) : w);
const vocab = (lang: Lang) => {
  const sq = lang === 'sq';
  return {
    surnames: [...(sq ? ALBANIAN_SURNAMES : SERBIAN_SURNAMES)] as string[],
    given: [...(sq ? [...ALBANIAN_MALE_NAMES, ...ALBANIAN_FEMALE_NAMES] : [...SERBIAN_MALE_NAMES, ...SERBIAN_FEMALE_NAMES])] as string[],
    places: PLACES.map((p) => (sq ? p.sq : p.sr)).filter((p): p is string => !!p),
  };
};
/** What a clerk types on a Latin keyboard: no diacritics, Đ as Dj. */
const fold = (s: string) => s.normalize('NFD').replace(/\p{M}/gu, '').replace(/đ/g, 'dj').replace(/Đ/g, 'Dj');

const db = await openDb({ kind: 'pg', url, schema }, silentLogger());

/** Secondary indexes and primary keys of the search tables, to drop for a load and rebuild after. */
async function searchIndexes(tables: string[]): Promise<{ drop: string[]; build: string[] }> {
  const idx = (await db.query<{ indexname: string; indexdef: string }>(
    `SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.schemaname = $1 AND i.tablename = ANY($2)
        AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = (quote_ident(i.schemaname) || '.' || quote_ident(i.indexname))::regclass)`,
    [schema, tables])).rows;
  const keys = (await db.query<{ table: string; name: string; def: string }>(
    `SELECT t.relname AS table, c.conname AS name, pg_get_constraintdef(c.oid) AS def FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid
       JOIN pg_namespace s ON s.oid = t.relnamespace
      WHERE s.nspname = $1 AND t.relname = ANY($2) AND c.contype = 'p'
        AND NOT EXISTS (SELECT 1 FROM pg_constraint f WHERE f.contype = 'f' AND f.conindid = c.conindid)`,
    [schema, tables.filter((t) => t === 'page_words' || t === 'page_terms' || t === 'page_pairs' || t === 'page_triples' || t === 'entry_name_postings')])).rows;
  return {
    drop: [...idx.map((i) => `DROP INDEX "${schema}"."${i.indexname}"`), ...keys.map((k) => `ALTER TABLE "${schema}"."${k.table}" DROP CONSTRAINT "${k.name}"`)],
    build: [...keys.map((k) => `ALTER TABLE "${schema}"."${k.table}" ADD CONSTRAINT "${k.name}" ${k.def}`), ...idx.map((i) => i.indexdef)],
  };
}

const count = async (sql: string) => Number((await db.query<{ n: string }>(sql)).rows[0]!.n);

/** Grows the data to `target` pages (and their entries), in bulk. */
async function grow(target: number): Promise<void> {
  // A load that died half-way left pages without words (their rows went with its transaction).
  const bare = await count(withPages
    ? `SELECT count(*) AS n FROM pages p WHERE NOT EXISTS (SELECT 1 FROM page_words w WHERE w.page_id = p.id)`
    : `SELECT count(*) AS n FROM pages p WHERE NOT EXISTS (SELECT 1 FROM entries e WHERE e.page_id = p.id)`);
  if (bare > 0) throw new Error(`schema ${schema} holds ${bare} pages without words from an interrupted load: DROP SCHEMA ${schema} CASCADE and run again`);
  const have = await count(`SELECT count(*) AS n FROM pages p JOIN books b ON b.id = p.book_id WHERE b.municipality <> 'Rowwise'`);
  if (have >= target) return;
  const t0 = Date.now();
  const firstBook = await count(`SELECT count(*) AS n FROM books WHERE municipality <> 'Rowwise'`);
  const newPages = target - have;
  const bookIds: { id: string; lang: Lang; n: number }[] = [];
  for (let b = firstBook, left = newPages; left > 0; b++, left -= PAGES_PER_BOOK) {
    const lang = bookLang(b);
    const places = vocab(lang).places;
    const year = 1900 + ((b * 7) % 100);
    const { book } = await createBook(db, {
      registerType: 'birth', municipality: inScript(lang, places[b % places.length]!), yearFrom: year, yearTo: year + 4,
      languages: lang === 'sq' ? 'sqi' : lang === 'sr-Latn' ? 'srp_latn' : 'srp', sourceFormat: 'tiff', sourceSha256: `${b}`.padStart(64, '0'), sourceSize: 1,
    });
    bookIds.push({ id: book.id, lang, n: Math.min(left, PAGES_PER_BOOK) });
  }
  await db.query(
    `INSERT INTO pages (book_id, sequence, status, width, height, revision, indexed_revision)
     SELECT b.id, s, 'done', 2480, 1754, 1, 1 FROM unnest($1::uuid[], $2::int[]) AS b(id, n) CROSS JOIN LATERAL generate_series(1, b.n) s`,
    [bookIds.map((b) => b.id), bookIds.map((b) => b.n)]);
  const tPages = Date.now();
  const tables = [...(withPages ? ['page_words', 'page_terms', 'page_pairs', 'page_triples'] : []), ...(withEntries ? ['entries', 'entry_names', 'entry_name_postings'] : [])];
  const { drop, build } = await searchIndexes(tables);
  const steps: Record<string, number> = {};
  await db.transaction(async (tx) => {
    const step = async (name: string, sql: string, params?: unknown[]) => {
      const s = Date.now();
      await tx.query(sql, params);
      steps[name] = (steps[name] ?? 0) + Date.now() - s;
    };
    // Foreign keys hold by construction; the triggers' work is done set-based below.
    await tx.query(`SET LOCAL session_replication_role = replica`);
    await tx.query(`SET LOCAL work_mem = '256MB'`);
    for (const d of drop) await tx.query(d);
    await tx.query(`SELECT setseed($1)`, [(firstBook % 1000) / 1000]);
    for (const lang of LANGS) {
      const ids = bookIds.filter((b) => b.lang === lang).map((b) => b.id);
      if (!ids.length) continue;
      const v = vocab(lang);
      const arr = (xs: string[]) => ({ text: xs.map((w) => inScript(lang, w)), norm: xs.map((w) => normaliseWord(inScript(lang, w))), bad: xs.map((w) => misread(inScript(lang, w))), badNorm: xs.map((w) => normaliseWord(misread(inScript(lang, w)))) });
      const S = arr(v.surnames), G = arr(v.given), P = arr(v.places);
      const header = lang === 'sq' ? ['Regjistri', 'i', 'të', 'lindurve'] : ['Matična', 'knjiga', 'rođenih', 'opštine'].map((w) => inScript(lang, w));
      // One row per entry (page line): its picks. Names skewed (random()^2: the first of a list
      // several times as common as the last), the place usually the book's own.
      await step('plan', `CREATE TEMP TABLE g ON COMMIT DROP AS
        SELECT gen_random_uuid() AS entry_id, p.id AS page_id, p.book_id, p.sequence, l, b.year_from + floor(random() * 5)::int AS year,
               1 + floor(cardinality($1::text[]) * random() ^ 2)::int AS s, 1 + floor(cardinality($1::text[]) * random() ^ 2)::int AS ms,
               1 + floor(cardinality($2::text[]) * random() ^ 2)::int AS g, 1 + floor(cardinality($2::text[]) * random() ^ 2)::int AS fg,
               1 + floor(cardinality($2::text[]) * random() ^ 2)::int AS mg,
               CASE WHEN random() < 0.8 THEN 1 + (hashtext(b.municipality) & 1023) % cardinality($3::text[]) ELSE 1 + floor(random() * cardinality($3::text[]))::int END AS pl
          FROM pages p JOIN books b ON b.id = p.book_id CROSS JOIN generate_series(0, ${LINES - 1}) l
         WHERE p.book_id = ANY($4::uuid[])`, [S.text, G.text, P.text, ids]);
      if (withEntries) await step('entries', `INSERT INTO entries (id, book_id, page_id, x0, y0, x1, y1, event_type, entry_number, event_date, place, place_norm,
                                    source, status, created_by, verified_by, verified_at)
        SELECT g.entry_id, g.book_id, g.page_id, 40, 200 + g.l * 120, 2440, 300 + g.l * 120, 'birth', ((g.sequence - 1) * ${LINES} + g.l + 1)::text,
               to_char(make_date(g.year, 1, 1) + floor(random() * 364)::int, 'YYYY-MM-DD'), ($1::text[])[g.pl], ($2::text[])[g.pl],
               'keyed', 'verified', 'bench', 'bench', now()
          FROM g`, [P.text, P.text.map((x) => normaliseText(x))]);
      if (withEntries) await step('names', `INSERT INTO entry_names (entry_id, role, position, name, norm)
        SELECT g.entry_id, n.role, 0, n.name, n.norm FROM g CROSS JOIN LATERAL (VALUES
          ('subject', ($3::text[])[g.g] || ' ' || ($1::text[])[g.s], ($4::text[])[g.g] || ' ' || ($2::text[])[g.s]),
          ('father', ($3::text[])[g.fg] || ' ' || ($1::text[])[g.s], ($4::text[])[g.fg] || ' ' || ($2::text[])[g.s]),
          ('mother', ($3::text[])[g.mg] || ' ' || ($1::text[])[g.ms], ($4::text[])[g.mg] || ' ' || ($2::text[])[g.ms])) AS n(role, name, norm)`,
        [S.text, S.norm, G.text, G.norm]);
      // The page's words as OCR read them: a header, then each entry's line of 8 words.
      if (withPages) await step('words', `INSERT INTO page_words (page_id, revision, word_index, book_id, text, confidence, line_index, block_index, x0, y0, x1, y1, norm)
        SELECT p.id, 1, h - 1, p.book_id, ($11::text[])[h], 92::real, 0, 0, 40 + (h - 1) * 300, 80, 290 + (h - 1) * 300, 140, ($12::text[])[h]
          FROM pages p CROSS JOIN generate_series(1, 4) h WHERE p.book_id = ANY($13::uuid[])
        UNION ALL
        SELECT g.page_id, 1, 4 + g.l * 8 + k, g.book_id,
               CASE WHEN x.misread THEN x.bad ELSE x.t END, x.conf, 1 + g.l, 0, 40 + k * 300, 200 + g.l * 120, 290 + k * 300, 260 + g.l * 120,
               CASE WHEN x.misread THEN x.badn ELSE x.n END
          FROM g CROSS JOIN LATERAL (VALUES
            (0, ((g.sequence - 1) * ${LINES} + g.l + 1)::text, ((g.sequence - 1) * ${LINES} + g.l + 1)::text, NULL, NULL),
            (1, ($3::text[])[g.g], ($4::text[])[g.g], ($5::text[])[g.g], ($6::text[])[g.g]),
            (2, ($1::text[])[g.s], ($2::text[])[g.s], ($7::text[])[g.s], ($8::text[])[g.s]),
            (3, ($3::text[])[g.fg], ($4::text[])[g.fg], ($5::text[])[g.fg], ($6::text[])[g.fg]),
            (4, ($3::text[])[g.mg], ($4::text[])[g.mg], ($5::text[])[g.mg], ($6::text[])[g.mg]),
            (5, ($1::text[])[g.ms], ($2::text[])[g.ms], ($7::text[])[g.ms], ($8::text[])[g.ms]),
            (6, g.year::text, g.year::text, NULL, NULL),
            (7, ($9::text[])[g.pl], ($10::text[])[g.pl], NULL, NULL)) AS v(k, t, n, bt, bn)
          CROSS JOIN LATERAL (SELECT v.t, v.n, coalesce(v.bt, v.t) AS bad, coalesce(v.bn, v.n) AS badn,
                                     (96 - floor(45 * random() ^ 3))::real AS conf, v.bt IS NOT NULL AND random() < 0.04 AS misread) x`,
        [S.text, S.norm, G.text, G.norm, G.bad, G.badNorm, S.bad, S.badNorm, P.text.map((x) => x.split(/\s+/)[0]!), P.text.map((x) => normaliseWord(x.split(/\s+/)[0]!)),
         header, header.map(normaliseWord), ids]);
      await tx.query('DROP TABLE g');
    }
    const newBooks = bookIds.map((b) => b.id);
    // What the statement triggers of migrations 006, 020 and 029 do, once for the whole load.
    if (withPages) await step('terms', `INSERT INTO search_terms (norm) SELECT DISTINCT norm FROM page_words WHERE book_id = ANY($1) AND norm <> '' ON CONFLICT DO NOTHING`, [newBooks]);
    if (withPages) await step('page_terms', `INSERT INTO page_terms (norm, page_id, revision, book_id, confidence)
      SELECT norm, page_id, revision, min(book_id::text)::uuid, round(max(confidence))::smallint FROM page_words WHERE book_id = ANY($1) AND norm <> ''
       GROUP BY norm, page_id, revision`, [newBooks]);
    // Migration 029's own statement, each line's words in order once.
    if (withPages) await step('page_pairs', `INSERT INTO page_pairs (pair, page_id, revision)
      SELECT DISTINCT arkiva_pair_key(norm, next_norm), page_id, revision FROM (
        SELECT page_id, revision, word_index, norm, lead(norm) OVER w AS next_norm, lead(word_index) OVER w AS next_index
          FROM page_words WHERE book_id = ANY($1)
        WINDOW w AS (PARTITION BY page_id, revision, line_index ORDER BY word_index)) x
       WHERE next_index = word_index + 1 AND norm <> '' AND next_norm <> ''`, [newBooks]);
    // Migration 031's own statement: each window of three words on a line once.
    if (withPages) await step('page_triples', `INSERT INTO page_triples (triple, page_id, revision)
      SELECT DISTINCT arkiva_triple_key(norm, norm2, norm3), page_id, revision FROM (
        SELECT page_id, revision, word_index, norm, lead(norm) OVER w AS norm2, lead(norm, 2) OVER w AS norm3, lead(word_index, 2) OVER w AS index3
          FROM page_words WHERE book_id = ANY($1)
        WINDOW w AS (PARTITION BY page_id, revision, line_index ORDER BY word_index)) x
       WHERE index3 = word_index + 2 AND norm <> '' AND norm2 <> '' AND norm3 <> ''`, [newBooks]);
    if (withEntries) await step('name_terms', `INSERT INTO entry_name_terms (norm)
      SELECT DISTINCT w FROM entry_names n JOIN entries e ON e.id = n.entry_id CROSS JOIN LATERAL unnest(string_to_array(n.norm, ' ')) w
       WHERE e.book_id = ANY($1) AND w <> '' ON CONFLICT DO NOTHING`, [newBooks]);
    if (withEntries) await step('places', `INSERT INTO entry_places (norm)
      SELECT DISTINCT place_norm FROM entries WHERE book_id = ANY($1) AND place_norm IS NOT NULL ON CONFLICT DO NOTHING`, [newBooks]);
    if (withEntries) await step('postings', `INSERT INTO entry_name_postings (norm, entry_id, role, created_at, event_date, place_norm)
      SELECT DISTINCT w, n.entry_id, n.role, e.created_at, e.event_date, e.place_norm
        FROM entry_names n JOIN entries e ON e.id = n.entry_id CROSS JOIN LATERAL unnest(string_to_array(n.norm, ' ')) w
       WHERE e.book_id = ANY($1) AND w <> ''`, [newBooks]);
  });
  const tRows = Date.now();
  await db.transaction(async (tx) => {
    await tx.query(`SET LOCAL maintenance_work_mem = '1GB'`);
    for (const b of build) await tx.query(b);
  });
  const tIdx = Date.now();
  for (const t of ['pages', 'books', ...tables, 'search_terms', 'entry_name_terms', 'entry_places']) await db.query(`VACUUM ANALYZE "${schema}"."${t}"`);
  console.log(`grew to ${target} pages (+${newPages}): books+pages ${sec(tPages - t0)} s, rows ${sec(tRows - tPages)} s (${Object.entries(steps).map(([k, v]) => `${k} ${sec(v)}`).join(', ')}), indexes built after ${sec(tIdx - tRows)} s, VACUUM ANALYZE ${sec(Date.now() - tIdx)} s`);
  console.log(JSON.stringify({ bench: 'search-scale-load', pages: target, added: newPages, rowsS: r1((tRows - tPages) / 1000), indexesS: r1((tIdx - tRows) / 1000), vacuumS: r1((Date.now() - tIdx) / 1000), steps }));
}

/**
 * Pages written as the indexer writes them (one statement per page, triggers and every index
 * live), for the cost of row-by-row upkeep against the bulk load's rows + indexes built after.
 */
async function rowwise(n: number): Promise<void> {
  if (n <= 0) return;
  const src = (await db.query<{ id: string }>(`SELECT p.id FROM pages p JOIN books b ON b.id = p.book_id WHERE b.municipality <> 'Rowwise' ORDER BY p.id LIMIT $1`, [n])).rows;
  const { book } = await createBook(db, {
    registerType: 'birth', municipality: 'Rowwise', yearFrom: 1950, yearTo: 1950, languages: 'sqi', sourceFormat: 'tiff',
    sourceSha256: `rowwise${Date.now()}`.padStart(64, '0'), sourceSize: 1,
  });
  const base = await count(`SELECT coalesce(max(sequence), 0) AS n FROM pages WHERE book_id = '${book.id}'`);
  const ids = (await db.query<{ id: string }>(`INSERT INTO pages (book_id, sequence, status, width, height) SELECT $1, $2 + g, 'done', 2480, 1754 FROM generate_series(1, $3) g RETURNING id`, [book.id, base, src.length])).rows;
  const t = Date.now();
  for (let i = 0; i < src.length; i++) {
    await db.transaction(async (tx) => {
      await tx.query(`INSERT INTO page_words (page_id, revision, word_index, book_id, text, confidence, line_index, block_index, x0, y0, x1, y1, norm)
        SELECT $1, 1, word_index, $2, text, confidence, line_index, block_index, x0, y0, x1, y1, norm FROM page_words WHERE page_id = $3 AND revision = 1`, [ids[i]!.id, book.id, src[i]!.id]);
    });
  }
  const ms = Date.now() - t;
  console.log(`row by row (one transaction a page, triggers and indexes live): ${src.length} pages in ${sec(ms)} s = ${r1(ms / src.length)} ms a page`);
  console.log(JSON.stringify({ bench: 'search-scale-rowwise', pages: src.length, msPerPage: r1(ms / src.length) }));
}

/** Runs `fn` with every statement it sends also EXPLAINed (ANALYZE, BUFFERS), the plans collected. */
function explaining(q: Queryable, plans: string[]): Queryable {
  return {
    query: async (sql: string, params?: unknown[]) => {
      if (/^\s*(WITH|SELECT)/i.test(sql) && !/set_config/.test(sql)) {
        const plan = await q.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) ${sql}`, params);
        plans.push(`-- ${sql.replace(/\s+/g, ' ').slice(0, 160)}…`, ...plan.rows.map((r) => `  ${r['QUERY PLAN']}`));
      }
      return q.query(sql, params);
    },
  } as Queryable;
}

interface Shape { shape: string; run: (q: string, qq: Queryable | Db) => Promise<unknown>; make: () => string }

async function measure(): Promise<void> {
  const pages = await count(`SELECT count(*) AS n FROM pages`);
  const entries = await count(`SELECT count(*) AS n FROM entries`);
  const rng = createRng(23);
  const anyLang = () => vocab(rng.pick(LANGS));
  const fullName = () => { const v = anyLang(); return `${fold(rng.pick(v.given))} ${fold(rng.pick(v.surnames))}`; };
  const typo = (w: string) => (rng.next() < 0.25 && w.length > 4 ? w.slice(0, 3) + 'x' + w.slice(4) : w);
  const page = (mode: SearchMode) => async (q: string, qq: Queryable | Db) => {
    if ('transaction' in qq) return searchPages(qq, { q, mode, limit: 20 });
    // The ranking as searchPages sends it, its statements explained (qq wraps a transaction).
    const terms = q.split(' ').map(normaliseWord);
    await applySearchSettings(qq, FUZZY_THRESHOLD);
    const forms = await candidateForms(qq, terms, true);
    return rankPages(qq, { terms, uppers: terms.map(prefixUpperBound), mode, forms, filters: {}, limit: 20 });
  };
  const places = (v: ReturnType<typeof vocab>) => v.places.map((p) => fold(p.split(/\s+/)[0]!));
  // Persons of the registers, as a clerk looking for one types them: Latin, no diacritics.
  // Without entries, read off the pages' lines (given name, surname, father's given name; now and
  // then as OCR misread them).
  const people = (await db.query<{ subject: string; father: string }>(withEntries
    ? `SELECT s.name AS subject, f.name AS father FROM entries e TABLESAMPLE BERNOULLI (1) REPEATABLE (23)
         JOIN entry_names s ON s.entry_id = e.id AND s.role = 'subject' JOIN entry_names f ON f.entry_id = e.id AND f.role = 'father' LIMIT 1000`
    : `SELECT g.text || ' ' || s.text AS subject, f.text || ' ' || s.text AS father
         FROM (SELECT id FROM pages TABLESAMPLE SYSTEM (1) REPEATABLE (23) LIMIT 100) p CROSS JOIN generate_series(0, ${LINES - 1}) l
         JOIN page_words g ON g.page_id = p.id AND g.revision = 1 AND g.word_index = 4 + l * 8 + 1
         JOIN page_words s ON s.page_id = p.id AND s.revision = 1 AND s.word_index = 4 + l * 8 + 2
         JOIN page_words f ON f.page_id = p.id AND f.revision = 1 AND f.word_index = 4 + l * 8 + 3`)).rows;
  const person = () => rng.pick(people);
  const latin = (name: string) => fold(normaliseText(name));
  const entryQuery = (q: string): EntrySearch => { const [name, y, place] = q.split('|'); return { name, dateFrom: y, dateTo: String(Number(y) + 4), place }; };
  const shapes: Shape[] = ([
    { shape: 'one word (1 in 4 with a wrong letter)', run: page('words'), make: () => typo(fold(rng.pick(anyLang().surnames))) },
    { shape: 'two words (a person: given name + surname)', run: page('words'), make: () => latin(person().subject) },
    { shape: 'two words drawn at random (often no such person)', run: page('words'), make: fullName },
    { shape: 'three words (a person: given + surname + father)', run: page('words'), make: () => { const x = person(); return `${latin(x.subject)} ${latin(x.father).split(' ')[0]}`; } },
    { shape: 'phrase (a person: given name + surname)', run: page('phrase'), make: () => latin(person().subject) },
    { shape: 'prefix (4 letters of a surname)', run: page('prefix'), make: () => fold(rng.pick(anyLang().surnames)).slice(0, 4) },
    {
      shape: 'entry: name + year range + place', run: (q, qq) => searchEntries(qq, entryQuery(q)),
      make: () => { const v = anyLang(); return `${fold(rng.pick(v.given))} ${fold(rng.pick(v.surnames))}|${1900 + Math.floor(rng.next() * 96)}|${rng.pick(places(v))}`; },
    },
  ] as Shape[]).filter((sh) => (sh.shape.startsWith('entry:') ? withEntries : withPages));
  for (const sh of shapes) for (let i = 0; i < 3; i++) await sh.run(sh.make(), db);
  await db.query('SELECT pg_stat_reset()');
  console.log(`\nsearch at ${pages} pages / ${entries} entries, fuzzy on, limit 20 (entries: default 50), ${QUERIES} queries a shape, load average ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}:`);
  console.log('| query shape | p50 ms | p95 ms | p99 ms | max ms |');
  console.log('| --- | --- | --- | --- | --- |');
  const out: Record<string, unknown>[] = [];
  const slowest: Record<string, { ms: number; q: string }> = {};
  for (const sh of shapes) {
    const times: number[] = [];
    for (let i = 0; i < QUERIES; i++) {
      const q = sh.make();
      const s = performance.now();
      await sh.run(q, db);
      const ms = performance.now() - s;
      times.push(ms);
      if (ms > (slowest[sh.shape]?.ms ?? -1)) slowest[sh.shape] = { ms, q };
    }
    const f = { shape: sh.shape, p50: r1(percentile(times, 50)), p95: r1(percentile(times, 95)), p99: r1(percentile(times, 99)), max: r1(Math.max(...times)) };
    out.push(f);
    console.log(`| ${f.shape} | ${f.p50} | ${f.p95} | ${f.p99} | ${f.max} |`);
  }
  await new Promise((r) => setTimeout(r, 600)); // statistics are sent by the backends every 500 ms
  const hit = (await db.query<{ t: string; heap: string | null; idx: string | null; reads: string }>(
    `SELECT relname AS t, round(100.0 * heap_blks_hit / nullif(heap_blks_hit + heap_blks_read, 0), 1)::text AS heap,
            round(100.0 * idx_blks_hit / nullif(idx_blks_hit + idx_blks_read, 0), 1)::text AS idx, (heap_blks_read + coalesce(idx_blks_read, 0))::text AS reads
       FROM pg_statio_user_tables WHERE schemaname = $1 AND relname IN ('page_words', 'page_terms', 'page_pairs', 'page_triples', 'search_terms', 'pages', 'books', 'entries', 'entry_names', 'entry_name_postings', 'entry_name_terms', 'entry_places') ORDER BY 1`, [schema])).rows;
  console.log(`shared_buffers ${(await db.query<{ shared_buffers: string }>('SHOW shared_buffers')).rows[0]!.shared_buffers}; hit ratio during the timed queries (heap / index %, blocks read from outside): ${hit.map((h) => `${h.t} ${h.heap ?? '-'} / ${h.idx ?? '-'} (${h.reads})`).join(', ')}`);
  const size = (await db.query<{ t: string; bytes: string; rows: string }>(
    `SELECT c.relname AS t, pg_total_relation_size(c.oid)::text AS bytes, c.reltuples::bigint::text AS rows FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relkind = 'r' AND c.relname IN ('page_words', 'page_terms', 'page_pairs', 'page_triples', 'search_terms', 'entries', 'entry_names', 'entry_name_postings', 'entry_name_terms', 'entry_places') ORDER BY 1`, [schema])).rows;
  const mb = (b: number) => `${r1(b / 2 ** 20)} MB`;
  console.log(`sizes with indexes (per million pages): ${size.map((s) => `${s.t} ${mb(Number(s.bytes))} (${mb((Number(s.bytes) * 1e6) / pages)}), ${s.rows} rows`).join('; ')}`);
  console.log(JSON.stringify({ bench: 'search-scale', pages, entries, queries: QUERIES, shapes: out, sizes: Object.fromEntries(size.map((s) => [s.t, Number(s.bytes)])), hit, loadavg: os.loadavg().map(r1) }));
  if (process.env.SCALE_EXPLAIN !== '0') {
    for (const sh of shapes) {
      const { q, ms } = slowest[sh.shape]!;
      const plans: string[] = [];
      await db.transaction(async (tx) => sh.run(q, explaining(tx, plans)));
      console.log(`\nEXPLAIN (ANALYZE, BUFFERS), ${sh.shape}: "${q}" (slowest, ${r1(ms)} ms):`);
      for (const l of plans) console.log(l);
    }
  }
}

try {
  await grow(PAGES);
  if (withPages) await rowwise(ROWWISE);
  await measure();
} finally {
  if (!KEEP) await db.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await db.close();
}
