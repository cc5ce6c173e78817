import sharp from 'sharp';
import { AppError } from '../common/errors.ts';

/** Bounds the splitter enforces on one uploaded book; `maxPixels` and `maxPages` come from config. */
export interface SplitLimits {
  /** Largest page image accepted, in pixels (width × height), checked from headers before decoding. */
  maxPixels: number;
  /** Largest number of pages in one book, failed pages included. */
  maxPages: number;
  /** Largest single file of a folder or entry of a ZIP, in bytes once uncompressed. */
  maxFileBytes?: number;
  /** Largest sum of the uncompressed sizes of a ZIP's entries, in bytes (zip-bomb bound). */
  maxTotalBytes?: number;
}

/** Default for `SplitLimits.maxFileBytes`: a 600 dpi colour A3 scan stored uncompressed is ~210 MB. */
export const DEFAULT_MAX_FILE_BYTES = 1024 ** 3;

/** Default for `SplitLimits.maxTotalBytes`. */
export const DEFAULT_MAX_TOTAL_BYTES = 16 * 1024 ** 3;

/** Limits with every optional bound filled in and validated. */
export type ResolvedLimits = Required<SplitLimits>;

/** Fills in defaults and rejects non-positive or non-integer bounds (a programming error, not bad input). */
export function resolveLimits(limits: SplitLimits): ResolvedLimits {
  const resolved: ResolvedLimits = {
    maxPixels: limits.maxPixels,
    maxPages: limits.maxPages,
    maxFileBytes: limits.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES,
    maxTotalBytes: limits.maxTotalBytes ?? DEFAULT_MAX_TOTAL_BYTES,
  };
  for (const [name, value] of Object.entries(resolved)) {
    if (!Number.isSafeInteger(value) || value <= 0) throw new RangeError(`split limit ${name} must be a positive integer, got ${value}`);
  }
  return resolved;
}

/** Formats a count with thousands separators so limits read unambiguously in messages. */
export function formatCount(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** Formats a byte count in MiB/GiB for messages. */
export function formatBytes(n: number): string {
  if (n >= 1024 ** 3) return `${(n / 1024 ** 3).toFixed(1)} GiB`;
  if (n >= 1024 ** 2) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${formatCount(n)} bytes`;
}

/** Why an image of this size is refused, or undefined when it is within `maxPixels`. */
export function pixelLimitReason(width: number, height: number, maxPixels: number): string | undefined {
  const pixels = width * height;
  if (pixels <= maxPixels) return undefined;
  return `${formatCount(width)}×${formatCount(height)} = ${formatCount(pixels)} pixels exceeds the limit of ${formatCount(maxPixels)} pixels`;
}

/** The error for a book with more pages than `maxPages`. */
export function tooManyPagesError(what: string, maxPages: number, found?: number): AppError {
  const count = found === undefined ? `more than ${formatCount(maxPages)}` : formatCount(found);
  return new AppError('ERR_PAYLOAD_TOO_LARGE', `${what} has ${count} pages; the limit is ${formatCount(maxPages)}`, {
    maxPages,
    ...(found === undefined ? {} : { pages: found }),
  });
}

/** What an image's header says, read without decoding any pixels. */
export interface ImageHeader {
  /** sharp's name of the format, e.g. 'png', 'jpeg', 'tiff'. */
  format: string;
  /** Stored width in pixels (before any EXIF orientation). */
  width: number;
  /** Stored height in pixels. */
  height: number;
  /** Number of frames (TIFF pages); 1 for single images. */
  pages: number;
  /** Declared resolution in dots per inch; absent when the file declares none (libvips would report 72). */
  density?: number;
  /** EXIF orientation 1-8 when present. */
  orientation?: number;
  /** Width × height as displayed once the EXIF orientation is applied. */
  upright: { width: number; height: number };
}

/**
 * Reads an image header with sharp and checks its pixel count against `maxPixels` when given.
 * sharp's own `limitInputPixels` makes `metadata()` fail with a message that omits the size, so the
 * header is read unbounded (it decodes nothing) and the bound is applied here with a clear message.
 */
export async function imageHeader(input: Buffer | string, maxPixels?: number): Promise<ImageHeader> {
  const m = await sharp(input, { limitInputPixels: false, failOn: 'error' }).metadata();
  if (!m.width || !m.height) throw new AppError('ERR_BAD_INPUT_FILE', 'image header has no width or height');
  if (maxPixels !== undefined) {
    const reason = pixelLimitReason(m.width, m.height, maxPixels);
    if (reason) throw new AppError('ERR_PAYLOAD_TOO_LARGE', `image is ${reason}`, { width: m.width, height: m.height, maxPixels });
  }
  const header: ImageHeader = {
    format: m.format ?? 'unknown',
    width: m.width,
    height: m.height,
    pages: m.pages ?? 1,
    upright: { width: m.autoOrient?.width ?? m.width, height: m.autoOrient?.height ?? m.height },
  };
  // libvips reports 72 dpi for files that declare nothing; only a declared unit makes the value real.
  if (m.density && m.resolutionUnit) header.density = roundDpi(m.density);
  if (m.orientation) header.orientation = m.orientation;
  return header;
}

/** Rounds a resolution to 2 decimals (a 2480 px wide A4 page computes to 299.99... dpi). */
export function roundDpi(dpi: number): number {
  return Math.round(dpi * 100) / 100;
}

/** The message of an unknown thrown value, first line only (libvips appends internal detail lines). */
export function errorMessage(e: unknown): string {
  const text = e instanceof Error ? e.message : String(e);
  return text.split('\n')[0]!.trim() || 'unknown error';
}
