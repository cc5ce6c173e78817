import type { AppDeps } from '../app/deps.ts';
import { listPendingPagesOfBooks, listUnfinishedBooks, tryReconcilerLock } from '../archive/index.ts';
import type { Queryable } from '../db/index.ts';
import type { LiveJob } from '../queue/index.ts';
import { installSchedules } from '../pipeline/schedules.ts';
import { newRunId, PAGE_STAGES, queueBookSplit, queuePages, type JobName } from '../pipeline/index.ts';

type Deps = Pick<AppDeps, 'db' | 'queue' | 'log' | 'config'>;

/** Unfinished work that PostgreSQL knows of and no live job covers. */
export type OrphanWork =
  | { kind: 'split'; bookId: string }
  /** Pages to send through the stages again; empty when only the book's completion was lost. */
  | { kind: 'pages'; bookId: string; pages: { id: string; revision: number }[] };

/** What one reconciler pass saw and did. */
export interface ReconcileReport {
  /** False when another process held the reconciler lock (it did the pass). */
  ran: boolean;
  /** Units of orphaned work seen now (a book to split, a page, a book's completion). */
  orphans: number;
  /** Of those, the ones orphaned for longer than the grace period and queued again. */
  requeuedBooks: number;
  requeuedPages: number;
}

const WATCHED: JobName[] = ['book.split', ...PAGE_STAGES, 'book.complete'];

function bookIdOf(j: LiveJob): string | undefined {
  const id = (j.data as { bookId?: unknown } | null)?.bookId;
  return typeof id === 'string' ? id : undefined;
}

/**
 * Compares the unfinished books and pages in the database with the jobs the queue still holds.
 * A book with a live split job is covered whatever its status (the split adds the page flow
 * last); a pending page is covered by a live job of any stage of its revision; a book whose
 * pages have all ended needs a live completion job. Reads the queue only when there is work.
 */
export async function findOrphans(db: Queryable, queue: Deps['queue']): Promise<OrphanWork[]> {
  const books = await listUnfinishedBooks(db);
  if (books.length === 0) return [];
  const live = await queue.liveJobs(WATCHED);
  const splitting = new Set<string>();
  const completing = new Set<string>();
  const livePages = new Set<string>();
  const booksWithLivePages = new Set<string>();
  for (const j of live) {
    const bookId = bookIdOf(j);
    if (bookId === undefined) continue;
    if (j.name === 'book.split') splitting.add(bookId);
    else if (j.name === 'book.complete') completing.add(bookId);
    else {
      const { pageId, revision } = j.data as { pageId: string; revision: number };
      livePages.add(`${pageId}:${revision}`);
      booksWithLivePages.add(bookId);
    }
  }
  const processing = books.filter((b) => b.status === 'processing' && !splitting.has(b.id)).map((b) => b.id);
  const pending = new Map<string, { id: string; revision: number }[]>(processing.map((id) => [id, []]));
  if (processing.length > 0) {
    for (const p of await listPendingPagesOfBooks(db, processing)) pending.get(p.bookId)!.push({ id: p.id, revision: p.revision });
  }
  const out: OrphanWork[] = [];
  for (const b of books) {
    if (splitting.has(b.id)) continue;
    if (b.status !== 'processing') {
      out.push({ kind: 'split', bookId: b.id });
      continue;
    }
    const waiting = pending.get(b.id)!;
    const lost = waiting.filter((p) => !livePages.has(`${p.id}:${p.revision}`));
    if (lost.length > 0) out.push({ kind: 'pages', bookId: b.id, pages: lost });
    else if (waiting.length === 0 && !completing.has(b.id) && !booksWithLivePages.has(b.id)) out.push({ kind: 'pages', bookId: b.id, pages: [] });
  }
  return out;
}

function keysOf(w: OrphanWork): string[] {
  if (w.kind === 'split') return [`split:${w.bookId}`];
  if (w.pages.length === 0) return [`complete:${w.bookId}`];
  return w.pages.map((p) => `page:${p.id}:${p.revision}`);
}

/**
 * Brings back work the queue lost: a Redis restarted without persistence, a job that failed for
 * good while a service was down, a job lost by crashed workers. Every stage is idempotent (it
 * skips what is already archived), so queuing a page again is safe even if a copy of its job
 * survived somewhere; the grace period only avoids doing work twice in the instant between a
 * database write and the queue add that follows it (an ingest, a split). One process at a time
 * acts (a transaction-scoped advisory lock per schema), so N workers do not queue N copies.
 */
export class Reconciler {
  /** When each orphaned unit was first seen by this process (cleared when it is no longer orphaned). */
  private readonly firstSeen = new Map<string, number>();

  constructor(
    private readonly deps: Deps,
    private readonly graceMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** One pass: finds orphaned work and queues again what stayed orphaned past the grace period. */
  async tick(): Promise<ReconcileReport> {
    const report = await this.deps.db.transaction(async (tx) => {
      if (!(await tryReconcilerLock(tx))) {
        // another process reconciles; what this one saw before is stale by the time it gets the lock
        this.firstSeen.clear();
        return { ran: false, orphans: 0, requeuedBooks: 0, requeuedPages: 0 };
      }
      return this.pass(tx);
    });
    // A Redis that lost its data lost the periodic schedules too.
    if (report.ran && this.deps.config.schedules.enabled && (await this.deps.queue.schedules()).length === 0) {
      await installSchedules(this.deps);
    }
    return report;
  }

  private async pass(db: Queryable): Promise<ReconcileReport> {
    const work = await findOrphans(db, this.deps.queue);
    const now = this.now();
    const current = new Set<string>();
    let requeuedBooks = 0;
    let requeuedPages = 0;
    let orphans = 0;
    const run = newRunId('reconcile');
    for (const w of work) {
      const keys = keysOf(w);
      orphans += keys.length;
      for (const k of keys) {
        current.add(k);
        if (!this.firstSeen.has(k)) this.firstSeen.set(k, now);
      }
      const ripe = (k: string) => now - this.firstSeen.get(k)! >= this.graceMs;
      if (w.kind === 'split') {
        if (!ripe(keys[0]!)) continue;
        await queueBookSplit(this.deps.queue, w.bookId, run);
        requeuedBooks++;
      } else {
        const pages = w.pages.filter((p) => ripe(`page:${p.id}:${p.revision}`));
        if (w.pages.length > 0 && pages.length === 0) continue;
        if (w.pages.length === 0 && !ripe(keys[0]!)) continue;
        await queuePages(this.deps.queue, w.bookId, pages, run);
        requeuedBooks++;
        requeuedPages += pages.length;
      }
    }
    for (const k of [...this.firstSeen.keys()]) if (!current.has(k)) this.firstSeen.delete(k);
    if (requeuedBooks > 0) this.deps.log.warn({ books: requeuedBooks, pages: requeuedPages }, 'reconciler queued again work the job queue had lost');
    return { ran: true, orphans, requeuedBooks, requeuedPages };
  }
}

/** A reconciler running every `intervalMs` in this process until stopped. */
export interface ReconcilerHandle {
  /** Runs one pass now (also what the timer does). */
  tick(): Promise<ReconcileReport>;
  /** Stops the timer and waits for a pass in progress. */
  stop(): Promise<void>;
}

/**
 * Starts the periodic reconciler: a first pass soon after start (it only records what is orphaned),
 * then one every `intervalMs`; work orphaned for a whole interval is queued again. A failed pass
 * (a service down) is logged and the next one tries again.
 */
export function startReconciler(deps: Deps, opts: { intervalMs: number; graceMs?: number }): ReconcilerHandle {
  const reconciler = new Reconciler(deps, opts.graceMs ?? opts.intervalMs);
  let running: Promise<unknown> = Promise.resolve();
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const tick = async () => {
    const pass = reconciler.tick();
    running = pass.catch(() => undefined);
    return pass;
  };
  const loop = (delay: number) => {
    timer = setTimeout(() => {
      void tick()
        .catch((err: unknown) => deps.log.warn({ err }, 'reconciler pass failed; trying again at the next interval'))
        .finally(() => {
          if (!stopped) loop(opts.intervalMs);
        });
    }, delay);
    timer.unref();
  };
  loop(Math.min(1000, opts.intervalMs));
  return {
    tick,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      // a pass stuck on a service that is down must not hold up shutdown
      await Promise.race([running, new Promise((r) => setTimeout(r, 5000).unref())]);
    },
  };
}
