import { appendAuditEvent } from '../../audit/index.ts';
import { DELIVERY_SETTINGS, deliverEvents, type DeliverySettings, type PersonalDisclosure } from '../../events/index.ts';
import type { AppDeps } from '../../app/deps.ts';
import type { JobContext, JobOutcome } from '../../queue/index.ts';
import type { JobOf } from '../../pipeline/index.ts';

type Deps = Pick<AppDeps, 'db' | 'log'>;

/**
 * The events sweep: new outbox events fanned out to their subscriptions, due deliveries posted
 * (events/deliver.ts). Every delivery that carried personal data is in the audit trail, under the
 * purpose the subscription was granted. 'skipped' when there was nothing to do.
 */
export async function deliverEventsJob(deps: Deps, _job: JobOf<'events.deliver'>, ctx: JobContext, settings: DeliverySettings = DELIVERY_SETTINGS): Promise<JobOutcome> {
  const recordDisclosure = async (d: PersonalDisclosure): Promise<void> => {
    await appendAuditEvent(deps.db, {
      actor: 'system',
      action: 'event.personal-data.sent',
      targetType: d.subjects.entryId ? 'entry' : d.subjects.bookId ? 'book' : 'event',
      targetId: d.subjects.entryId ?? d.subjects.bookId ?? d.eventId,
      from: 'events.deliver',
      purpose: d.purpose,
      outcome: d.outcome,
      detail: { eventId: d.eventId, eventType: d.eventType, subscriptionId: d.subscriptionId, subscription: d.subscriptionName },
    });
  };
  const r = await deliverEvents({ db: deps.db, log: ctx.log, recordDisclosure }, ctx.jobId, settings, ctx.signal);
  if (r.fannedOut + r.delivered + r.retrying + r.deadLettered === 0) return 'skipped';
  ctx.log.info(r, 'events delivered');
  return 'done';
}
