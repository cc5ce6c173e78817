import { AppError } from '../common/index.ts';
import type { Db, Queryable } from '../db/index.ts';
import { EVENT_DELIVERY_STATUSES, OUTBOX_EVENT_TYPES, type EventDeliveryStatus, type OutboxEventType } from '../common/vocabulary.ts';
import { requeueDeliveries, selectDeliveries, selectOutboxEvent, selectOutboxEvents, selectSubscription, upsertDelivery, type Delivery, type OutboxEvent } from './outbox.store.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function checkLimit(limit: number | undefined): number {
  const l = limit ?? 100;
  if (!Number.isInteger(l) || l < 1 || l > 1000) throw new AppError('ERR_VALIDATION', 'limit is a whole number from 1 to 1000', { field: 'limit' });
  return l;
}

function checkUuid(v: string | undefined, field: string): string | undefined {
  if (v !== undefined && !UUID.test(v)) throw new AppError('ERR_VALIDATION', `${field} is not a uuid`, { field });
  return v;
}

/** Outbox events newest first (identifiers only: never the personal data an event holds). */
export async function listEvents(db: Queryable, f: { type?: string; bookId?: string; beforeSeq?: number; limit?: number } = {}): Promise<OutboxEvent[]> {
  if (f.type !== undefined && !(OUTBOX_EVENT_TYPES as readonly string[]).includes(f.type)) {
    throw new AppError('ERR_VALIDATION', `type must be one of ${OUTBOX_EVENT_TYPES.join(', ')}`, { field: 'type' });
  }
  return selectOutboxEvents(db, {
    ...(f.type ? { type: f.type as OutboxEventType } : {}),
    ...(checkUuid(f.bookId, 'bookId') ? { bookId: f.bookId! } : {}),
    ...(f.beforeSeq !== undefined ? { beforeSeq: f.beforeSeq } : {}),
    limit: checkLimit(f.limit),
  });
}

/** Deliveries by status (`dead`: the dead-letter list), event or subscription. */
export async function listDeliveries(db: Queryable, f: { status?: string; eventId?: string; subscriptionId?: string; limit?: number } = {}): Promise<Delivery[]> {
  if (f.status !== undefined && !(EVENT_DELIVERY_STATUSES as readonly string[]).includes(f.status)) {
    throw new AppError('ERR_VALIDATION', `status must be one of ${EVENT_DELIVERY_STATUSES.join(', ')}`, { field: 'status' });
  }
  return selectDeliveries(db, {
    ...(f.status ? { status: f.status as EventDeliveryStatus } : {}),
    ...(checkUuid(f.eventId, 'eventId') ? { eventId: f.eventId! } : {}),
    ...(checkUuid(f.subscriptionId, 'subscriptionId') ? { subscriptionId: f.subscriptionId! } : {}),
    limit: checkLimit(f.limit),
  });
}

/**
 * Sends an event again, with its same id: to every subscription it was delivered (or dead-lettered)
 * to, or to one named subscription (which may have subscribed after it). Returns the deliveries due.
 */
export async function replayEvent(db: Db, eventId: string, opts: { subscriptionId?: string } = {}): Promise<number> {
  checkUuid(eventId, 'eventId');
  checkUuid(opts.subscriptionId, 'subscriptionId');
  return db.transaction(async (tx) => {
    const event = await selectOutboxEvent(tx, eventId);
    if (!event) throw new AppError('ERR_NOT_FOUND', `no event ${eventId}`);
    if (opts.subscriptionId) {
      const sub = await selectSubscription(tx, opts.subscriptionId);
      if (!sub) throw new AppError('ERR_NOT_FOUND', `no event subscription ${opts.subscriptionId}`);
      if (!sub.eventTypes.includes(event.type)) throw new AppError('ERR_CONFLICT', `subscription ${sub.name} does not take ${event.type} events`);
      await upsertDelivery(tx, eventId, sub.id);
      return 1;
    }
    if (!event.fannedOutAt) throw new AppError('ERR_CONFLICT', `event ${eventId} has not been sent yet; it goes out with the next delivery run`);
    return requeueDeliveries(tx, { eventId });
  });
}

/** Makes every dead letter (optionally of one subscription) due again, with a fresh count of attempts. */
export async function replayDeadLetters(db: Db, opts: { subscriptionId?: string } = {}): Promise<number> {
  checkUuid(opts.subscriptionId, 'subscriptionId');
  return db.transaction((tx) => requeueDeliveries(tx, { dead: true, ...(opts.subscriptionId ? { subscriptionId: opts.subscriptionId } : {}) }));
}
