/**
 * The pixel work of the master stage, apart from the archive: one page source in, the lossless
 * preservation master, the access derivatives and the facts about the image out.
 */
import sharp, { type Metadata, type Sharp } from 'sharp';
import { inkRatioOf } from '../../ocr/index.ts';
import { PYRAMID_VARIANT } from '../../iiif/index.ts';

/**
 * Access derivatives made for every page: the viewer's image and the list thumbnail. The viewer's
 * image is JPEG: WebP at its fastest setting took 3.4x the CPU of JPEG for 40% fewer bytes, ~30 ms a
 * page at 1.5 MP, a tenth of everything but OCR, and the viewer sends JPEG whatever it starts from.
 */
export const DERIVATIVES = [
  { variant: 'view-jpeg', width: 1600, mediaType: 'image/jpeg', quality: 80 },
  { variant: 'thumb-jpeg', width: 320, mediaType: 'image/jpeg', quality: 78 },
] as const;

/**
 * The deep-zoom derivative: the page as a tiled (512 px), pyramidal TIFF of JPEG tiles, each level
 * half the one before, from which the IIIF Image API cuts any tile after decoding one or a few tiles
 * of one level instead of the whole master (see docs/performance.md, IIIF tiles, for the figures).
 */
export const PYRAMID = { variant: PYRAMID_VARIANT, mediaType: 'image/tiff', tile: 512, quality: 85 } as const;

/** Encodes `pixels` (8-bit, as the derivatives are) as the pyramid derivative. */
export function pyramidTiff(pixels: Sharp): Promise<Buffer> {
  return pixels.tiff({ tile: true, tileWidth: PYRAMID.tile, tileHeight: PYRAMID.tile, pyramid: true, compression: 'jpeg', quality: PYRAMID.quality }).toBuffer();
}

/** View derivatives of books archived before the viewer's image became JPEG: still served as they are. */
export const EARLIER_DERIVATIVES = [{ variant: 'view-webp', width: 1600, mediaType: 'image/webp' }] as const;

export type DerivativeVariant = (typeof DERIVATIVES)[number]['variant'];

export const MASTER_MEDIA_TYPE = 'image/tiff';

/** What one page source becomes. */
export interface PageImages {
  /** Lossless TIFF: orientation applied, resolution recorded, as many channels as the source. */
  master: Buffer;
  derivatives: { variant: DerivativeVariant; mediaType: string; body: Buffer }[];
  /** The deep-zoom pyramid (PYRAMID), 8-bit like the derivatives. */
  pyramid: Buffer;
  /** Size of the master (after orientation). */
  width: number;
  height: number;
  dpi: number | null;
  /** Clockwise turn the source's EXIF orientation called for. */
  orientation: number;
  /** Share of the page covered by ink (page-type.ts `inkRatio`), for the OCR stage's blank check. */
  inkRatio: number;
}

/** Thrown when the source's pixels cannot be read at all. */
export class UnreadableImageError extends Error {}

/**
 * Decodes the source once (orientation applied) and builds the master, every derivative and the
 * ink ratio from those pixels: decoding and encoding are this stage's whole cost, which must stay
 * small next to OCR. Greyscale scans stay one channel: sharp turns grey into sRGB unless told, and
 * three identical channels would make the master twice the bytes and every later decode slower.
 */
export async function renderPageImages(input: Buffer, opts: { maxPixels: number }): Promise<PageImages> {
  const open = { limitInputPixels: opts.maxPixels, failOn: 'error' as const };
  let meta: Metadata;
  try {
    meta = await sharp(input, open).metadata();
  } catch (e) {
    throw new UnreadableImageError(`source image cannot be read (${(e as Error).message})`, { cause: e });
  }
  // EXIF orientations 5-8 swap width and height.
  const swapped = (meta.orientation ?? 1) >= 5;
  const width = swapped ? meta.height! : meta.width!;
  const height = swapped ? meta.width! : meta.height!;
  const dpi = meta.density && meta.density > 1 ? meta.density : null;
  const grey = meta.channels === 1 || meta.channels === 2;
  // 16-bit scans skip the raw path, whose 8-bit buffer would not be lossless.
  const eightBit = meta.depth === undefined || meta.depth === 'uchar' || meta.depth === 'char';
  const space = grey ? (eightBit ? 'b-w' : 'grey16') : eightBit ? 'srgb' : 'rgb16';

  const decoded = eightBit ? await sharp(input, open).rotate().toColourspace(space).raw().toBuffer({ resolveWithObject: true }) : undefined;
  const pixels = () =>
    (decoded
      ? sharp(decoded.data, { raw: { width: decoded.info.width, height: decoded.info.height, channels: decoded.info.channels } })
      : sharp(input, open).rotate()
    ).toColourspace(space);

  // Lossless: deflate with a horizontal predictor.
  const master = await pixels()
    .tiff({ compression: 'deflate', predictor: 'horizontal', ...(dpi ? { xres: dpi / 25.4, yres: dpi / 25.4, resolutionUnit: 'inch' as const } : {}) })
    .toBuffer();
  const derivatives: PageImages['derivatives'] = [];
  for (const d of DERIVATIVES) {
    // Derivatives are 8-bit whatever the master holds.
    const out = pixels().toColourspace(grey ? 'b-w' : 'srgb').resize({ width: d.width, withoutEnlargement: true }).jpeg({ quality: d.quality });
    derivatives.push({ variant: d.variant, mediaType: d.mediaType, body: await out.toBuffer() });
  }
  const pyramid = await pyramidTiff(pixels().toColourspace(grey ? 'b-w' : 'srgb'));
  const inkRatio = await inkRatioOf(pixels());
  return { master, derivatives, pyramid, width, height, dpi, orientation: exifToDegrees(meta.orientation), inkRatio };
}

function exifToDegrees(o: number | undefined): number {
  switch (o) {
    case 3: case 4: return 180;
    case 5: case 6: return 90;
    case 7: case 8: return 270;
    default: return 0;
  }
}
