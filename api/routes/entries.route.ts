import type { FastifyInstance, FastifyRequest } from 'fastify';
import {
  EVENT_TYPES, NAME_ROLES, createEntry, deleteEntry, listPageEntries, proposeEntriesFromOcr, requireEntry, searchEntries, updateEntry, verifyEntryByStaff,
  type EntryFields, type EntrySearch, type EventType,
} from '../../entries/index.ts';
import type { AppDeps } from '../../app/deps.ts';
import { ENTRY_STATUSES } from '../../common/vocabulary.ts';
import { errorResponses, pageParams } from '../schemas.ts';
import { requirePage } from './pages.route.ts';
import { booksWithheld } from '../../auth/index.ts';
import { caller, noteAudit } from '../access.ts';
import { PERSONAL_READERS, policy } from '../policies.ts';

type Deps = Pick<AppDeps, 'db'>;

/** Who acts: the authenticated caller's username. */
export function actor(req: FastifyRequest): string {
  return caller(req).username;
}

const boxSchema = {
  type: 'object', required: ['x0', 'y0', 'x1', 'y1'], additionalProperties: false,
  properties: { x0: { type: 'integer', minimum: 0 }, y0: { type: 'integer', minimum: 0 }, x1: { type: 'integer', minimum: 1 }, y1: { type: 'integer', minimum: 1 } },
} as const;
const fieldProps = {
  box: boxSchema,
  eventType: { type: 'string', enum: EVENT_TYPES },
  entryNumber: { type: ['string', 'null'], maxLength: 50 },
  eventDate: { type: ['string', 'null'], pattern: '^\\d{4}(-\\d{2}(-\\d{2})?)?$' },
  place: { type: ['string', 'null'], maxLength: 200 },
  marginalNotes: { type: ['string', 'null'], maxLength: 5000 },
  names: {
    type: 'array', maxItems: 20,
    items: { type: 'object', required: ['role', 'name'], additionalProperties: false, properties: { role: { type: 'string', enum: NAME_ROLES }, name: { type: 'string', minLength: 1, maxLength: 200 } } },
  },
} as const;
/** The `Entry` schema. */
export const entrySchema = {
  type: 'object', additionalProperties: true,
  properties: {
    id: { type: 'string' }, bookId: { type: 'string' }, pageId: { type: 'string' }, pageSequence: { type: 'integer' }, ...fieldProps,
    ocrText: { type: ['string', 'null'] }, source: { type: 'string' }, status: { type: 'string' }, createdBy: { type: 'string' },
    createdAt: { type: 'string', format: 'date-time' }, verifiedBy: { type: ['string', 'null'] }, verifiedAt: { type: ['string', 'null'], format: 'date-time' },
    score: { type: 'number' },
  },
} as const;
const idParam = { type: 'object', required: ['entryId'], properties: { entryId: { type: 'string', format: 'uuid' } } } as const;
const one = { 200: { type: 'object', properties: { entry: entrySchema } }, ...errorResponses } as const;
const many = { 200: { type: 'object', properties: { entries: { type: 'array', items: entrySchema } } }, ...errorResponses } as const;

/** Entries: regions of pages with structured fields, by hand or proposed from OCR. */
export async function entriesRoutes(app: FastifyInstance, opts: { deps: Deps }): Promise<void> {
  const { deps } = opts;
  app.get<{ Params: { bookId: string; sequence: number } }>('/books/:bookId/pages/:sequence/entries', {
    schema: { tags: ['entries'], summary: "A page's entries, top to bottom", params: pageParams, response: many },
    config: policy(PERSONAL_READERS, 'entry.read', { restricted: true }),
    handler: async (req) => ({ entries: await listPageEntries(deps.db, (await requirePage(deps, req.params.bookId, req.params.sequence)).id) }),
  });
  app.post<{ Params: { bookId: string; sequence: number }; Body: EntryFields }>('/books/:bookId/pages/:sequence/entries', {
    schema: { tags: ['entries'], summary: 'Create an entry (verified by its author)', params: pageParams, body: { type: 'object', required: ['box', 'eventType'], additionalProperties: false, properties: fieldProps }, response: { 201: one[200], ...errorResponses } },
    config: policy(['clerk'], 'entry.create', { restricted: true }),
    handler: async (req, reply) => {
      const page = await requirePage(deps, req.params.bookId, req.params.sequence);
      return reply.code(201).send({ entry: await createEntry(deps.db, page.id, req.body, { user: actor(req) }) });
    },
  });
  app.post<{ Params: { bookId: string; sequence: number }; Body: { eventType: EventType } }>('/books/:bookId/pages/:sequence/entries/propose', {
    schema: { tags: ['entries'], summary: 'Propose entries from the OCR lines of the page (rows starting with an entry number)', params: pageParams, body: { type: 'object', required: ['eventType'], additionalProperties: false, properties: { eventType: fieldProps.eventType } }, response: many },
    config: policy(['clerk'], 'entry.propose', { restricted: true }),
    handler: async (req) => {
      const page = await requirePage(deps, req.params.bookId, req.params.sequence);
      return { entries: await proposeEntriesFromOcr(deps.db, page.id, { user: actor(req), eventType: req.body.eventType }) };
    },
  });
  app.get<{ Querystring: EntrySearch }>('/entries', {
    schema: {
      tags: ['entries'], summary: 'Search entries by field (names fuzzy, accent- and script-insensitive)',
      querystring: {
        type: 'object', additionalProperties: false,
        properties: {
          name: { type: 'string', maxLength: 200 }, role: { type: 'string', enum: NAME_ROLES }, eventType: fieldProps.eventType,
          entryNumber: { type: 'string', maxLength: 50 }, place: { type: 'string', maxLength: 200 },
          dateFrom: { type: 'string', pattern: '^\\d{4}(-\\d{2}(-\\d{2})?)?$' }, dateTo: { type: 'string', pattern: '^\\d{4}(-\\d{2}(-\\d{2})?)?$' },
          bookId: { type: 'string', format: 'uuid' }, status: { type: 'string', enum: ENTRY_STATUSES },
          limit: { type: 'integer', minimum: 1, maximum: 200, default: 50 },
        },
      },
      response: {
        200: { type: 'object', properties: { entries: { type: 'array', items: entrySchema }, withheld: { type: 'integer', description: 'Entries left out because their books are closed and no x-access-purpose was given' } } },
        ...errorResponses,
      },
    },
    config: policy(PERSONAL_READERS, 'entry.search', { rateLimit: 120 }),
    handler: async (req) => {
      const found = await searchEntries(deps.db, req.query);
      // As with page search: entries of closed books only with a stated purpose.
      const closed = await booksWithheld(deps.db, { user: caller(req), purpose: req.auth?.purpose }, found.map((e) => e.bookId));
      const entries = found.filter((e) => !closed.has(e.bookId));
      const withheld = found.length - entries.length;
      noteAudit(req, { targetType: 'search', detail: { query: req.query as Record<string, unknown>, entries: entries.map((e) => e.id), withheld } });
      return { entries, withheld };
    },
  });
  app.get<{ Params: { entryId: string } }>('/entries/:entryId', {
    schema: { tags: ['entries'], summary: 'One entry', params: idParam, response: one },
    config: policy(PERSONAL_READERS, 'entry.read', { restricted: true }),
    handler: async (req) => ({ entry: await requireEntry(deps.db, req.params.entryId) }),
  });
  app.patch<{ Params: { entryId: string }; Body: Partial<EntryFields> }>('/entries/:entryId', {
    schema: { tags: ['entries'], summary: "Change an entry's fields", params: idParam, body: { type: 'object', additionalProperties: false, properties: fieldProps }, response: one },
    config: policy(['clerk'], 'entry.update', { restricted: true }),
    handler: async (req) => ({ entry: await updateEntry(deps.db, req.params.entryId, req.body, { user: actor(req) }) }),
  });
  app.post<{ Params: { entryId: string }; Body: { status?: 'verified' | 'rejected' } }>('/entries/:entryId/verify', {
    schema: { tags: ['entries'], summary: 'Record that staff verified (or rejected) the entry', params: idParam, body: { type: ['object', 'null'], additionalProperties: false, properties: { status: { type: 'string', enum: ['verified', 'rejected'] } } }, response: one },
    config: policy(['clerk'], 'entry.verify', { restricted: true }),
    handler: async (req) => ({ entry: await verifyEntryByStaff(deps.db, req.params.entryId, { user: actor(req) }, req.body?.status ?? 'verified') }),
  });
  app.delete<{ Params: { entryId: string } }>('/entries/:entryId', {
    schema: { tags: ['entries'], summary: 'Retire an entry (kept for links and history)', params: idParam, response: { 204: { type: 'null' }, ...errorResponses } },
    config: policy(['clerk'], 'entry.delete', { restricted: true }),
    handler: async (req, reply) => {
      await deleteEntry(deps.db, req.params.entryId, { user: actor(req) });
      return reply.code(204).send();
    },
  });
}
