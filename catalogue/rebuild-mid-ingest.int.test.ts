/**
 * The database lost in the middle of an ingest (issue 25), on PostgreSQL, BullMQ/Redis and RGW:
 * pages are being archived, the catalogue was last written out a page or more ago, the schema is
 * dropped. `catalogue rebuild` recreates the book as the store last described it and queues its
 * unfinished pages again; the workers (the queue still holds its old jobs too) finish the book with
 * every page archived exactly once, every object recorded once and read back with its hash, and
 * nothing in the store that no row names. The fault suite's counting (fault/verify.ts) judges it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateFixtureFiles, type FixtureFiles } from '../fixtures/index.ts';
import { ingestBook } from '../ingest/index.ts';
import { getBook, isFinalBookStatus } from '../archive/index.ts';
import { loadConfig } from '../config/index.ts';
import { openAppDeps, type AppDeps } from '../app/deps.ts';
import { silentLogger } from '../common/index.ts';
import { requireService } from '../test-support/services.ts';
import { realServicesEnv, tearDownRealDeps } from '../test-support/real-deps.ts';
import { startWorkers } from '../workers/index.ts';
import { checkBook, unrecordedObjects } from '../fault/verify.ts';
import { writeCatalogue } from './write.ts';
import { LATER_EVENTS, rebuildCatalogue, UNRECORDED_OBJECT } from './rebuild.ts';

const ready = requireService('databaseUrl') && requireService('redisUrl') && requireService('s3');
const PAGES = 6;

async function donePages(deps: AppDeps, bookId: string): Promise<number> {
  return (await deps.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM pages WHERE book_id = $1 AND status = 'done'`, [bookId])).rows[0]!.n;
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, ms: number): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe.skipIf(!ready)('database lost mid-ingest, rebuilt from the store, ingest resumed (PostgreSQL + BullMQ/Redis + RGW)', () => {
  let dir: string;
  let files: FixtureFiles;
  let env: Record<string, string>;
  let deps: AppDeps & { close(): Promise<void> };

  beforeAll(async () => {
    dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'arkiva-rebuild-mid-'));
    files = await generateFixtureFiles({ outDir: path.join(dir, 'in'), pages: PAGES, seed: 2510, formats: ['tiff'], scale: 0.4, style: 'printed' });
    // No periodic jobs: the catalogue is written out exactly when the test says, as the schedule would.
    env = realServicesEnv({ OCR_POOL_SIZE: '1', RECONCILE_INTERVAL_SECONDS: '0', SCHEDULES: 'false' });
    deps = await openAppDeps(loadConfig(env), silentLogger());
  }, 120_000);

  afterAll(async () => {
    if (deps) await tearDownRealDeps(deps);
    if (dir) await fs.promises.rm(dir, { recursive: true, force: true });
  });

  it('no page is lost or archived twice', async () => {
    let workers = await startWorkers(deps);
    const t = files.truth.book;
    const { book } = await ingestBook(deps, { kind: 'file', path: files.tiff!.path }, { registerType: 'birth', municipality: t.municipality, yearFrom: t.yearFrom, yearTo: t.yearTo, languages: 'sqi' });
    const flushedAt = await until('two pages archived', async () => {
      const n = await donePages(deps, book.id);
      return n >= 2 ? n : undefined;
    }, 240_000);
    await writeCatalogue(deps, { flushAudit: true });
    // Work goes on after the last write-out: that is what the loss takes with it.
    await until('a page archived after the write-out', async () => ((await donePages(deps, book.id)) > flushedAt ? true : undefined), 240_000);
    await workers.close();
    const lostAt = await donePages(deps, book.id);
    expect(lostAt).toBeLessThan(PAGES);

    await deps.db.query(`DROP SCHEMA "${env.DATABASE_SCHEMA}" CASCADE`);
    await deps.close();
    deps = await openAppDeps(loadConfig(env), silentLogger());
    // The queue still holds the stopped workers' jobs, which name rows as they were before the loss.
    await expect(rebuildCatalogue(deps)).rejects.toMatchObject({ code: 'ERR_CONFLICT', message: expect.stringMatching(/--empty-queue/) });
    const report = await rebuildCatalogue(deps, { emptyQueue: true });
    expect(report.books).toBe(1);
    expect(report.requeued.books).toBe(1);
    expect(report.requeued.pages).toBeGreaterThanOrEqual(PAGES - lostAt);
    // What the pages done after the write-out stored is in the store and no row names it yet; when
    // the events object was read after the book object, the events of that work are left out.
    expect(report.unplaced.filter((u) => u.reason !== UNRECORDED_OBJECT && !u.reason.startsWith(LATER_EVENTS))).toEqual([]);

    workers = await startWorkers(deps);
    try {
      const ended = await until('the book to finish', async () => {
        const b = await getBook(deps.db, book.id);
        return b && isFinalBookStatus(b.status) ? b : undefined;
      }, 300_000);
      await deps.queue.drained({ timeoutMs: 120_000 });
      expect(ended.status).toBe('complete');
    } finally {
      await workers.close();
    }
    const check = await checkBook(deps, book.id, PAGES);
    expect(check).toMatchObject({ bookStatus: 'complete', pages: PAGES, lost: [], duplicated: [], missingObjects: 0, hashMismatches: 0, duplicateWordPages: 0 });
    expect(await unrecordedObjects(deps)).toEqual([]);
  }, 900_000);
});
