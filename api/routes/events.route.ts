import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../../app/deps.ts';
import { EVENT_DELIVERY_STATUSES, OUTBOX_EVENT_TYPES } from '../../common/vocabulary.ts';
import {
  changeSubscription, createSubscription, getSubscription, listDeliveries, listEvents, listSubscriptions, replayDeadLetters, replayEvent, unsubscribe,
} from '../../events/index.ts';
import { caller, noteAudit } from '../access.ts';
import { errorResponses } from '../schemas.ts';

type Deps = Pick<AppDeps, 'db'>;

const ADMIN = ['admin'] as const;
const READERS = ['admin', 'auditor'] as const;
const uuid = { type: 'string', format: 'uuid' } as const;
const nullableUuid = { type: ['string', 'null'], format: 'uuid' } as const;
const date = { type: 'string', format: 'date-time' } as const;
const nullableDate = { type: ['string', 'null'], format: 'date-time' } as const;

/** An outbox event as listed: identifiers and codes, never the personal data it may hold. */
const eventSchema = {
  type: 'object',
  properties: {
    id: uuid, seq: { type: 'integer' }, type: { type: 'string', enum: OUTBOX_EVENT_TYPES }, occurredAt: date,
    subjects: {
      type: 'object',
      properties: { bookId: nullableUuid, entryId: nullableUuid, linkId: nullableUuid, recordId: nullableUuid, extractSerial: { type: ['string', 'null'] } },
    },
    data: { type: 'object', additionalProperties: true, description: 'Identifiers and codes (register type, municipality, status)' },
    hasPersonal: { type: 'boolean', description: 'Whether personal data is held for subscriptions granted a purpose' },
    fannedOutAt: nullableDate,
  },
} as const;

const deliverySchema = {
  type: 'object',
  properties: {
    eventId: uuid, eventType: { type: 'string', enum: OUTBOX_EVENT_TYPES }, subscriptionId: uuid, subscriptionName: { type: 'string' },
    status: { type: 'string', enum: EVENT_DELIVERY_STATUSES }, attempts: { type: 'integer' }, nextAttemptAt: date, lastAttemptAt: nullableDate,
    lastStatus: { type: ['integer', 'null'] }, lastError: { type: ['string', 'null'] }, deliveredAt: nullableDate, deadLetteredAt: nullableDate,
  },
} as const;

/** A subscription: never its secret. */
const subscriptionSchema = {
  type: 'object',
  properties: {
    id: uuid, name: { type: 'string' }, url: { type: 'string' }, eventTypes: { type: 'array', items: { type: 'string', enum: OUTBOX_EVENT_TYPES } },
    purpose: { type: ['string', 'null'] }, purposeGrantedBy: { type: ['string', 'null'] }, active: { type: 'boolean' }, createdBy: { type: 'string' },
    createdAt: date, updatedAt: date,
  },
} as const;

const subscriptionAnswer = {
  type: 'object',
  properties: { subscription: subscriptionSchema, secret: { type: 'string', description: 'The signing secret: in this answer only' } },
} as const;

const idParam = (name: string) => ({ type: 'object', required: [name], properties: { [name]: uuid } }) as const;
const replayBody = { type: ['object', 'null'], additionalProperties: false, properties: { subscriptionId: uuid } } as const;
const eventTypes = { type: 'array', minItems: 1, maxItems: OUTBOX_EVENT_TYPES.length, items: { type: 'string', enum: OUTBOX_EVENT_TYPES } } as const;

/** The events outbox for other state systems: events, deliveries, dead letters and replays, subscriptions (admins). */
export async function eventsRoutes(app: FastifyInstance, opts: { deps: Deps }): Promise<void> {
  const { deps } = opts;
  const tags = ['events'];

  app.get<{ Querystring: { type?: string; bookId?: string; before?: number; limit?: number } }>('/events', {
    schema: {
      tags, summary: 'Outbox events, newest first (identifiers only); page on with before=<seq of the last one>',
      querystring: {
        type: 'object', additionalProperties: false,
        properties: { type: { type: 'string', enum: OUTBOX_EVENT_TYPES }, bookId: uuid, before: { type: 'integer', minimum: 1 }, limit: { type: 'integer', minimum: 1, maximum: 1000 } },
      },
      response: { 200: { type: 'object', properties: { events: { type: 'array', items: eventSchema } } }, ...errorResponses },
    },
    config: { policy: { roles: READERS } },
  }, async (req) => {
    const q = req.query;
    return { events: await listEvents(deps.db, { ...(q.type ? { type: q.type } : {}), ...(q.bookId ? { bookId: q.bookId } : {}), ...(q.before ? { beforeSeq: q.before } : {}), ...(q.limit ? { limit: q.limit } : {}) }) };
  });

  const deliveriesQuery = {
    type: 'object', additionalProperties: false,
    properties: { status: { type: 'string', enum: EVENT_DELIVERY_STATUSES }, eventId: uuid, subscriptionId: uuid, limit: { type: 'integer', minimum: 1, maximum: 1000 } },
  } as const;
  type DeliveriesQuery = { status?: string; eventId?: string; subscriptionId?: string; limit?: number };

  app.get<{ Querystring: DeliveriesQuery }>('/events/deliveries', {
    schema: { tags, summary: 'Deliveries of events to subscriptions: attempts, last answer, next try', querystring: deliveriesQuery, response: { 200: { type: 'object', properties: { deliveries: { type: 'array', items: deliverySchema } } }, ...errorResponses } },
    config: { policy: { roles: READERS } },
  }, async (req) => ({ deliveries: await listDeliveries(deps.db, req.query) }));

  app.get<{ Querystring: Omit<DeliveriesQuery, 'status'> }>('/events/dead-letters', {
    schema: {
      tags, summary: 'Dead letters: deliveries that failed every try, newest first',
      querystring: { ...deliveriesQuery, properties: { eventId: uuid, subscriptionId: uuid, limit: { type: 'integer', minimum: 1, maximum: 1000 } } },
      response: { 200: { type: 'object', properties: { deliveries: { type: 'array', items: deliverySchema } } }, ...errorResponses },
    },
    config: { policy: { roles: READERS } },
  }, async (req) => ({ deliveries: await listDeliveries(deps.db, { ...req.query, status: 'dead' }) }));

  app.post<{ Body: { subscriptionId?: string } | null }>('/events/dead-letters/replay', {
    schema: { tags, summary: 'Send every dead letter (of one subscription, if named) again, with a fresh count of tries', body: replayBody, response: { 200: { type: 'object', properties: { queued: { type: 'integer' } } }, ...errorResponses } },
    config: { policy: { roles: ADMIN, audit: 'events.dead-letters.replay' } },
  }, async (req) => {
    const queued = await replayDeadLetters(deps.db, req.body?.subscriptionId ? { subscriptionId: req.body.subscriptionId } : {});
    noteAudit(req, { ...(req.body?.subscriptionId ? { targetType: 'event-subscription', targetId: req.body.subscriptionId } : {}), detail: { queued } });
    return { queued };
  });

  app.post<{ Params: { eventId: string }; Body: { subscriptionId?: string } | null }>('/events/:eventId/replay', {
    schema: {
      tags, summary: 'Send one event again, with its same id: to every subscription it went to, or to one named subscription',
      params: idParam('eventId'), body: replayBody, response: { 200: { type: 'object', properties: { queued: { type: 'integer' } } }, ...errorResponses },
    },
    config: { policy: { roles: ADMIN, audit: 'events.replay' } },
  }, async (req) => {
    const queued = await replayEvent(deps.db, req.params.eventId, req.body?.subscriptionId ? { subscriptionId: req.body.subscriptionId } : {});
    noteAudit(req, { targetType: 'event', targetId: req.params.eventId, detail: { queued, ...(req.body?.subscriptionId ? { subscriptionId: req.body.subscriptionId } : {}) } });
    return { queued };
  });

  app.get('/event-subscriptions', {
    schema: { tags, summary: 'Every subscription (never its secret)', response: { 200: { type: 'object', properties: { subscriptions: { type: 'array', items: subscriptionSchema } } }, ...errorResponses } },
    config: { policy: { roles: ADMIN } },
  }, async () => ({ subscriptions: await listSubscriptions(deps.db) }));

  app.get<{ Params: { subscriptionId: string } }>('/event-subscriptions/:subscriptionId', {
    schema: { tags, summary: 'One subscription (never its secret)', params: idParam('subscriptionId'), response: { 200: { type: 'object', properties: { subscription: subscriptionSchema } }, ...errorResponses } },
    config: { policy: { roles: ADMIN } },
  }, async (req) => ({ subscription: await getSubscription(deps.db, req.params.subscriptionId) }));

  app.post<{ Body: { name: string; url: string; eventTypes: string[]; secret?: string; purpose?: string | null } }>('/event-subscriptions', {
    bodyLimit: 16 * 1024,
    schema: {
      tags, summary: 'Register a receiving system: URL, event types, and a secret (made when left out; in this answer only). A purpose grants it the personal data events hold',
      body: {
        type: 'object', additionalProperties: false, required: ['name', 'url', 'eventTypes'],
        properties: {
          name: { type: 'string', minLength: 1, maxLength: 100 }, url: { type: 'string', minLength: 8, maxLength: 2000 }, eventTypes,
          secret: { type: 'string', minLength: 24, maxLength: 200 }, purpose: { type: ['string', 'null'], maxLength: 500 },
        },
      },
      response: { 201: subscriptionAnswer, ...errorResponses },
    },
    // Granting personal data to another system is one person's act, not a token's made for someone else.
    config: { policy: { roles: ADMIN, audit: 'events.subscription.create', ownCredentials: true } },
  }, async (req, reply) => {
    const made = await createSubscription(deps.db, req.body, { user: caller(req).username });
    const s = made.subscription;
    noteAudit(req, { targetType: 'event-subscription', targetId: s.id, detail: { name: s.name, url: s.url, eventTypes: s.eventTypes, purpose: s.purpose } });
    return reply.code(201).header('cache-control', 'no-store').send(made);
  });

  app.patch<{ Params: { subscriptionId: string }; Body: { name?: string; url?: string; eventTypes?: string[]; active?: boolean; purpose?: string | null; rotateSecret?: boolean } }>('/event-subscriptions/:subscriptionId', {
    bodyLimit: 16 * 1024,
    schema: {
      tags, summary: 'Change a subscription: name, URL, event types, active, purpose grant (null withdraws it), or a new secret (rotateSecret; in this answer only)',
      params: idParam('subscriptionId'),
      body: {
        type: 'object', additionalProperties: false, minProperties: 1,
        properties: {
          name: { type: 'string', minLength: 1, maxLength: 100 }, url: { type: 'string', minLength: 8, maxLength: 2000 }, eventTypes, active: { type: 'boolean' },
          purpose: { type: ['string', 'null'], maxLength: 500 }, rotateSecret: { type: 'boolean' },
        },
      },
      response: { 200: subscriptionAnswer, ...errorResponses },
    },
    config: { policy: { roles: ADMIN, audit: 'events.subscription.change', ownCredentials: true } },
  }, async (req, reply) => {
    const changed = await changeSubscription(deps.db, req.params.subscriptionId, req.body, { user: caller(req).username });
    const { rotateSecret, ...rest } = req.body;
    noteAudit(req, { targetType: 'event-subscription', targetId: req.params.subscriptionId, detail: { ...rest, ...(rotateSecret ? { secretRotated: true } : {}) } });
    return reply.header('cache-control', 'no-store').send(changed);
  });

  app.delete<{ Params: { subscriptionId: string } }>('/event-subscriptions/:subscriptionId', {
    schema: { tags, summary: 'Unsubscribe: deliveries stop (the subscription stays on record, inactive)', params: idParam('subscriptionId'), response: { 200: { type: 'object', properties: { subscription: subscriptionSchema } }, ...errorResponses } },
    config: { policy: { roles: ADMIN, audit: 'events.subscription.unsubscribe' } },
  }, async (req) => {
    noteAudit(req, { targetType: 'event-subscription', targetId: req.params.subscriptionId });
    return { subscription: await unsubscribe(deps.db, req.params.subscriptionId, { user: caller(req).username }) };
  });
}
