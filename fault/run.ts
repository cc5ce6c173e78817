/**
 * The fault suite: generated books ingested on private PostgreSQL, Redis and RGW instances while 2
 * supervised worker processes run, with one fault per book:
 *   kill      SIGKILL a random worker every few seconds (its supervisor starts it again)
 *   redis     Redis killed and started again empty (no persistence: every job is lost)
 *   postgres  PostgreSQL stopped with `-m immediate` and started again (crash recovery)
 *   rgw       the S3 endpoint stopped for 60 s
 *   kill-load while busy processes load every core, SIGKILL the worker running one of the book's
 *             OCR jobs, then the worker that takes that job over (issue 17: a page whose OCR job
 *             was lost twice, to a kill and then to a lost claim under load, used to be lost)
 *   catalogue the database lost mid-ingest (issue 25): the catalogue is written out to the store,
 *             more pages are archived, then PostgreSQL is stopped at once and its cluster deleted;
 *             the workers are stopped, the queue emptied, an empty cluster made, `catalogue rebuild`
 *             run into it (it queues the unfinished work again), the workers started again
 * Each book must end with every page archived exactly once (rows and objects counted per page and
 * role, each object read back and hashed), with nobody running `arkiva resume`.
 *
 *   npm run test:fault            (needs `scripts/services.sh start`: the Ceph cluster, redis-server, PostgreSQL 15 binaries)
 *   npx tsx fault/run.ts [--pages 200] [--load-pages 16] [--catalogue-pages 10] [--catalogue-keep-queue] [--scale 0.4] [--only kill,rgw] [--rgw-outage 60] [--keep]
 *
 * `--pages` is shared by kill, redis, postgres and rgw; kill-load and catalogue have their own,
 * smaller books (`--pages` when they run without the others). Prints a table, a line of pages lost
 * and duplicated per scenario, and one JSON line; exits 1 when a page is lost or duplicated, a hash
 * differs, a book did not finish by itself, or the rebuild could not place what it should have.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { generateFixtureFiles } from '../fixtures/index.ts';
import { loadConfig } from '../config/index.ts';
import { createLogger } from '../common/index.ts';
import { openAppDeps, type AppDeps } from '../app/deps.ts';
import { ingestBook } from '../ingest/index.ts';
import { freePort, PrivatePostgres, PrivateRedis, PrivateRgw } from './services.ts';
import { WorkerPool } from './workers.ts';
import { loadCpu, runningOcrJobs } from './load.ts';
import { Redis } from 'ioredis';
import { checkBook, unrecordedObjects, type BookCheck } from './verify.ts';
import { isFinalBookStatus } from '../archive/index.ts';
import { readLatest, writeCatalogue } from '../catalogue/index.ts';
import { LATER_EVENTS, rebuildCatalogue, UNRECORDED_OBJECT } from '../catalogue/rebuild.ts';

// catalogue first: its book is the only one the database loss meets (a book being packaged then
// would leave a package the rebuild cannot name: written after the write-out, and not made again
// byte for byte), and every later book goes into the rebuilt database. kill-load next: with the
// queues still short, its lost job is taken over within seconds (a lock plus a stalled check) and
// its busy processes load the machine for ~20 s, not minutes
const SCENARIOS = ['catalogue', 'kill-load', 'kill', 'redis', 'postgres', 'rgw'] as const;
type Scenario = (typeof SCENARIOS)[number];
/** Each scenario's book, the same whichever scenarios run and in whatever order. */
const SEEDS: Record<Scenario, number> = { kill: 4100, redis: 4101, postgres: 4102, rgw: 4103, 'kill-load': 4104, catalogue: 4105 };
/** Scenarios with a small book of their own instead of a share of `--pages`. */
const OWN_BOOK: readonly Scenario[] = ['kill-load', 'catalogue'];

const { values } = parseArgs({
  options: {
    pages: { type: 'string', default: '200' },
    'load-pages': { type: 'string', default: '16' },
    'catalogue-pages': { type: 'string', default: '10' },
    'catalogue-keep-queue': { type: 'boolean', default: false },
    scale: { type: 'string', default: '0.4' },
    only: { type: 'string' },
    'rgw-outage': { type: 'string', default: '60' },
    workers: { type: 'string', default: '2' },
    keep: { type: 'boolean', default: false },
  },
});
const scenarios = (values.only ? values.only.split(',') : [...SCENARIOS]) as Scenario[];
for (const s of scenarios) if (!SCENARIOS.includes(s)) throw new Error(`unknown scenario ${s}`);
const totalPages = Number(values.pages);
const shared = scenarios.filter((s) => !OWN_BOOK.includes(s));
const pagesPer = Math.max(4, Math.floor(totalPages / Math.max(1, shared.length)));
const ownPages: Partial<Record<Scenario, number>> = { 'kill-load': Number(values['load-pages']), catalogue: Number(values['catalogue-pages']) };
/** Pages of each scenario's book: kill-load's and catalogue's are kept small, the suite must stay well under 6 minutes on 2 cores. */
const pagesOf = (s: Scenario): number => (!OWN_BOOK.includes(s) ? pagesPer : shared.length === 0 ? Math.max(4, totalPages) : Math.max(4, ownPages[s]!));
const scale = Number(values.scale);
const rgwOutageMs = Number(values['rgw-outage']) * 1000;
const started = Date.now();
const RECONCILE_SECONDS = 5;
/**
 * Claims on jobs as in production (30 s, checked every 15 s). With 10 s / 5 s, packaging runs lost
 * their claims under the suite's load and a re-run left the first run's PDF with no row (see the
 * closing note of issue 17): that defect stands; the suite runs at the timing it is released with.
 */
const LOCK_SECONDS = 30;
const STALLED_CHECK_SECONDS = 15;
/** Busy processes per core during kill-load, and the longest they spin. */
const LOAD_PER_CORE = 2;
const LOAD_MAX_MS = 60_000;
const BOOK_TIMEOUT_MS = 300_000;

const say = (msg: string) => process.stderr.write(`[fault ${((Date.now() - started) / 1000).toFixed(0).padStart(3)}s] ${msg}\n`);

interface Result extends BookCheck {
  scenario: Scenario;
  seconds: number;
  /** From the end of the fault (service back, last kill) to the book's completion. */
  recoverSeconds: number;
  workerRestarts: number;
  /** Faults that happened while this book was being processed (its own and later ones). */
  faultsSeen: Scenario[];
}

async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs: number, everyMs = 500): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    // the harness's own connections see the faults too: a failed look is tried again
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}

async function donePages(deps: AppDeps, bookId: string): Promise<number> {
  const r = await deps.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM pages WHERE book_id = $1 AND status = 'done'`, [bookId]);
  return r.rows[0]!.n;
}

async function main(): Promise<number> {
  const shared = sharedS3();
  const cephConf = shared?.cephDir ? path.join(shared.cephDir, 'ceph.conf') : undefined;
  if (!cephConf || !fs.existsSync(cephConf) || !shared) throw new Error('the fault suite needs the Ceph cluster of scripts/services.sh (run `bash scripts/services.sh start`)');
  const root = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'arkiva-fault-'));
  // the private PostgreSQL runs as the postgres user, which must be able to reach its folder
  await fs.promises.chmod(root, 0o755);
  const logs = path.join(root, 'logs');
  await fs.promises.mkdir(logs);
  say(`working in ${root}; ${scenarios.map((s) => `${s} ${pagesOf(s)} pages`).join(', ')}; scale ${scale}`);

  const redis = new PrivateRedis(await freePort(), path.join(root, 'redis'), false);
  const pg = new PrivatePostgres(await freePort(), path.join(root, 'pg', 'cluster'));
  const rgw = new PrivateRgw(await freePort(), path.join(root, 'rgw'), cephConf);
  const books = Promise.all(scenarios.map((s) => generateFixtureFiles({
    outDir: path.join(root, `book-${s}`), pages: pagesOf(s), seed: SEEDS[s], formats: ['tiff'], scale, entriesPerPage: [3, 4],
  })));
  const stopServices = () => Promise.all([redis.stop(), pg.stop('fast'), rgw.stop()]);
  try {
    await Promise.all([redis.start(), pg.init().then(() => pg.start()), rgw.start()]);
  } catch (e) {
    await stopServices();
    await books.catch(() => undefined);
    console.error(`FAIL: could not start the private services (${e instanceof Error ? e.message : String(e)}); kept ${root}`);
    return 1;
  }
  say(`private services: redis :${redis.port}, postgres :${pg.port}, rgw :${rgw.port}`);

  const bucket = `arkiva-fault-${Date.now().toString(36)}`;
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp',
    DATABASE_URL: pg.url, REDIS_URL: redis.url, QUEUE_PREFIX: 'fault',
    S3_ENDPOINT: rgw.endpoint, S3_BUCKET: bucket, S3_ACCESS_KEY_ID: shared.accessKeyId, S3_SECRET_ACCESS_KEY: shared.secretAccessKey,
    S3_REGION: shared.region, S3_OBJECT_LOCK: 'true',
    OCR_POOL_SIZE: '1', RECONCILE_INTERVAL_SECONDS: String(RECONCILE_SECONDS), SCHEDULES: 'false', LOG_LEVEL: 'warn',
    QUEUE_LOCK_SECONDS: String(LOCK_SECONDS), QUEUE_STALLED_CHECK_SECONDS: String(STALLED_CHECK_SECONDS),
    ARKIVA_DATA_DIR: path.join(root, 'data'),
  };
  // the harness's own connections (ingest, checks): migrations and the bucket are made here, before the workers start
  const openHarness = () => openAppDeps(loadConfig({ ...env, RECONCILE_INTERVAL_SECONDS: '0' }), createLogger('silent'));
  let deps: HarnessDeps;
  try {
    deps = await openHarness();
  } catch (e) {
    await stopServices();
    console.error(`FAIL: cannot open the private services (${e instanceof Error ? e.message : String(e)}); kept ${root}`);
    return 1;
  }
  const pool = new WorkerPool(Number(values.workers), env, logs);
  const results: Result[] = [];
  /** What a scenario found wrong besides its book's pages (the rebuild's report). */
  const failures: string[] = [];
  /**
   * Objects the catalogue rebuild reported as stored after the last write-out, with no row: made by
   * work the database loss took. Work queued again makes most of them again under the same key, but
   * not all: an ALTO carries its OCR's time, and a page read again after the loss has a new one.
   */
  const reportedByRebuild = new Set<string>();
  let ok = true;
  try {
    pool.start();
    const files = await books;
    await waitFor('workers to start', async () => ((await deps.queue.counts()) && pool.alive === Number(values.workers) ? true : undefined), 60_000);
    await sleep(3000);
    const c0 = Number((await redis.info('stats')).total_commands_processed);
    await sleep(5000);
    const idleCommandsPerSecond = (Number((await redis.info('stats')).total_commands_processed) - c0) / 5;
    say(`idle Redis load with ${values.workers} workers: ${idleCommandsPerSecond.toFixed(1)} commands/s`);

    // Counters survive the restarts of the suite: read before each restart and added up.
    let redisBase = Number((await redis.info('stats')).total_commands_processed);
    let redisTotal = 0;
    let txBase = (await dbTransactions(deps)) ?? 0;
    let txTotal = 0;
    const sampleRedis = async () => {
      redisTotal += Number((await redis.info('stats')).total_commands_processed) - redisBase;
      redisBase = 0;
    };
    const sampleDb = async () => {
      txTotal += ((await dbTransactions(deps)) ?? txBase) - txBase;
      txBase = 0;
    };
    const runStart = Date.now();
    let sampledAt = runStart;
    let commandStats: Record<string, string> = {};

    // Each scenario has its own book; the next book goes in as soon as the fault before it is over,
    // so a book still running also lives through the faults after its own (listed per book).
    const running: { scenario: Scenario; bookId: string; t0: number; faultStart: number; faultEnd: number; restarts: number; end?: number }[] = [];
    const poller = setInterval(() => {
      for (const b of running) {
        if (b.end !== undefined) continue;
        void deps.db.query<{ status: string }>('SELECT status FROM books WHERE id = $1', [b.bookId]).then((r) => {
          if (b.end === undefined && isFinalBookStatus(r.rows[0]?.status ?? '')) b.end = Date.now();
        }, () => undefined);
      }
    }, 250);
    try {
      for (const [i, scenario] of scenarios.entries()) {
        const f = files[i]!;
        const t0 = Date.now();
        const { book } = await ingestBook(deps, { kind: 'file', path: f.tiff!.path }, {
          registerType: 'birth', municipality: f.truth.book.municipality, yearFrom: f.truth.book.yearFrom, yearTo: f.truth.book.yearTo, languages: 'sqi',
        });
        say(`${scenario}: book ingested (${pagesOf(scenario)} pages), waiting for its pages to be under way`);
        await waitFor('pages in progress', async () => ((await donePages(deps, book.id)) >= Math.min(3, pagesOf(scenario) / 4) ? true : undefined), BOOK_TIMEOUT_MS);
        const faultStart = Date.now();
        const restartsBefore = pool.restarts;
        switch (scenario) {
          case 'kill':
            for (let k = 0; k < 6; k++) {
              const pid = pool.killRandom();
              say(`kill: SIGKILL worker ${pid}`);
              await sleep(4000);
            }
            break;
          case 'redis':
            say('redis: SIGKILL Redis (no persistence: every job lost), start it again in 2 s');
            await sampleRedis();
            await redis.kill();
            await sleep(2000);
            await redis.start();
            break;
          case 'postgres':
            say('postgres: pg_ctl stop -m immediate, start again in 3 s');
            await sampleDb();
            await pg.stop('immediate');
            await sleep(3000);
            await pg.start();
            break;
          case 'rgw':
            say(`rgw: stopping the S3 endpoint for ${rgwOutageMs / 1000} s`);
            await rgw.stop();
            await sleep(rgwOutageMs);
            await rgw.start();
            break;
          case 'kill-load':
            await killUnderLoad(pool, redis.url, book.id, Number(values.workers));
            break;
          case 'catalogue': {
            const after = await loseDatabase({
              deps, pg, pool, bookId: book.id, workers: Number(values.workers), beforeLoss: sampleDb, reopen: openHarness,
              emptyQueue: !values['catalogue-keep-queue'],
            });
            deps = after.deps;
            failures.push(...after.failures);
            for (const k of after.unrecorded) reportedByRebuild.add(k);
            break;
          }
        }
        running.push({ scenario, bookId: book.id, t0, faultStart, faultEnd: Date.now(), restarts: pool.restarts - restartsBefore });
        say(`${scenario}: fault over, ${await donePages(deps, book.id).catch(() => '?')} of its pages done`);
      }
      say('waiting for every book to finish by itself');
      await waitFor('every book to finish', async () => (running.every((b) => b.end !== undefined) ? true : undefined), BOOK_TIMEOUT_MS, 250);
      // sampled before the drain below, whose polling of the queue counts is the harness's, not the pipeline's
      await sampleRedis();
      await sampleDb();
      sampledAt = Date.now();
      commandStats = await redis.info('commandstats');
      // packaging runs after completion: let it end so that every object has its row
      await deps.queue.drained({ timeoutMs: 180_000 });
    } finally {
      clearInterval(poller);
    }
    const runPages = running.reduce((n, b) => n + pagesOf(b.scenario), 0);
    const topCommands = Object.entries(commandStats)
      .map(([k, v]) => [k.replace(/^cmdstat_/, ''), Number(/calls=(\d+)/.exec(v)?.[1] ?? 0)] as const)
      .sort((a, b) => b[1] - a[1]).slice(0, 6);
    const measured = {
      redisCommandsPerPage: Math.round(redisTotal / runPages),
      dbTransactionsPerPage: Math.round(txTotal / runPages),
      pagesPerMinute: Math.round((runPages / ((sampledAt - runStart) / 60_000)) * 10) / 10,
      topRedisCommandsSinceRestart: Object.fromEntries(topCommands),
    };
    for (const b of running) {
      const check = await checkBook(deps, b.bookId, pagesOf(b.scenario));
      const seen = running.filter((o) => o.faultStart < b.end!).map((o) => o.scenario);
      results.push({
        scenario: b.scenario, ...check, faultsSeen: seen, seconds: Math.round((b.end! - b.t0) / 1000),
        recoverSeconds: Math.max(0, Math.round((b.end! - b.faultEnd) / 1000)), workerRestarts: b.restarts,
      });
      say(`${b.scenario}: ${check.bookStatus}, lost ${check.lost.length}, duplicated ${check.duplicated.length}, ${check.hashesVerified} hashes verified`);
    }
    // An object with no row is a failure unless the rebuild reported it to the operator.
    const noRow = await unrecordedObjects(deps);
    const unrecorded = noRow.filter((k) => !reportedByRebuild.has(k));
    const leftByLoss = noRow.length - unrecorded.length;
    const elapsed = Math.round((Date.now() - started) / 1000);

    console.log('| scenario | pages | lost | duplicated | objects hashed | hash mismatches | missing objects | faults lived through | worker restarts | book time s | after its fault s |');
    console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
    for (const r of results) {
      console.log(`| ${r.scenario} | ${r.pages} | ${r.lost.length} | ${r.duplicated.length} | ${r.hashesVerified} | ${r.hashMismatches} | ${r.missingObjects} | ${r.faultsSeen.join(', ')} | ${r.workerRestarts} | ${r.seconds} | ${r.recoverSeconds} |`);
    }
    console.log(`pages lost and duplicated per scenario: ${results.map((r) => `${r.scenario}: lost ${r.lost.length}, duplicated ${r.duplicated.length}`).join('; ')}`);
    console.log(`objects in the store no row names: ${unrecorded.length} (and ${leftByLoss} of the ${reportedByRebuild.size} the catalogue rebuild reported as stored after the write-out, not made again by the work queued again); unexpected worker exits: ${pool.unexpectedExits}; total ${elapsed} s`);
    console.log(`throughput under faults ${measured.pagesPerMinute} pages/min; per page: ${measured.redisCommandsPerPage} Redis commands, ${measured.dbTransactionsPerPage} PostgreSQL transactions (retries after faults included)`);
    console.log(JSON.stringify({
      suite: 'fault', pagesTotal: results.reduce((n, r) => n + r.pages, 0), scale, workers: Number(values.workers), cpus: os.cpus().length,
      idleRedisCommandsPerSecond: Math.round(idleCommandsPerSecond * 10) / 10, unrecordedObjects: unrecorded.length, reportedByRebuildWithNoRow: leftByLoss, seconds: elapsed, ...measured,
      scenarios: results.map((r) => ({
        scenario: r.scenario, pages: r.pages, lost: r.lost.length, duplicated: r.duplicated.length, status: r.bookStatus,
        hashesVerified: r.hashesVerified, hashMismatches: r.hashMismatches, missingObjects: r.missingObjects, duplicateWordPages: r.duplicateWordPages,
        faultsSeen: r.faultsSeen, workerRestarts: r.workerRestarts, seconds: r.seconds, recoverSeconds: r.recoverSeconds,
      })),
    }));
    for (const r of results) {
      const bad = r.lost.length + r.duplicated.length + r.hashMismatches + r.missingObjects + r.duplicateWordPages;
      if (bad > 0 || r.bookStatus !== 'complete' || r.pages !== pagesOf(r.scenario)) {
        ok = false;
        console.error(`FAIL ${r.scenario}: status ${r.bookStatus}, lost pages ${JSON.stringify(r.lost)}, duplicated ${JSON.stringify(r.duplicated)}, hash mismatches ${r.hashMismatches}, missing objects ${r.missingObjects}, pages indexed twice ${r.duplicateWordPages}`);
      }
    }
    for (const f of failures) {
      ok = false;
      console.error(`FAIL ${f}`);
    }
    if (unrecorded.length > 0) {
      ok = false;
      console.error(`FAIL: ${unrecorded.length} objects in the store with no row: ${unrecorded.slice(0, 5).join(', ')}`);
    }
    if (pool.alive !== Number(values.workers)) {
      ok = false;
      console.error(`FAIL: ${pool.alive} workers running at the end`);
    }
  } catch (e) {
    ok = false;
    console.error(`FAIL: ${e instanceof Error ? e.message : String(e)} (worker logs in ${logs})`);
    values.keep = true;
  } finally {
    await pool.stop();
    await cleanBucket(deps).catch((e: unknown) => say(`could not empty the bucket: ${String(e)}`));
    await deps.close();
    await stopServices();
    if (!values.keep) await fs.promises.rm(root, { recursive: true, force: true });
    else say(`kept ${root}`);
  }
  say(ok ? 'PASS' : 'FAIL');
  return ok ? 0 : 1;
}

/**
 * Issue 17's scenario: busy processes load every core; the worker running one of the book's OCR
 * jobs is SIGKILLed, then the worker that takes that job over once its claim expired is killed
 * too, so the same job is lost twice (in the report, the second loss was a claim the replacement
 * could not renew under load). The job must still be run to its end, the page archived once.
 */
async function killUnderLoad(pool: WorkerPool, redisUrl: string, bookId: string, workers: number): Promise<void> {
  const cores = os.availableParallelism();
  const load = loadCpu(LOAD_PER_CORE * cores, LOAD_MAX_MS);
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: null });
  redis.on('error', () => undefined);
  say(`kill-load: ${LOAD_PER_CORE * cores} busy processes on ${cores} cores`);
  const restartsBefore = pool.restarts;
  try {
    const held = await waitFor('one of its OCR jobs running', async () => {
      const jobs = await runningOcrJobs(redis, 'fault', bookId);
      const pid = jobs.values().next().value;
      return pid === undefined ? undefined : { pid, jobs: [...jobs].filter(([, p]) => p === pid).map(([id]) => id) };
    }, 120_000, 100);
    if (!pool.killPid(held.pid)) throw new Error(`worker ${held.pid}, which runs an OCR job of the book, is not one of the pool's`);
    say(`kill-load: SIGKILL worker ${held.pid}, which ran ${held.jobs.length} OCR job(s) of the book`);
    // taken over once the claim expires and a stalled check sees it: at most a lock plus two checks
    const lostAt = Date.now();
    const takenOver = await waitFor('another worker to take the lost OCR job over', async () => {
      const jobs = await runningOcrJobs(redis, 'fault', bookId);
      for (const id of held.jobs) {
        const pid = jobs.get(id);
        if (pid !== undefined && pid !== held.pid) return { id, pid };
      }
      return undefined;
    }, 120_000, 100);
    if (!pool.killPid(takenOver.pid)) throw new Error(`worker ${takenOver.pid}, which took the lost job over, is not one of the pool's`);
    say(`kill-load: SIGKILL worker ${takenOver.pid}, which had taken job ${takenOver.id} over ${((Date.now() - lostAt) / 1000).toFixed(0)} s after the first kill: the job is lost a second time`);
    // both killed workers started again by their supervisor
    await waitFor('every worker running again', async () => (pool.restarts >= restartsBefore + 2 && pool.alive === workers ? true : undefined), 30_000, 100);
  } finally {
    await load.stop();
    redis.disconnect();
  }
}

type HarnessDeps = AppDeps & { close(): Promise<void> };

/**
 * Issue 25's scenario: the database lost in the middle of an ingest. The catalogue is written out
 * (what the `catalogue.write` schedule does; the suite runs without schedules), at least one more
 * page is archived, and the PostgreSQL cluster is lost as to a failed disk: stopped at once and
 * its folder deleted, not a schema dropped on a running server, because a loss cuts the workers'
 * transactions in flight and leaves nothing (roles, sequences, the migrations table) behind. The
 * workers meet the loss, then the operator stops them for the restore: a worker started against
 * the new, empty cluster would migrate it and run old jobs before the rebuild, which goes into an
 * empty database only. The rebuild empties the queue (`--empty-queue`): its jobs name rows the
 * loss took, and the rebuild queues all unfinished work again from the rows it rebuilt. Kept, an
 * old page.index job whose OCR child had finished before the loss found no OCR row in the rebuilt
 * database and failed its page for good before the re-queued work read it again (the page lost,
 * its OCR objects named by no row: 1 run of 15), so the rebuild now refuses a queue holding work;
 * `--catalogue-keep-queue` shows that refusal. An empty cluster is made, migrated and rebuilt from the store, the workers are
 * started again and the book must finish by itself with every page archived once.
 */
async function loseDatabase(ctx: {
  deps: HarnessDeps; pg: PrivatePostgres; pool: WorkerPool; bookId: string; workers: number;
  beforeLoss: () => Promise<void>; reopen: () => Promise<HarnessDeps>; emptyQueue: boolean;
}): Promise<{ deps: HarnessDeps; failures: string[]; unrecorded: string[] }> {
  let deps = ctx.deps;
  await writeCatalogue(deps, { flushAudit: true });
  const doneInStore = async () => ((await readLatest(deps.store, { kind: 'book', scope: ctx.bookId }))?.data.pages ?? []).filter((p) => p.status === 'done').length;
  // Work goes on after the last write-out: that is what the loss takes with it. Compared with the
  // store's newest version, in case a write-out after a package job came in between.
  const at = await waitFor('a page archived after the write-out', async () => {
    const stored = await doneInStore();
    const done = await donePages(deps, ctx.bookId);
    return done > stored ? { stored, done } : undefined;
  }, BOOK_TIMEOUT_MS, 200);
  say(`catalogue: the store has the book with ${at.stored} pages done, the database ${at.done}: PostgreSQL lost (stopped at once, its cluster deleted)`);
  await ctx.beforeLoss();
  await ctx.pg.lose();
  await sleep(3000);
  say(`catalogue: workers stopped for the restore; ${ctx.emptyQueue ? 'the queue emptied, ' : 'the queue kept, '}an empty cluster made and migrated, \`catalogue rebuild\` run into it`);
  await ctx.pool.stop();
  await ctx.pg.init();
  await ctx.pg.start();
  // the old connections lead nowhere; closing them must not hold the suite up
  await Promise.race([deps.close().catch(() => undefined), sleep(10_000)]);
  deps = await ctx.reopen();
  // the jobs of before the loss the queue still holds (delayed by the outage, or stalled with the stopped workers)
  const old = (await deps.queue.liveJobs()).length;
  const t0 = Date.now();
  const report = await rebuildCatalogue(deps, { emptyQueue: ctx.emptyQueue });
  // What the loss took is expected in the report: objects stored after the write-out, and events
  // of that work when the events object was written after the book object
  const later = report.unplaced.filter((u) => u.reason.startsWith(LATER_EVENTS));
  const other = report.unplaced.filter((u) => u.reason !== UNRECORDED_OBJECT && !later.includes(u));
  say(`catalogue: rebuilt in ${((Date.now() - t0) / 1000).toFixed(1)} s: ${report.books} books, ${report.pages} pages, ${report.requeued.pages} pages of ${report.requeued.books} books queued again; `
    + `${report.unplacedCount - later.length - other.length} objects stored after the write-out, ${later.length} books' later events left out, ${other.length} other things not placed; `
    + `${old} jobs of before the loss ${ctx.emptyQueue ? 'emptied from the queue by the rebuild' : 'in the queue'}`);
  ctx.pool.start();
  await waitFor('the workers to start again', async () => (ctx.pool.alive === ctx.workers ? true : undefined), 60_000);
  const failures = other.map((u) => `catalogue: the rebuild could not place ${u.key}: ${u.reason}`);
  if (report.books === 0 || report.requeued.pages === 0) failures.push(`catalogue: the rebuild placed ${report.books} books and queued ${report.requeued.pages} pages again: the book being ingested is not back`);
  // Listed in full only up to the report's limit: past it, the suite's own check finds the rest.
  return { deps, failures, unrecorded: report.unplaced.filter((u) => u.reason === UNRECORDED_OBJECT).map((u) => u.key) };
}

/**
 * The S3 user and the folder of the shared Ceph cluster (each checkout has its own), from
 * `.services.env` (written by scripts/services.sh) or the environment.
 */
function sharedS3(): { accessKeyId: string; secretAccessKey: string; region: string; cephDir: string | undefined } | undefined {
  const file = process.env.ARKIVA_SERVICES_ENV ?? path.resolve('.services.env');
  const vars: Record<string, string | undefined> = { ...process.env };
  if (fs.existsSync(file)) {
    for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
      const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
      if (m) vars[m[1]!] = m[2]!;
    }
  }
  const { S3_ACCESS_KEY_ID: accessKeyId, S3_SECRET_ACCESS_KEY: secretAccessKey } = vars;
  return accessKeyId && secretAccessKey ? { accessKeyId, secretAccessKey, region: vars.S3_REGION ?? 'us-east-1', cephDir: vars.ARKIVA_CEPH_DIR } : undefined;
}

async function dbTransactions(deps: AppDeps): Promise<number | undefined> {
  const r = await deps.db.query<{ n: number }>(`SELECT (xact_commit + xact_rollback)::int8 AS n FROM pg_stat_database WHERE datname = current_database()`).catch(() => undefined);
  return r?.rows[0]?.n;
}

/** Removes every version in the suite's bucket (on the shared Ceph cluster) so runs leave nothing behind. */
async function cleanBucket(deps: AppDeps): Promise<void> {
  for await (const v of deps.store.listVersions('')) {
    await deps.store.delete(v.key, { ...(v.versionId ? { versionId: v.versionId } : {}), bypassGovernance: true }).catch(() => undefined);
  }
}

const code = await main().catch((e: unknown) => {
  console.error(e);
  return 1;
});
// a connection left half-open by a fault must not keep the suite from ending
process.exit(code);
