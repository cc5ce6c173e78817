import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../../app/deps.ts';
import { listAuditActions, listAuditEvents, verifyWithAnchors, writeAnchor, type AuditQuery } from '../../audit/index.ts';
import { errorResponses } from '../schemas.ts';
import { bookTitles } from '../book-titles.store.ts';

type Deps = Pick<AppDeps, 'db' | 'store' | 'log'>;

const anyObject = { type: 'object', additionalProperties: true } as const;

/** The audit trail, for auditors: events, chain verification, anchoring the head. */
export async function auditRoutes(app: FastifyInstance, opts: { deps: Deps }): Promise<void> {
  const { deps } = opts;
  const tags = ['audit'];

  app.get<{ Querystring: AuditQuery }>('/audit/events', {
    schema: {
      tags, summary: 'Audit events in chain order, or newest first; events about a book carry its title (`book`)',
      querystring: {
        type: 'object', additionalProperties: false,
        properties: {
          afterSeq: { type: 'integer', minimum: 0 }, beforeSeq: { type: 'integer', minimum: 1, description: 'Only events before this sequence number: the next page back when newest first' },
          newestFirst: { type: 'boolean', default: false, description: 'Newest events first instead of chain order' }, actor: { type: 'string', maxLength: 64 }, action: { type: 'string', maxLength: 100, description: 'An exact action name, or a category ending in . or .* (book.* matches every book event); GET /audit/actions lists the names' },
          targetType: { type: 'string', maxLength: 100 }, targetId: { type: 'string', maxLength: 200 }, limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
        },
      },
      response: { 200: { type: 'object', properties: { events: { type: 'array', items: anyObject } } }, ...errorResponses },
    },
    config: { policy: { roles: ['auditor'], audit: 'audit.read' } },
  }, async (req) => {
    const events = await listAuditEvents(deps.db, req.query);
    const titles = await bookTitles(deps.db, events.filter((e) => e.targetType === 'book' && e.targetId).map((e) => e.targetId!));
    return { events: events.map((e) => (e.targetType === 'book' && e.targetId ? { ...e, book: titles.get(e.targetId) ?? null } : e)) };
  });

  app.get('/audit/actions', {
    schema: {
      tags, summary: 'Every action name in the trail with its number of events, by name: the names and categories the events can be filtered by',
      response: { 200: { type: 'object', properties: { actions: { type: 'array', items: { type: 'object', properties: { action: { type: 'string' }, count: { type: 'integer' } } } } } }, ...errorResponses },
    },
    config: { policy: { roles: ['auditor'], audit: 'audit.read' } },
  }, async () => ({ actions: await listAuditActions(deps.db) }));

  app.get('/audit/verify', {
    schema: { tags, summary: 'Walk the whole chain and compare it with every anchor in object storage (ok: false naming the first break)', response: { 200: anyObject, ...errorResponses } },
    config: { policy: { roles: ['auditor'], audit: 'audit.verify' } },
  }, async () => verifyWithAnchors(deps));

  app.post('/audit/anchor', {
    schema: { tags, summary: 'Write the chain head to object storage now', response: { 200: anyObject, ...errorResponses } },
    config: { policy: { roles: ['auditor', 'admin'], audit: 'audit.anchor' } },
  }, async () => ({ anchor: (await writeAnchor(deps)) ?? null }));
}
