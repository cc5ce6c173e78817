/**
 * Search benchmark on PostgreSQL: loads synthetic page words (names from the fixture vocabularies,
 * Latin and Cyrillic, some OCR-damaged), then prints p50/p95 of name queries and the EXPLAIN of
 * the main query. `DATABASE_URL=… BENCH_PAGES=2000 npx tsx bench/search.bench.ts` (own schema, dropped after).
 */
import { randomBytes } from 'node:crypto';
import { openDb } from '../db/index.ts';
import { silentLogger } from '../common/index.ts';
import { createBook } from '../archive/index.ts';
import { createRng, toSerbianCyrillic } from '../fixtures/index.ts';
import { ALBANIAN_SURNAMES, ALBANIAN_MALE_NAMES, SERBIAN_SURNAMES, SERBIAN_MALE_NAMES } from '../fixtures/names.ts';
import { normaliseWord } from '../search/normalise.ts';
import { searchPages } from '../search/index.ts';
import { candidateForms, FUZZY_THRESHOLD, prefixUpperBound, type SearchMode } from '../search/search-pages.ts';
import { applySearchSettings, rankPages } from '../search/search.store.ts';
import type { Queryable } from '../db/index.ts';
import { measureSearchQuality } from './search-quality.ts';

const url = process.env.DATABASE_URL ?? process.env.TEST_DATABASE_URL;
if (!url) throw new Error('set DATABASE_URL');
const PAGES = Number(process.env.BENCH_PAGES ?? 2000);
const WORDS_PER_PAGE = 100;
const schema = `bench_${randomBytes(4).toString('hex')}`;

// Quality first, on generated books with ground truth (a schema of its own): now and before.
{
  const t = Date.now();
  const q = await measureSearchQuality(url, { books: Number(process.env.BENCH_QUALITY_BOOKS ?? 18), pagesPerBook: 6, queries: Number(process.env.BENCH_QUALITY_QUERIES ?? 600) });
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  console.log(`search quality on ${q.pages} generated pages with ground truth and OCR damage (${((Date.now() - t) / 1000).toFixed(0)} s):`);
  console.log('| surname typed | queries | top-5 recall before | top-5 recall now | precision at 5 before | precision at 5 now |');
  console.log('| --- | --- | --- | --- | --- | --- |');
  for (const r of q.now) {
    const b = q.before.find((x) => x.kind === r.kind)!;
    console.log(`| ${r.kind} | ${r.queries} | ${pct(b.recallAt5)} | ${pct(r.recallAt5)} | ${pct(b.precisionAt5)} | ${pct(r.precisionAt5)} |`);
  }
  console.log(JSON.stringify({ bench: 'search-quality', pages: q.pages, now: q.now, before: q.before }));
}

const db = await openDb({ kind: 'pg', url, schema }, silentLogger());
const rng = createRng(42);
const vocab = [...ALBANIAN_SURNAMES, ...ALBANIAN_MALE_NAMES, ...SERBIAN_SURNAMES, ...SERBIAN_MALE_NAMES];
try {
  const t0 = Date.now();
  const books: string[] = [];
  for (let b = 0; b < Math.ceil(PAGES / 200); b++) {
    const { book } = await createBook(db, { registerType: b % 2 ? 'birth' : 'death', municipality: `M${b % 7}`, yearFrom: 1950 + (b % 40), yearTo: 1950 + (b % 40), languages: 'sqi', sourceFormat: 'tiff', sourceSha256: randomBytes(32).toString('hex'), sourceSize: 1 });
    books.push(book.id);
  }
  const pageIds = (await db.query<{ id: string; book_id: string }>(
    `INSERT INTO pages (book_id, sequence, status, width, height) SELECT ($1::uuid[])[1 + (g - 1) / 200], 1 + (g - 1) % 200, 'done', 2480, 1754 FROM generate_series(1, $2) g RETURNING id, book_id`,
    [books, PAGES],
  )).rows;
  const BATCH = 50;
  for (let i = 0; i < pageIds.length; i += BATCH) {
    const cols: unknown[][] = Array.from({ length: 11 }, () => []);
    for (const p of pageIds.slice(i, i + BATCH)) {
      const cyr = rng.next() < 0.25;
      for (let k = 0; k < WORDS_PER_PAGE; k++) {
        let word = rng.pick(vocab) as string;
        if (cyr) word = toSerbianCyrillic(word);
        if (rng.next() < 0.05) word = word.slice(0, 2) + 'l' + word.slice(3);
        const line = Math.floor(k / 8);
        [p.id, 1, k, p.book_id, word, 80, line, (k % 8) * 200, line * 60, (k % 8) * 200 + 180, normaliseWord(word)].forEach((v, j) => cols[j]!.push(v));
      }
    }
    await db.query(
      `INSERT INTO page_words (page_id, revision, word_index, book_id, text, confidence, line_index, block_index, x0, y0, x1, y1, norm)
       SELECT p, r, i, b, t, c, l, 0, x0, y0, x0 + 150, y0 + 40, n FROM unnest($1::uuid[], $2::int[], $3::int[], $4::uuid[], $5::text[], $6::real[], $7::int[], $8::int[], $9::int[], $10::int[], $11::text[]) AS u(p, r, i, b, t, c, l, x0, y0, x1, n)`,
      cols,
    );
  }
  await db.query('ANALYZE page_words');
  await db.query('ANALYZE page_terms');
  await db.query('ANALYZE search_terms');
  const words = (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM page_words')).rows[0]!.n;
  console.log(`loaded ${PAGES} pages, ${words} words in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

  const name = () => normaliseWord(rng.pick(vocab) as string);
  const shapes: { shape: string; mode: SearchMode; make: () => string }[] = [
    { shape: 'one word (1 in 4 with a wrong letter)', mode: 'words', make: () => { const w = name(); return rng.next() < 0.25 ? w.slice(0, 3) + 'x' + w.slice(4) : w; } },
    { shape: 'two words', mode: 'words', make: () => `${name()} ${name()}` },
    { shape: 'three words', mode: 'words', make: () => `${name()} ${name()} ${name()}` },
    { shape: 'phrase of two', mode: 'phrase', make: () => `${name()} ${name()}` },
    { shape: 'prefix', mode: 'prefix', make: () => name().slice(0, 4) },
  ];
  const N = Number(process.env.BENCH_SEARCH_QUERIES ?? 100);
  for (const sh of shapes) for (let i = 0; i < 5; i++) await searchPages(db, { q: sh.make(), mode: sh.mode });
  console.log(`\npage search at ${PAGES} pages, fuzzy on, limit 20, ${N} queries per shape:`);
  console.log('| query shape | p50 ms | p95 ms | p99 ms | max ms |');
  console.log('| --- | --- | --- | --- | --- |');
  const slowest: Record<string, { ms: number; q: string }> = {};
  for (const sh of shapes) {
    const times: number[] = [];
    for (let i = 0; i < N; i++) {
      const q = sh.make();
      const s = performance.now();
      await searchPages(db, { q, mode: sh.mode, limit: 20 });
      const ms = performance.now() - s;
      times.push(ms);
      if (ms > (slowest[sh.shape]?.ms ?? -1)) slowest[sh.shape] = { ms, q };
    }
    times.sort((a, b) => a - b);
    const pct = (p: number) => times[Math.min(times.length - 1, Math.floor(p * times.length))]!.toFixed(1);
    console.log(`| ${sh.shape} | ${pct(0.5)} | ${pct(0.95)} | ${pct(0.99)} | ${pct(1)} |`);
  }
  const deep = await searchPages(db, { q: 'krasniqi', limit: 20 });
  let cursor = deep.nextCursor;
  for (let i = 0; i < 20 && cursor; i++) cursor = (await searchPages(db, { q: 'krasniqi', limit: 20, cursor })).nextCursor;
  const s = performance.now();
  if (cursor) await searchPages(db, { q: 'krasniqi', limit: 20, cursor });
  console.log(`page 22 of "krasniqi" via cursor: ${(performance.now() - s).toFixed(1)} ms`);
  const size = (await db.query<{ t: string; bytes: string }>(
    `SELECT c.relname AS t, pg_size_pretty(pg_total_relation_size(c.oid)) AS bytes FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relname IN ('page_words', 'page_terms', 'search_terms') ORDER BY 1`, [schema])).rows;
  console.log(`search tables with indexes: ${size.map((r) => `${r.t} ${r.bytes}`).join(', ')}`);

  // The ranking query of each shape's slowest query, as rankPages sends it, with its plan.
  for (const sh of shapes) {
    const q = slowest[sh.shape]!.q;
    const terms = q.split(' ').map(normaliseWord);
    await db.transaction(async (tx) => {
      await applySearchSettings(tx, FUZZY_THRESHOLD);
      const forms = await candidateForms(tx, terms, true);
      // Every statement rankPages sends (several words and phrases walk in batches), explained, then run for its rows.
      const plans: string[] = [];
      const explaining: Queryable = { query: async (sql: string, params?: unknown[]) => {
        const plan = await tx.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) ${sql}`, params);
        plans.push(`-- ${sql.replace(/\s+/g, ' ').slice(0, 120)}…`, ...plan.rows.map((r) => `  ${r['QUERY PLAN']}`));
        return tx.query(sql, params);
      } } as Queryable;
      await rankPages(explaining, { terms, uppers: terms.map(prefixUpperBound), mode: sh.mode, forms, filters: {}, limit: 20 });
      console.log(`\nEXPLAIN (ANALYZE, BUFFERS) of rankPages, ${sh.shape}: "${q}" (${forms.length} candidate forms; slowest ${slowest[sh.shape]!.ms.toFixed(1)} ms):`);
      for (const l of plans) console.log(l);
    });
  }
} finally {
  await db.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await db.close();
}
