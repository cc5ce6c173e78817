import type { FastifyContextConfig, FastifyInstance } from 'fastify';
import type { AppDeps } from '../../app/deps.ts';
import { getBatch, listRules } from '../../retention/index.ts';
import { errorResponses } from '../schemas.ts';

type Deps = Pick<AppDeps, 'db'>;

const anyObject = { type: 'object', additionalProperties: true } as const;
// Cast: the access-policy field is declared on FastifyContextConfig by the auth layer.
const RECORDS = { policy: { roles: ['records_manager'] } } as FastifyContextConfig;

/**
 * Read-only lists the web interface needs and the retention API does not offer: every version of a
 * rule, recent disposal batches (a second records manager must find a proposed batch to approve it)
 * and recent fixity runs.
 */
export async function uiApiRoutes(app: FastifyInstance, opts: { deps: Deps }): Promise<void> {
  const { deps } = opts;
  const tags = ['retention'];

  app.get<{ Params: { ruleKey: string } }>('/ui-api/retention/rules/:ruleKey/versions', {
    schema: {
      tags, summary: 'Every version of a retention rule, oldest first',
      params: { type: 'object', required: ['ruleKey'], properties: { ruleKey: { type: 'string', pattern: '^[a-z0-9][a-z0-9._-]*$', maxLength: 100 } } },
      response: { 200: { type: 'object', properties: { versions: { type: 'array', items: anyObject } } }, ...errorResponses },
    },
    config: RECORDS,
  }, async (req) => ({ versions: await listRules(deps.db, { ruleKey: req.params.ruleKey, allVersions: true }) }));

  app.get<{ Querystring: { status?: string; limit: number } }>('/ui-api/disposal/batches', {
    schema: {
      tags, summary: 'Disposal batches, newest first',
      querystring: {
        type: 'object', additionalProperties: false,
        properties: { status: { type: 'string', enum: ['proposed', 'approved', 'rejected', 'executing', 'executed'] }, limit: { type: 'integer', minimum: 1, maximum: 200, default: 50 } },
      },
      response: { 200: { type: 'object', properties: { batches: { type: 'array', items: anyObject } } }, ...errorResponses },
    },
    config: RECORDS,
  }, async (req) => {
    const r = await deps.db.query<{ id: string }>(
      'SELECT id FROM disposal_batches WHERE ($1::text IS NULL OR status = $1) ORDER BY proposed_at DESC, id LIMIT $2',
      [req.query.status ?? null, req.query.limit],
    );
    const batches = [];
    for (const row of r.rows) batches.push(await getBatch(deps.db, row.id));
    return { batches };
  });

  app.get<{ Querystring: { limit: number } }>('/ui-api/fixity/runs', {
    schema: {
      tags, summary: 'Recent fixity runs, newest first, with their reports',
      querystring: { type: 'object', additionalProperties: false, properties: { limit: { type: 'integer', minimum: 1, maximum: 100, default: 20 } } },
      response: { 200: { type: 'object', properties: { runs: { type: 'array', items: anyObject } } }, ...errorResponses },
    },
    config: RECORDS,
  }, async (req) => {
    const r = await deps.db.query<{ id: string; scope: unknown; started_at: Date; finished_at: Date | null; checked: number; failed: number; report: unknown }>(
      'SELECT id, scope, started_at, finished_at, checked, failed, report FROM fixity_runs ORDER BY started_at DESC, id LIMIT $1',
      [req.query.limit],
    );
    return { runs: r.rows.map((x) => ({ id: x.id, scope: x.scope, startedAt: x.started_at, finishedAt: x.finished_at, checked: x.checked, failed: x.failed, report: x.report })) };
  });
}
