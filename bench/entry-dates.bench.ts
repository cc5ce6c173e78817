/**
 * Entry search by name + year range + place on the kept archive-scale data (issue 23), with and
 * without the name postings' date index (migration 028): the index dropped inside a transaction
 * that is rolled back (before) against present (after), the same queries, two rounds alternating,
 * results checked equal; then EXPLAIN (ANALYZE, BUFFERS) of the slowest query of each side.
 *
 *   SCALE_PAGES=100000 SCALE_KEEP=1 npm run bench:search-scale   # once: the kept data (schema scale)
 *   npx tsx bench/entry-dates.bench.ts                          # N queries (default 60), EXPLAIN=0 skips plans
 */
import os from 'node:os';
import { openDb, type Queryable } from '../db/index.ts';
import { silentLogger } from '../common/index.ts';
import { createRng } from '../fixtures/index.ts';
import { ALBANIAN_FEMALE_NAMES, ALBANIAN_MALE_NAMES, ALBANIAN_SURNAMES, PLACES, SERBIAN_FEMALE_NAMES, SERBIAN_MALE_NAMES, SERBIAN_SURNAMES } from '../fixtures/names.ts';
import { searchEntries } from '../entries/index.ts';
import { percentile, r1 } from './bench-support.ts';

const N = Number(process.env.N ?? 60);
const t0 = Date.now();
const db = await openDb({ kind: 'pg', url: process.env.SCALE_URL ?? 'postgres://postgres@127.0.0.1:5432/arkiva_scale', schema: process.env.SCALE_SCHEMA ?? 'scale' }, silentLogger());
console.log(`open + migrate ${((Date.now() - t0) / 1000).toFixed(1)} s`);
const fold = (s: string) => s.normalize('NFD').replace(/\p{M}/gu, '').replace(/đ/g, 'dj').replace(/Đ/g, 'Dj');
const rng = createRng(23);
const V = [
  { g: [...ALBANIAN_MALE_NAMES, ...ALBANIAN_FEMALE_NAMES], s: ALBANIAN_SURNAMES, p: PLACES.map((p) => p.sq).filter(Boolean) as string[] },
  { g: [...SERBIAN_MALE_NAMES, ...SERBIAN_FEMALE_NAMES], s: SERBIAN_SURNAMES, p: PLACES.map((p) => p.sr).filter(Boolean) as string[] },
];
const qs = Array.from({ length: N }, () => {
  const v = rng.pick(V);
  const y = 1900 + Math.floor(rng.next() * 96);
  return { name: `${fold(rng.pick(v.g))} ${fold(rng.pick(v.s))}`, dateFrom: String(y), dateTo: String(y + 4), place: fold(rng.pick(v.p).split(/\s+/)[0]!) };
});
const one = { name: 'Jovanovic', dateFrom: '1929', dateTo: '1933' };
async function phase(q: Queryable, label: string, results: Map<number, string>) {
  for (let i = 0; i < 3; i++) await searchEntries(q, qs[i]!);
  const times: number[] = [];
  let slow = { ms: -1, i: 0 };
  for (let i = 0; i < qs.length; i++) {
    const s = performance.now();
    const r = await searchEntries(q, qs[i]!);
    const ms = performance.now() - s;
    times.push(ms);
    if (ms > slow.ms) slow = { ms, i };
    const ids = r.map((e) => `${e.id}:${e.score}`).join(',');
    if (results.has(i) && results.get(i) !== ids) throw new Error(`different results for ${JSON.stringify(qs[i])}`);
    results.set(i, ids);
  }
  const s1 = performance.now();
  const r1w = await searchEntries(q, one);
  const oneMs = performance.now() - s1;
  console.log(`${label}: p50 ${r1(percentile(times, 50))} p95 ${r1(percentile(times, 95))} p99 ${r1(percentile(times, 99))} max ${r1(Math.max(...times))} ms; one word + years ${r1(oneMs)} ms (${r1w.length}); load ${os.loadavg()[0]!.toFixed(1)}; slowest ${JSON.stringify(qs[slow.i])}`);
  return slow.i;
}
async function explain(q: Queryable, i: number, label: string) {
  const plans: string[] = [];
  const wrap = { query: async (sql: string, params?: unknown[]) => {
    if (/^\s*SELECT e\.\*/.test(sql)) {
      const p = await q.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) ${sql}`, params);
      plans.push(...p.rows.map((r) => `  ${r['QUERY PLAN']}`));
    }
    return q.query(sql, params);
  } } as Queryable;
  await searchEntries(wrap, qs[i]!);
  console.log(`EXPLAIN ${label} ${JSON.stringify(qs[i])}\n${plans.join('\n')}`);
}
const results = new Map<number, string>();
const before = async (fn: (q: Queryable) => Promise<unknown>) => {
  await db.transaction(async (tx) => { await tx.query('DROP INDEX entry_name_postings_date_idx'); await fn(tx); throw new Error('rollback'); }).catch((e) => { if ((e as Error).message !== 'rollback') throw e; });
};
let slowB = 0, slowA = 0;
for (let round = 1; round <= 2; round++) {
  await before(async (tx) => { slowB = await phase(tx, `before (no date index), round ${round}`, results); });
  slowA = await phase(db, `after (date index), round ${round}`, results);
}
if (process.env.EXPLAIN !== '0') {
  for (const i of new Set([slowB, slowA])) {
    await before(async (tx) => explain(tx, i, 'before'));
    await explain(db, i, 'after');
  }
}
await db.close();
