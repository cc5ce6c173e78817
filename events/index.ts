/**
 * Events for the state systems that exchange with the registry: a transactional outbox (`emit`,
 * called in the transaction that makes the change), subscriptions admins register, and delivery
 * by the `events.deliver` job as signed JSON, retried with backoff, dead-lettered, replayable.
 */
export { emit, emitArchiveEvent, checkEvent, inTransaction, type ArchiveEvent, type EventDataValue } from './emit.ts';
export type { EventSubjects, OutboxEvent, Delivery } from './outbox.store.ts';
export { listEvents, listDeliveries, replayEvent, replayDeadLetters } from './outbox.ts';
export {
  createSubscription, listSubscriptions, getSubscription, changeSubscription, unsubscribe, checkUrl, checkEventTypes,
  type Subscription, type SubscriptionWithSecret,
} from './subscriptions.ts';
export { deliverEvents, eventPayload, type EventPayload, type PersonalDisclosure, type DeliveryReport, type DeliveryDeps } from './deliver.ts';
export { DELIVERY_SETTINGS, nextAttemptAt, leaseMs, type DeliverySettings } from './backoff.ts';
export {
  signPayload, verifySignature, EVENT_ID_HEADER, EVENT_TYPE_HEADER, TIMESTAMP_HEADER, SIGNATURE_HEADER, ATTEMPT_HEADER,
} from './signing.ts';
