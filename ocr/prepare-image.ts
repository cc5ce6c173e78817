/**
 * Image preparation before OCR. tesseract.js's WASM heap grows to fit the largest image a worker
 * has seen and never shrinks, and beyond about 300 dpi OCR gets slower without reading better; so
 * pages are bounded to `maxSide` pixels on their longest side (3500 px keeps an A4 or A3 register
 * page at roughly 300 dpi) and handed over as greyscale PNG. The scale factors are kept so word
 * boxes can be mapped back to the pixels of the image that was given.
 */
import sharp, { type Sharp } from 'sharp';
import { AppError } from '../common/index.ts';
import type { OcrBox } from './ocr-engine.ts';
import { minRuleRun, removeVerticalRules } from './ruling-lines.ts';

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
  /** Original pixels per OCR-image pixel along each axis, measured on the upright page (1 when not resized). */
  scaleX: number;
  scaleY: number;
  /** Clockwise quarter turn applied before OCR to stand the page upright (0 when none). */
  rotation?: QuarterTurn;
  /** Size and resolution of the image tesseract sees. */
  ocrWidth: number;
  ocrHeight: number;
  ocrDpi: number;
}

/** A clockwise quarter turn, in degrees. */
export type QuarterTurn = 0 | 90 | 180 | 270;

/** Pixel work done before OCR, beyond greying and bounding the size; each step is optional. */
export interface ImagePreparation {
  /** Clockwise turn that stands the page upright (from orientation detection). */
  rotate?: QuarterTurn;
  /**
   * Divide the page by an estimate of its paper (a heavily smoothed copy, about a tenth of an inch
   * across), so grey, grainy or unevenly lit paper becomes even white before any stretch or
   * threshold. Runs before `normalise` and `blurSigma`.
   */
  flattenBackground?: boolean;
  /** Stretch the grey levels to the full range: faded ink on dark paper becomes black on white. */
  normalise?: boolean;
  /** Gaussian blur sigma in OCR-image pixels (at least 0.3): fills broken thin strokes, softens speckle. */
  blurSigma?: number;
  /** Upsample pages scanned below this resolution to it (the LSTM models are trained on ~300 dpi text). */
  minDpi?: number;
  /** Paint the form's vertical rules over (ruling-lines.ts): tesseract reads them as `1`, `l`, `|`. */
  removeRules?: boolean;
}

/** Decodes, orients, flattens, greys and (when too large) downscales a page image for OCR. */
export async function prepareForOcr(
  image: Buffer,
  opts: { maxSide: number; maxInputPixels: number; preparation?: ImagePreparation },
): Promise<PreparedImage> {
  const prep = opts.preparation ?? {};
  const rotation = prep.rotate ?? 0;
  if (!Buffer.isBuffer(image) || image.length === 0) throw new AppError('ERR_BAD_INPUT_FILE', 'page image is empty');
  // failOn 'error' rather than 'warning': pages reach OCR only after ingest accepted them, and a
  // scanner's harmless warning (e.g. a truncated JPEG tail) should not leave an archived page unread.
  const input = { limitInputPixels: opts.maxInputPixels, failOn: 'error', autoOrient: true } as const;
  try {
    const meta = await sharp(image, input).metadata();
    const width = meta.autoOrient?.width ?? meta.width;
    const height = meta.autoOrient?.height ?? meta.height;
    if (!width || !height) throw new Error('image has no size');
    const sideways = rotation === 90 || rotation === 270;
    const uprightWidth = sideways ? height : width;
    const uprightHeight = sideways ? width : height;
    const dpi = meta.density !== undefined && meta.density >= MIN_CREDIBLE_DPI ? meta.density : ASSUMED_DPI;
    const longest = Math.max(width, height);
    const upsample = prep.minDpi !== undefined && dpi < prep.minDpi ? prep.minDpi / dpi : 1;
    const factor = Math.min(upsample, opts.maxSide / longest);
    const ocrWidth = Math.max(1, Math.round(uprightWidth * factor));
    const ocrHeight = Math.max(1, Math.round(uprightHeight * factor));
    // toColourspace('b-w'), not greyscale(): greyscale() alone keeps three identical channels, three times the bytes to move and decode.
    let pipeline = sharp(image, input).flatten({ background: '#ffffff' }).toColourspace('b-w');
    if (rotation !== 0) pipeline = pipeline.rotate(rotation);
    if (factor !== 1) pipeline = pipeline.resize(ocrWidth, ocrHeight, { fit: 'fill', kernel: 'lanczos3' });
    const ocrDpi = dpi * (ocrWidth / uprightWidth);
    // sharp runs its operations in its own order (resize before normalise and blur), so the
    // division, which must come before both, needs the resized pixels in hand first.
    if (prep.flattenBackground) pipeline = await flattenedBackground(pipeline, ocrDpi);
    // sharp applies normalise and blur after the resize whatever the call order; the sigma is therefore in OCR-image pixels.
    if (prep.normalise) pipeline = pipeline.normalise();
    if (prep.blurSigma !== undefined && prep.blurSigma >= 0.3) pipeline = pipeline.blur(prep.blurSigma);
    if (prep.removeRules) {
      const { data, info } = await pipeline.raw().toBuffer({ resolveWithObject: true });
      if (info.channels !== 1) throw new Error(`expected one grey channel, got ${info.channels}`);
      removeVerticalRules({ data, width: info.width, height: info.height }, { minRun: minRuleRun(ocrDpi) });
      // Told b-w again: from raw pixels sharp would write sRGB, three channels for tesseract to decode.
      pipeline = sharp(data, { raw: { width: info.width, height: info.height, channels: 1 } }).toColourspace('b-w');
    }
    const png = await pipeline
      .withDensity(ocrDpi)
      // Fastest zlib level: the PNG only crosses to the worker thread and is decoded at once.
      .png({ compressionLevel: 1 })
      .toBuffer();
    return { png, width, height, scaleX: uprightWidth / ocrWidth, scaleY: uprightHeight / ocrHeight, rotation, ocrWidth, ocrHeight, ocrDpi };
  } catch (e) {
    if (e instanceof AppError) throw e;
    throw new AppError('ERR_BAD_INPUT_FILE', `page image cannot be decoded for OCR: ${(e as Error).message}`, undefined, { cause: e });
  }
}

/**
 * The page divided by its paper: the paper is the page shrunk to one sample per tenth of an inch
 * (area averaging: typewritten ink covers a few percent of a cell and barely darkens it), smoothed
 * and enlarged back. On grey grainy carbon copies this, not Sauvola, is what let tesseract read
 * (bench/ocr-quality.bench.ts, ocr-profiles.ts): Otsu then separates ink from an even white.
 */
async function flattenedBackground(pipeline: Sharp, dpi: number): Promise<Sharp> {
  const { data, info } = await pipeline.raw().toBuffer({ resolveWithObject: true });
  if (info.channels !== 1) throw new Error(`expected one grey channel, got ${info.channels}`);
  const { width, height } = info;
  const raw = { raw: { width, height, channels: 1 as const } };
  const cell = Math.max(4, Math.round(dpi / 10));
  const small = await sharp(data, raw)
    .resize(Math.max(1, Math.round(width / cell)), Math.max(1, Math.round(height / cell)), { fit: 'fill', kernel: 'linear' })
    .blur(1.5)
    .toColourspace('b-w')
    .raw()
    .toBuffer({ resolveWithObject: true });
  const paper = await sharp(small.data, { raw: { width: small.info.width, height: small.info.height, channels: 1 } })
    .resize(width, height, { fit: 'fill', kernel: 'linear' })
    .toColourspace('b-w')
    .raw()
    .toBuffer();
  const out = Buffer.allocUnsafe(data.length);
  for (let i = 0; i < data.length; i++) out[i] = Math.min(255, Math.round((255 * data[i]!) / Math.max(1, paper[i]!)));
  return sharp(out, raw).toColourspace('b-w');
}

/**
 * Maps a box from OCR-image pixels to original-image pixels, clamped to the image: scaled back,
 * then turned back when the page was turned for OCR, so boxes always refer to the image given.
 */
export function scaleBox(b: OcrBox, p: Pick<PreparedImage, 'scaleX' | 'scaleY' | 'width' | 'height' | 'rotation'>): OcrBox {
  const clamp = (v: number, max: number) => Math.min(max, Math.max(0, Math.round(v)));
  const W = p.width;
  const H = p.height;
  const x0 = b.x0 * p.scaleX;
  const y0 = b.y0 * p.scaleY;
  const x1 = b.x1 * p.scaleX;
  const y1 = b.y1 * p.scaleY;
  // (x, y) upright came from the given image turned clockwise by `rotation`; invert that turn.
  switch (p.rotation ?? 0) {
    case 90:
      return { x0: clamp(y0, W), y0: clamp(H - x1, H), x1: clamp(y1, W), y1: clamp(H - x0, H) };
    case 180:
      return { x0: clamp(W - x1, W), y0: clamp(H - y1, H), x1: clamp(W - x0, W), y1: clamp(H - y0, H) };
    case 270:
      return { x0: clamp(W - y1, W), y0: clamp(x0, H), x1: clamp(W - y0, W), y1: clamp(x1, H) };
    default:
      return { x0: clamp(x0, W), y0: clamp(y0, H), x1: clamp(x1, W), y1: clamp(y1, H) };
  }
}

/**
 * A small greyscale PNG of the page for orientation detection: OSD looks at character shapes and
 * reads as well at ~150 dpi, and a quarter of the pixels makes it about four times cheaper.
 */
export async function orientationImage(image: Buffer, opts: { maxSide: number; maxInputPixels: number }): Promise<Buffer> {
  try {
    return await sharp(image, { limitInputPixels: opts.maxInputPixels, failOn: 'error', autoOrient: true })
      .flatten({ background: '#ffffff' })
      .toColourspace('b-w')
      .resize(opts.maxSide, opts.maxSide, { fit: 'inside', withoutEnlargement: true })
      .png({ compressionLevel: 1 })
      .toBuffer();
  } catch (e) {
    throw new AppError('ERR_BAD_INPUT_FILE', `page image cannot be decoded for OCR: ${(e as Error).message}`, undefined, { cause: e });
  }
}

/**
 * Rewrites the pixel measures of tesseract's hOCR (bbox, baseline offset, x_size, x_ascenders,
 * x_descenders, scan_res) into original-image pixels, so hOCR and `words` agree. Angles,
 * confidences and ids are left as they are; on a page turned for OCR the boxes are turned back
 * too, while baselines and text direction keep describing the upright lines.
 */
export function scaleHocr(hocr: string, p: Pick<PreparedImage, 'scaleX' | 'scaleY' | 'width' | 'height' | 'rotation'>): string {
  if (p.scaleX === 1 && p.scaleY === 1 && !p.rotation) return hocr;
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
