import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireService } from '../test-support/services.ts';
import { openRealDeps, realServicesEnv } from '../test-support/real-deps.ts';
import { MemoryJobQueue } from '../queue/memory.job-queue.ts';
import { createLogger } from '../common/index.ts';
import { JOBS, type Jobs } from '../pipeline/index.ts';
import { startWorkers } from '../workers/index.ts';
import type { JobHandlers } from '../queue/index.ts';
import type { AppDeps } from '../app/deps.ts';
import { appendAuditEvent, auditHead, latestAnchor } from '../audit/index.ts';
import { installSchedules, periodicSchedules } from './schedules.ts';

const enabled = requireService('databaseUrl') && requireService('redisUrl') && requireService('s3');

async function until(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe.skipIf(!enabled)('periodic jobs on BullMQ job schedulers', () => {
  let env: Awaited<ReturnType<typeof openRealDeps>>;
  let deps: AppDeps;
  beforeAll(async () => {
    env = await openRealDeps(realServicesEnv({ SCHEDULE_FIXITY_AUDIT_MINUTES: '30' }));
    deps = env.deps;
  });
  afterAll(async () => env?.cleanup());

  it('keeps one scheduler per id however many workers upsert it, with the configured intervals, and runs the job', async () => {
    await installSchedules(deps);
    await installSchedules(deps); // a second worker process starting
    const listed = await deps.queue.schedules();
    expect(listed.map((s) => [s.id, s.name, s.everyMs])).toEqual([
      ['audit-anchor', 'audit.anchor', 10 * 60_000],
      ['catalogue-write', 'catalogue.write', 60_000],
      ['disposal-due', 'disposal.due', 1440 * 60_000],
      ['events-deliver', 'events.deliver', 10_000],
      ['fixity-audit', 'fixity.audit', 30 * 60_000],
      ['retention-recompute', 'retention.recompute', 1440 * 60_000],
      ['retention-stale', 'retention.stale', 5 * 60_000],
    ]);
    // Not at once: the first run is one interval away.
    const fixity = listed.find((s) => s.id === 'fixity-audit')!;
    expect(fixity.next!.getTime()).toBeGreaterThan(Date.now() + 25 * 60_000);

    // A 1-second schedule of the due list runs through the workers and stores snapshots.
    await deps.queue.upsertSchedule('due-now', { name: 'disposal.due', data: {}, everyMs: 1000 });
    const workers = await startWorkers(deps);
    try {
      await until(async () => Number((await deps.db.query<{ n: string }>('SELECT count(*) AS n FROM disposal_due_lists')).rows[0]!.n) >= 2, 20_000);
    } finally {
      expect(await deps.queue.removeSchedule('due-now')).toBe(true);
      await workers.close({ timeoutMs: 10_000 });
    }
    expect((await deps.queue.schedules()).map((s) => s.id)).not.toContain('due-now');
    expect(await deps.queue.removeSchedule('due-now')).toBe(false);
  }, 60_000);
});

describe('periodic jobs on the in-process queue', () => {
  it('adds the job every interval, keeps one schedule per id, and stops when removed or closed', async () => {
    const queue = new MemoryJobQueue(JOBS, createLogger('silent'));
    const runs: string[] = [];
    const handlers = Object.fromEntries(Object.keys(JOBS).map((n) => [n, async () => { runs.push(n); return 'done' as const; }])) as unknown as JobHandlers<Jobs>;
    const worker = await queue.work(handlers, { log: createLogger('silent') });
    try {
      await queue.upsertSchedule('due', { name: 'disposal.due', data: {}, everyMs: 1000 });
      await queue.upsertSchedule('due', { name: 'disposal.due', data: {}, everyMs: 1000 });
      expect((await queue.schedules()).map((s) => [s.id, s.everyMs])).toEqual([['due', 1000]]);
      expect(runs).toEqual([]);
      await new Promise((r) => setTimeout(r, 2300));
      expect(runs).toEqual(['disposal.due', 'disposal.due']);
      expect(await queue.removeSchedule('due')).toBe(true);
      await new Promise((r) => setTimeout(r, 1200));
      expect(runs).toHaveLength(2);
      await expect(queue.upsertSchedule('bad id!', { name: 'disposal.due', data: {}, everyMs: 1000 })).rejects.toMatchObject({ code: 'ERR_VALIDATION' });
      await expect(queue.upsertSchedule('x', { name: 'disposal.execute', data: { batchId: 'nope' } as never, everyMs: 1000 })).rejects.toMatchObject({ code: 'ERR_VALIDATION' });
    } finally {
      await worker.close();
      await queue.close();
    }
  });

  it('takes every interval from the configuration', () => {
    const s = periodicSchedules({ schedules: { enabled: true, retentionRecomputeMs: 1, retentionStaleMs: 2, fixityAuditMs: 3, disposalDueMs: 4, auditAnchorMs: 5, eventsDeliverMs: 6, catalogueWriteMs: 7 } });
    expect(s.map((x) => [x.id, x.schedule.everyMs])).toEqual([
      ['retention-recompute', 1], ['retention-stale', 2], ['fixity-audit', 3], ['disposal-due', 4], ['audit-anchor', 5], ['events-deliver', 6], ['catalogue-write', 7],
    ]);
  });
});

describe.skipIf(!enabled)('the audit anchor as a periodic job', () => {
  it('is installed with the other schedules and written by the workers of an embedded `arkiva serve` (in-process queue)', async () => {
    // What `arkiva serve` does when the queue is in-process: start the workers, install the schedules.
    const env = await openRealDeps(realServicesEnv({ REDIS_URL: '' }));
    const { deps } = env;
    try {
      expect(deps.queue.kind).toBe('memory');
      const workers = await startWorkers(deps);
      try {
        await installSchedules(deps);
        expect((await deps.queue.schedules()).find((s) => s.id === 'audit-anchor')).toMatchObject({ name: 'audit.anchor', everyMs: 10 * 60_000 });
        await appendAuditEvent(deps.db, { actor: 'ana', action: 'book.read', targetType: 'book', targetId: 'b1', outcome: 'ok' });
        // The same job on a 1-second timer, so the test need not wait ten minutes.
        await deps.queue.upsertSchedule('anchor-now', { name: 'audit.anchor', data: {}, everyMs: 1000 });
        await until(async () => (await latestAnchor(deps)) !== undefined, 20_000);
        const head = await auditHead(deps.db);
        expect(await latestAnchor(deps)).toMatchObject({ seq: head!.seq, hash: head!.hash });
      } finally {
        await workers.close({ timeoutMs: 10_000 });
      }
    } finally {
      await env.cleanup();
    }
  }, 60_000);
});
