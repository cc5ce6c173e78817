import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../../common/index.ts';
import { findObject, listObjects, type ObjectRole, type Page } from '../../archive/index.ts';
import { ALTO_VARIANT } from '../../preservation/index.ts';
import { bookOriginal } from '../../ingest/index.ts';
import { DERIVATIVES, EARLIER_DERIVATIVES, PYRAMID } from '../../workers/index.ts';
import type { AppDeps } from '../../app/deps.ts';
import { sendObject, type SendObjectOptions } from '../object-response.ts';
import { bookIdParam, errorResponses, pageParams } from '../schemas.ts';
import { requireBook } from './books.route.ts';
import { requirePage } from './pages.route.ts';
import { PAGE_READERS, policy } from '../policies.ts';

type Deps = Pick<AppDeps, 'db' | 'store' | 'log'>;

const EXTENSIONS: Record<string, string> = {
  'image/tiff': 'tif',
  'image/png': 'png',
  'image/jpeg': 'jpg',
  'image/webp': 'webp',
  'application/pdf': 'pdf',
  'application/zip': 'zip',
  'application/json': 'json',
  'application/xml': 'xml',
};

const SERVED = [...DERIVATIVES, ...EARLIER_DERIVATIVES, PYRAMID];
const VARIANTS = SERVED.map((d) => d.variant);

const revisionQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    revision: {
      type: 'integer',
      minimum: 1,
      description: "Pin the page revision (as listed with the page's objects); without it the current revision is sent.",
    },
  },
} as const;

const binary = (description: string) => ({
  description,
  content: { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } },
});

const downloadResponses = (what: string) => ({
  200: binary(what),
  206: binary('A byte range of it (Range requests)'),
  304: { description: 'Not modified: the ETag given in If-None-Match is current', type: 'null' },
  ...errorResponses,
});

type PageParams = { Params: { bookId: string; sequence: number }; Querystring: { revision?: number } };

/** Downloads of archived objects: a book's original, a page's master, derivatives and OCR result. */
export async function downloadsRoutes(app: FastifyInstance, opts: { deps: Deps }): Promise<void> {
  const { deps } = opts;
  // HEAD is served here without opening the object: Fastify's automatic HEAD would read it whole.
  const methods: ['GET', 'HEAD'] = ['GET', 'HEAD'];

  app.route<{ Params: { bookId: string } }>({
    method: methods,
    url: '/books/:bookId/original',
    exposeHeadRoute: false,
    config: policy(PAGE_READERS, 'book.original.read', { restricted: true }),
    schema: {
      tags: ['downloads'],
      summary: 'The book as it was uploaded',
      description: 'Supports single byte ranges (206). Never stored by caches (personal data); its ETag never changes.',
      params: bookIdParam,
      response: downloadResponses('The original, byte for byte'),
    },
    handler: async (req, reply) => {
      const book = await requireBook(deps, req.params.bookId);
      const obj = await bookOriginal(deps, book.id);
      if (!obj) throw new AppError('ERR_OBJECT_NOT_FOUND', `book ${book.id} has no original recorded`);
      const ext = EXTENSIONS[obj.mediaType] ?? 'bin';
      return sendObject(deps, req, reply, obj, { filename: `book-${book.id}-original.${ext}`, disposition: 'attachment', ranges: true });
    },
  });

  app.route<PageParams>({
    method: methods,
    url: '/books/:bookId/pages/:sequence/master',
    exposeHeadRoute: false,
    config: policy(PAGE_READERS, 'page.master.read', { restricted: true }),
    schema: {
      tags: ['downloads'],
      summary: "A page's preservation master (lossless TIFF)",
      params: pageParams,
      querystring: revisionQuery,
      response: downloadResponses('The master image'),
    },
    handler: async (req, reply) =>
      sendPageObject(deps, req, reply, { role: 'master', name: 'master', disposition: 'attachment' }),
  });

  app.route<PageParams & { Params: { variant: string } }>({
    method: methods,
    url: '/books/:bookId/pages/:sequence/derivatives/:variant',
    exposeHeadRoute: false,
    config: policy(PAGE_READERS, 'page.image.read', { restricted: true }),
    schema: {
      tags: ['downloads'],
      summary: "A page's access derivative (viewer image or thumbnail)",
      params: {
        type: 'object',
        required: [...pageParams.required, 'variant'],
        properties: { ...pageParams.properties, variant: { type: 'string', enum: VARIANTS, description: `${DERIVATIVES.map((d) => `${d.variant}: ${d.width} px wide ${d.mediaType}`).join('; ')}; ${EARLIER_DERIVATIVES.map((d) => `${d.variant}: the same view, on pages archived before it became JPEG`).join('; ')}; ${PYRAMID.variant}: the master as a tiled pyramidal TIFF of JPEG tiles (deep zoom; pages archived since IIIF)` } },
      },
      querystring: revisionQuery,
      response: downloadResponses('The derivative image'),
    },
    handler: async (req, reply) =>
      sendPageObject(deps, req, reply, { role: 'derivative', variant: req.params.variant, name: req.params.variant, disposition: 'inline' }),
  });

  app.route<PageParams>({
    method: methods,
    url: '/books/:bookId/pages/:sequence/ocr',
    exposeHeadRoute: false,
    config: policy(PAGE_READERS, 'page.ocr.read', { restricted: true }),
    schema: {
      tags: ['downloads'],
      summary: "A page's OCR result: text, words and lines with boxes and confidences (JSON)",
      params: pageParams,
      querystring: revisionQuery,
      response: downloadResponses('The archived OCR result'),
    },
    handler: async (req, reply) =>
      sendPageObject(deps, req, reply, { role: 'ocr', variant: 'ocr-json', name: 'ocr', disposition: 'attachment' }),
  });

  app.route<PageParams>({
    method: methods,
    url: '/books/:bookId/pages/:sequence/alto',
    exposeHeadRoute: false,
    config: policy(PAGE_READERS, 'page.ocr.read', { restricted: true }),
    schema: {
      tags: ['downloads'],
      summary: "A page's text as ALTO 4.2 XML, as the archival package holds it (made when the book is packaged; the IIIF manifest's seeAlso)",
      params: pageParams,
      querystring: revisionQuery,
      response: downloadResponses('The ALTO XML'),
    },
    handler: async (req, reply) => {
      const page = await requirePage(deps, req.params.bookId, req.params.sequence);
      // One ALTO is current per page revision (a correction supersedes the one before), whatever text revision it holds.
      const alto = (await listObjects(deps.db, page.bookId, { pageId: page.id })).find((o) => o.role === 'alto' && o.revision === page.revision);
      return sendPageObject(deps, req, reply, { role: 'alto', variant: alto?.variant ?? ALTO_VARIANT, name: 'alto', disposition: 'inline' });
    },
  });
}

async function sendPageObject(
  deps: Deps,
  req: FastifyRequest<PageParams>,
  reply: FastifyReply,
  what: { role: ObjectRole; variant?: string; name: string; disposition: SendObjectOptions['disposition'] },
): Promise<FastifyReply> {
  const page: Page = await requirePage(deps, req.params.bookId, req.params.sequence);
  const pinned = req.query.revision;
  if (pinned !== undefined && pinned !== page.revision) {
    // Objects of a replaced revision stay archived but are not served as current.
    throw new AppError('ERR_OBJECT_NOT_FOUND', `page ${page.sequence} is at revision ${page.revision}, not ${pinned}`);
  }
  const obj = await findObject(deps.db, { bookId: page.bookId, pageId: page.id, role: what.role, variant: what.variant ?? '', revision: page.revision });
  if (!obj) throw new AppError('ERR_OBJECT_NOT_FOUND', `page ${page.sequence} has no ${what.name} yet (status ${page.status})`);
  const seq = String(page.sequence).padStart(4, '0');
  const ext = EXTENSIONS[obj.mediaType] ?? 'bin';
  return sendObject(deps, req, reply, obj, {
    filename: `book-${page.bookId}-page-${seq}-r${page.revision}-${what.name}.${ext}`,
    disposition: what.disposition,
  });
}
