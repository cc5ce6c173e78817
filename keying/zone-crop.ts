/**
 * A zone's crop for the keying and arbitration screens: the row large, with a margin, and the
 * neighbouring rows above and below it faded, so the keyer sees where the row sits (a name
 * written over two rows, a ditto mark) without mistaking a neighbour for the row to key.
 */
import { createHash } from 'node:crypto';
import sharp from 'sharp';
import { AppError } from '../common/index.ts';
import { getPage } from '../archive/index.ts';
import type { AppDeps } from '../app/deps.ts';
import { viewerImage, VIEW_WIDTH, type ViewerImage } from '../search/page-image.ts';
import type { EntryZone } from './zones.ts';
import { masterBoxToUpright, readingTurn, uprightBoxToMaster, uprightSize } from './reading-order.ts';

type Deps = Pick<AppDeps, 'db' | 'store' | 'config'>;

/** How many neighbouring rows a crop may show above and below the zone. */
export const MAX_CONTEXT_ROWS = 2;

/** A region of a page in master pixels. */
interface Region { x0: number; y0: number; x1: number; y1: number }

/**
 * Where the crop of a zone lies on its page: the zone with a margin of a fifth of its height (at
 * least 4 px) on every side, and `context` row heights more above and below, all within the page.
 */
export function zoneCropRegion(zone: Region, page: { width: number; height: number }, context: number): { crop: Region; row: Region } {
  if (!Number.isInteger(context) || context < 0 || context > MAX_CONTEXT_ROWS) throw new AppError('ERR_VALIDATION', `context must be 0..${MAX_CONTEXT_ROWS} rows`, { field: 'context' });
  const h = zone.y1 - zone.y0;
  const m = Math.max(4, Math.round(h / 5));
  const row = { x0: Math.max(0, zone.x0 - m), y0: Math.max(0, zone.y0 - m), x1: Math.min(page.width, zone.x1 + m), y1: Math.min(page.height, zone.y1 + m) };
  if (!(row.x1 > row.x0 && row.y1 > row.y0)) throw new AppError('ERR_VALIDATION', 'the zone lies outside its page', { field: 'zoneId' });
  const crop = { ...row, y0: Math.max(0, row.y0 - context * h), y1: Math.min(page.height, row.y1 + context * h) };
  return { crop, row };
}

/**
 * The JPEG crop of a zone at `width`, neighbouring rows faded (see zoneCropRegion), stood upright
 * as the OCR read the page: on a page scanned a quarter turn round the row runs across the master,
 * so the region is taken around the upright row and the crop turned before it is shown.
 */
export async function zoneCrop(deps: Deps, zone: Pick<EntryZone, 'pageId' | 'box'> & { turn?: EntryZone['turn'] }, opts: { width: number; context: number }): Promise<ViewerImage> {
  const width = Math.round(opts.width);
  if (!(width >= VIEW_WIDTH.min && width <= VIEW_WIDTH.max)) throw new AppError('ERR_VALIDATION', `width must be ${VIEW_WIDTH.min}..${VIEW_WIDTH.max}`, { field: 'width' });
  const page = await getPage(deps.db, zone.pageId);
  if (!page) throw new AppError('ERR_PAGE_NOT_FOUND', `no page ${zone.pageId}`);
  if (page.width === null || page.height === null) throw new AppError('ERR_OBJECT_NOT_FOUND', `page ${page.sequence} has no master image yet`);
  const turn = zone.turn ?? readingTurn(page.ocrTurn, zone.box);
  const { crop, row } = zoneCropRegion(masterBoxToUpright(zone.box, turn, page.width, page.height), uprightSize(turn, page.width, page.height), opts.context);
  const masterCrop = uprightBoxToMaster(crop, turn, page.width, page.height);
  // The master region's width is the upright crop's height after a quarter turn: ask for what turns into `width`.
  const quarter = turn === 90 || turn === 270;
  const asked = quarter ? Math.min(VIEW_WIDTH.max, Math.max(VIEW_WIDTH.min, Math.round((width * (masterCrop.x1 - masterCrop.x0)) / (masterCrop.y1 - masterCrop.y0)))) : width;
  let base = await viewerImage(deps, page, { width: asked, box: masterCrop });
  if (turn !== 0) {
    const body = await sharp(base.body).rotate(turn).jpeg({ quality: 80, mozjpeg: true }).toBuffer();
    base = { body, sha256: createHash('sha256').update(body).digest('hex'), mediaType: 'image/jpeg' };
  }
  if (crop.y0 === row.y0 && crop.y1 === row.y1) return base;
  const meta = await sharp(base.body).metadata();
  const W = meta.width ?? width;
  const H = meta.height ?? 1;
  const k = H / (crop.y1 - crop.y0);
  const above = Math.round((row.y0 - crop.y0) * k);
  const below = Math.round((row.y1 - crop.y0) * k);
  // White at 60% over the neighbours: still legible, plainly not the row to key.
  const veil = (top: number, height: number) => `<rect x="0" y="${top}" width="${W}" height="${height}" fill="#fff" fill-opacity="0.6"/>`;
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}">${above > 0 ? veil(0, above) : ''}${below < H ? veil(below, H - below) : ''}`
    + `<rect x="0.5" y="${above + 0.5}" width="${W - 1}" height="${Math.max(1, below - above - 1)}" fill="none" stroke="#c2410c" stroke-width="1"/></svg>`;
  const body = await sharp(base.body).composite([{ input: Buffer.from(svg), top: 0, left: 0 }]).jpeg({ quality: 80, mozjpeg: true }).toBuffer();
  return { body, sha256: createHash('sha256').update(body).digest('hex'), mediaType: 'image/jpeg' };
}
