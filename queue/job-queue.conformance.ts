import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { PermanentError } from '../common/errors.ts';
import { silentLogger } from '../common/logger.ts';
import type { FlowJob, JobHandlers, JobQueue, JobQueueOptions, JobSchemas, WorkerHandle, WorkOptions } from './job-queue.ts';

/** What the conformance suite needs from one adapter. */
export interface JobQueueTestTarget {
  /** Opens a new, empty queue over `schemas`, isolated from every other test (own prefix). */
  open<S extends JobSchemas>(schemas: S, opts: JobQueueOptions<S>): Promise<JobQueue<S>>;
  /** Runs after each test, once its queues are obliterated and closed (e.g. sweeps Redis keys). */
  cleanup?(): Promise<void>;
}

/** A promise with its resolver, to hold a handler until the test lets it go. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve: (v: T) => void = () => undefined;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** Polls `cond` until it holds; fails the test with `what` after `timeoutMs`. */
export async function waitFor(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

const DRAIN = { timeoutMs: 10_000 };

/**
 * Defines the same tests for any `JobQueue` adapter: what the pipeline relies on, whichever
 * adapter it gets. `target` is called when the tests run, so a skipped suite never opens anything.
 */
export function describeJobQueueConformance(label: string, target: () => JobQueueTestTarget, opts: { skip?: boolean } = {}): void {
  describe.skipIf(opts.skip ?? false)(`JobQueue conformance: ${label}`, () => {
    const queues: JobQueue<JobSchemas>[] = [];
    const handles: WorkerHandle[] = [];
    /** Queues a test closed itself: only the target's cleanup can sweep them. */
    const closedByTest = new Set<JobQueue<JobSchemas>>();

    async function open<S extends JobSchemas>(schemas: S, queueOpts: JobQueueOptions<S> = {}): Promise<JobQueue<S>> {
      // small backoff by default: the suite must stay fast
      const q = await target().open(schemas, { backoffMs: 20, ...queueOpts });
      queues.push(q as unknown as JobQueue<JobSchemas>);
      return q;
    }

    async function work<S extends JobSchemas>(
      q: JobQueue<S>,
      handlers: JobHandlers<S>,
      concurrency: WorkOptions<S>['concurrency'] = {},
    ): Promise<WorkerHandle> {
      const h = await q.work(handlers, { concurrency, log: silentLogger() });
      handles.push(h);
      return h;
    }

    afterEach(async () => {
      for (const h of handles.splice(0)) await h.close({ timeoutMs: 500 });
      for (const q of queues.splice(0)) {
        if (closedByTest.delete(q)) continue;
        await q.obliterate();
        await q.close({ timeoutMs: 500 });
      }
      await target().cleanup?.();
    });

    it('runs the handler with the validated, parsed data', async () => {
      const q = await open({ 'echo.run': z.object({ n: z.number().int(), tag: z.string().default('none') }) });
      const seen: { data: unknown; jobId: string; attempt: number }[] = [];
      await work(q, {
        'echo.run': async (data, ctx) => {
          seen.push({ data, jobId: ctx.jobId, attempt: ctx.attempt });
          return 'done';
        },
      });
      // unknown keys are dropped at enqueue time, defaults applied once
      const id = await q.add('echo.run', { n: 7, extra: 'dropped' } as { n: number });
      await q.drained(DRAIN);
      expect(seen).toEqual([{ data: { n: 7, tag: 'none' }, jobId: id, attempt: 1 }]);
      expect((await q.counts())['echo.run']).toEqual({ waiting: 0, active: 0, delayed: 0, waitingChildren: 0, completed: 1, failed: 0 });
    });

    it('lists the jobs not yet ended (waiting, delayed, waiting for children) and forgets them once they end', async () => {
      const q = await open({ 'live.a': z.object({ id: z.string() }), 'live.b': z.object({ id: z.string() }) });
      await q.add('live.a', { id: 'now' });
      await q.add('live.a', { id: 'later' }, { delayMs: 60_000 });
      await q.addFlow({ name: 'live.b', data: { id: 'parent' }, children: [{ name: 'live.a', data: { id: 'child' } }] });
      const live = await q.liveJobs();
      expect(live.map((j) => `${j.name}:${(j.data as { id: string }).id}`).sort()).toEqual(['live.a:child', 'live.a:later', 'live.a:now', 'live.b:parent']);
      expect((await q.liveJobs(['live.b'])).map((j) => j.data)).toEqual([{ id: 'parent' }]);
      await work(q, { 'live.a': async () => 'done', 'live.b': async () => 'done' });
      await waitFor(async () => (await q.liveJobs()).length === 1, 'only the delayed job to stay live', 10_000);
      expect((await q.liveJobs()).map((j) => j.data)).toEqual([{ id: 'later' }]);
    });

    it('refuses invalid data, unknown jobs and unusable job ids at add, enqueuing nothing', async () => {
      const schemas = { 'strict.job': z.object({ n: z.number().int() }), 'strict.parent': z.object({}) };
      const q = await open(schemas);
      await expect(q.add('strict.job', { n: 'x' } as unknown as { n: number })).rejects.toMatchObject({
        code: 'ERR_VALIDATION',
        message: expect.stringMatching(/strict\.job.*n:/),
      });
      await expect(q.add('nope' as 'strict.job', { n: 1 })).rejects.toMatchObject({ code: 'ERR_VALIDATION' });
      await expect(q.add('strict.job', { n: 1 }, { jobId: '42' })).rejects.toMatchObject({ code: 'ERR_VALIDATION' });
      await expect(q.add('strict.job', { n: 1 }, { jobId: 'a:b' })).rejects.toMatchObject({ code: 'ERR_VALIDATION' });
      await expect(q.add('strict.job', { n: 1 }, { attempts: 0 })).rejects.toMatchObject({ code: 'ERR_VALIDATION' });
      // one bad child refuses the whole flow
      const flow: FlowJob<typeof schemas> = {
        name: 'strict.parent',
        data: {},
        children: [
          { name: 'strict.job', data: { n: 1 } },
          { name: 'strict.job', data: { n: 1.5 } },
        ],
      };
      await expect(q.addFlow(flow)).rejects.toMatchObject({ code: 'ERR_VALIDATION', message: expect.stringContaining('strict.job') });
      const counts = await q.counts();
      for (const c of Object.values(counts)) expect(c.waiting + c.delayed + c.waitingChildren).toBe(0);
    });

    it('fails for good, without calling the handler, a job whose data no longer validates when dequeued', async () => {
      const poisoned = new Set<number>();
      const q = await open({ 'check.job': z.object({ n: z.number() }).refine((v) => !poisoned.has(v.n), 'poisoned value') });
      const id = await q.add('check.job', { n: 13 }, { attempts: 3 });
      // e.g. a catalogue change between enqueue and dequeue
      poisoned.add(13);
      let calls = 0;
      await work(q, {
        'check.job': async () => {
          calls++;
          return 'done';
        },
      });
      await q.drained(DRAIN);
      expect(calls).toBe(0);
      const failed = await q.failed('check.job');
      expect(failed).toHaveLength(1);
      expect(failed[0]).toMatchObject({ jobId: id, name: 'check.job', attempts: 1, data: { n: 13 } });
      expect(failed[0]!.reason).toMatch(/invalid data for job check\.job.*poisoned value/);
    });

    it('retries with exponential backoff and succeeds on attempt N', async () => {
      const q = await open({ 'flaky.job': z.object({ key: z.string() }) });
      const tries: { attempt: number; at: number }[] = [];
      await work(q, {
        'flaky.job': async (_data, ctx) => {
          tries.push({ attempt: ctx.attempt, at: Date.now() });
          if (ctx.attempt < 3) throw new Error(`transient failure ${ctx.attempt}`);
          return 'done';
        },
      });
      await q.add('flaky.job', { key: 'k' }, { attempts: 5, backoffMs: 100 });
      await q.drained(DRAIN);
      expect(tries.map((t) => t.attempt)).toEqual([1, 2, 3]);
      // waits of 100 then 200 ms (a few ms of timer slack allowed)
      expect(tries[1]!.at - tries[0]!.at).toBeGreaterThanOrEqual(95);
      expect(tries[2]!.at - tries[1]!.at).toBeGreaterThanOrEqual(195);
      expect(await q.failed('flaky.job')).toEqual([]);
      expect((await q.counts())['flaky.job']).toMatchObject({ completed: 1, failed: 0 });
    });

    it('fails a job at once on PermanentError and lists failures newest first', async () => {
      const q = await open({ 'perm.job': z.object({ key: z.string() }) });
      const calls: string[] = [];
      await work(q, {
        'perm.job': async (data) => {
          calls.push(data.key);
          await sleep(5);
          throw new PermanentError(`cannot process ${data.key}`);
        },
      });
      const a = await q.add('perm.job', { key: 'a' }, { attempts: 5 });
      const b = await q.add('perm.job', { key: 'b' }, { attempts: 5 });
      await q.drained(DRAIN);
      expect(calls).toEqual(['a', 'b']);
      const failed = await q.failed('perm.job');
      expect(failed).toEqual([
        { jobId: b, name: 'perm.job', data: { key: 'b' }, reason: 'cannot process b', attempts: 1 },
        { jobId: a, name: 'perm.job', data: { key: 'a' }, reason: 'cannot process a', attempts: 1 },
      ]);
      expect(await q.failed('perm.job', 1)).toEqual([failed[0]]);
    });

    it('fails a job for good once its attempts are used up', async () => {
      const q = await open({ 'doomed.job': z.object({ key: z.string() }) });
      const attempts: number[] = [];
      await work(q, {
        'doomed.job': async (_d, ctx) => {
          attempts.push(ctx.attempt);
          throw new Error('boom');
        },
      });
      const id = await q.add('doomed.job', { key: 'x' }, { attempts: 3, backoffMs: 10 });
      await q.drained(DRAIN);
      expect(attempts).toEqual([1, 2, 3]);
      expect(await q.failed('doomed.job')).toEqual([{ jobId: id, name: 'doomed.job', data: { key: 'x' }, reason: 'boom', attempts: 3 }]);
    });

    it('runs a flow parent once, after every child ended, even when a child failed for good', async () => {
      const schemas = {
        'fan.book': z.object({ book: z.string() }),
        'fan.page': z.object({ page: z.number() }),
        'fan.note': z.object({ text: z.string() }),
      };
      const q = await open(schemas);
      const ended = new Map<string, number>();
      const parentRuns: { at: number; endedBefore: string[] }[] = [];
      await work(
        q,
        {
          'fan.book': async () => {
            parentRuns.push({ at: Date.now(), endedBefore: [...ended.keys()].sort() });
            return 'done';
          },
          'fan.page': async ({ page }, ctx) => {
            await sleep(20 * page);
            if (page === 2) {
              ended.set('page-2', Date.now());
              throw new PermanentError('page 2 is unreadable');
            }
            if (page === 3 && ctx.attempt === 1) throw new Error('transient');
            ended.set(`page-${page}`, Date.now());
            return 'done';
          },
          'fan.note': async () => {
            await sleep(30);
            ended.set('note', Date.now());
            return 'done';
          },
        },
        { 'fan.page': 3 },
      );
      const parentId = await q.addFlow({
        name: 'fan.book',
        data: { book: 'b1' },
        opts: { jobId: 'book-b1' },
        children: [
          { name: 'fan.page', data: { page: 1 } },
          { name: 'fan.page', data: { page: 2 }, opts: { attempts: 3 } },
          { name: 'fan.page', data: { page: 3 }, opts: { attempts: 3 } },
          { name: 'fan.note', data: { text: 'cover' } },
        ],
      });
      expect(parentId).toBe('book-b1');
      await q.drained(DRAIN);
      await sleep(100);
      expect(parentRuns).toHaveLength(1);
      expect(parentRuns[0]!.endedBefore).toEqual(['note', 'page-1', 'page-2', 'page-3']);
      expect(parentRuns[0]!.at).toBeGreaterThanOrEqual(Math.max(...ended.values()));
      const failed = await q.failed('fan.page');
      expect(failed.map((f) => [f.data, f.reason, f.attempts])).toEqual([[{ page: 2 }, 'page 2 is unreadable', 1]]);
      expect((await q.counts())['fan.book']).toMatchObject({ completed: 1, waitingChildren: 0 });
    });

    it('tells a flow parent which of its children failed for good, and why', async () => {
      const schemas = { 'why.index': z.object({ page: z.number() }), 'why.ocr': z.object({ page: z.number() }) };
      const q = await open(schemas);
      const seen = new Map<number, unknown>();
      await work(q, {
        'why.index': async ({ page }, ctx) => {
          seen.set(page, await ctx.failedChildren());
          return 'done';
        },
        'why.ocr': async ({ page }, ctx) => {
          if (page === 2) throw new PermanentError('OCR did not finish within 26890 ms');
          if (page === 3) throw new Error(`busy, attempt ${ctx.attempt}`);
          return 'done';
        },
      });
      for (const page of [1, 2, 3]) {
        await q.addFlow({ name: 'why.index', data: { page }, children: [{ name: 'why.ocr', data: { page }, opts: { jobId: `ocr-${page}`, attempts: 2 } }] });
      }
      await q.drained(DRAIN);
      expect(seen.get(1)).toEqual([]);
      expect(seen.get(2)).toEqual([{ name: 'why.ocr', jobId: 'ocr-2', reason: 'OCR did not finish within 26890 ms' }]);
      // the reason of the try that failed it for good
      expect(seen.get(3)).toEqual([{ name: 'why.ocr', jobId: 'ocr-3', reason: 'busy, attempt 2' }]);
    });

    it('runs nested flows stage by stage, a failed stage not blocking the next (the page pipeline)', async () => {
      const schemas = {
        'chain.master': z.object({ page: z.number() }),
        'chain.ocr': z.object({ page: z.number() }),
        'chain.index': z.object({ page: z.number() }),
        'chain.book': z.object({}),
      };
      const q = await open(schemas);
      const order: string[] = [];
      const stage =
        (name: string) =>
        async ({ page }: { page: number }): Promise<'done'> => {
          order.push(`${name}-${page}`);
          if (name === 'master' && page === 1) throw new PermanentError('no master for page 1');
          return 'done';
        };
      await work(q, {
        'chain.master': stage('master'),
        'chain.ocr': stage('ocr'),
        'chain.index': stage('index'),
        'chain.book': async () => {
          order.push('book');
          return 'done';
        },
      });
      const chain = (page: number): FlowJob<typeof schemas> => ({
        name: 'chain.index',
        data: { page },
        children: [{ name: 'chain.ocr', data: { page }, children: [{ name: 'chain.master', data: { page } }] }],
      });
      await q.addFlow({ name: 'chain.book', data: {}, children: [chain(1), chain(2)] });
      await q.drained(DRAIN);
      for (const page of [1, 2]) {
        expect(order.indexOf(`master-${page}`)).toBeLessThan(order.indexOf(`ocr-${page}`));
        expect(order.indexOf(`ocr-${page}`)).toBeLessThan(order.indexOf(`index-${page}`));
      }
      expect(order.filter((o) => o === 'book')).toHaveLength(1);
      expect(order.at(-1)).toBe('book');
      expect(order).toHaveLength(7);
    });

    it('keeps running handlers per job name at or below that name’s concurrency', async () => {
      const q = await open({ 'conc.wide': z.object({ i: z.number() }), 'conc.narrow': z.object({ i: z.number() }) });
      const now = { 'conc.wide': 0, 'conc.narrow': 0 };
      const max = { 'conc.wide': 0, 'conc.narrow': 0 };
      const track = (name: keyof typeof now) => async (): Promise<'done'> => {
        now[name]++;
        max[name] = Math.max(max[name], now[name]);
        await sleep(60);
        now[name]--;
        return 'done';
      };
      for (let i = 0; i < 9; i++) await q.add('conc.wide', { i });
      for (let i = 0; i < 3; i++) await q.add('conc.narrow', { i });
      await work(q, { 'conc.wide': track('conc.wide'), 'conc.narrow': track('conc.narrow') }, { 'conc.wide': 3 });
      await q.drained(DRAIN);
      expect(max).toEqual({ 'conc.wide': 3, 'conc.narrow': 1 });
      expect((await q.counts())['conc.wide']!.completed).toBe(9);
    });

    it('close() aborts the signal, waits for running jobs, then takes no more', async () => {
      const q = await open({ 'slow.job': z.object({ i: z.number() }) });
      const started = deferred();
      const result: { finished: boolean; abortedSeen: boolean } = { finished: false, abortedSeen: false };
      const handle = await work(q, {
        'slow.job': async (_d, ctx) => {
          started.resolve();
          await sleep(300);
          result.abortedSeen = ctx.signal.aborted;
          result.finished = true;
          return 'done';
        },
      });
      await q.add('slow.job', { i: 1 });
      await started.promise;
      await handle.close({ timeoutMs: 5000 });
      expect(result).toEqual({ finished: true, abortedSeen: true });
      expect((await q.counts())['slow.job']).toMatchObject({ completed: 1, active: 0 });
      await q.add('slow.job', { i: 2 });
      await sleep(150);
      expect((await q.counts())['slow.job']).toMatchObject({ waiting: 1, completed: 1 });
    });

    it('closing the queue closes its open workers first, waiting for their jobs', async () => {
      const q = await open({ 'bye.job': z.object({}) });
      const started = deferred();
      const result = { finished: false, abortedSeen: false };
      await work(q, {
        'bye.job': async (_d, ctx) => {
          started.resolve();
          await sleep(200);
          result.abortedSeen = ctx.signal.aborted;
          result.finished = true;
          return 'done';
        },
      });
      await q.add('bye.job', {});
      await started.promise;
      closedByTest.add(q as unknown as JobQueue<JobSchemas>);
      await q.close({ timeoutMs: 5000 });
      expect(result).toEqual({ finished: true, abortedSeen: true });
      await expect(q.add('bye.job', {})).rejects.toMatchObject({ code: 'ERR_UNAVAILABLE' });
    });

    it('hands jobs back at shutdown without using an attempt: aborted ones and those past the deadline', async () => {
      const q = await open({ 'stop.job': z.object({ mode: z.enum(['polite', 'stubborn']) }) });
      const running = { polite: deferred(), stubborn: deferred() };
      const gate = deferred();
      let lateOutcomes = 0;
      const first = await work(
        q,
        {
          'stop.job': async ({ mode }, ctx) => {
            running[mode].resolve();
            if (mode === 'polite') {
              await sleep(10_000, undefined, { signal: ctx.signal });
            } else {
              // ignores the signal: still running at the deadline
              await gate.promise;
              lateOutcomes++;
            }
            return 'done';
          },
        },
        { 'stop.job': 2 },
      );
      // attempts: 1, so a shutdown that used an attempt would fail the job for good
      await q.add('stop.job', { mode: 'polite' }, { attempts: 1 });
      await q.add('stop.job', { mode: 'stubborn' }, { attempts: 1 });
      await Promise.all([running.polite.promise, running.stubborn.promise]);
      const t0 = Date.now();
      await first.close({ timeoutMs: 300 });
      expect(Date.now() - t0).toBeLessThan(3000);
      expect((await q.counts())['stop.job']).toMatchObject({ waiting: 2, active: 0, failed: 0, completed: 0 });

      const seen: { mode: string; attempt: number }[] = [];
      await work(
        q,
        {
          'stop.job': async ({ mode }, ctx) => {
            seen.push({ mode, attempt: ctx.attempt });
            return 'done';
          },
        },
        { 'stop.job': 2 },
      );
      await q.drained(DRAIN);
      expect(seen.sort((a, b) => a.mode.localeCompare(b.mode))).toEqual([
        { mode: 'polite', attempt: 1 },
        { mode: 'stubborn', attempt: 1 },
      ]);
      // the abandoned handler finishing late records nothing
      gate.resolve();
      await waitFor(() => lateOutcomes === 1, 'the abandoned handler to finish');
      await sleep(50);
      expect((await q.counts())['stop.job']).toMatchObject({ completed: 2, failed: 0 });
    });

    it('processes jobs added before any worker started', async () => {
      const q = await open({ 'early.job': z.object({ i: z.number() }) });
      for (let i = 0; i < 3; i++) await q.add('early.job', { i });
      await sleep(50);
      expect((await q.counts())['early.job']).toMatchObject({ waiting: 3 });
      const seen: number[] = [];
      await work(q, {
        'early.job': async ({ i }) => {
          seen.push(i);
          return 'done';
        },
      });
      await q.drained(DRAIN);
      expect(seen).toEqual([0, 1, 2]);
    });

    it('waits delayMs before the first try', async () => {
      const q = await open({ 'later.job': z.object({}) });
      let ranAt = 0;
      await work(q, {
        'later.job': async () => {
          ranAt = Date.now();
          return 'done';
        },
      });
      const t0 = Date.now();
      await q.add('later.job', {}, { delayMs: 200 });
      expect((await q.counts())['later.job']).toMatchObject({ delayed: 1 });
      await q.drained(DRAIN);
      expect(ranAt - t0).toBeGreaterThanOrEqual(195);
    });

    it('deduplicates a jobId while the job is pending, for add and for whole flows', async () => {
      const schemas = { 'dup.job': z.object({ n: z.number() }), 'dup.parent': z.object({}) };
      const q = await open(schemas);
      const first = await q.add('dup.job', { n: 1 }, { jobId: 'dup-1' });
      const second = await q.add('dup.job', { n: 2 }, { jobId: 'dup-1' });
      expect([first, second]).toEqual(['dup-1', 'dup-1']);
      // a retried split adds the same flow again: nothing may run twice
      const flow: FlowJob<typeof schemas> = {
        name: 'dup.parent',
        data: {},
        opts: { jobId: 'parent-1' },
        children: [
          { name: 'dup.job', data: { n: 10 }, opts: { jobId: 'child-10' } },
          { name: 'dup.job', data: { n: 11 }, opts: { jobId: 'child-11' } },
        ],
      };
      expect(await q.addFlow(flow)).toBe('parent-1');
      expect(await q.addFlow(flow)).toBe('parent-1');
      expect((await q.counts())['dup.job']).toMatchObject({ waiting: 3 });
      const seen: string[] = [];
      await work(q, {
        'dup.job': async ({ n }) => {
          seen.push(`job-${n}`);
          return 'done';
        },
        'dup.parent': async () => {
          seen.push('parent');
          return 'done';
        },
      });
      await q.drained(DRAIN);
      expect(seen.sort()).toEqual(['job-1', 'job-10', 'job-11', 'parent']);
    });

    it('adds nothing for a flow whose root is known, and refuses a new flow naming a job that failed for good', async () => {
      const schemas = { 'ref.job': z.object({ n: z.number() }), 'ref.parent': z.object({ run: z.string() }) };
      const q = await open(schemas);
      await work(q, {
        'ref.job': async ({ n }) => {
          if (n === 1) throw new PermanentError('bad page');
          return 'done';
        },
        'ref.parent': async () => 'done',
      });
      const flow = (run: string): FlowJob<typeof schemas> => ({
        name: 'ref.parent',
        data: { run },
        opts: { jobId: `parent-${run}` },
        children: [{ name: 'ref.job', data: { n: 1 }, opts: { jobId: 'page-1' } }],
      });
      expect(await q.addFlow(flow('r1'))).toBe('parent-r1');
      await q.drained(DRAIN);
      // a retried job re-adding its own flow: deduplicated as a whole, its failed child untouched
      expect(await q.addFlow(flow('r1'))).toBe('parent-r1');
      await expect(q.addFlow(flow('r2'))).rejects.toMatchObject({ code: 'ERR_CONFLICT', message: expect.stringContaining('page-1') });
      await q.drained(DRAIN);
      expect((await q.counts())['ref.parent']).toMatchObject({ completed: 1, waiting: 0, waitingChildren: 0 });
      expect(await q.failed('ref.job')).toHaveLength(1);
    });

    it('drained() rejects after its timeout while work remains', async () => {
      const q = await open({ 'stuck.job': z.object({}) });
      await q.add('stuck.job', {});
      await expect(q.drained({ timeoutMs: 150 })).rejects.toMatchObject({ code: 'ERR_UNAVAILABLE' });
    });
  });
}
