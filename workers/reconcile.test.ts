import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { openDb, type Db } from '../db/index.ts';
import { silentLogger } from '../common/index.ts';
import { loadConfig } from '../config/index.ts';
import { MemoryJobQueue } from '../queue/memory.job-queue.ts';
import { createBook, markPageDone, setBookPageCount, upsertPage } from '../archive/index.ts';
import { JOBS, type Jobs } from '../pipeline/index.ts';
import { findOrphans, Reconciler } from './reconcile.ts';

describe('reconciler (PGlite, in-process queue)', () => {
  let db: Db;
  let queue: MemoryJobQueue<Jobs>;
  const config = loadConfig({ ARKIVA_DATA_DIR: '/tmp/arkiva-reconcile-test', SCHEDULES: 'false' });

  beforeEach(async () => {
    db = await openDb({ kind: 'pglite', dir: 'memory://' }, silentLogger());
    queue = new MemoryJobQueue(JOBS, silentLogger());
  });
  afterEach(async () => {
    await queue.close({ timeoutMs: 100 });
    await db.close();
  });

  async function book(status: 'received' | 'processing', pages: number) {
    const { book } = await createBook(db, {
      registerType: 'birth', municipality: 'Pejë', yearFrom: 1960, yearTo: 1960, languages: 'sqi',
      sourceFormat: 'tiff', sourceSha256: randomUUID().replace(/-/g, '').padEnd(64, '0'), sourceSize: 1,
    });
    const rows = [];
    for (let s = 1; s <= pages; s++) rows.push(await upsertPage(db, book.id, s));
    if (status === 'processing') await setBookPageCount(db, book.id, pages);
    return { id: book.id, pages: rows };
  }

  it('does not read the queue when no book is unfinished', async () => {
    const spy = vi.spyOn(queue, 'liveJobs');
    expect(await findOrphans(db, queue)).toEqual([]);
    expect(spy).not.toHaveBeenCalled();
  });

  it('finds pending pages without a live job, skips covered and ended ones, and asks for a split of a received book', async () => {
    const b = await book('processing', 4);
    const received = await book('received', 0);
    await markPageDone(db, b.pages[3]!.id, 1);
    // page 1 is still in the queue (its index stage waiting)
    await queue.add('page.index', { bookId: b.id, pageId: b.pages[0]!.id, revision: 1 });
    const work = await findOrphans(db, queue);
    expect(work).toContainEqual({ kind: 'split', bookId: received.id });
    expect(work).toContainEqual({ kind: 'pages', bookId: b.id, pages: [1, 2].map((i) => ({ id: b.pages[i]!.id, revision: 1 })) });
    expect(work).toHaveLength(2);
  });

  it('a book whose pages all ended needs only its completion, unless one is live', async () => {
    const b = await book('processing', 2);
    for (const p of b.pages) await markPageDone(db, p.id, 1);
    expect(await findOrphans(db, queue)).toEqual([{ kind: 'pages', bookId: b.id, pages: [] }]);
    await queue.add('book.complete', { bookId: b.id });
    expect(await findOrphans(db, queue)).toEqual([]);
  });

  it('a live split covers its book whatever the status says', async () => {
    const b = await book('processing', 2);
    await queue.add('book.split', { bookId: b.id });
    expect(await findOrphans(db, queue)).toEqual([]);
  });

  it('queues orphaned pages again only after the grace period, once, as a flow ending in book completion', async () => {
    const b = await book('processing', 3);
    let now = 1_000_000;
    const r = new Reconciler({ db, queue, log: silentLogger(), config }, 10_000, () => now);
    expect(await r.tick()).toEqual({ ran: true, orphans: 3, requeuedBooks: 0, requeuedPages: 0 });
    now += 5_000;
    expect((await r.tick()).requeuedPages).toBe(0);
    now += 5_000;
    expect(await r.tick()).toEqual({ ran: true, orphans: 3, requeuedBooks: 1, requeuedPages: 3 });
    const live = await queue.liveJobs();
    // three stages per page plus the book's completion
    expect(live).toHaveLength(3 * 3 + 1);
    expect(live.filter((j) => j.name === 'page.master').map((j) => (j.data as { pageId: string }).pageId).sort()).toEqual(b.pages.map((p) => p.id).sort());
    now += 60_000;
    expect(await r.tick()).toEqual({ ran: true, orphans: 0, requeuedBooks: 0, requeuedPages: 0 });
  });

  it('forgets an orphan that was picked up, so its grace starts again if it is lost later', async () => {
    const b = await book('processing', 1);
    let now = 0;
    const r = new Reconciler({ db, queue, log: silentLogger(), config }, 10_000, () => now);
    await r.tick();
    const id = await queue.add('page.master', { bookId: b.id, pageId: b.pages[0]!.id, revision: 1 });
    now += 20_000;
    expect((await r.tick()).orphans).toBe(0);
    await queue.obliterate();
    expect(id).toBeTruthy();
    now += 1_000;
    expect(await r.tick()).toMatchObject({ orphans: 1, requeuedPages: 0 });
  });

  it('re-splits a received book with no live split after the grace period', async () => {
    const b = await book('received', 0);
    let now = 0;
    const r = new Reconciler({ db, queue, log: silentLogger(), config }, 1_000, () => now);
    await r.tick();
    now += 1_000;
    expect(await r.tick()).toMatchObject({ requeuedBooks: 1, requeuedPages: 0 });
    expect((await queue.liveJobs(['book.split'])).map((j) => j.data)).toEqual([{ bookId: b.id }]);
  });
});
