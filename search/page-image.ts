import sharp from 'sharp';
import { AppError } from '../common/index.ts';
import { findPageObjects, type Page } from '../archive/index.ts';
import { readObject } from '../storage/index.ts';
import type { AppDeps } from '../app/deps.ts';
import { findCachedImage, recordCachedImage } from './page-image.store.ts';

type Deps = Pick<AppDeps, 'db' | 'store' | 'config'>;

/** A viewer image: the bytes and their validator. */
export interface ViewerImage {
  body: Buffer;
  sha256: string;
  mediaType: 'image/jpeg';
}

/** Widths a viewer may ask for. */
export const VIEW_WIDTH = { min: 64, max: 4000 } as const;

/**
 * A page at `width` (no enlargement), or the crop `box` (master pixels) of it scaled to `width`.
 * Generated once per page revision and request, from the view derivative when it is wide enough
 * and the region is the whole page, otherwise from the master; cached content-addressed in the
 * store and found again through page_image_cache.
 */
export async function viewerImage(deps: Deps, page: Page, req: { width: number; box?: { x0: number; y0: number; x1: number; y1: number } }): Promise<ViewerImage> {
  const width = Math.round(req.width);
  if (!(width >= VIEW_WIDTH.min && width <= VIEW_WIDTH.max)) throw new AppError('ERR_VALIDATION', `width must be ${VIEW_WIDTH.min}..${VIEW_WIDTH.max}`, { field: 'width' });
  const box = req.box;
  if (box && page.width !== null && page.height !== null) {
    if (!(box.x0 >= 0 && box.y0 >= 0 && box.x1 > box.x0 && box.y1 > box.y0 && box.x1 <= page.width && box.y1 <= page.height)) {
      throw new AppError('ERR_VALIDATION', `the region must lie within the page (${page.width}x${page.height})`, { field: 'box' });
    }
  }
  const spec = box ? `crop:${box.x0},${box.y0},${box.x1},${box.y1}:w${width}` : `w${width}`;
  const place = { bookId: page.bookId, pageId: page.id, revision: page.revision };
  const cached = await findCachedImage(deps.db, place, spec);
  if (cached) {
    const body = await readObject(deps.store, cached.storeKey, { expectedSha256: cached.sha256 });
    return { body, sha256: cached.sha256, mediaType: 'image/jpeg' };
  }
  const objects = await findPageObjects(deps.db, place);
  // Pages archived before the view became JPEG have it as WebP.
  const view = box ? undefined : objects.get('derivative/view-jpeg') ?? objects.get('derivative/view-webp');
  // The 1600 px view derivative serves any narrower whole-page request without decoding the master.
  const useView = view && page.width !== null && width <= Math.min(1600, page.width);
  const source = useView ? view : objects.get('master');
  if (!source) throw new AppError('ERR_OBJECT_NOT_FOUND', `page ${page.sequence} has no master image yet`);
  const input = await readObject(deps.store, source.storeKey, { expectedSha256: source.sha256 });
  let img = sharp(input, { limitInputPixels: deps.config.ingest.maxPixels, failOn: 'error' });
  if (box) img = img.extract({ left: box.x0, top: box.y0, width: box.x1 - box.x0, height: box.y1 - box.y0 });
  const body = await img.resize({ width, withoutEnlargement: true }).jpeg({ quality: 80, mozjpeg: true }).toBuffer();
  const put = await deps.store.putContentAddressed('viewer-cache', body, { contentType: 'image/jpeg' });
  await recordCachedImage(deps.db, place, spec, put);
  return { body, sha256: put.sha256, mediaType: 'image/jpeg' };
}
