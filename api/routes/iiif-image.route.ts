import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../../app/deps.ts';
import { bookIiifIds, IiifImageService, imageInfo, parseImageRequest } from '../../iiif/index.ts';
import { etagMatches } from '../object-response.ts';
import { noteAudit } from '../access.ts';
import { errorResponses, pageParams } from '../schemas.ts';
import { requirePage } from './pages.route.ts';
import { iiifBase } from './iiif-presentation.route.ts';
import { PAGE_READERS, policy } from '../policies.ts';

type Deps = Pick<AppDeps, 'db' | 'store' | 'config'>;

type PageParams = { bookId: string; sequence: number };
type TileParams = PageParams & { region: string; size: string; rotation: string; quality: string };

const JSON_LD = 'application/ld+json;profile="http://iiif.io/api/image/3/context.json"';
const segment = (description: string) => ({ type: 'string', minLength: 1, maxLength: 100, description }) as const;
const tileParams = {
  type: 'object',
  required: ['bookId', 'sequence', 'region', 'size', 'rotation', 'quality'],
  properties: {
    ...pageParams.properties,
    region: segment('full | square | x,y,w,h | pct:x,y,w,h'),
    size: segment('max | w, | ,h | pct:n | w,h | !w,h (no ^: upscaling is not offered)'),
    rotation: segment('0 | 90 | 180 | 270, optionally after ! (mirrored)'),
    quality: segment('{quality}.{format}: default | color | gray | bitonal, then jpg | png | webp'),
  },
} as const;

/**
 * IIIF Image API 3.0 over the page masters (level 2: regions, sizes, tiles, quarter rotations,
 * gray): for OpenSeadragon, Mirador and any IIIF client. Same roles and closure as the page image;
 * the image requests of one page are audited once per session (a viewer asks for dozens of tiles).
 */
export async function iiifImageRoutes(app: FastifyInstance, opts: { deps: Deps }): Promise<void> {
  const { deps } = opts;
  const images = new IiifImageService(deps);
  const base = '/iiif/3/books/:bookId/pages/:sequence';

  app.get<{ Params: PageParams }>(base, {
    schema: { tags: ['images'], summary: 'IIIF Image API service of a page: redirects (303) to its info.json', params: pageParams, response: { 303: { description: 'See info.json', type: 'null' }, ...errorResponses } },
    config: policy(PAGE_READERS, undefined, { restricted: true }),
    handler: async (req, reply) => reply.code(303).header('location', `${bookIiifIds(iiifBase(req), req.params.bookId).imageService(req.params.sequence)}/info.json`).send(),
  });

  app.get<{ Params: PageParams }>(`${base}/info.json`, {
    schema: {
      tags: ['images'],
      summary: 'IIIF Image API 3.0 info.json of a page: size of the master, tiles, sizes, features (JSON-LD when asked for it)',
      params: pageParams,
      response: { 200: { description: 'ImageService3', type: 'object', additionalProperties: true }, ...errorResponses },
    },
    config: policy(PAGE_READERS, undefined, { restricted: true }),
    handler: async (req, reply) => {
      const page = await requirePage(deps, req.params.bookId, req.params.sequence);
      const { width, height } = images.pageSize(page);
      const accept = req.headers.accept ?? '';
      reply.type(accept.includes('application/ld+json') ? JSON_LD : 'application/json; charset=utf-8');
      reply.header('link', '<http://iiif.io/api/image/3/level2.json>;rel="profile"');
      return imageInfo(bookIiifIds(iiifBase(req), page.bookId).imageService(page.sequence), width, height);
    },
  });

  app.get<{ Params: TileParams }>(`${base}/:region/:size/:rotation/:quality`, {
    schema: {
      tags: ['images'],
      summary: 'IIIF Image API 3.0 image request: a region of the page at a size, rotation, quality and format; ETag per answer, never stored by caches',
      params: tileParams,
      response: { 200: { description: 'The image', content: { 'image/jpeg': { schema: { type: 'string', format: 'binary' } }, 'image/png': { schema: { type: 'string', format: 'binary' } }, 'image/webp': { schema: { type: 'string', format: 'binary' } } } }, 304: { description: 'Not modified', type: 'null' }, ...errorResponses },
    },
    config: policy(PAGE_READERS, 'page.image.read', { restricted: true }),
    handler: async (req, reply) => {
      const p = req.params;
      // Parsed before the page is looked up: a malformed request is a 400 naming its parameter whatever page it names.
      const request = parseImageRequest({ region: p.region, size: p.size, rotation: p.rotation, qualityFormat: p.quality });
      const page = await requirePage(deps, p.bookId, p.sequence);
      noteAudit(req, { oncePerSession: `page:${page.id}:r${page.revision}`, detail: { revision: page.revision, iiif: true } });
      const out = await images.render(page, request, (sha) => etagMatches(req.headers['if-none-match'], sha));
      reply.header('etag', `"${out.sha256}"`);
      reply.header('link', '<http://iiif.io/api/image/3/level2.json>;rel="profile"');
      if (!out.body || etagMatches(req.headers['if-none-match'], out.sha256)) return reply.code(304).send();
      return reply.code(200).type(out.mediaType).header('content-disposition', 'inline').send(out.body);
    },
  });
}
