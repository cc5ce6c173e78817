import type { FastifyInstance } from 'fastify';
import { REGISTER_TYPES, type RegisterType } from '../../archive/index.ts';
import { SEARCH_MODES, searchPages, type SearchMode } from '../../search/index.ts';
import type { AppDeps } from '../../app/deps.ts';
import { errorResponses } from '../schemas.ts';
import { booksWithheld } from '../../auth/index.ts';
import { caller, noteAudit } from '../access.ts';
import { PERSONAL_READERS, policy } from '../policies.ts';

type Deps = Pick<AppDeps, 'db'>;

const box = { type: 'object', properties: { x0: { type: 'integer' }, y0: { type: 'integer' }, x1: { type: 'integer' }, y1: { type: 'integer' } } } as const;

/** The `SearchHit` schema (a page that matched). */
export const searchHitSchema = {
  type: 'object',
  properties: {
    pageId: { type: 'string' }, bookId: { type: 'string' }, sequence: { type: 'integer' }, revision: { type: 'integer' }, score: { type: 'number' },
    snippet: { type: 'string', description: 'OCR line of the best match, matched words in «»' },
    words: {
      type: 'array',
      items: { type: 'object', properties: { text: { type: 'string' }, wordIndex: { type: 'integer' }, lineIndex: { type: 'integer' }, confidence: { type: 'number' }, similarity: { type: 'number' }, box } },
    },
    book: { type: 'object', properties: { registerType: { type: 'string' }, municipality: { type: 'string' }, yearFrom: { type: 'integer' }, yearTo: { type: 'integer' }, volume: { type: ['string', 'null'] } } },
    page: { type: 'object', properties: { width: { type: ['integer', 'null'] }, height: { type: ['integer', 'null'] } } },
  },
} as const;

interface SearchQs {
  q: string; mode?: SearchMode; fuzzy?: boolean; registerType?: RegisterType; municipality?: string;
  yearFrom?: number; yearTo?: number; bookId?: string; limit?: number; cursor?: string;
}

/** Full-text search of pages by the words read on them. */
export async function searchRoutes(app: FastifyInstance, opts: { deps: Deps }): Promise<void> {
  const { deps } = opts;
  app.get<{ Querystring: SearchQs }>('/search', {
    schema: {
      tags: ['search'],
      summary: 'Pages where the query was read: accent-insensitive, Latin and Cyrillic alike, tolerant of OCR errors; ranked, with boxes and snippets',
      querystring: {
        type: 'object', additionalProperties: false, required: ['q'],
        properties: {
          q: { type: 'string', minLength: 1, maxLength: 200 },
          mode: { type: 'string', enum: SEARCH_MODES, default: 'words' },
          fuzzy: { type: 'boolean', default: true },
          registerType: { type: 'string', enum: REGISTER_TYPES },
          municipality: { type: 'string', maxLength: 200 },
          yearFrom: { type: 'integer', minimum: 1000, maximum: 9999 },
          yearTo: { type: 'integer', minimum: 1000, maximum: 9999 },
          bookId: { type: 'string', format: 'uuid' },
          limit: { type: 'integer', minimum: 1, maximum: 100, default: 20 },
          cursor: { type: 'string', maxLength: 500, description: 'nextCursor of the previous answer' },
        },
      },
      response: {
        200: {
          type: 'object',
          properties: {
            hits: { type: 'array', items: searchHitSchema },
            nextCursor: { type: ['string', 'null'], description: 'Opaque; send it back as cursor for the next page' },
            withheld: { type: 'integer', description: 'Hits left out of this page because their books are closed and no x-access-purpose was given' },
            terms: { type: 'array', items: { type: 'string' } },
          },
        },
        ...errorResponses,
      },
    },
    config: policy(PERSONAL_READERS, 'search.results', { rateLimit: 120 }),
    handler: async (req) => {
      // Closed books' hits are left out unless the caller stated a purpose (then the audit event
      // carries it) with their own credentials, inside the search, so the page is cut and its cursor made from what may be seen.
      const r = await searchPages(deps.db, req.query, { withhold: (ids) => booksWithheld(deps.db, { user: caller(req), purpose: req.auth?.purpose }, ids) });
      noteAudit(req, { targetType: 'search', detail: { q: req.query.q, hits: r.hits.map((h) => `${h.bookId}/${h.sequence}`), withheld: r.withheld } });
      return r;
    },
  });
}
