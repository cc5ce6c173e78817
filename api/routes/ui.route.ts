import type { FastifyContextConfig, FastifyInstance } from 'fastify';
import type { AppDeps } from '../../app/deps.ts';
import { DISPOSAL_BATCH_STATUSES } from '../../common/vocabulary.ts';
import { listDisposalBatches, listFixityRuns, listRules, type DisposalBatch } from '../../retention/index.ts';
import { errorResponses } from '../schemas.ts';
import { bookTitles } from '../book-titles.store.ts';

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

  app.get<{ Querystring: { status?: DisposalBatch['status']; limit: number } }>('/ui-api/disposal/batches', {
    schema: {
      tags, summary: "Disposal batches, newest first; each item names its book's title (`book`)",
      querystring: {
        type: 'object', additionalProperties: false,
        properties: { status: { type: 'string', enum: DISPOSAL_BATCH_STATUSES }, limit: { type: 'integer', minimum: 1, maximum: 200, default: 50 } },
      },
      response: { 200: { type: 'object', properties: { batches: { type: 'array', items: anyObject } } }, ...errorResponses },
    },
    config: RECORDS,
  }, async (req) => {
    const batches = await listDisposalBatches(deps.db, { status: req.query.status, limit: req.query.limit });
    // Titles beside the ids: people decide on a batch by what the books are.
    const titles = await bookTitles(deps.db, batches.flatMap((b) => b.items.map((i) => i.bookId)));
    return { batches: batches.map((b) => ({ ...b, items: b.items.map((i) => ({ ...i, book: titles.get(i.bookId) ?? null })) })) };
  });

  app.get<{ Querystring: { limit: number } }>('/ui-api/fixity/runs', {
    schema: {
      tags, summary: 'Recent fixity runs, newest first, with their reports',
      querystring: { type: 'object', additionalProperties: false, properties: { limit: { type: 'integer', minimum: 1, maximum: 100, default: 20 } } },
      response: { 200: { type: 'object', properties: { runs: { type: 'array', items: anyObject } } }, ...errorResponses },
    },
    config: RECORDS,
  }, async (req) => ({ runs: await listFixityRuns(deps.db, req.query.limit) }));
}
