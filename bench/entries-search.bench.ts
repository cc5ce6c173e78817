/**
 * Entry search benchmark on PostgreSQL (issue 9 item 3, issue 5): seeds BENCH_ENTRIES (default
 * 1,000,000) register entries in bulk (set-based SQL, 3 named persons each: Albanian, Serbian Latin
 * and Serbian Cyrillic books), runs ANALYZE, then times the API's entry search (`searchEntries`)
 * over varied queries and prints p50/p95/max, a JSON line and the EXPLAIN of the slowest query.
 * `set -a; . ./.services.env; set +a; npx tsx bench/entries-search.bench.ts` (own schema, dropped after).
 * BENCH_ENTRY_QUERIES sets the queries per kind (default 75, 4 kinds), BENCH_ENTRY_BUDGET_S the time per kind (default 120 s).
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { openDb } from '../db/index.ts';
import { silentLogger } from '../common/index.ts';
import { createBook } from '../archive/index.ts';
import { createRng, toSerbianCyrillic } from '../fixtures/index.ts';
import {
  ALBANIAN_FEMALE_NAMES, ALBANIAN_MALE_NAMES, ALBANIAN_SURNAMES, PLACES,
  SERBIAN_FEMALE_NAMES, SERBIAN_MALE_NAMES, SERBIAN_SURNAMES,
} from '../fixtures/names.ts';
import { normaliseText } from '../search/normalise.ts';
import { searchEntries, type EntrySearch } from '../entries/index.ts';
import { percentile, r1 } from './bench-support.ts';

const url = process.env.DATABASE_URL ?? process.env.TEST_DATABASE_URL;
if (!url) throw new Error('set DATABASE_URL (set -a; . ./.services.env; set +a)');
const ENTRIES = Number(process.env.BENCH_ENTRIES ?? 1_000_000);
const PER_KIND = Number(process.env.BENCH_ENTRY_QUERIES ?? 75);
// A kind stops early (after at least 5 queries) once it has used this many seconds, so a slow
// query shape still yields a figure in bounded time; the table gives the count actually run.
const BUDGET_S = Number(process.env.BENCH_ENTRY_BUDGET_S ?? 120);
const ENTRIES_PER_PAGE = 20;
const PAGES_PER_BOOK = 200;
const pages = Math.ceil(ENTRIES / ENTRIES_PER_PAGE);
const bookCount = Math.ceil(pages / PAGES_PER_BOOK);
const schema = `bench_entries_${randomBytes(4).toString('hex')}`;
const db = await openDb({ kind: 'pg', url, schema }, silentLogger());
const rng = createRng(7);

type Lang = 'sq' | 'sr-Latn' | 'sr-Cyrl';
const LANGS: Lang[] = ['sq', 'sr-Latn', 'sr-Cyrl'];
// Books by language: half Albanian, three tenths Serbian Latin, a fifth Serbian Cyrillic.
const bookLang = (b: number): Lang => (b % 10 < 5 ? 'sq' : b % 10 < 8 ? 'sr-Latn' : 'sr-Cyrl');
const script = (lang: Lang, w: string) => (lang === 'sr-Cyrl' ? toSerbianCyrillic(w) : w);
const vocab = (lang: Lang) => {
  const sq = lang === 'sq';
  const places = PLACES.map((p) => (sq ? p.sq : p.sr)).filter((p): p is string => !!p);
  return {
    surnames: [...(sq ? ALBANIAN_SURNAMES : SERBIAN_SURNAMES)],
    male: [...(sq ? ALBANIAN_MALE_NAMES : SERBIAN_MALE_NAMES)],
    female: [...(sq ? ALBANIAN_FEMALE_NAMES : SERBIAN_FEMALE_NAMES)],
    places,
  };
};
const fold = (s: string) => s.normalize('NFD').replace(/\p{M}/gu, '').replace(/đ/g, 'd').replace(/Đ/g, 'D');

try {
  const t0 = Date.now();
  const books: string[] = [];
  for (let b = 0; b < bookCount; b++) {
    const year = 1920 + (b % 80);
    const { book } = await createBook(db, {
      registerType: b % 3 === 0 ? 'death' : 'birth', municipality: `M${b % 17}`, yearFrom: year, yearTo: year + 4,
      languages: bookLang(b) === 'sq' ? 'sqi' : 'srp', sourceFormat: 'tiff', sourceSha256: randomBytes(32).toString('hex'), sourceSize: 1,
    });
    books.push(book.id);
  }
  await db.query(
    `INSERT INTO pages (book_id, sequence, status, width, height)
     SELECT ($1::uuid[])[1 + (g - 1) / ${PAGES_PER_BOOK}], 1 + (g - 1) % ${PAGES_PER_BOOK}, 'done', 2480, 1754 FROM generate_series(1, $2) g`,
    [books, pages],
  );
  const tPages = Date.now();

  // Secondary indexes are dropped for the load and rebuilt afterwards with their own definitions
  // (the migrations'), which is how a bulk import would do it and far quicker than row-by-row upkeep.
  const idx = (await db.query<{ indexname: string; indexdef: string }>(
    `SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = $1 AND tablename IN ('entries', 'entry_names') AND indexname NOT LIKE '%_pkey'`,
    [schema],
  )).rows;
  await db.transaction(async (tx) => {
    // Foreign keys hold by construction (entries are made from the pages just inserted).
    await tx.query(`SET LOCAL session_replication_role = replica`);
    for (const i of idx) await tx.query(`DROP INDEX "${schema}"."${i.indexname}"`);
    await tx.query(`SELECT setseed(0.42)`);
    for (const lang of LANGS) {
      const v = vocab(lang);
      const placeDisp = v.places.map((p) => script(lang, p));
      const bookIdx = books.map((_, b) => b).filter((b) => bookLang(b) === lang).map((b) => b + 1);
      // Entries: 20 per page, date within the book's years (one in 20 only a year), a place of the book's language.
      await tx.query(
        `INSERT INTO entries (book_id, page_id, x0, y0, x1, y1, event_type, entry_number, event_date, place, place_norm, ocr_text,
                              source, status, created_by, verified_by, verified_at)
         SELECT p.book_id, p.id, 40, 100 + k * 80, 2440, 170 + k * 80,
                CASE WHEN b.register_type = 'death' THEN 'death' ELSE 'birth' END,
                ((p.sequence - 1) * ${ENTRIES_PER_PAGE} + k)::text,
                CASE WHEN r.d < 0.05 THEN (b.year_from + r.y)::text
                     ELSE to_char(make_date(b.year_from + r.y, 1, 1) + (r.d * 364)::int, 'YYYY-MM-DD') END,
                ($2::text[])[r.pl], ($3::text[])[r.pl], NULL,
                CASE WHEN r.d < 0.3 THEN 'ocr' ELSE 'manual' END, CASE WHEN r.d < 0.3 THEN 'proposed' ELSE 'verified' END,
                $4, CASE WHEN r.d < 0.3 THEN NULL ELSE $4 END, CASE WHEN r.d < 0.3 THEN NULL ELSE now() END
           FROM pages p JOIN books b ON b.id = p.book_id
          CROSS JOIN generate_series(1, ${ENTRIES_PER_PAGE}) k
          CROSS JOIN LATERAL (SELECT random() AS d, floor(random() * 5)::int AS y, 1 + floor(random() * cardinality($2::text[]))::int AS pl, k AS kk) r
          WHERE p.book_id = ANY (SELECT ($1::uuid[])[i] FROM unnest($5::int[]) i)`,
        [books, placeDisp, v.places.map((p) => normaliseText(p)), `bench:${lang}`, bookIdx],
      );
      // Names: subject (son or daughter), father with the same surname, mother with her own.
      const S = v.surnames, M = v.male, F = v.female;
      await tx.query(
        `INSERT INTO entry_names (entry_id, role, position, name, norm)
         SELECT x.id, n.role, 0, n.name, n.norm
           FROM (SELECT e.id, 1 + floor(random() * ${S.length})::int AS s, 1 + floor(random() * ${S.length})::int AS ms,
                        random() < 0.5 AS son, 1 + floor(random() * ${M.length})::int AS gm, 1 + floor(random() * ${F.length})::int AS gf,
                        1 + floor(random() * ${M.length})::int AS fm, 1 + floor(random() * ${F.length})::int AS mf
                   FROM entries e WHERE e.created_by = $1) x
          CROSS JOIN LATERAL (VALUES
            ('subject', CASE WHEN x.son THEN ($4::text[])[x.gm] ELSE ($6::text[])[x.gf] END || ' ' || ($2::text[])[x.s],
                        CASE WHEN x.son THEN ($5::text[])[x.gm] ELSE ($7::text[])[x.gf] END || ' ' || ($3::text[])[x.s]),
            ('father', ($4::text[])[x.fm] || ' ' || ($2::text[])[x.s], ($5::text[])[x.fm] || ' ' || ($3::text[])[x.s]),
            ('mother', ($6::text[])[x.mf] || ' ' || ($2::text[])[x.ms], ($7::text[])[x.mf] || ' ' || ($3::text[])[x.ms])
          ) AS n(role, name, norm)`,
        [`bench:${lang}`, S.map((w) => script(lang, w)), S.map((w) => normaliseText(w)), M.map((w) => script(lang, w)),
         M.map((w) => normaliseText(w)), F.map((w) => script(lang, w)), F.map((w) => normaliseText(w))],
      );
    }
  });
  const tLoad = Date.now();
  await db.transaction(async (tx) => {
    await tx.query(`SET LOCAL maintenance_work_mem = '512MB'`);
    for (const i of idx) await tx.query(i.indexdef);
  });
  // The name postings (migration 020), which the load's replica role kept their triggers from
  // filling: built in bulk after the rows, as an import would, with the triggers' own statements.
  await db.transaction(async (tx) => {
    await tx.query(`SET LOCAL work_mem = '256MB'`);
    await tx.query(`INSERT INTO entry_name_terms (norm)
      SELECT DISTINCT w FROM entry_names n CROSS JOIN LATERAL unnest(string_to_array(n.norm, ' ')) w WHERE w <> '' ON CONFLICT DO NOTHING`);
    await tx.query(`INSERT INTO entry_name_postings (norm, entry_id, role, created_at, event_date)
      SELECT DISTINCT w, n.entry_id, n.role, e.created_at, e.event_date
        FROM entry_names n JOIN entries e ON e.id = n.entry_id CROSS JOIN LATERAL unnest(string_to_array(n.norm, ' ')) w
       WHERE w <> '' ON CONFLICT DO NOTHING`);
  });
  const tIdx = Date.now();
  await db.query('ANALYZE entries');
  await db.query('ANALYZE entry_names');
  await db.query('ANALYZE entry_name_terms');
  await db.query('ANALYZE entry_name_postings');
  const counts = (await db.query<{ e: number; n: number }>('SELECT (SELECT count(*) FROM entries)::int AS e, (SELECT count(*) FROM entry_names)::int AS n')).rows[0]!;
  const size = (await db.query<{ s: string }>(`SELECT pg_size_pretty(sum(pg_total_relation_size(c.oid))) AS s FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace WHERE s.nspname = $1 AND c.relname IN ('entries', 'entry_names', 'entry_name_terms', 'entry_name_postings')`, [schema])).rows[0]!.s;
  console.log(`seeded ${counts.e} entries, ${counts.n} names on ${pages} pages of ${bookCount} books (${size} with indexes): books+pages ${((tPages - t0) / 1000).toFixed(1)} s, rows ${((tLoad - tPages) / 1000).toFixed(1)} s, indexes ${((tIdx - tLoad) / 1000).toFixed(1)} s`);

  // Queries as clerks type them: Latin, mostly without diacritics, for names in any script.
  const kinds: Record<string, () => EntrySearch> = {
    surname: () => {
      const lang = rng.pick(LANGS);
      return { name: fold(rng.pick(vocab(lang).surnames)) };
    },
    'surname+given': () => {
      const lang = rng.pick(LANGS);
      const v = vocab(lang);
      return { name: `${fold(rng.pick(rng.next() < 0.5 ? v.male : v.female))} ${fold(rng.pick(v.surnames))}` };
    },
    'surname+dates': () => {
      const lang = rng.pick(LANGS);
      const y = 1920 + Math.floor(rng.next() * 80);
      return { name: fold(rng.pick(vocab(lang).surnames)), dateFrom: String(y), dateTo: String(y + 5) };
    },
    'surname+place (folded)': () => {
      const lang = rng.pick(LANGS);
      const v = vocab(lang);
      return { name: fold(rng.pick(v.surnames)), place: fold(rng.pick(v.places)) };
    },
  };
  await searchEntries(db, kinds.surname!()); // warm-up: reads the tables once
  const rows: { kind: string; n: number; p50: number; p95: number; max: number; hits: number }[] = [];
  const all: number[] = [];
  let slowest = { ms: 0, q: {} as EntrySearch };
  for (const [kind, make] of Object.entries(kinds)) {
    const times: number[] = [];
    let hits = 0;
    const started = performance.now();
    for (let i = 0; i < PER_KIND && (i < 5 || performance.now() - started < BUDGET_S * 1000); i++) {
      const q = make();
      const s = performance.now();
      const found = await searchEntries(db, q);
      const ms = performance.now() - s;
      times.push(ms);
      hits += found.length;
      if (ms > slowest.ms) slowest = { ms, q };
    }
    all.push(...times);
    rows.push({ kind, n: times.length, p50: r1(percentile(times, 50)), p95: r1(percentile(times, 95)), max: r1(Math.max(...times)), hits: r1(hits / times.length) });
    console.log(`  ${kind}: p50 ${r1(percentile(times, 50))} ms, p95 ${r1(percentile(times, 95))} ms`);
  }
  rows.push({ kind: 'all', n: all.length, p50: r1(percentile(all, 50)), p95: r1(percentile(all, 95)), max: r1(Math.max(...all)), hits: NaN });
  console.log(`\nentry search at ${counts.e} entries (searchEntries, default limit 50), load average ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}:`);
  console.log('| query kind | n | p50 ms | p95 ms | max ms | mean results |');
  console.log('| --- | --- | --- | --- | --- | --- |');
  for (const r of rows) console.log(`| ${r.kind} | ${r.n} | ${r.p50} | ${r.p95} | ${r.max} | ${Number.isNaN(r.hits) ? '' : r.hits} |`);
  console.log(JSON.stringify({ bench: 'entries-search', entries: counts.e, names: counts.n, queries: all.length, p50Ms: rows.at(-1)!.p50, p95Ms: rows.at(-1)!.p95, maxMs: rows.at(-1)!.max, byKind: rows.slice(0, -1), loadavg: os.loadavg().map(r1), cpus: os.cpus().length }));

  // The plan of the slowest query, as searchEntries sends it (captured from the pool's client).
  console.log(`\nslowest: ${JSON.stringify(slowest.q)} ${r1(slowest.ms)} ms; EXPLAIN (ANALYZE, BUFFERS):`);
  const captured: { sql: string; params: unknown[] }[] = [];
  // The vocabulary look-up runs for real (it picks the words the entry query then carries); the entry query is captured.
  await searchEntries({ query: async (sql: string, params?: unknown[]) => {
    if (sql.includes('FROM entry_name_terms v')) return db.query(sql, params);
    captured.push({ sql, params: params ?? [] });
    return { rows: [], rowCount: 0 };
  } } as never, slowest.q);
  const plan = await db.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) ${captured.at(-1)!.sql}`, captured.at(-1)!.params);
  for (const r of plan.rows) console.log(`  ${r['QUERY PLAN']}`);
} finally {
  await db.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await db.close();
}
