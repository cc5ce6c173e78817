import sharp from 'sharp';
import { AppError } from '../common/index.ts';
import { findPageObjects, type Page, type StoredObject } from '../archive/index.ts';
import { readObject } from '../storage/index.ts';
import type { AppDeps } from '../app/deps.ts';
import { canonicalSpec, resolveImageRequest, type ImageRequest, type ResolvedRequest } from './image-request.ts';
import { IMAGE_LIMITS } from './info.ts';
import { findRendering, recordRendering } from './tile-cache.store.ts';

type Deps = Pick<AppDeps, 'db' | 'store' | 'config'>;

/** The master stage's tiled pyramid of a page (derivative variant), when it made one. */
export const PYRAMID_VARIANT = 'pyramid-tiff';

/** One rendered answer and its validator. */
export interface Rendering {
  /** Undefined when the caller's ETag matched a cached rendering (nothing was read). */
  body?: Buffer;
  sha256: string;
  mediaType: string;
}

interface Level {
  page: number;
  width: number;
  height: number;
}
interface LoadedSource {
  sha256: string;
  body: Buffer;
  /** Full resolution first, then each reduction the file holds. */
  levels: Level[];
}

const MEDIA_TYPES = { jpg: 'image/jpeg', png: 'image/png', webp: 'image/webp' } as const;

/**
 * Serves IIIF image requests for page revisions. Sources (the pyramid or the master) are read whole
 * from the store once and kept in a bounded in-process cache, so a viewer's burst of tile requests
 * for one page reads the object once; concurrent first requests share one read. Renderings are
 * kept in the store (content-addressed, found again through page_image_cache), so another process
 * or a later visit answers without decoding.
 */
export class IiifImageService {
  private readonly sources = new Map<string, LoadedSource>();
  private readonly loading = new Map<string, Promise<LoadedSource>>();
  private cachedBytes = 0;

  constructor(
    private readonly deps: Deps,
    // 256 MB: some twenty pyramids of 600 dpi pages (a few viewers at once), or three colour masters.
    private readonly opts: { sourceCacheBytes: number } = { sourceCacheBytes: 256 * 1024 * 1024 },
  ) {}

  /** The full-resolution size of a page: the master's, as recorded by the master stage. */
  pageSize(page: Page): { width: number; height: number } {
    if (page.width === null || page.height === null) throw new AppError('ERR_OBJECT_NOT_FOUND', `page ${page.sequence} has no master image yet`);
    return { width: page.width, height: page.height };
  }

  /** Resolves and renders `req` for `page`; `etagMatches` lets a cached rendering the caller already holds be answered (304) without reading it. */
  async render(page: Page, req: ImageRequest, etagMatches?: (sha256: string) => boolean): Promise<Rendering & { resolved: ResolvedRequest }> {
    const resolved = resolveImageRequest(req, this.pageSize(page), IMAGE_LIMITS);
    const spec = canonicalSpec(resolved);
    const place = { pageId: page.id, revision: page.revision };
    const mediaType = MEDIA_TYPES[resolved.format];
    const cached = await findRendering(this.deps.db, place, spec);
    if (cached) {
      if (etagMatches?.(cached.sha256)) return { sha256: cached.sha256, mediaType: cached.mediaType, resolved };
      // Content addressing shares identical tiles between pages and books, and a disposal removes its
      // book's cached keys: a rendering gone from the store is made again (and stored again) below.
      const body = await readObject(this.deps.store, cached.storeKey, { expectedSha256: cached.sha256 }).catch(() => undefined);
      if (body) return { body, sha256: cached.sha256, mediaType: cached.mediaType, resolved };
    }
    const source = await this.source(page);
    const body = await renderFrom(source, this.pageSize(page), resolved, this.deps.config.ingest.maxPixels);
    const put = await this.deps.store.putContentAddressed('iiif-cache', body, { contentType: mediaType });
    await recordRendering(this.deps.db, place, spec, put, mediaType);
    return { body, sha256: put.sha256, mediaType, resolved };
  }

  private async source(page: Page): Promise<LoadedSource> {
    const objects = await findPageObjects(this.deps.db, { bookId: page.bookId, pageId: page.id, revision: page.revision });
    // Books archived before the master stage made pyramids are served from their masters.
    const obj = objects.get(`derivative/${PYRAMID_VARIANT}`) ?? objects.get('master');
    if (!obj) throw new AppError('ERR_OBJECT_NOT_FOUND', `page ${page.sequence} has no master image yet`);
    const hit = this.sources.get(obj.sha256);
    if (hit) {
      // Most recently used last: Map keeps insertion order.
      this.sources.delete(obj.sha256);
      this.sources.set(obj.sha256, hit);
      return hit;
    }
    const pending = this.loading.get(obj.sha256);
    if (pending) return pending;
    const load = this.load(obj).finally(() => this.loading.delete(obj.sha256));
    this.loading.set(obj.sha256, load);
    return load;
  }

  private async load(obj: StoredObject): Promise<LoadedSource> {
    const body = await readObject(this.deps.store, obj.storeKey, { expectedSha256: obj.sha256 });
    const open = { limitInputPixels: this.deps.config.ingest.maxPixels, failOn: 'error' as const };
    const meta = await sharp(body, open).metadata();
    const levels: Level[] = [{ page: 0, width: meta.width!, height: meta.height! }];
    // A pyramidal TIFF holds each reduction as a further page (libvips writes them halving).
    for (let p = 1; p < (meta.pages ?? 1); p++) {
      const m = await sharp(body, { ...open, page: p }).metadata();
      levels.push({ page: p, width: m.width!, height: m.height! });
    }
    const loaded = { sha256: obj.sha256, body, levels };
    if (body.length <= this.opts.sourceCacheBytes) {
      this.sources.set(obj.sha256, loaded);
      this.cachedBytes += body.length;
      for (const [k, v] of this.sources) {
        if (this.cachedBytes <= this.opts.sourceCacheBytes) break;
        this.sources.delete(k);
        this.cachedBytes -= v.body.length;
      }
    }
    return loaded;
  }
}

/**
 * Cuts and scales from the smallest level that still has at least the pixels asked for (never
 * scaling a reduction up), then mirrors, turns, converts and encodes.
 */
async function renderFrom(source: LoadedSource, full: { width: number; height: number }, r: ResolvedRequest, maxPixels: number): Promise<Buffer> {
  const reduction = Math.min(r.box.w / r.width, r.box.h / r.height);
  let level = source.levels[0]!;
  for (const l of source.levels) if (full.width / l.width <= reduction + 1e-9) level = l;
  const fx = level.width / full.width;
  const fy = level.height / full.height;
  const left = Math.min(level.width - 1, Math.floor(r.box.x * fx));
  const top = Math.min(level.height - 1, Math.floor(r.box.y * fy));
  const right = Math.max(left + 1, Math.min(level.width, Math.round((r.box.x + r.box.w) * fx)));
  const bottom = Math.max(top + 1, Math.min(level.height, Math.round((r.box.y + r.box.h) * fy)));
  let img = sharp(source.body, { limitInputPixels: maxPixels, failOn: 'error', page: level.page })
    .extract({ left, top, width: right - left, height: bottom - top })
    .resize({ width: r.width, height: r.height, fit: 'fill' });
  if (r.mirror) img = img.flop();
  if (r.rotation !== 0) img = img.rotate(r.rotation);
  if (r.quality === 'gray') img = img.toColourspace('b-w');
  if (r.quality === 'bitonal') img = img.toColourspace('b-w').threshold(128);
  switch (r.format) {
    case 'jpg':
      return img.jpeg({ quality: 80 }).toBuffer();
    case 'png':
      return img.png().toBuffer();
    case 'webp':
      return img.webp({ quality: 80 }).toBuffer();
  }
}
