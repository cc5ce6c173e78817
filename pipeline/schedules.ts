import type { Logger } from '../common/index.ts';
import type { Config } from '../config/env.ts';
import type { JobQueue, JobSchedule } from '../queue/index.ts';
import type { Jobs } from './catalogue.ts';

/**
 * The periodic jobs and their intervals, all taken from the configuration (config/env.ts). The
 * events sweep picks up outbox events written in the transaction of each change, so its interval
 * (SCHEDULE_EVENTS_DELIVER_SECONDS) is about how long a receiver waits to hear of one; one schedule
 * however many workers run.
 */
export function periodicSchedules(config: Pick<Config, 'schedules'>): { id: string; schedule: JobSchedule<Jobs> }[] {
  const s = config.schedules;
  return [
    { id: 'retention-recompute', schedule: { name: 'retention.recompute', data: { reason: 'scheduled recompute' }, everyMs: s.retentionRecomputeMs } },
    { id: 'retention-stale', schedule: { name: 'retention.stale', data: {}, everyMs: s.retentionStaleMs } },
    { id: 'fixity-audit', schedule: { name: 'fixity.audit', data: { scheduled: true }, everyMs: s.fixityAuditMs } },
    { id: 'disposal-due', schedule: { name: 'disposal.due', data: {}, everyMs: s.disposalDueMs } },
    { id: 'audit-anchor', schedule: { name: 'audit.anchor', data: {}, everyMs: s.auditAnchorMs } },
    { id: 'events-deliver', schedule: { name: 'events.deliver', data: {}, everyMs: s.eventsDeliverMs } },
    { id: 'catalogue-write', schedule: { name: 'catalogue.write', data: {}, everyMs: s.catalogueWriteMs } },
  ];
}

/**
 * Installs (upserts) the periodic jobs on the queue. Every worker process does it at start;
 * the queue keeps one schedule per id, so many workers never multiply the runs.
 */
export async function installSchedules(deps: { queue: Pick<JobQueue<Jobs>, 'upsertSchedule'>; config: Pick<Config, 'schedules'>; log: Logger }): Promise<number> {
  if (!deps.config.schedules.enabled) return 0;
  const all = periodicSchedules(deps.config);
  for (const { id, schedule } of all) await deps.queue.upsertSchedule(id, schedule);
  deps.log.info({ schedules: all.map((x) => `${x.id}/${x.schedule.everyMs < 60_000 ? `${Math.round(x.schedule.everyMs / 1000)}s` : `${Math.round(x.schedule.everyMs / 60_000)}min`}`) }, 'periodic jobs scheduled');
  return all.length;
}
