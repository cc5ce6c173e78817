import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { viewerImage, VIEW_WIDTH, type ViewerImage } from '../../search/page-image.ts';
import { requireEntry } from '../../entries/index.ts';
import { getPage } from '../../archive/index.ts';
import type { AppDeps } from '../../app/deps.ts';
import { etagMatches } from '../object-response.ts';
import { errorResponses, pageParams } from '../schemas.ts';
import { requirePage } from './pages.route.ts';
import { AppError } from '../../common/index.ts';
import { PAGE_READERS, PERSONAL_READERS, policy } from '../policies.ts';

type Deps = Pick<AppDeps, 'db' | 'store' | 'config'>;

const widthProp = { type: 'integer', minimum: VIEW_WIDTH.min, maximum: VIEW_WIDTH.max, default: 1200 } as const;
const revisionProp = { type: 'integer', minimum: 1, description: 'Pin the page revision: a page since replaced is then refused (404), not served as its rescan' } as const;
const imageResponse = { 200: { description: 'JPEG image', content: { 'image/jpeg': { schema: { type: 'string', format: 'binary' } } } }, 304: { description: 'Not modified', type: 'null' }, ...errorResponses };

// No Cache-Control here: page images are personal data, `no-store` for every signed-in caller (api/index.ts);
// the ETag still answers a client that kept the image itself.
function send(req: FastifyRequest, reply: FastifyReply, img: ViewerImage) {
  reply.header('etag', `"${img.sha256}"`);
  if (etagMatches(req.headers['if-none-match'], img.sha256)) return reply.code(304).send();
  return reply.code(200).type(img.mediaType).header('content-disposition', 'inline').send(img.body);
}

/** Page images for viewers: a page at a width, a region of it, an entry's crop. */
export async function imagesRoutes(app: FastifyInstance, opts: { deps: Deps }): Promise<void> {
  const { deps } = opts;

  app.get<{ Params: { bookId: string; sequence: number }; Querystring: { width: number; revision?: number; x0?: number; y0?: number; x1?: number; y1?: number } }>(
    '/books/:bookId/pages/:sequence/image',
    {
      schema: {
        tags: ['images'],
        summary: 'The page as JPEG at a width, or a region of it (x0,y0,x1,y1 in master pixels); with ETag, never stored by caches',
        params: pageParams,
        querystring: {
          type: 'object', additionalProperties: false,
          properties: { width: widthProp, revision: revisionProp, x0: { type: 'integer', minimum: 0 }, y0: { type: 'integer', minimum: 0 }, x1: { type: 'integer', minimum: 1 }, y1: { type: 'integer', minimum: 1 } },
        },
        response: imageResponse,
      },
      config: policy(PAGE_READERS, 'page.image.read', { restricted: true }),
      handler: async (req, reply) => {
        const page = await requirePage(deps, req.params.bookId, req.params.sequence);
        const q = req.query;
        if (q.revision !== undefined && q.revision !== page.revision) throw new AppError('ERR_NOT_FOUND', `page ${page.sequence} is at revision ${page.revision}`);
        const coords = [q.x0, q.y0, q.x1, q.y1];
        if (coords.some((c) => c !== undefined) && coords.some((c) => c === undefined)) throw new AppError('ERR_VALIDATION', 'a region needs all of x0, y0, x1, y1', { field: 'x0' });
        const box = q.x0 !== undefined ? { x0: q.x0, y0: q.y0!, x1: q.x1!, y1: q.y1! } : undefined;
        return send(req, reply, await viewerImage(deps, page, { width: q.width, ...(box ? { box } : {}) }));
      },
    },
  );

  app.get<{ Params: { entryId: string }; Querystring: { width: number; margin?: number } }>('/entries/:entryId/image', {
    schema: {
      tags: ['images'],
      summary: "The entry's region of its page as JPEG",
      params: { type: 'object', required: ['entryId'], properties: { entryId: { type: 'string', format: 'uuid' } } },
      querystring: { type: 'object', additionalProperties: false, properties: { width: { ...widthProp, default: 800 }, margin: { type: 'integer', minimum: 0, maximum: 200, default: 8 } } },
      response: imageResponse,
    },
    config: policy(PERSONAL_READERS, 'entry.image.read', { restricted: true }),
    handler: async (req, reply) => {
      const entry = await requireEntry(deps.db, req.params.entryId);
      const page = await getPage(deps.db, entry.pageId);
      if (!page) throw new AppError('ERR_PAGE_NOT_FOUND', `no page ${entry.pageId}`);
      const m = req.query.margin ?? 8;
      const w = page.width ?? entry.box.x1 + m;
      const h = page.height ?? entry.box.y1 + m;
      const box = { x0: Math.max(0, entry.box.x0 - m), y0: Math.max(0, entry.box.y0 - m), x1: Math.min(w, entry.box.x1 + m), y1: Math.min(h, entry.box.y1 + m) };
      return send(req, reply, await viewerImage(deps, page, { width: req.query.width, box }));
    },
  });
}
