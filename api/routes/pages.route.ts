import type { FastifyInstance } from 'fastify';
import { AppError } from '../../common/index.ts';
import { getPageBySequence, hasPageSource, listObjects, listPages, type PageStatus, type StoredObject } from '../../archive/index.ts';
import { replacePage } from '../../ingest/index.ts';
import type { AppDeps } from '../../app/deps.ts';
import { openUpload, registerUploadParsers, tooLargeError } from '../upload.ts';
import { PAGE_STATUSES, bookIdParam, errorResponses, pageObjectSchema, pageParams } from '../schemas.ts';
import { requireBook } from './books.route.ts';
import { caller } from '../access.ts';
import { BOOK_STAFF, policy } from '../policies.ts';
import { pageFacts } from '../page-facts.store.ts';

type Deps = Pick<AppDeps, 'db' | 'store' | 'queue' | 'log' | 'config'>;

/** Media types a replacement page image can be sent as in a raw body. */
export const RAW_IMAGE_TYPES = ['image/png', 'image/jpeg', 'image/tiff'] as const;

// Stages read a page's source whole into memory, and refuse one over 512 MiB (storage/read-object.ts):
// a bigger replacement could be archived but never processed.
const PAGE_IMAGE_MAX_BYTES = 512 * 1024 * 1024;

/** Pages of a book: list, detail with its objects, and replacement by a rescanned image. */
export async function pagesRoutes(app: FastifyInstance, opts: { deps: Deps }): Promise<void> {
  const { deps } = opts;
  const maxBytes = Math.min(deps.config.ingest.uploadMaxBytes, PAGE_IMAGE_MAX_BYTES);
  await registerUploadParsers(app, { maxBytes, rawTypes: RAW_IMAGE_TYPES });

  app.get<{ Params: { bookId: string }; Querystring: { status?: PageStatus } }>('/books/:bookId/pages', {
    schema: {
      tags: ['pages'],
      summary: "A book's pages in order: status, stage, failure reason, dimensions, OCR confidence",
      params: bookIdParam,
      querystring: { type: 'object', additionalProperties: false, properties: { status: { type: 'string', enum: PAGE_STATUSES } } },
      response: { 200: { type: 'object', properties: { pages: { type: 'array', items: { $ref: 'Page#' } } } }, ...errorResponses },
    },
    config: policy(BOOK_STAFF),
    handler: async (req) => {
      const book = await requireBook(deps, req.params.bookId);
      const pages = await listPages(deps.db, book.id, req.query.status ? { status: req.query.status } : {});
      // Retry restarts a failed page from its source image: a page the split could not take from
      // the original has none, and only a rescan (replace) helps. Failed pages are few: one query each.
      return { pages: await Promise.all(pages.map(async (p) => (p.status === 'failed' ? { ...p, retryable: await hasPageSource(deps.db, p) } : p))) };
    },
  });

  app.get<{ Params: { bookId: string; sequence: number } }>('/books/:bookId/pages/:sequence', {
    schema: {
      tags: ['pages'],
      summary: 'One page, with the objects archived for its current revision',
      params: pageParams,
      response: {
        200: {
          type: 'object',
          properties: {
            page: { $ref: 'Page#' }, objects: { type: 'array', items: pageObjectSchema },
            facts: { type: 'object', description: "The page's classified type and the OCR engine that read it (null before)", properties: { pageType: { type: ['string', 'null'] }, ocrEngine: { type: ['string', 'null'] } } },
          },
        },
        ...errorResponses,
      },
    },
    config: policy(BOOK_STAFF),
    handler: async (req) => {
      const page = await requirePage(deps, req.params.bookId, req.params.sequence);
      const objects = (await listObjects(deps.db, page.bookId, { pageId: page.id })).filter((o) => o.revision === page.revision);
      return { page, objects: objects.map((o) => ({ ...o, href: downloadHref(o, page.sequence) })), facts: await pageFacts(deps.db, page.id) };
    },
  });

  app.put<{ Params: { bookId: string; sequence: number } }>('/books/:bookId/pages/:sequence/image', {
    schema: {
      tags: ['pages'],
      summary: "Replace a page's image with a rescan",
      description: `Send the image as multipart/form-data (one file part) or as a raw body of ${RAW_IMAGE_TYPES.join(', ')}. The page gets a new revision and goes through every stage again; the previous revision's objects stay archived. At most ${maxBytes} bytes.`,
      consumes: ['multipart/form-data', ...RAW_IMAGE_TYPES],
      params: pageParams,
      response: { 202: { type: 'object', properties: { page: { $ref: 'Page#' } } }, ...errorResponses },
    },
    config: {
      ...policy(['digitiser'], 'page.replace'),
      swaggerTransform: ({ schema, url }) => ({
        url,
        schema: {
          ...schema,
          body: {
            content: {
              'multipart/form-data': { schema: { type: 'object', required: ['file'], properties: { file: { type: 'string', format: 'binary' } } } },
              ...Object.fromEntries(RAW_IMAGE_TYPES.map((t) => [t, { schema: { type: 'string', format: 'binary' } }])),
            },
          },
        },
      }),
    },
    handler: async (req, reply) => {
      // Checked before reading the image, so a wrong address costs no upload.
      await requirePage(deps, req.params.bookId, req.params.sequence);
      const upload = await openUpload(req, { maxBytes, fieldNames: [], hint: `multipart/form-data or a raw body of ${RAW_IMAGE_TYPES.join(', ')}` });
      let page;
      try {
        page = await replacePage(deps, req.params.bookId, req.params.sequence, upload.stream, { replacedBy: caller(req).username });
      } catch (e) {
        if (upload.tooLarge()) throw tooLargeError(maxBytes);
        upload.abort();
        const refusal = upload.refusal();
        if (refusal) throw refusal;
        throw e;
      }
      await upload.finish();
      return reply.code(202).send({ page });
    },
  });
}

/** The page, or a 404 naming what was not found. */
export async function requirePage(deps: Pick<AppDeps, 'db'>, bookId: string, sequence: number) {
  await requireBook(deps, bookId);
  const page = await getPageBySequence(deps.db, bookId, sequence);
  if (!page) throw new AppError('ERR_PAGE_NOT_FOUND', `book ${bookId} has no page ${sequence}`);
  return page;
}

function downloadHref(o: StoredObject, sequence: number): string | null {
  const base = `/books/${o.bookId}/pages/${sequence}`;
  const pin = `?revision=${o.revision}`;
  if (o.role === 'master') return `${base}/master${pin}`;
  if (o.role === 'derivative') return `${base}/derivatives/${o.variant}${pin}`;
  if (o.role === 'ocr' && o.variant === 'ocr-json') return `${base}/ocr${pin}`;
  return null;
}
