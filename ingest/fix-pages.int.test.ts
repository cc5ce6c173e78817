/**
 * Fixing what failed, on the real services (PostgreSQL, Redis, S3 on RGW): a book with an unreadable
 * page gets that page replaced by a rescan, and failed pages retried, without redoing the others.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateBook, writeCorruptPageFolder } from '../fixtures/index.ts';
import { getBook, listPages, type Book, isFinalBookStatus } from '../archive/index.ts';
import { isAppError } from '../common/index.ts';
import { requireService } from '../test-support/services.ts';
import { openRealDeps, realServicesEnv } from '../test-support/real-deps.ts';
import { startWorkers } from '../workers/index.ts';
import type { AppDeps } from '../app/deps.ts';
import type { WorkerHandle } from '../queue/index.ts';
import { ingestBook, replacePage, retryPages } from './index.ts';

const ready = requireService('databaseUrl') && requireService('redisUrl') && requireService('s3');

async function settled(deps: AppDeps, id: string, seen?: Date): Promise<Book> {
  const end = Date.now() + 180_000;
  for (;;) {
    const b = await getBook(deps.db, id);
    if (b && isFinalBookStatus(b.status) && (!seen || (b.completedAt && b.completedAt > seen))) return b;
    if (Date.now() > end) throw new Error(`book still ${b?.status}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe.skipIf(!ready)('retry and replace failed pages', () => {
  let dir: string;
  let env: Awaited<ReturnType<typeof openRealDeps>>;
  let workers: WorkerHandle;
  let rescan: Buffer;

  beforeAll(async () => {
    dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'arkiva-fix-'));
    const book = await generateBook({ seed: 31, pages: 4, scale: 0.4 });
    await writeCorruptPageFolder(book, path.join(dir, 'pages'), { corruptPages: [3] });
    rescan = book.pages[2]!;
    env = await openRealDeps(realServicesEnv({ OCR_POOL_SIZE: '1' }));
    workers = await startWorkers(env.deps);
  }, 120_000);

  afterAll(async () => {
    await workers?.close({ timeoutMs: 10_000 });
    await env?.cleanup();
    if (dir) await fs.promises.rm(dir, { recursive: true, force: true });
  });

  it('replaces the unreadable page and leaves the other pages alone', async () => {
    const { deps } = env;
    const { book } = await ingestBook(deps, { kind: 'folder', path: path.join(dir, 'pages') }, { registerType: 'birth', municipality: 'Korçë', yearFrom: 1955, yearTo: 1956, languages: 'sqi' });
    const first = await settled(deps, book.id);
    expect(first.status).toBe('complete_with_failures');
    expect(first.summary?.failures.map((f) => f.sequence)).toEqual([3]);

    // Page 3 has no readable source: a retry cannot help, and says so.
    const err = await retryPages(deps, book.id, [3]).catch((e: unknown) => e);
    expect(isAppError(err, 'ERR_CONFLICT')).toBe(true);
    expect((err as Error).message).toMatch(/replace them with a rescanned image/);

    await deps.queue.drained({ timeoutMs: 120_000 });
    // ALTO belongs to the book's package, rebuilt for every page after a replacement: not a page stage.
    const othersBefore = await deps.db.query<{ id: string }>(`SELECT id FROM stored_objects WHERE book_id = $1 AND page_id IS NOT NULL AND role <> 'alto' ORDER BY id`, [book.id]);
    const eventsBefore = await deps.db.query(`SELECT 1 FROM processing_events e JOIN pages p ON p.id = e.page_id WHERE p.book_id = $1 AND p.sequence <> 3`, [book.id]);

    const replaced = await replacePage(deps, book.id, 3, rescan, { replacedBy: 'test' });
    expect(replaced.revision).toBe(2);
    const done = await settled(deps, book.id, first.completedAt ?? undefined);
    expect(done.status).toBe('complete');
    await deps.queue.drained({ timeoutMs: 120_000 });
    expect((await listPages(deps.db, book.id)).map((p) => [p.sequence, p.status, p.revision])).toEqual([
      [1, 'done', 1], [2, 'done', 1], [3, 'done', 2], [4, 'done', 1],
    ]);
    // The other pages were not processed again: no new objects or events for them.
    const othersAfter = await deps.db.query<{ id: string }>(
      `SELECT o.id FROM stored_objects o JOIN pages p ON p.id = o.page_id WHERE o.book_id = $1 AND p.sequence <> 3 AND o.role <> 'alto' ORDER BY o.id`, [book.id]);
    expect(othersAfter.rows.every((r) => othersBefore.rows.some((b) => b.id === r.id))).toBe(true);
    const eventsAfter = await deps.db.query(`SELECT 1 FROM processing_events e JOIN pages p ON p.id = e.page_id WHERE p.book_id = $1 AND p.sequence <> 3`, [book.id]);
    expect(eventsAfter.rowCount).toBe(eventsBefore.rowCount);
    const replacement = await deps.db.query(`SELECT 1 FROM processing_events e JOIN pages p ON p.id = e.page_id WHERE p.book_id = $1 AND p.sequence = 3 AND e.event_type = 'replacement'`, [book.id]);
    expect(replacement.rowCount).toBe(1);
  });

  it('retries a page whose OCR failed, reusing its master', async () => {
    const { deps } = env;
    const [book] = (await deps.db.query<{ id: string }>(`SELECT id FROM books LIMIT 1`)).rows;
    const page = (await listPages(deps.db, book!.id))[0]!;
    // Simulate an OCR failure recorded for page 1 (e.g. a timeout) and drop its OCR result.
    await deps.db.query(`UPDATE pages SET status = 'failed', stage = 'page.ocr', failure_reason = 'page.ocr: timed out', ocr_confidence = NULL WHERE id = $1`, [page.id]);
    await deps.db.query(`UPDATE stored_objects SET superseded_at = now() WHERE page_id = $1 AND role = 'ocr'`, [page.id]);
    await deps.db.query(`UPDATE books SET status = 'complete_with_failures' WHERE id = $1`, [book!.id]);
    const masterBefore = (await deps.db.query<{ id: string }>(`SELECT id FROM stored_objects WHERE page_id = $1 AND role = 'master'`, [page.id])).rows;
    const before = new Date();
    const retried = await retryPages(deps, book!.id);
    expect(retried.map((p) => p.sequence)).toEqual([1]);
    const done = await settled(deps, book!.id, before);
    expect(done.status).toBe('complete');
    const masterAfter = (await deps.db.query<{ id: string }>(`SELECT id FROM stored_objects WHERE page_id = $1 AND role = 'master'`, [page.id])).rows;
    expect(masterAfter).toEqual(masterBefore);
    const ocr = await deps.db.query(`SELECT 1 FROM stored_objects WHERE page_id = $1 AND role = 'ocr' AND superseded_at IS NULL`, [page.id]);
    expect(ocr.rowCount).toBe(2);
  });
});
