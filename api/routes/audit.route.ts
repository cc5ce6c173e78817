import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../../app/deps.ts';
import { listAuditEvents, verifyWithAnchors, writeAnchor, type AuditQuery } from '../../audit/index.ts';
import { errorResponses } from '../schemas.ts';

type Deps = Pick<AppDeps, 'db' | 'store' | 'log'>;

const anyObject = { type: 'object', additionalProperties: true } as const;

/** The audit trail, for auditors: events, chain verification, anchoring the head. */
export async function auditRoutes(app: FastifyInstance, opts: { deps: Deps }): Promise<void> {
  const { deps } = opts;
  const tags = ['audit'];

  app.get<{ Querystring: AuditQuery }>('/audit/events', {
    schema: {
      tags, summary: 'Audit events in chain order',
      querystring: {
        type: 'object', additionalProperties: false,
        properties: {
          afterSeq: { type: 'integer', minimum: 0 }, actor: { type: 'string', maxLength: 64 }, action: { type: 'string', maxLength: 100 },
          targetType: { type: 'string', maxLength: 100 }, targetId: { type: 'string', maxLength: 200 }, limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
        },
      },
      response: { 200: { type: 'object', properties: { events: { type: 'array', items: anyObject } } }, ...errorResponses },
    },
    config: { policy: { roles: ['auditor'], audit: 'audit.read' } },
  }, async (req) => ({ events: await listAuditEvents(deps.db, req.query) }));

  app.get('/audit/verify', {
    schema: { tags, summary: 'Walk the whole chain and compare it with every anchor in object storage (ok: false naming the first break)', response: { 200: anyObject, ...errorResponses } },
    config: { policy: { roles: ['auditor'], audit: 'audit.verify' } },
  }, async () => verifyWithAnchors(deps));

  app.post('/audit/anchor', {
    schema: { tags, summary: 'Write the chain head to object storage now', response: { 200: anyObject, ...errorResponses } },
    config: { policy: { roles: ['auditor', 'admin'], audit: 'audit.anchor' } },
  }, async () => ({ anchor: (await writeAnchor(deps)) ?? null }));
}
