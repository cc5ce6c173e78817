/**
 * Image preparation before OCR. tesseract.js's WASM heap grows to fit the largest image a worker
 * has seen and never shrinks, and beyond about 300 dpi OCR gets slower without reading better; so
 * pages are bounded to `maxSide` pixels on their longest side (3500 px keeps an A4 or A3 register
 * page at roughly 300 dpi) and handed over as greyscale PNG. The scale factors are kept so word
 * boxes can be mapped back to the pixels of the image that was given.
 */
import sharp from 'sharp';
import { AppError } from '../../common/index.ts';
import type { OcrBox } from './ocr-engine.ts';

/** Default bound on the longest side, in pixels, of the image tesseract sees. */
export const DEFAULT_MAX_OCR_SIDE = 3500;
/** Default bound on input pixels, checked before decoding (matches INGEST_MAX_PIXELS' default). */
export const DEFAULT_MAX_INPUT_PIXELS = 200_000_000;
// A page with no credible resolution is taken as a 300 dpi scan, the register scanning norm.
// Below 100 dpi the recorded figure is a software default (72 or 96, which sharp and most
// converters write) rather than a scan resolution; tesseract rejects anything under 70 anyway.
// The resolution sets the physical page size of the searchable PDF.
const ASSUMED_DPI = 300;
const MIN_CREDIBLE_DPI = 100;

/** The image as tesseract will see it, and how to get back to the original's pixels. */
export interface PreparedImage {
  /** Greyscale PNG, at most `maxSide` on its longest side. */
  png: Buffer;
  /** Size of the given image after EXIF orientation. */
  width: number;
  height: number;
  /** Original pixels per OCR-image pixel along each axis (1 when not downscaled). */
  scaleX: number;
  scaleY: number;
}

/** Decodes, orients, flattens, greys and (when too large) downscales a page image for OCR. */
export async function prepareForOcr(image: Buffer, opts: { maxSide: number; maxInputPixels: number }): Promise<PreparedImage> {
  if (!Buffer.isBuffer(image) || image.length === 0) throw new AppError('ERR_BAD_INPUT_FILE', 'page image is empty');
  // failOn 'error' rather than 'warning': pages reach OCR only after ingest accepted them, and a
  // scanner's harmless warning (e.g. a truncated JPEG tail) should not leave an archived page unread.
  const input = { limitInputPixels: opts.maxInputPixels, failOn: 'error', autoOrient: true } as const;
  try {
    const meta = await sharp(image, input).metadata();
    const width = meta.autoOrient?.width ?? meta.width;
    const height = meta.autoOrient?.height ?? meta.height;
    if (!width || !height) throw new Error('image has no size');
    const longest = Math.max(width, height);
    const factor = longest > opts.maxSide ? opts.maxSide / longest : 1;
    const ocrWidth = Math.max(1, Math.round(width * factor));
    const ocrHeight = Math.max(1, Math.round(height * factor));
    // toColourspace('b-w'), not greyscale(): greyscale() alone keeps three identical channels, three times the bytes to move and decode.
    let pipeline = sharp(image, input).flatten({ background: '#ffffff' }).toColourspace('b-w');
    if (factor < 1) pipeline = pipeline.resize(ocrWidth, ocrHeight, { fit: 'fill', kernel: 'lanczos3' });
    const png = await pipeline
      .withDensity((meta.density !== undefined && meta.density >= MIN_CREDIBLE_DPI ? meta.density : ASSUMED_DPI) * (ocrWidth / width))
      // Fastest zlib level: the PNG only crosses to the worker thread and is decoded at once.
      .png({ compressionLevel: 1 })
      .toBuffer();
    return { png, width, height, scaleX: width / ocrWidth, scaleY: height / ocrHeight };
  } catch (e) {
    if (e instanceof AppError) throw e;
    throw new AppError('ERR_BAD_INPUT_FILE', `page image cannot be decoded for OCR: ${(e as Error).message}`, undefined, { cause: e });
  }
}

/** Maps a box from OCR-image pixels to original-image pixels, clamped to the image. */
export function scaleBox(b: OcrBox, p: Pick<PreparedImage, 'scaleX' | 'scaleY' | 'width' | 'height'>): OcrBox {
  const clamp = (v: number, max: number) => Math.min(max, Math.max(0, Math.round(v)));
  return {
    x0: clamp(b.x0 * p.scaleX, p.width),
    y0: clamp(b.y0 * p.scaleY, p.height),
    x1: clamp(b.x1 * p.scaleX, p.width),
    y1: clamp(b.y1 * p.scaleY, p.height),
  };
}

/**
 * Rewrites the pixel measures of tesseract's hOCR (bbox, baseline offset, x_size, x_ascenders,
 * x_descenders, scan_res) into original-image pixels, so hOCR and `words` agree. Angles,
 * confidences and ids are left as they are.
 */
export function scaleHocr(hocr: string, p: Pick<PreparedImage, 'scaleX' | 'scaleY' | 'width' | 'height'>): string {
  if (p.scaleX === 1 && p.scaleY === 1) return hocr;
  const round2 = (v: number) => Math.round(v * 100) / 100;
  const scaleTitle = (title: string) =>
    title
      .replace(/\bbbox (\d+) (\d+) (\d+) (\d+)/g, (_m, x0: string, y0: string, x1: string, y1: string) => {
        const b = scaleBox({ x0: Number(x0), y0: Number(y0), x1: Number(x1), y1: Number(y1) }, p);
        return `bbox ${b.x0} ${b.y0} ${b.x1} ${b.y1}`;
      })
      .replace(/\bbaseline (-?[\d.]+) (-?[\d.]+)/g, (_m, slope: string, offset: string) => `baseline ${slope} ${round2(Number(offset) * p.scaleY)}`)
      .replace(/\b(x_size|x_ascenders|x_descenders) ([\d.]+)/g, (_m, k: string, v: string) => `${k} ${round2(Number(v) * p.scaleY)}`)
      // Resolution goes the other way: more pixels for the same paper.
      .replace(/\bscan_res (\d+) (\d+)/g, (_m, x: string, y: string) => `scan_res ${Math.round(Number(x) / p.scaleX)} ${Math.round(Number(y) / p.scaleY)}`);
  // Only inside title attributes, where hOCR keeps its properties: recognised text is left alone.
  return hocr.replace(/\btitle=(['"])(.*?)\1/g, (_m, q: string, title: string) => `title=${q}${scaleTitle(title)}${q}`);
}
