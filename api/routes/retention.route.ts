import type { FastifyInstance } from 'fastify';
import { AppError } from '../../common/index.ts';
import { DISPOSITION_ACTIONS, REGISTER_TYPES, RETENTION_TRIGGERS, RULE_KINDS } from '../../common/vocabulary.ts';
import type { AppDeps } from '../../app/deps.ts';
import {
  auditFixity, decideBatch, executeBatch, getBatch, getDisposalRecord, getFixityRun, getItemRetention, listDue, listHolds, listRules,
  placeHold, proposeBatch, releaseHold, retentionHistory, saveRuleAndRecompute, syncObjectLocks, verifyCertificate, type RuleInput,
  certificatePdf, listDueSnapshots, placeHoldOnSearch,
} from '../../retention/index.ts';
import { SEARCH_MODES, type PageSearchQuery } from '../../search/index.ts';
import { bookIdParam, errorResponses } from '../schemas.ts';
import { caller, noteAudit } from '../access.ts';
import { booksWithheld } from '../../auth/index.ts';
import { policy } from '../policies.ts';
import { bookTitles } from '../book-titles.store.ts';
import type { FastifyRequest } from 'fastify';

type Deps = Pick<AppDeps, 'db' | 'store' | 'log'>;

const uuid = { type: 'string', format: 'uuid' } as const;
const idParam = { type: 'object', required: ['id'], properties: { id: uuid } } as const;
const by = { type: 'string', minLength: 1, maxLength: 200, description: 'Optional; when given it must be the signed-in user, who is recorded as acting' } as const;
const anyObject = { type: 'object', additionalProperties: true } as const;
const ok = (description: string) => ({ 200: { description, ...anyObject }, ...errorResponses });

/**
 * Retention rules, item retention, legal holds, disposal batches and certificates, fixity runs.
 * Who acts is the signed-in user (a `by` in the body, kept for older clients, must name them).
 */
export async function retentionRoutes(app: FastifyInstance, opts: { deps: Deps }): Promise<void> {
  const { deps } = opts;
  const tags = ['retention'];
  const RM = ['records_manager'] as const;
  // Disposal decisions need the records manager's own credentials: through a token an admin made
  // for them, the four eyes of a disposal would be the admin's two.
  const OWN = { ownCredentials: true } as const;
  // The acting user: the authenticated caller. A `by` naming someone else is refused, so nobody acts in another's name.
  const actingUser = (req: FastifyRequest, claimed: string | undefined): string => {
    const me = caller(req).username;
    if (claimed !== undefined && claimed.trim().toLowerCase() !== me) throw new AppError('ERR_VALIDATION', 'by must be the signed-in user (or be left out)', { field: 'by' });
    return me;
  };

  app.get('/retention/rules', { schema: { tags, summary: 'Current retention and closure rules', response: ok('The rules') }, config: policy(RM) },
    async () => ({ rules: await listRules(deps.db) }));

  app.put<{ Params: { ruleKey: string }; Body: RuleInput & { by?: string; reason: string } }>('/retention/rules/:ruleKey', {
    schema: {
      tags, summary: 'Create a rule or write its next version; the items it covers are recomputed and their locks extended',
      params: { type: 'object', required: ['ruleKey'], properties: { ruleKey: { type: 'string', pattern: '^[a-z0-9][a-z0-9._-]*$', maxLength: 100 } } },
      body: {
        type: 'object', additionalProperties: false, required: ['kind', 'name', 'registerType', 'trigger', 'reason'],
        properties: {
          kind: { enum: RULE_KINDS }, name: { type: 'string', maxLength: 200 }, registerType: { enum: REGISTER_TYPES },
          municipality: { type: ['string', 'null'] }, yearFrom: { type: ['integer', 'null'] }, yearTo: { type: ['integer', 'null'] },
          periodYears: { type: 'integer', minimum: 0 }, periodMonths: { type: 'integer', minimum: 0 }, permanent: { type: 'boolean' },
          trigger: { enum: RETENTION_TRIGGERS }, triggerEvent: { type: ['string', 'null'] },
          action: { enum: [...DISPOSITION_ACTIONS, null] }, by, reason: { type: 'string', minLength: 1, maxLength: 1000 },
        },
      },
      response: ok('The new rule version and the books recomputed'),
    },
    config: policy(RM, 'retention.rule.save'),
  }, async (req) => {
    const { by: claimed, reason, ...rule } = req.body;
    const r = await saveRuleAndRecompute(deps.db, req.params.ruleKey, rule, { user: actingUser(req, claimed), reason });
    if (r.recomputed.length) await syncObjectLocks(deps, { bookIds: r.recomputed, repair: true });
    return r;
  });

  app.get<{ Params: { bookId: string } }>('/books/:bookId/retention', {
    schema: { tags, summary: "A book's retention date and closure, explained, with their history", params: bookIdParam, response: ok('The retention') },
    config: policy(RM),
  }, async (req) => {
    const r = await getItemRetention(deps.db, req.params.bookId);
    if (!r) throw new AppError('ERR_NOT_FOUND', `no retention computed for book ${req.params.bookId}`);
    return { retention: r, history: await retentionHistory(deps.db, req.params.bookId) };
  });

  app.get('/retention/due', { schema: { tags, summary: 'Books whose retention has ended, with holds and closures that block them', response: ok('Due items') }, config: policy(RM) },
    async () => ({ due: await listDue(deps.db) }));

  // What every legal hold states, whether its items are named or found by a search.
  const holdFields = {
    name: { type: 'string', minLength: 1, maxLength: 200 }, reason: { type: 'string', minLength: 1, maxLength: 2000 }, authority: { type: 'string', minLength: 1, maxLength: 200 }, by,
  } as const;

  app.get('/retention/holds', { schema: { tags, summary: "Active legal holds; each item names its book's title (`book`, null when unknown)", response: ok('Holds') }, config: policy(RM) }, async () => {
    const holds = await listHolds(deps.db);
    const titles = await bookTitles(deps.db, holds.flatMap((x) => x.items.map((i) => i.bookId)));
    return { holds: holds.map((x) => ({ ...x, items: x.items.map((i) => ({ ...i, book: titles.get(i.bookId) ?? null })) })) };
  });

  app.post<{ Body: { name: string; reason: string; authority: string; by?: string; items: { bookId: string; pageId?: string }[] } }>('/retention/holds', {
    schema: {
      tags, summary: 'Place a legal hold on books or pages (mirrored to S3 Object Lock legal hold)',
      body: {
        type: 'object', additionalProperties: false, required: ['name', 'reason', 'authority', 'items'],
        properties: {
          ...holdFields,
          items: { type: 'array', minItems: 1, maxItems: 1000, items: { type: 'object', additionalProperties: false, required: ['bookId'], properties: { bookId: uuid, pageId: uuid } } },
        },
      },
      response: { 201: { description: 'The hold', ...anyObject }, ...errorResponses },
    },
    config: policy(RM, 'hold.place'),
  }, async (req, reply) => reply.code(201).send(await placeHold(deps, { ...req.body, by: actingUser(req, req.body.by) })));

  app.post<{ Params: { id: string }; Body: { by?: string; reason: string } }>('/retention/holds/:id/release', {
    schema: { tags, summary: 'Release a legal hold', params: idParam, body: { type: 'object', additionalProperties: false, required: ['reason'], properties: { by, reason: { type: 'string', minLength: 1, maxLength: 2000 } } }, response: ok('The hold') },
    config: policy(RM, 'hold.release'),
  }, async (req) => releaseHold(deps, req.params.id, { user: actingUser(req, req.body.by), reason: req.body.reason }));

  app.post<{ Body: { bookIds: string[]; by?: string; note?: string } }>('/disposal/batches', {
    schema: {
      tags, summary: 'Propose a disposal batch of due books',
      body: { type: 'object', additionalProperties: false, required: ['bookIds'], properties: { bookIds: { type: 'array', minItems: 1, maxItems: 1000, items: uuid }, by, note: { type: 'string', maxLength: 2000 } } },
      response: { 201: { description: 'The batch', ...anyObject }, ...errorResponses },
    },
    config: policy(RM, 'disposal.propose', OWN),
  }, async (req, reply) => reply.code(201).send(await proposeBatch(deps, { ...req.body, by: actingUser(req, req.body.by) })));

  app.get<{ Params: { id: string } }>('/disposal/batches/:id', { schema: { tags, summary: 'A disposal batch', params: idParam, response: ok('The batch') }, config: policy(RM) },
    async (req) => getBatch(deps.db, req.params.id));

  for (const decision of ['approve', 'reject'] as const) {
    app.post<{ Params: { id: string }; Body: { by?: string; note?: string } | null }>(`/disposal/batches/:id/${decision}`, {
      schema: {
        tags, summary: `${decision === 'approve' ? 'Approve' : 'Reject'} a proposed batch (by a different records manager than the proposer)`, params: idParam,
        body: { type: ['object', 'null'], additionalProperties: false, properties: { by, note: { type: 'string', maxLength: 2000 } } }, response: ok('The batch'),
      },
      config: policy(RM, `disposal.${decision}`, OWN),
    }, async (req) => decideBatch(deps, req.params.id, decision, { user: actingUser(req, req.body?.by), ...(req.body?.note ? { note: req.body.note } : {}) }));
  }

  app.post<{ Params: { id: string } }>('/disposal/batches/:id/execute', {
    schema: { tags, summary: 'Execute an approved batch now (held or closed items are skipped and reported)', params: idParam, response: ok('What was disposed of and skipped') },
    config: policy(RM, 'disposal.execute', OWN),
  }, async (req) => executeBatch(deps, req.params.id));

  app.get<{ Params: { bookId: string } }>('/disposal/certificates/:bookId', {
    schema: { tags, summary: "A disposed book's tombstone and certificate, with the certificate hash verified", params: bookIdParam, response: ok('Tombstone and certificate') },
    config: policy(['records_manager', 'auditor']),
  }, async (req) => {
    const r = await getDisposalRecord(deps.db, req.params.bookId);
    return { ...r, certificateValid: r.certificate ? verifyCertificate(r.certificate) : null };
  });

  app.post<{ Body: { bookId?: string; all?: boolean; repair?: boolean } }>('/fixity/runs', {
    schema: {
      tags,
      summary: 'Run a fixity audit now (one book, all objects, or those due in the cycle); with repair, damaged objects are restored from a good copy',
      description: 'Each object is read at its recorded store version. `damaged` counts recorded versions found damaged, missing or unreadable; '
        + '`intruded` counts objects with a version or delete marker above the recorded one that the archive did not write (each problem lists them in '
        + '`intrusions`: version id, size, when written, when found). An intrusion is not damage: repair never deletes or writes over it, it stays as evidence.',
      body: { type: 'object', additionalProperties: false, properties: { bookId: uuid, all: { type: 'boolean' }, repair: { type: 'boolean' } } }, response: ok('The report'),
    },
    config: policy(RM, 'fixity.run'),
  }, async (req) => auditFixity(deps, { ...(req.body?.bookId ? { bookId: req.body.bookId } : {}), all: req.body?.all ?? false }, { repair: req.body?.repair ?? false }));

  app.post<{ Body: { name: string; reason: string; authority: string; by?: string; scope?: 'pages' | 'books'; search: Omit<PageSearchQuery, 'cursor' | 'limit'> } }>('/retention/holds/search', {
    schema: {
      tags, summary: 'Place a legal hold on the results of a page search: every page it finds, or every book with such a page',
      body: {
        type: 'object', additionalProperties: false, required: ['name', 'reason', 'authority', 'search'],
        properties: {
          ...holdFields,
          scope: { enum: ['pages', 'books'] },
          search: {
            type: 'object', additionalProperties: false, required: ['q'],
            properties: {
              q: { type: 'string', minLength: 1, maxLength: 500 }, mode: { enum: [...SEARCH_MODES] }, fuzzy: { type: 'boolean' },
              registerType: { enum: REGISTER_TYPES }, municipality: { type: 'string', maxLength: 200 },
              yearFrom: { type: 'integer' }, yearTo: { type: 'integer' }, bookId: uuid,
            },
          },
        },
      },
      response: { 201: { description: 'The hold, its query and the number of pages matched', ...anyObject }, ...errorResponses },
      description: 'Pages of closed books are held only when the records manager states a purpose (x-access-purpose, kept with the hold\'s query); '
        + 'without one they are left out and only counted (`withheld`), as in every listing.',
    },
    config: policy(RM, 'hold.place'),
  }, async (req, reply) => {
    const purpose = req.auth?.purpose;
    const withhold = (ids: readonly string[]) => booksWithheld(deps.db, { user: caller(req), purpose }, ids);
    const r = await placeHoldOnSearch(deps, { ...req.body, by: actingUser(req, req.body.by), purpose, withhold });
    noteAudit(req, { detail: { withheld: r.withheld } });
    return reply.code(201).send(r);
  });

  app.get<{ Params: { bookId: string } }>('/disposal/certificates/:bookId/pdf', {
    schema: {
      tags, summary: "A disposed book's certificate as PDF (its canonical JSON attached, the JSON's SHA-256 printed)", params: bookIdParam,
      response: { 200: { description: 'The PDF', content: { 'application/pdf': { schema: { type: 'string', format: 'binary' } } } }, ...errorResponses },
    },
    config: policy(['records_manager', 'auditor']),
  }, async (req, reply) => {
    const r = await getDisposalRecord(deps.db, req.params.bookId);
    if (!r.certificate) throw new AppError('ERR_NOT_FOUND', `book ${req.params.bookId} has no certificate yet`);
    return reply.type('application/pdf').header('content-disposition', `attachment; filename="disposal-certificate-${r.bookId}.pdf"`).send(Buffer.from(await certificatePdf(r)));
  });

  app.get<{ Querystring: { limit?: number } }>('/disposal/due-lists', {
    schema: {
      tags, summary: 'Snapshots of the due list stored by the scheduled job, newest first',
      querystring: { type: 'object', additionalProperties: false, properties: { limit: { type: 'integer', minimum: 1, maximum: 100 } } }, response: ok('Snapshots'),
    },
    config: policy(RM),
  }, async (req) => ({ snapshots: await listDueSnapshots(deps.db, req.query.limit ?? 10) }));

  app.get<{ Params: { id: string } }>('/fixity/runs/:id', { schema: { tags, summary: 'A fixity run and its report', params: idParam, response: ok('The run') }, config: policy(RM) }, async (req) => {
    const r = await getFixityRun(deps.db, req.params.id);
    if (!r) throw new AppError('ERR_NOT_FOUND', `fixity run ${req.params.id} not found`);
    return r;
  });
}
