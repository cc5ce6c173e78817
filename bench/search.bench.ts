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

const url = process.env.DATABASE_URL ?? process.env.TEST_DATABASE_URL;
if (!url) throw new Error('set DATABASE_URL');
const PAGES = Number(process.env.BENCH_PAGES ?? 2000);
const WORDS_PER_PAGE = 100;
const schema = `bench_${randomBytes(4).toString('hex')}`;
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
  const words = (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM page_words')).rows[0]!.n;
  console.log(`loaded ${PAGES} pages, ${words} words in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

  const queries = Array.from({ length: 200 }, (_, i) => {
    const w = normaliseWord(rng.pick(vocab) as string);
    return i % 4 === 3 ? w.slice(0, 3) + 'x' + w.slice(4) : w;
  });
  for (const q of queries.slice(0, 10)) await searchPages(db, { q });
  const times: number[] = [];
  for (const q of queries) {
    const s = performance.now();
    await searchPages(db, { q, limit: 20 });
    times.push(performance.now() - s);
  }
  times.sort((a, b) => a - b);
  const pct = (p: number) => times[Math.min(times.length - 1, Math.floor(p * times.length))]!.toFixed(1);
  console.log(`200 name queries (1 in 4 with a wrong letter), limit 20: p50 ${pct(0.5)} ms, p95 ${pct(0.95)} ms, max ${pct(1)} ms`);
  const deep = await searchPages(db, { q: 'krasniqi', limit: 20 });
  let cursor = deep.nextCursor;
  for (let i = 0; i < 20 && cursor; i++) cursor = (await searchPages(db, { q: 'krasniqi', limit: 20, cursor })).nextCursor;
  const s = performance.now();
  if (cursor) await searchPages(db, { q: 'krasniqi', limit: 20, cursor });
  console.log(`page 22 of "krasniqi" via cursor: ${(performance.now() - s).toFixed(1)} ms`);
  const plan = await db.transaction(async (tx) => {
    await tx.query(`SELECT set_config('pg_trgm.similarity_threshold', '0.25', true)`);
    return tx.query<{ 'QUERY PLAN': string }>(
      `EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) SELECT w.page_id, similarity(w.norm, t.term) FROM unnest($1::text[]) AS t(term) CROSS JOIN LATERAL (SELECT * FROM page_words w WHERE w.norm % t.term) w`,
      [['krasniqi']],
    );
  });
  console.log('EXPLAIN (trigram candidate scan):');
  for (const r of plan.rows) console.log(`  ${r['QUERY PLAN']}`);
} finally {
  await db.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await db.close();
}
