import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { silentLogger, type Logger } from '../common/logger.ts';
import { requireService, testServices } from '../test-support/services.ts';
import { BullMqJobQueue, type BullMqJobQueueOptions } from './bullmq.job-queue.ts';
import { deferred, describeJobQueueConformance, waitFor, type JobQueueTestTarget } from './job-queue.conformance.ts';
import type { JobSchemas, WorkerHandle } from './job-queue.ts';
import { MemoryJobQueue } from './memory.job-queue.ts';
import { openJobQueue } from './index.ts';

const hasRedis = requireService('redisUrl');
const redisUrl = testServices().redisUrl ?? '';

describeJobQueueConformance('memory', () => ({
  open: async (schemas, opts) => new MemoryJobQueue(schemas, silentLogger(), opts),
}));

/** Every prefix a test used, so nothing is left in the shared Redis. */
const usedPrefixes: string[] = [];
let sweeper: Redis | undefined;

async function sweep(prefixes: string[]): Promise<number> {
  sweeper ??= new Redis(redisUrl, { maxRetriesPerRequest: null });
  let removed = 0;
  for (const prefix of prefixes) {
    let cursor = '0';
    do {
      const [next, keys] = await sweeper.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      if (keys.length > 0) removed += await sweeper.unlink(...keys);
      cursor = next;
    } while (cursor !== '0');
  }
  return removed;
}

afterAll(async () => {
  await sweeper?.quit();
});

function openBullMq<S extends JobSchemas>(schemas: S, opts: BullMqJobQueueOptions<S> = {}, prefix?: string, log?: Logger) {
  const p = prefix ?? `test-${randomUUID()}`;
  if (!usedPrefixes.includes(p)) usedPrefixes.push(p);
  return BullMqJobQueue.open({ kind: 'bullmq', url: redisUrl, prefix: p }, schemas, log ?? silentLogger(), { pollMs: 25, ...opts });
}

function bullTarget(): JobQueueTestTarget {
  return {
    open: (schemas, opts) => openBullMq(schemas, opts),
    async cleanup() {
      // obliterate() ran already: whatever is left here would be a leak in the adapter's cleanup
      await sweep(usedPrefixes.splice(0));
    },
  };
}

describeJobQueueConformance('bullmq', bullTarget, { skip: !hasRedis });

describe('openJobQueue', () => {
  it('opens the in-process queue when no Redis is configured', async () => {
    const q = await openJobQueue({ kind: 'memory' }, { 'm.job': z.object({}) }, silentLogger());
    expect(q.kind).toBe('memory');
    await q.close();
  });

  it('fails with ERR_UNAVAILABLE, within its timeout, when Redis cannot be reached', async () => {
    const t0 = Date.now();
    await expect(
      BullMqJobQueue.open({ kind: 'bullmq', url: 'redis://127.0.0.1:1', prefix: 'unreachable' }, { 'u.job': z.object({}) }, silentLogger(), {
        connectTimeoutMs: 300,
      }),
    ).rejects.toMatchObject({ code: 'ERR_UNAVAILABLE' });
    expect(Date.now() - t0).toBeLessThan(2000);
  });

  it.skipIf(!hasRedis)('opens BullMQ when Redis is configured', async () => {
    const prefix = `test-${randomUUID()}`;
    usedPrefixes.push(prefix);
    const q = await openJobQueue({ kind: 'bullmq', url: redisUrl, prefix }, { 'b.job': z.object({}) }, silentLogger());
    expect(q.kind).toBe('bullmq');
    await q.close();
    await sweep(usedPrefixes.splice(0));
  });
});

/**
 * A worker process that takes the next job of `name` and dies with it: a bare BullMQ worker cut
 * off mid-job (no completion, no lock renewal, connections dropped). It runs no stalled check of
 * its own, as a dead process would not.
 */
async function killedWhileRunning(name: string, prefix: string, timings: { lockDurationMs: number; stalledIntervalMs: number }): Promise<void> {
  const taken = deferred();
  const killed = new Worker(
    name,
    async () => {
      taken.resolve();
      await new Promise(() => undefined);
    },
    { connection: { url: redisUrl, maxRetriesPerRequest: null }, prefix, lockDuration: timings.lockDurationMs, stalledInterval: timings.stalledIntervalMs, skipStalledCheck: true },
  );
  killed.on('error', () => undefined);
  await taken.promise;
  await killed.close(true);
}

describe.skipIf(!hasRedis)('BullMqJobQueue on Redis', () => {
  const cleanups: (() => Promise<void>)[] = [];

  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
    await sweep(usedPrefixes.splice(0));
  });

  it('leaves nothing in Redis after obliterate()', async () => {
    const prefix = `test-${randomUUID()}`;
    const schemas = { 'clean.parent': z.object({}), 'clean.child': z.object({}) };
    const q = await openBullMq(schemas, {}, prefix);
    // a parent still waiting for its children is what BullMQ's own obliterate misses
    await q.addFlow({ name: 'clean.parent', data: {}, children: [{ name: 'clean.child', data: {} }] });
    await q.add('clean.child', {}, { jobId: 'c-x' });
    await q.obliterate();
    await q.close();
    expect(await sweep([prefix])).toBe(0);
  });

  it('does not warn about the eviction policy of a noeviction Redis, and logs no URL', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        lines.push(chunk.toString());
        cb();
      },
    });
    const q = await openBullMq({ 'log.job': z.object({}) }, {}, undefined, pino({ level: 'debug' }, sink));
    cleanups.push(() => q.close());
    sweeper ??= new Redis(redisUrl, { maxRetriesPerRequest: null });
    const policy = ((await sweeper.config('GET', 'maxmemory-policy')) as string[])[1];
    if (policy === 'noeviction') expect(lines.join('')).not.toMatch(/maxmemory-policy/);
    expect(lines.join('')).not.toContain(redisUrl);
  });

  it('hands the job of a worker that died to another worker once its claim expires', async () => {
    const prefix = `test-${randomUUID()}`;
    const schemas = { 'crash.job': z.object({ n: z.number() }) };
    const fast = { lockDurationMs: 1000, stalledIntervalMs: 250 };
    const producer = await openBullMq(schemas, fast, prefix);
    cleanups.push(async () => {
      await producer.obliterate();
      await producer.close();
    });

    // The dying process: a bare BullMQ worker (as another process would run) takes the job and is
    // then cut off without finishing it: no completion, no lock renewal, connections dropped.
    const taken = deferred();
    const doomed = new Worker(
      'crash.job',
      async () => {
        taken.resolve();
        await new Promise(() => undefined);
      },
      // same timings as the survivor: the stalled check is throttled per queue by whoever ran it last
      { connection: { url: redisUrl, maxRetriesPerRequest: null }, prefix, lockDuration: fast.lockDurationMs, stalledInterval: fast.stalledIntervalMs },
    );
    doomed.on('error', () => undefined);
    const id = await producer.add('crash.job', { n: 1 }, { attempts: 1 });
    await taken.promise;
    await doomed.close(true);
    expect((await producer.counts())['crash.job']).toMatchObject({ active: 1 });

    const survivor = await openBullMq(schemas, fast, prefix);
    const seen: { jobId: string; attempt: number; at: number }[] = [];
    const t0 = Date.now();
    const handle: WorkerHandle = await survivor.work({
      'crash.job': async (_d, ctx) => {
        seen.push({ jobId: ctx.jobId, attempt: ctx.attempt, at: Date.now() });
        return 'done';
      },
    }, { log: silentLogger() });
    cleanups.push(async () => {
      await handle.close({ timeoutMs: 500 });
      await survivor.close();
    });
    await waitFor(() => seen.length === 1, 'the survivor to take the job over', 5000);
    await producer.drained({ timeoutMs: 5000 });
    // a crash is not the job's fault: it still has its one attempt
    expect(seen).toEqual([{ jobId: id, attempt: 1, at: expect.any(Number) }]);
    expect(seen[0]!.at - t0).toBeLessThan(4000);
    expect((await producer.counts())['crash.job']).toMatchObject({ completed: 1, failed: 0, active: 0 });
  });

  it('runs to completion a job lost twice with its workers (one killed, the next cut off from its claim), using none of its attempts', async () => {
    const prefix = `test-${randomUUID()}`;
    const schemas = { 'lost.job': z.object({ n: z.number() }) };
    // the adapter's default maxStalledCount: what a deployment runs with
    const fast = { lockDurationMs: 1000, stalledIntervalMs: 250 };
    const producer = await openBullMq(schemas, fast, prefix);
    cleanups.push(async () => {
      await producer.obliterate();
      await producer.close();
    });
    // one attempt: had either loss counted as a try, the job would fail for good
    await producer.add('lost.job', { n: 1 }, { attempts: 1 });

    // First loss: the worker that took the job is killed.
    await killedWhileRunning('lost.job', prefix, fast);

    // Second loss: the replacement takes the job over and then loses its claim (its lock gone, as
    // when it could not renew it in time): it must stop, record nothing, and let the job run again.
    sweeper ??= new Redis(redisUrl, { maxRetriesPerRequest: null });
    const survivor = await openBullMq(schemas, fast, prefix);
    const runs: { attempt: number; outcome: string }[] = [];
    const handle = await survivor.work({
      'lost.job': async (_d, ctx) => {
        if (runs.length > 0) {
          runs.push({ attempt: ctx.attempt, outcome: 'done' });
          return 'done';
        }
        const aborted = new Promise<unknown>((resolve) => ctx.signal.addEventListener('abort', () => resolve(ctx.signal.reason), { once: true }));
        await sweeper!.del(`${prefix}:lost.job:${ctx.jobId}:lock`);
        const reason = await aborted;
        runs.push({ attempt: ctx.attempt, outcome: (reason as Error).message });
        throw reason;
      },
    }, { log: silentLogger() });
    cleanups.push(async () => {
      await handle.close({ timeoutMs: 500 });
      await survivor.close();
    });
    await producer.drained({ timeoutMs: 15_000 });
    expect(runs).toEqual([
      { attempt: 1, outcome: expect.stringMatching(/lost the claim/) },
      { attempt: 1, outcome: 'done' },
    ]);
    expect((await producer.counts())['lost.job']).toMatchObject({ completed: 1, failed: 0, active: 0 });
    expect(await producer.failed('lost.job')).toEqual([]);
  }, 30_000);

  it('tells a flow parent why a child failed for good after being lost with its workers too often', async () => {
    const prefix = `test-${randomUUID()}`;
    const schemas = { 'loss.parent': z.object({}), 'loss.child': z.object({}) };
    // no loss tolerated here, so one killed worker is "too often"
    const fast = { lockDurationMs: 1000, stalledIntervalMs: 250, maxStalledCount: 0 };
    const producer = await openBullMq(schemas, fast, prefix);
    cleanups.push(async () => {
      await producer.obliterate();
      await producer.close();
    });
    await producer.addFlow({ name: 'loss.parent', data: {}, opts: { jobId: 'parent-1' }, children: [{ name: 'loss.child', data: {}, opts: { jobId: 'child-1' } }] });
    await killedWhileRunning('loss.child', prefix, fast);

    const survivor = await openBullMq(schemas, fast, prefix);
    const parentSaw: unknown[] = [];
    const handle = await survivor.work({
      'loss.parent': async (_d, ctx) => {
        parentSaw.push(await ctx.failedChildren());
        return 'done';
      },
      'loss.child': async () => 'done',
    }, { log: silentLogger() });
    cleanups.push(async () => {
      await handle.close({ timeoutMs: 500 });
      await survivor.close();
    });
    await producer.drained({ timeoutMs: 15_000 });
    expect(parentSaw).toEqual([[{ name: 'loss.child', jobId: 'child-1', reason: expect.stringMatching(/^lost with its worker 1 time \(/) }]]);
    expect((await producer.failed('loss.child'))[0]?.reason).toMatch(/^lost with its worker 1 time \(/);
  }, 30_000);

  it('shares the work of one prefix between two processes without running any job twice', async () => {
    const prefix = `test-${randomUUID()}`;
    const schemas = { 'share.job': z.object({ i: z.number() }) };
    const ran = new Map<string, number[]>();
    const started: WorkerHandle[] = [];
    const instances = await Promise.all([openBullMq(schemas, {}, prefix), openBullMq(schemas, {}, prefix)]);
    cleanups.push(async () => {
      for (const h of started) await h.close({ timeoutMs: 500 });
      await instances[0]!.obliterate();
      for (const q of instances) await q.close();
    });
    for (const [k, q] of instances.entries()) {
      const who = `worker-${k}`;
      ran.set(who, []);
      started.push(
        await q.work(
          {
            'share.job': async ({ i }) => {
              ran.get(who)!.push(i);
              await sleep(40);
              return 'done';
            },
          },
          { concurrency: { 'share.job': 2 }, log: silentLogger() },
        ),
      );
    }
    for (let i = 0; i < 20; i++) await instances[0]!.add('share.job', { i });
    await instances[1]!.drained({ timeoutMs: 10_000 });
    const all = [...ran.values()].flat().sort((a, b) => a - b);
    expect(all).toEqual(Array.from({ length: 20 }, (_, i) => i));
    for (const list of ran.values()) expect(list.length).toBeGreaterThan(0);
  });

  it('waits out a service outage without using up attempts, but still fails a real error on its last attempt', async () => {
    const prefix = `test-${randomUUID()}`;
    const schemas = { 'outage.job': z.object({ kind: z.enum(['outage', 'broken']) }) };
    const q = await openBullMq(schemas, {}, prefix);
    const tries: { kind: string; attempt: number }[] = [];
    let outages = 2;
    const handle = await q.work(
      {
        'outage.job': async ({ kind }, ctx) => {
          tries.push({ kind, attempt: ctx.attempt });
          if (kind === 'broken') throw new Error('the image cannot be decoded');
          if (outages-- > 0) throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
          return 'done';
        },
      },
      { concurrency: { 'outage.job': 2 }, log: silentLogger() },
    );
    cleanups.push(async () => {
      await handle.close({ timeoutMs: 500 });
      await q.obliterate();
      await q.close();
    });
    // one attempt only: without the outage wait, the first refused connection would fail it for good
    await q.add('outage.job', { kind: 'outage' }, { attempts: 1 });
    await q.add('outage.job', { kind: 'broken' }, { attempts: 1 });
    await q.drained({ timeoutMs: 20_000 });
    expect(tries.filter((t) => t.kind === 'outage')).toEqual([1, 1, 1].map((attempt) => ({ kind: 'outage', attempt })));
    expect(tries.filter((t) => t.kind === 'broken')).toEqual([{ kind: 'broken', attempt: 1 }]);
    expect((await q.counts())['outage.job']).toMatchObject({ completed: 1, failed: 1 });
  }, 30_000);
});
