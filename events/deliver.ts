import type { Db } from '../db/index.ts';
import type { Logger } from '../common/index.ts';
import { AppError } from '../common/index.ts';
import type { OutboxEventType } from '../common/vocabulary.ts';
import { leaseMs, nextAttemptAt, type DeliverySettings } from './backoff.ts';
import {
  claimDueDeliveries, fanOutEvents, markDelivered, markFailed, releaseClaim, selectOutboxEvent, selectSubscription, type ClaimedDelivery,
  type OutboxEvent, type SubscriptionRow,
} from './outbox.store.ts';
import { openSecret, secretKey } from './secrets.ts';
import { ATTEMPT_HEADER, EVENT_ID_HEADER, EVENT_TYPE_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, signPayload } from './signing.ts';

/** The JSON body of a delivery. Its `id` is the event's: the same on every delivery of it. */
export interface EventPayload {
  id: string;
  type: OutboxEventType;
  occurredAt: string;
  /** Subject identifiers and codes; `personal` only for a subscription granted a purpose. */
  data: Record<string, unknown>;
  /** The purpose the personal data in `data.personal` is disclosed for (absent without personal data). */
  purpose?: string;
}

/**
 * The body for one subscription: identifiers and codes for all; the event's personal data only
 * when the subscription has a purpose grant.
 */
export function eventPayload(e: OutboxEvent & { personal: Record<string, unknown> | null }, sub: Pick<SubscriptionRow, 'purpose'>): EventPayload {
  const data: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(e.subjects)) if (v !== null) data[k] = v;
  Object.assign(data, e.data);
  const withPersonal = sub.purpose !== null && e.personal !== null;
  if (withPersonal) data.personal = e.personal;
  return { id: e.id, type: e.type, occurredAt: e.occurredAt.toISOString(), data, ...(withPersonal ? { purpose: sub.purpose! } : {}) };
}

/** A disclosure of personal data to a subscriber, for the audit trail. */
export interface PersonalDisclosure {
  eventId: string;
  eventType: OutboxEventType;
  subscriptionId: string;
  subscriptionName: string;
  purpose: string;
  subjects: OutboxEvent['subjects'];
  outcome: 'ok' | 'failed';
}

/** What one sweep did. */
export interface DeliveryReport {
  fannedOut: number;
  delivered: number;
  retrying: number;
  deadLettered: number;
}

/** What the sweep needs: the database, a logger, and how disclosures of personal data are recorded. */
export interface DeliveryDeps {
  db: Db;
  log: Logger;
  /** Called after every attempt that sent personal data (whatever the receiver answered: the data left). */
  recordDisclosure(d: PersonalDisclosure): Promise<void>;
  /** The HTTP client (tests may wrap it); default: the global fetch. */
  fetch?: typeof fetch;
}

type Outcome = 'delivered' | 'retrying' | 'dead' | 'released' | 'lost';

/**
 * One run of the `events.deliver` job: fans out new outbox events to the subscriptions that want
 * them, then claims due deliveries for `jobId` and posts them, round after round, until none is due
 * or the time budget is spent. Every failure is recorded with its next try (or as a dead letter);
 * a run aborted by shutdown gives its claims back without using an attempt.
 */
export async function deliverEvents(deps: DeliveryDeps, jobId: string, settings: DeliverySettings, signal: AbortSignal): Promise<DeliveryReport> {
  const report: DeliveryReport = { fannedOut: 0, delivered: 0, retrying: 0, deadLettered: 0 };
  const started = Date.now();
  for (;;) {
    const f = await deps.db.transaction((tx) => fanOutEvents(tx, 500));
    report.fannedOut += f.deliveries;
    if (f.events < 500 || Date.now() - started > settings.budgetMs) break;
  }
  const subs = new Map<string, { row: SubscriptionRow; secret: string }>();
  // Read when first needed: most sweeps find nothing to send.
  let key: Buffer | undefined;
  const subscription = async (id: string) => {
    let s = subs.get(id);
    if (!s) {
      const row = await selectSubscription(deps.db, id);
      if (!row) throw new AppError('ERR_INTEGRITY', `delivery names subscription ${id}, which does not exist`);
      key ??= await secretKey(deps.db);
      s = { row, secret: openSecret(key, row.secretSealed) };
      subs.set(id, s);
    }
    return s;
  };
  while (!signal.aborted && Date.now() - started < settings.budgetMs) {
    const claims = await claimDueDeliveries(deps.db, jobId, leaseMs(settings), settings.batch);
    if (claims.length === 0) break;
    const queue = [...claims];
    const worker = async () => {
      for (let c = queue.shift(); c; c = queue.shift()) {
        const outcome = await deliverOne(deps, c, jobId, settings, signal, subscription);
        if (outcome === 'delivered') report.delivered++;
        else if (outcome === 'retrying') report.retrying++;
        else if (outcome === 'dead') report.deadLettered++;
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, settings.parallel) }, worker));
  }
  return report;
}

async function deliverOne(
  deps: DeliveryDeps,
  c: ClaimedDelivery,
  jobId: string,
  settings: DeliverySettings,
  signal: AbortSignal,
  subscription: (id: string) => Promise<{ row: SubscriptionRow; secret: string }>,
): Promise<Outcome> {
  const event = await selectOutboxEvent(deps.db, c.eventId);
  if (!event) return 'lost';
  const sub = await subscription(c.subscriptionId);
  const payload = eventPayload(event, sub.row);
  const body = JSON.stringify(payload);
  const timestamp = Math.floor(Date.now() / 1000);
  let httpStatus: number | null = null;
  let error: string | null = null;
  try {
    const res = await (deps.fetch ?? fetch)(sub.row.url, {
      method: 'POST',
      body,
      // A redirect is not followed: the signed event goes to the registered address or nowhere.
      redirect: 'manual',
      signal: AbortSignal.any([signal, AbortSignal.timeout(settings.timeoutMs)]),
      headers: {
        'content-type': 'application/json',
        'user-agent': 'Arkiva-Events/1',
        [EVENT_ID_HEADER]: event.id,
        [EVENT_TYPE_HEADER]: event.type,
        [TIMESTAMP_HEADER]: String(timestamp),
        [SIGNATURE_HEADER]: signPayload(sub.secret, timestamp, body),
        [ATTEMPT_HEADER]: String(c.attempt),
      },
    });
    httpStatus = res.status;
    // The receiver's answer is not read: it may echo what it got, and nothing of it is kept.
    await res.body?.cancel().catch(() => undefined);
    if (res.status < 200 || res.status > 299) error = `HTTP ${res.status}`;
  } catch (e) {
    if (signal.aborted) {
      // Shutting down: the claim goes back, this try not counted; another worker (or this one, restarted) sends it.
      await releaseClaim(deps.db, c, jobId);
      return 'released';
    }
    error = describeFetchError(e);
  }
  if (payload.data.personal !== undefined) {
    await deps.recordDisclosure({
      eventId: event.id, eventType: event.type, subscriptionId: sub.row.id, subscriptionName: sub.row.name, purpose: sub.row.purpose!,
      subjects: event.subjects, outcome: error === null ? 'ok' : 'failed',
    });
  }
  if (error === null) {
    if (!(await markDelivered(deps.db, c, jobId, httpStatus!))) deps.log.warn({ eventId: c.eventId, subscriptionId: c.subscriptionId }, 'event delivered after its claim was taken over');
    return 'delivered';
  }
  const next = nextAttemptAt(c.attempt, settings);
  await markFailed(deps.db, c, jobId, { httpStatus, error, nextAttemptAt: next });
  deps.log[next ? 'info' : 'warn']({ eventId: c.eventId, subscriptionId: c.subscriptionId, attempt: c.attempt, error, nextAttemptAt: next }, next ? 'event delivery failed; will retry' : 'event delivery dead-lettered');
  return next ? 'retrying' : 'dead';
}

/** A short reason for a failed POST, without anything the receiver sent. */
function describeFetchError(e: unknown): string {
  if (e instanceof Error) {
    if (e.name === 'TimeoutError') return 'timed out';
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    return (cause?.code ?? cause?.message ?? e.message).slice(0, 200);
  }
  return String(e).slice(0, 200);
}
