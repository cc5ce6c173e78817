import type { FastifyInstance, FastifyRequest } from 'fastify';
import {
  LINK_TYPES, candidatesForEntry, suggestPlaces, createLink, exportLinks, importLinksCsv, importRecords, importRecordsCsv, linksOfItem, linksOfRecord, removedLinksOfRecord, requireRecord, searchRecords, unlink,
  withholdLinks, type BookFilter, type LinkTarget, type LinkType, type RegistryRecordInput,
} from '../../records/index.ts';
import { bulkLink, linkProposals, BULK_LINK_MAX_PAIRS, BULK_LINK_MIN_MARGIN, BULK_LINK_MIN_SCORE, type BulkPair } from '../../records/index.ts';
import { appendInTransaction } from '../../audit/index.ts';
import { enqueueRepackage } from '../../preservation/package-book.ts';
import { requireBook } from './books.route.ts';
import { bookIdParam } from '../schemas.ts';
import { booksWithheld } from '../../auth/index.ts';
import type { AppDeps } from '../../app/deps.ts';
import { EVENT_TYPES, LINK_TARGET_KINDS, type EventType } from '../../common/vocabulary.ts';
import { errorResponses } from '../schemas.ts';
import { actor } from './entries.route.ts';
import { caller, noteAudit } from '../access.ts';
import { PERSONAL_READERS, policy } from '../policies.ts';

// CSV and JSON imports are the only large bodies besides uploads.
const IMPORT_BODY_LIMIT = 10 * 1024 * 1024;

type Deps = Pick<AppDeps, 'db' | 'queue'>;

/** The query of GET /records/candidates. */
interface CandidatesQuery {
  municipality: string; yearFrom: number; yearTo: number; eventType: EventType; surname: string; givenName: string; father?: string; eventDate?: string; limit?: number;
}

const uuid = { type: 'string', format: 'uuid' } as const;
const recordProps = {
  system: { type: 'string', minLength: 1, maxLength: 200 }, recordType: { type: 'string', minLength: 1, maxLength: 200 }, recordId: { type: 'string', minLength: 1, maxLength: 200 },
  personNames: { type: 'array', items: { type: 'string', maxLength: 200 }, maxItems: 20 },
  eventDate: { type: ['string', 'null'] }, municipality: { type: ['string', 'null'], maxLength: 200 },
} as const;
const recordSchema = { type: 'object', additionalProperties: true, properties: { id: uuid, ...recordProps, importedBy: { type: 'string' }, importedAt: { type: 'string', format: 'date-time' } } } as const;
const linkSchema = { type: 'object', additionalProperties: true, properties: { id: uuid, linkType: { type: 'string' }, reason: { type: ['string', 'null'] }, createdBy: { type: 'string' }, unlinkedAt: { type: ['string', 'null'] }, record: { type: 'object', additionalProperties: true }, item: { type: 'object', additionalProperties: true } } } as const;
const reportSchema = { type: 'object', additionalProperties: true, properties: { created: { type: 'integer' }, updated: { type: 'integer' }, unlinked: { type: 'integer' }, errors: { type: 'array', items: { type: 'object', properties: { row: { type: 'integer' }, error: { type: 'string' } } } } } } as const;
const withheld = { type: 'integer', description: 'Links left out because their book is closed and no x-access-purpose was given' } as const;
const links = { 200: { type: 'object', properties: { links: { type: 'array', items: linkSchema }, withheld } }, ...errorResponses } as const;
const history = { type: 'object', additionalProperties: false, properties: { history: { type: 'boolean', default: false, description: 'include unlinked links' } } } as const;

/** Registry records, and links between them and books, pages and entries. */
export async function recordsRoutes(app: FastifyInstance, opts: { deps: Deps }): Promise<void> {
  const { deps } = opts;
  // Every listing of links leaves out those of closed books unless the caller stated a purpose and
  // may read closed books: a link names the closed book's page and entry, with its box.
  const withholdFor = (req: FastifyRequest): BookFilter => (ids) => booksWithheld(deps.db, { user: caller(req), purpose: req.auth?.purpose }, ids);
  const shownLinks = async (req: FastifyRequest, all: Parameters<typeof withholdLinks>[0]) => {
    const r = await withholdLinks(all, withholdFor(req));
    noteAudit(req, { detail: { withheld: r.withheld } });
    return r;
  };
  app.addContentTypeParser('text/csv', { parseAs: 'string' }, (_req, body, done) => done(null, body));

  app.post<{ Body: { records: RegistryRecordInput[] } | string }>('/records/import', {
    bodyLimit: IMPORT_BODY_LIMIT,
    config: policy(PERSONAL_READERS, 'record.import'),
    schema: {
      tags: ['records'], summary: 'Import registry records as JSON ({records:[…]}) or CSV (system,record_type,record_id,person_names,event_date,municipality; names separated by ;). Per-row errors.',
      consumes: ['application/json', 'text/csv'],
      response: { 200: reportSchema, ...errorResponses },
    },
    handler: async (req) => {
      if (typeof req.body === 'string') return importRecordsCsv(deps.db, req.body, { user: actor(req) });
      const rows = Array.isArray(req.body?.records) ? req.body.records : [];
      return importRecords(deps.db, rows, { user: actor(req) });
    },
  });
  app.get<{ Querystring: { name?: string; system?: string; recordId?: string; municipality?: string; limit?: number } }>('/records', {
    schema: {
      tags: ['records'], summary: 'Find registry records by name (fuzzy), system, record id, municipality',
      querystring: { type: 'object', additionalProperties: false, properties: { name: { type: 'string', maxLength: 200 }, system: { type: 'string' }, recordId: { type: 'string' }, municipality: { type: 'string' }, limit: { type: 'integer', minimum: 1, maximum: 200 } } },
      response: { 200: { type: 'object', properties: { records: { type: 'array', items: recordSchema } } }, ...errorResponses },
    },
    config: policy(PERSONAL_READERS, 'record.search', { rateLimit: 120 }),
    handler: async (req) => {
      const records = await searchRecords(deps.db, req.query);
      noteAudit(req, { targetType: 'search', detail: { query: req.query as Record<string, unknown>, records: records.map((r) => r.id) } });
      return { records };
    },
  });
  app.get<{ Querystring: CandidatesQuery }>('/records/candidates', {
    schema: {
      tags: ['records'],
      summary: 'Registry records that may be an entry\'s, best first, each with its score and the reasons for it: names folded across diacritics and script (trigram similarity), date, municipality. Records dated outside the years or of another event type are left out; another municipality ranks a record lower.',
      querystring: {
        type: 'object', additionalProperties: false, required: ['municipality', 'yearFrom', 'yearTo', 'eventType', 'surname', 'givenName'],
        properties: {
          municipality: { type: 'string', minLength: 1, maxLength: 200 }, yearFrom: { type: 'integer', minimum: 1000, maximum: 9999 }, yearTo: { type: 'integer', minimum: 1000, maximum: 9999 },
          eventType: { type: 'string', enum: EVENT_TYPES }, surname: { type: 'string', maxLength: 200 }, givenName: { type: 'string', maxLength: 200 },
          father: { type: 'string', maxLength: 200 }, eventDate: { type: 'string', pattern: '^\\d{4}(-\\d{2}(-\\d{2})?)?$' }, limit: { type: 'integer', minimum: 1, maximum: 100 },
        },
      },
      response: { 200: { type: 'object', properties: { candidates: { type: 'array', items: { type: 'object', properties: { record: recordSchema, score: { type: 'number' }, reasons: { type: 'array', items: { type: 'string' } } } } } } }, ...errorResponses },
    },
    config: policy(PERSONAL_READERS, 'record.candidates', { rateLimit: 240 }),
    handler: async (req) => {
      const { limit, ...entry } = req.query;
      const candidates = await candidatesForEntry(deps.db, entry, limit ? { limit } : {});
      noteAudit(req, { targetType: 'search', detail: { query: req.query as unknown as Record<string, unknown>, records: candidates.map((c) => c.record.id) } });
      return { candidates };
    },
  });
  app.get<{ Querystring: { q: string; limit?: number } }>('/gazetteer/places', {
    schema: {
      tags: ['records'], summary: 'Kosovo municipalities and main settlements whose Albanian, Serbian (Latin or Cyrillic) name or alias starts with q, diacritics and script folded; both canonical names',
      querystring: { type: 'object', additionalProperties: false, required: ['q'], properties: { q: { type: 'string', maxLength: 100 }, limit: { type: 'integer', minimum: 1, maximum: 100 } } },
      response: { 200: { type: 'object', properties: { places: { type: 'array', items: { type: 'object', additionalProperties: true, properties: { sq: { type: 'string' }, sr: { type: 'string' }, srCyrl: { type: 'string' }, kind: { type: 'string' } } } } } }, ...errorResponses },
    },
    config: policy('authenticated'),
    handler: async (req) => ({ places: suggestPlaces(req.query.q, req.query.limit ? { limit: req.query.limit } : {}) }),
  });
  app.get<{ Params: { recordId: string }; Querystring: { history: boolean } }>('/records/:recordId', {
    schema: { tags: ['records'], summary: 'A record with its archive items (each with the image of the page or entry crop)', params: { type: 'object', properties: { recordId: uuid } }, querystring: history, response: { 200: { type: 'object', properties: { record: recordSchema, links: { type: 'array', items: linkSchema }, withheld, removedLinks: { type: 'array', description: 'with history: links whose item was disposed of (tombstones)', items: { type: 'object', additionalProperties: true } } } }, ...errorResponses } },
    config: policy(PERSONAL_READERS, 'record.read'),
    handler: async (req) => ({
      record: await requireRecord(deps.db, req.params.recordId), ...(await shownLinks(req, await linksOfRecord(deps.db, req.params.recordId, { history: req.query.history }))),
      ...(req.query.history ? { removedLinks: await removedLinksOfRecord(deps.db, req.params.recordId) } : {}),
    }),
  });
  app.post<{ Body: { recordId: string; bookId?: string; pageId?: string; entryId?: string; linkType: LinkType; reason?: string } }>('/links', {
    schema: {
      tags: ['records'], summary: 'Link a record to a book, a page or an entry (give exactly one of bookId, pageId, entryId)',
      body: { type: 'object', required: ['recordId', 'linkType'], additionalProperties: false, properties: { recordId: uuid, bookId: uuid, pageId: uuid, entryId: uuid, linkType: { type: 'string', enum: LINK_TYPES }, reason: { type: 'string', maxLength: 2000 } }, oneOf: [{ required: ['bookId'] }, { required: ['pageId'] }, { required: ['entryId'] }] },
      response: { 201: { type: 'object', properties: { link: linkSchema } }, ...errorResponses },
    },
    config: policy(['clerk'], 'link.create'),
    handler: async (req, reply) => {
      const b = req.body;
      const target: LinkTarget = b.entryId ? { kind: 'entry', entryId: b.entryId } : b.pageId ? { kind: 'page', pageId: b.pageId } : { kind: 'book', bookId: b.bookId! };
      return reply.code(201).send({ link: await createLink(deps.db, { recordId: b.recordId, target, linkType: b.linkType, reason: b.reason ?? null }, { user: actor(req) }) });
    },
  });
  app.post<{ Params: { linkId: string }; Body: { reason?: string } | null }>('/links/:linkId/unlink', {
    schema: { tags: ['records'], summary: 'End a link; who, when and why are kept', params: { type: 'object', properties: { linkId: uuid } }, body: { type: ['object', 'null'], additionalProperties: false, properties: { reason: { type: 'string', maxLength: 2000 } } }, response: { 200: { type: 'object', properties: { link: linkSchema } }, ...errorResponses } },
    config: policy(['clerk'], 'link.unlink'),
    handler: async (req) => ({ link: await unlink(deps.db, req.params.linkId, { user: actor(req), reason: req.body?.reason ?? null }) }),
  });
  for (const kind of LINK_TARGET_KINDS) {
    const path = kind === 'book' ? '/books/:id/links' : kind === 'page' ? '/pages/:id/links' : '/entries/:id/links';
    app.get<{ Params: { id: string }; Querystring: { history: boolean } }>(path, {
      schema: { tags: ['records'], summary: `The registry records linked to a ${kind}`, params: { type: 'object', properties: { id: uuid } }, querystring: history, response: links },
      config: policy(PERSONAL_READERS, 'link.read'),
      handler: async (req) => {
        const t: LinkTarget = kind === 'book' ? { kind, bookId: req.params.id } : kind === 'page' ? { kind, pageId: req.params.id } : { kind, entryId: req.params.id };
        return shownLinks(req, await linksOfItem(deps.db, t, { history: req.query.history }));
      },
    });
  }
  app.post<{ Body: string }>('/links/import', {
    schema: { tags: ['records'], summary: 'Bulk link/unlink from CSV (action,system,record_type,record_id,book_id,page,entry_id,link_type,reason); per-row errors', consumes: ['text/csv'], response: { 200: reportSchema, ...errorResponses } },
    bodyLimit: IMPORT_BODY_LIMIT,
    config: policy(['clerk'], 'link.import'),
    handler: async (req) => importLinksCsv(deps.db, String(req.body ?? ''), { user: actor(req) }),
  });
  const candidateSchema = { type: 'object', properties: { record: recordSchema, score: { type: 'number' }, reasons: { type: 'array', items: { type: 'string' } } } } as const;
  app.get<{ Params: { bookId: string }; Querystring: { limit?: number; cursor?: string } }>('/books/:bookId/link-proposals', {
    schema: {
      tags: ['records'],
      summary: `Verified keyed entries of the book, not linked yet, whose best registry candidate is strong (score ≥ ${BULK_LINK_MIN_SCORE}) and unique (the runner-up more than ${BULK_LINK_MIN_MARGIN} below): for a records manager to review and link in bulk`,
      params: bookIdParam,
      querystring: { type: 'object', additionalProperties: false, properties: { limit: { type: 'integer', minimum: 1, maximum: 1000, default: 200, description: 'entries looked at' }, cursor: { type: 'string', maxLength: 100 } } },
      response: {
        200: {
          type: 'object',
          properties: {
            bookId: uuid, considered: { type: 'integer' }, nextCursor: { type: ['string', 'null'] },
            notProposed: { type: 'object', additionalProperties: { type: 'integer' } },
            proposals: {
              type: 'array',
              items: {
                type: 'object',
                properties: {
                  entryId: uuid, zoneId: uuid, page: { type: 'integer' }, entryNumber: { type: ['string', 'null'] },
                  query: { type: 'object', properties: { surname: { type: 'string' }, givenName: { type: 'string' }, father: { type: ['string', 'null'] }, eventDate: { type: ['string', 'null'] } } },
                  candidate: candidateSchema, runnerUpScore: { type: ['number', 'null'] },
                },
              },
            },
          },
        },
        ...errorResponses,
      },
    },
    config: policy(['records_manager'], 'link.proposals.read', { restricted: true, rateLimit: 60 }),
    handler: async (req) => {
      await requireBook(deps, req.params.bookId);
      const r = await linkProposals(deps.db, req.params.bookId, { ...(req.query.limit ? { limit: req.query.limit } : {}), ...(req.query.cursor ? { cursor: req.query.cursor } : {}) });
      noteAudit(req, { detail: { considered: r.considered, entries: r.proposals.map((p) => p.entryId), records: r.proposals.map((p) => p.candidate.record.id) } });
      return r;
    },
  });
  app.post<{ Params: { bookId: string }; Body: { links: BulkPair[] } }>('/books/:bookId/links/bulk', {
    schema: {
      tags: ['records'],
      summary: 'Link reviewed keyed entries of the book to their proposed records (original-entry). Each pair is checked again: the entry still unlinked, the record still its strong and unique best candidate; a pair that is not is refused with the reason, the others are linked, each with its own audit event',
      params: bookIdParam,
      body: {
        type: 'object', required: ['links'], additionalProperties: false,
        properties: { links: { type: 'array', minItems: 1, maxItems: BULK_LINK_MAX_PAIRS, items: { type: 'object', required: ['entryId', 'recordId'], additionalProperties: false, properties: { entryId: uuid, recordId: uuid } } } },
      },
      response: {
        200: {
          type: 'object',
          properties: {
            linked: { type: 'array', items: { type: 'object', properties: { entryId: uuid, recordId: uuid, link: linkSchema, score: { type: 'number' }, runnerUpScore: { type: ['number', 'null'] } } } },
            refused: { type: 'array', items: { type: 'object', properties: { entryId: uuid, recordId: uuid, error: { type: 'string' } } } },
          },
        },
        ...errorResponses,
      },
    },
    config: policy(['records_manager'], 'link.bulk', { restricted: true }),
    handler: async (req) => {
      const bookId = req.params.bookId;
      await requireBook(deps, bookId);
      const user = caller(req);
      const report = await bulkLink(deps.db, bookId, req.body.links, {
        user: user.username,
        // One audit event per link, committed with it: the request's own event only sums them up.
        onLinked: async (tx, l) => void (await appendInTransaction(tx, {
          actorId: user.id, actor: user.username, action: 'link.create', targetType: 'link', targetId: l.link.id, from: req.ip, purpose: req.auth?.purpose ?? null, outcome: 'ok',
          detail: { via: 'bulk', bookId, entryId: l.entryId, recordId: l.recordId, linkType: 'original-entry', score: l.score, runnerUpScore: l.runnerUpScore },
        })),
      });
      noteAudit(req, { detail: { linked: report.linked.map((l) => l.link.id), refused: report.refused.map((r) => ({ entryId: r.entryId, recordId: r.recordId })) } });
      // The package carries each keyed entry's links: rebuild it. The links are made already, so a
      // queue that fails here is logged; the next packaging of the book brings them in.
      if (report.linked.length > 0) {
        await enqueueRepackage(deps, bookId).catch((e: unknown) => req.log.warn({ bookId, err: (e as Error).message }, 'package rebuild after a bulk link not queued'));
      }
      return report;
    },
  });
  app.get<{ Querystring: { bookId?: string; history: boolean } }>('/links/export', {
    schema: { tags: ['records'], summary: 'Links as CSV (the import format plus audit columns); without x-access-purpose links of closed books are left out, their number in the x-withheld header', querystring: { type: 'object', additionalProperties: false, properties: { bookId: uuid, history: { type: 'boolean', default: false } } }, response: { 200: { description: 'CSV', content: { 'text/csv': { schema: { type: 'string' } } } }, ...errorResponses } },
    config: policy(PERSONAL_READERS, 'link.export'),
    handler: async (req, reply) => {
      const { csv, withheld: left } = await exportLinks(deps.db, { ...(req.query.bookId ? { bookId: req.query.bookId } : {}), history: req.query.history, withhold: withholdFor(req) });
      noteAudit(req, { detail: { withheld: left } });
      return reply.type('text/csv; charset=utf-8').header('content-disposition', 'attachment; filename="links.csv"').header('x-withheld', String(left)).send(csv);
    },
  });
}
