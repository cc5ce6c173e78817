/**
 * The parameters of an IIIF Image API 3.0 request (`{region}/{size}/{rotation}/{quality}.{format}`):
 * parsed from the URL's text, then resolved against an image's size into the pixels to cut and the
 * size to send. Bad syntax or a request outside the image is a 400 naming the parameter; a valid
 * request for a feature this server does not offer (arbitrary rotation, upscaling, TIFF…) is a 501.
 */
import { AppError } from '../common/index.ts';

/** The region as written. */
export type RegionParam =
  | { kind: 'full' }
  | { kind: 'square' }
  | { kind: 'pixels'; x: number; y: number; w: number; h: number }
  | { kind: 'percent'; x: number; y: number; w: number; h: number };

/** The size as written; `upscale` is the `^` prefix. */
export type SizeParam = { upscale: boolean } & (
  | { kind: 'max' }
  | { kind: 'width'; w: number }
  | { kind: 'height'; h: number }
  | { kind: 'percent'; n: number }
  | { kind: 'exact'; w: number; h: number }
  | { kind: 'fit'; w: number; h: number }
);

/** Qualities this server renders. */
export const QUALITIES = ['default', 'color', 'gray', 'bitonal'] as const;
export type Quality = (typeof QUALITIES)[number];
/** Formats this server encodes. */
export const FORMATS = ['jpg', 'png', 'webp'] as const;
export type Format = (typeof FORMATS)[number];
/** Formats IIIF names that this server does not encode (501, not 400). */
const KNOWN_FORMATS = ['tif', 'gif', 'jp2', 'pdf'];

/** A parsed request. */
export interface ImageRequest {
  region: RegionParam;
  size: SizeParam;
  /** Clockwise degrees: 0, 90, 180 or 270. */
  rotation: 0 | 90 | 180 | 270;
  /** Mirrored (flipped left to right) before rotating. */
  mirror: boolean;
  quality: Quality;
  format: Format;
}

/** What to do with the image: the box to cut (image pixels) and the size it is scaled to before rotation. */
export interface ResolvedRequest {
  box: { x: number; y: number; w: number; h: number };
  width: number;
  height: number;
  rotation: 0 | 90 | 180 | 270;
  mirror: boolean;
  quality: Quality;
  format: Format;
}

/** Limits this server declares in info.json (`maxArea`), which `max` respects and other sizes may not exceed. */
export interface ImageLimits {
  maxArea: number;
}

function bad(field: string, message: string): AppError {
  return new AppError('ERR_VALIDATION', `IIIF ${field}: ${message}`, { field });
}
function unsupported(field: string, message: string): AppError {
  return new AppError('ERR_NOT_IMPLEMENTED', `IIIF ${field}: ${message}`, { field });
}

const INT = /^(0|[1-9][0-9]{0,8})$/;
const DEC = /^(0|[1-9][0-9]{0,8})(\.[0-9]{1,6})?$|^\.[0-9]{1,6}$/;

function ints(text: string, n: number, field: string, what: string): number[] {
  const parts = text.split(',');
  if (parts.length !== n || !parts.every((p) => INT.test(p))) throw bad(field, `${what}`);
  return parts.map(Number);
}

/** Parses `full`, `square`, `x,y,w,h` or `pct:x,y,w,h`. */
export function parseRegion(text: string): RegionParam {
  if (text === 'full') return { kind: 'full' };
  if (text === 'square') return { kind: 'square' };
  if (text.startsWith('pct:')) {
    const parts = text.slice(4).split(',');
    if (parts.length !== 4 || !parts.every((p) => DEC.test(p))) throw bad('region', `"${text}" is not pct:x,y,w,h with four non-negative numbers`);
    const [x, y, w, h] = parts.map(Number) as [number, number, number, number];
    if (w <= 0 || h <= 0) throw bad('region', 'the width and height of a region must be greater than 0');
    if (x >= 100 || y >= 100) throw bad('region', 'the region starts outside the image');
    return { kind: 'percent', x, y, w, h };
  }
  const [x, y, w, h] = ints(text, 4, 'region', `"${text}" is not full, square, x,y,w,h or pct:x,y,w,h`) as [number, number, number, number];
  if (w <= 0 || h <= 0) throw bad('region', 'the width and height of a region must be greater than 0');
  return { kind: 'pixels', x, y, w, h };
}

/** Parses `max`, `w,`, `,h`, `pct:n`, `w,h`, `!w,h`, each optionally prefixed by `^`. */
export function parseSize(text: string): SizeParam {
  const upscale = text.startsWith('^');
  const t = upscale ? text.slice(1) : text;
  if (t === 'max') return { upscale, kind: 'max' };
  if (t === 'full') throw bad('size', '"full" is IIIF 2; version 3 calls it "max"');
  if (t.startsWith('pct:')) {
    const n = t.slice(4);
    if (!DEC.test(n) || Number(n) <= 0) throw bad('size', `"${text}" is not pct:n with n greater than 0`);
    return { upscale, kind: 'percent', n: Number(n) };
  }
  const fit = t.startsWith('!');
  const wh = fit ? t.slice(1) : t;
  const m = /^([0-9]*),([0-9]*)$/.exec(wh);
  if (!m) throw bad('size', `"${text}" is not max, w,, ,h, pct:n, w,h or !w,h`);
  const [w, h] = [m[1]!, m[2]!];
  for (const v of [w, h]) {
    if (v !== '' && (!INT.test(v) || Number(v) === 0)) throw bad('size', `"${text}": widths and heights are whole numbers greater than 0`);
  }
  if (fit) {
    if (w === '' || h === '') throw bad('size', `"${text}": !w,h needs both a width and a height`);
    return { upscale, kind: 'fit', w: Number(w), h: Number(h) };
  }
  if (w !== '' && h !== '') return { upscale, kind: 'exact', w: Number(w), h: Number(h) };
  if (w !== '') return { upscale, kind: 'width', w: Number(w) };
  if (h !== '') return { upscale, kind: 'height', h: Number(h) };
  throw bad('size', `"${text}" names neither a width nor a height`);
}

/** Parses `n` or `!n` (mirrored); only quarter turns are rendered. */
export function parseRotation(text: string): { rotation: 0 | 90 | 180 | 270; mirror: boolean } {
  const mirror = text.startsWith('!');
  const t = mirror ? text.slice(1) : text;
  if (!DEC.test(t) || Number(t) > 360) throw bad('rotation', `"${text}" is not a number of degrees from 0 to 360, optionally after !`);
  const deg = Number(t) % 360;
  if (deg !== 0 && deg !== 90 && deg !== 180 && deg !== 270) throw unsupported('rotation', `only 0, 90, 180 and 270 degrees are offered, not ${t}`);
  return { rotation: deg, mirror };
}

/** Parses `{quality}.{format}`. */
export function parseQualityFormat(text: string): { quality: Quality; format: Format } {
  const dot = text.lastIndexOf('.');
  if (dot <= 0) throw bad('quality', `"${text}" is not quality.format (e.g. default.jpg)`);
  const quality = text.slice(0, dot);
  const format = text.slice(dot + 1);
  if (!(QUALITIES as readonly string[]).includes(quality)) throw bad('quality', `"${quality}" is not one of ${QUALITIES.join(', ')}`);
  if (!(FORMATS as readonly string[]).includes(format)) {
    if (KNOWN_FORMATS.includes(format)) throw unsupported('format', `${format} is not offered; ask for ${FORMATS.join(', ')}`);
    throw bad('format', `"${format}" is not one of ${FORMATS.join(', ')}`);
  }
  return { quality: quality as Quality, format: format as Format };
}

/** Parses the four path segments of an image request. */
export function parseImageRequest(p: { region: string; size: string; rotation: string; qualityFormat: string }): ImageRequest {
  return { region: parseRegion(p.region), size: parseSize(p.size), ...parseRotation(p.rotation), ...parseQualityFormat(p.qualityFormat) };
}

/** The region in image pixels, cut to the image; 400 when nothing of it lies within. */
export function resolveRegion(region: RegionParam, image: { width: number; height: number }): ResolvedRequest['box'] {
  const { width: W, height: H } = image;
  let x: number, y: number, w: number, h: number;
  switch (region.kind) {
    case 'full':
      return { x: 0, y: 0, w: W, h: H };
    case 'square': {
      const s = Math.min(W, H);
      return { x: Math.floor((W - s) / 2), y: Math.floor((H - s) / 2), w: s, h: s };
    }
    case 'pixels':
      ({ x, y, w, h } = region);
      break;
    case 'percent':
      x = Math.round((region.x / 100) * W);
      y = Math.round((region.y / 100) * H);
      w = Math.round((region.w / 100) * W);
      h = Math.round((region.h / 100) * H);
      break;
  }
  if (x >= W || y >= H) throw bad('region', `the region starts outside the image (${W}x${H})`);
  w = Math.min(w, W - x);
  h = Math.min(h, H - y);
  if (w <= 0 || h <= 0) throw bad('region', 'the region has no pixels within the image');
  return { x, y, w, h };
}

/** The size the region is scaled to; 400 for a size larger than the region without `^`, 501 for `^` (no upscaling here). */
export function resolveSize(size: SizeParam, region: { w: number; h: number }, limits: ImageLimits): { width: number; height: number } {
  const { w: rw, h: rh } = region;
  let width: number, height: number;
  switch (size.kind) {
    case 'max': {
      const s = Math.min(1, Math.sqrt(limits.maxArea / (rw * rh)));
      width = Math.max(1, Math.floor(rw * s));
      height = Math.max(1, Math.floor(rh * s));
      break;
    }
    case 'width':
      width = size.w;
      height = Math.max(1, Math.round((rh * size.w) / rw));
      break;
    case 'height':
      height = size.h;
      width = Math.max(1, Math.round((rw * size.h) / rh));
      break;
    case 'percent':
      width = Math.round((rw * size.n) / 100);
      height = Math.round((rh * size.n) / 100);
      if (width < 1 || height < 1) throw bad('size', `pct:${size.n} of a ${rw}x${rh} region has no pixels`);
      break;
    case 'exact':
      ({ w: width, h: height } = size);
      break;
    case 'fit': {
      const s = Math.min(size.w / rw, size.h / rh, size.upscale ? Infinity : 1);
      width = Math.max(1, Math.floor(rw * s + 1e-9));
      height = Math.max(1, Math.floor(rh * s + 1e-9));
      break;
    }
  }
  if (width > rw || height > rh) {
    if (size.upscale) throw unsupported('size', 'upscaling (^) is not offered: ask for a size no larger than the region');
    throw bad('size', `${width}x${height} is larger than the region (${rw}x${rh}); upscaling needs ^, which this server does not offer`);
  }
  if (width * height > limits.maxArea) throw bad('size', `${width}x${height} is more than the ${limits.maxArea} pixels one answer may hold (maxArea in info.json)`);
  return { width, height };
}

/** The request against an image of this size. */
export function resolveImageRequest(req: ImageRequest, image: { width: number; height: number }, limits: ImageLimits): ResolvedRequest {
  const box = resolveRegion(req.region, image);
  const { width, height } = resolveSize(req.size, box, limits);
  return { box, width, height, rotation: req.rotation, mirror: req.mirror, quality: req.quality, format: req.format };
}

/** A canonical text of a resolved request: the tile cache's key within a page revision. */
export function canonicalSpec(r: ResolvedRequest): string {
  return `iiif3:${r.box.x},${r.box.y},${r.box.w},${r.box.h}/${r.width},${r.height}/${r.mirror ? '!' : ''}${r.rotation}/${r.quality}.${r.format}`;
}
