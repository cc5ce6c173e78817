import type { FastifyInstance } from 'fastify';
import { AppError } from '../../common/index.ts';
import { findPackage, listPackages } from '../../preservation/index.ts';
import type { AppDeps } from '../../app/deps.ts';
import { sendObject } from '../object-response.ts';
import { bookIdParam, errorResponses } from '../schemas.ts';
import { requireBook } from './books.route.ts';
import { BOOK_STAFF, PERSONAL_READERS, policy } from '../policies.ts';

type Deps = Pick<AppDeps, 'db' | 'store' | 'log'>;

const binary = (description: string) => ({ description, content: { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } } });
const downloadResponses = (what: string) => ({
  200: binary(what),
  206: binary('A byte range of it (Range requests)'),
  304: { description: 'Not modified: the ETag given in If-None-Match is current', type: 'null' },
  ...errorResponses,
});

/** Downloads of a book's preservation outputs: its BagIt package (tar), earlier packages, and its PDF/A. */
export async function packageRoutes(app: FastifyInstance, opts: { deps: Deps }): Promise<void> {
  const { deps } = opts;
  const methods: ['GET', 'HEAD'] = ['GET', 'HEAD'];

  app.route<{ Params: { bookId: string } }>({
    method: methods,
    url: '/books/:bookId/package',
    exposeHeadRoute: false,
    config: policy(PERSONAL_READERS, 'book.package.read', { restricted: true }),
    schema: {
      tags: ['downloads'],
      summary: "The book's current archival information package (BagIt 1.0 bag as a tar)",
      description: 'Rebuilt when a page is replaced; earlier packages stay available under /packages/{generation}.',
      params: bookIdParam,
      response: downloadResponses('The package (POSIX tar)'),
    },
    handler: async (req, reply) => {
      const book = await requireBook(deps, req.params.bookId);
      const obj = await findPackage(deps, book.id);
      return sendObject(deps, req, reply, obj, { filename: `book-${book.id}-package-${obj.revision}.tar`, disposition: 'attachment', ranges: true });
    },
  });

  app.get<{ Params: { bookId: string } }>('/books/:bookId/packages', {
    schema: {
      tags: ['downloads'],
      summary: 'Every package generation of the book, newest first',
      params: bookIdParam,
      response: {
        200: {
          type: 'object',
          properties: {
            packages: {
              type: 'array',
              items: {
                type: 'object',
                properties: {
                  generation: { type: 'integer' }, current: { type: 'boolean' }, sha256: { type: 'string' }, size: { type: 'integer' },
                  createdAt: { type: 'string', format: 'date-time' }, pdfSha256: { type: ['string', 'null'] },
                },
              },
            },
          },
        },
        ...errorResponses,
      },
    },
    config: policy(BOOK_STAFF),
    handler: async (req) => {
      const book = await requireBook(deps, req.params.bookId);
      const all = await listPackages(deps.db, book.id);
      return {
        packages: all.map((p) => ({
          generation: p.generation, current: p.current, sha256: p.object.sha256, size: p.object.size,
          createdAt: new Date(p.object.createdAt).toISOString(), pdfSha256: p.pdf?.sha256 ?? null,
        })),
      };
    },
  });

  app.route<{ Params: { bookId: string; generation: number } }>({
    method: methods,
    url: '/books/:bookId/packages/:generation',
    exposeHeadRoute: false,
    config: policy(PERSONAL_READERS, 'book.package.read', { restricted: true }),
    schema: {
      tags: ['downloads'],
      summary: 'One package generation, current or superseded',
      params: { type: 'object', required: ['bookId', 'generation'], properties: { ...bookIdParam.properties, generation: { type: 'integer', minimum: 1 } } },
      response: downloadResponses('The package (POSIX tar)'),
    },
    handler: async (req, reply) => {
      const book = await requireBook(deps, req.params.bookId);
      const obj = await findPackage(deps, book.id, req.params.generation);
      return sendObject(deps, req, reply, obj, { filename: `book-${book.id}-package-${obj.revision}.tar`, disposition: 'attachment', ranges: true });
    },
  });

  app.route<{ Params: { bookId: string } }>({
    method: methods,
    url: '/books/:bookId/pdf',
    exposeHeadRoute: false,
    config: policy(PERSONAL_READERS, 'book.pdf.read', { restricted: true }),
    schema: {
      tags: ['downloads'],
      summary: "The book as one searchable PDF/A-2b (page images with an invisible OCR text layer)",
      params: bookIdParam,
      response: downloadResponses('The PDF'),
    },
    handler: async (req, reply) => {
      const book = await requireBook(deps, req.params.bookId);
      const current = (await listPackages(deps.db, book.id)).find((p) => p.current);
      if (!current?.pdf) throw new AppError('ERR_OBJECT_NOT_FOUND', `book ${book.id} has no PDF yet`);
      return sendObject(deps, req, reply, current.pdf, { filename: `book-${book.id}-${current.generation}.pdf`, disposition: 'attachment', ranges: true });
    },
  });
}
