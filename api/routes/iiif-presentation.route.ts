import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppDeps } from '../../app/deps.ts';
import type { Role } from '../../auth/index.ts';
import {
  bookManifest, entriesAnnotationPage, IGNORED_SEARCH_PARAMS, PRESENTATION_CONTEXT, SEARCH2_CONTEXT, search1Answer, search2Answer, searchBookWords,
} from '../../iiif/index.ts';
import { caller, noteAudit } from '../access.ts';
import { bookIdParam, errorResponses, pageParams } from '../schemas.ts';
import { requireBook } from './books.route.ts';
import { requirePage } from './pages.route.ts';
import { PAGE_READERS, PERSONAL_READERS, policy } from '../policies.ts';

type Deps = Pick<AppDeps, 'db'>;

/** The media type IIIF asks for: JSON-LD with the API's context as profile. */
const ldJson = (context: string) => `application/ld+json;profile="${context}"`;

const jsonLd = (description: string) => ({ 200: { description, type: 'object', additionalProperties: true }, ...errorResponses });

/**
 * The archive's origin as the caller reached it, for the ids in IIIF documents (ARKIVA_PUBLIC_BASE_URL
 * names the public verification page and has a default, so it cannot tell where this API answers).
 */
export function iiifBase(req: FastifyRequest): string {
  return `${req.protocol}://${req.host}`;
}

function mayRead(req: FastifyRequest, roles: readonly Role[]): boolean {
  return caller(req).roles.some((r) => roles.includes(r));
}

function sendLd(reply: FastifyReply, context: string, body: unknown): FastifyReply {
  return reply.type(ldJson(context)).send(JSON.stringify(body));
}

type SearchQs = { q: string; motivation?: string; date?: string; user?: string };

const searchQuery = {
  type: 'object',
  additionalProperties: false,
  required: ['q'],
  properties: {
    q: { type: 'string', maxLength: 500, description: 'Words to find, folded as every search of the archive (case, diacritics, Latin and Cyrillic, dj and đ)' },
    ...Object.fromEntries(IGNORED_SEARCH_PARAMS.map((p) => [p, { type: 'string', maxLength: 500, description: 'Accepted and ignored (listed in the answer\'s `ignored`)' }])),
  },
} as const;

/**
 * IIIF Presentation 3.0 and Content Search within a book: the book's manifest, each page's entries
 * as annotations, and search answers with boxes for viewers (Mirador, Universal Viewer). Access and
 * closure are those of page images; entries and their record links are for those who read personal data.
 */
export async function iiifPresentationRoutes(app: FastifyInstance, opts: { deps: Deps }): Promise<void> {
  const { deps } = opts;

  app.get<{ Params: { bookId: string } }>('/iiif/3/books/:bookId/manifest', {
    schema: {
      tags: ['iiif'],
      summary: "The book's IIIF Presentation 3.0 manifest: a canvas per page (current revision) on the Image API, metadata, ALTO, PDF, entries and search",
      params: bookIdParam,
      response: jsonLd('The manifest (application/ld+json)'),
    },
    config: policy(PAGE_READERS, 'iiif.manifest.read', { restricted: true }),
    handler: async (req, reply) => {
      const personal = mayRead(req, PERSONAL_READERS);
      const manifest = await bookManifest(deps.db, req.params.bookId, { base: iiifBase(req), reader: { entries: personal, pdf: personal } });
      noteAudit(req, { detail: { canvases: (manifest.items as unknown[]).length } });
      return sendLd(reply, PRESENTATION_CONTEXT, manifest);
    },
  });

  app.get<{ Params: { bookId: string; sequence: number } }>('/iiif/3/books/:bookId/annotations/:sequence/entries', {
    schema: {
      tags: ['iiif'],
      summary: "The page's entries as a IIIF annotation page (commenting annotations on their boxes), with links to registry records",
      params: pageParams,
      response: jsonLd('The annotation page (application/ld+json)'),
    },
    config: policy(PERSONAL_READERS, 'entry.read', { restricted: true }),
    handler: async (req, reply) => {
      const page = await requirePage(deps, req.params.bookId, req.params.sequence);
      // Links to records are shown to whoever may read links (GET /entries/:id/links), whatever this route allows.
      const body = await entriesAnnotationPage(deps.db, page, { base: iiifBase(req), links: mayRead(req, PERSONAL_READERS) });
      noteAudit(req, { detail: { entries: (body.items as unknown[]).length } });
      return sendLd(reply, PRESENTATION_CONTEXT, body);
    },
  });

  const search = async (req: FastifyRequest<{ Params: { bookId: string }; Querystring: SearchQs }>, reply: FastifyReply, version: 1 | 2) => {
    const book = await requireBook(deps, req.params.bookId);
    const matches = await searchBookWords(deps.db as AppDeps['db'], book.id, req.query.q);
    const ignored = IGNORED_SEARCH_PARAMS.filter((p) => req.query[p] !== undefined);
    const ctx = { base: iiifBase(req), bookId: book.id, url: `${iiifBase(req)}${req.url}`, ignored };
    noteAudit(req, { detail: { query: req.query.q, version, pages: [...new Set(matches.map((m) => m.sequence))] } });
    return version === 2
      ? sendLd(reply, SEARCH2_CONTEXT, search2Answer(matches, ctx))
      : reply.type('application/json').send(JSON.stringify(search1Answer(matches, ctx)));
  };

  app.get<{ Params: { bookId: string }; Querystring: SearchQs }>('/iiif/3/books/:bookId/search', {
    schema: {
      tags: ['iiif'],
      summary: 'IIIF Content Search 2.0 within the book: each matching word as an annotation on its box (#xywh on its canvas)',
      params: bookIdParam,
      querystring: searchQuery,
      response: jsonLd('An AnnotationPage (application/ld+json)'),
    },
    config: policy(PAGE_READERS, 'book.search', { restricted: true, rateLimit: 120 }),
    handler: async (req, reply) => search(req, reply, 2),
  });

  app.get<{ Params: { bookId: string }; Querystring: SearchQs }>('/iiif/3/books/:bookId/search/v1', {
    schema: {
      tags: ['iiif'],
      summary: 'The same search answered in IIIF Content Search 1.0 (sc:AnnotationList with hits), for viewers that speak only 1.0',
      params: bookIdParam,
      querystring: searchQuery,
      response: jsonLd('An sc:AnnotationList (application/json)'),
    },
    config: policy(PAGE_READERS, 'book.search', { restricted: true, rateLimit: 120 }),
    handler: async (req, reply) => search(req, reply, 1),
  });
}
