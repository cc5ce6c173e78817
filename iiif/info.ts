import { FORMATS, QUALITIES, type ImageLimits } from './image-request.ts';

/** Edge of the square tiles info.json offers (what OpenSeadragon and Mirador then ask for). */
export const TILE_SIZE = 512;

/** The most pixels one answer holds: a 600 dpi A3 page (7016x9921, 70 MP) is not sent whole in one JPEG. */
export const IMAGE_LIMITS: ImageLimits = { maxArea: 4096 * 4096 };

/** Scale factors 1, 2, 4… up to the first at which the whole image fits in one tile. */
export function scaleFactors(width: number, height: number, tile = TILE_SIZE): number[] {
  const out = [1];
  while (Math.max(width, height) / out[out.length - 1]! > tile) out.push(out[out.length - 1]! * 2);
  return out;
}

/** The IIIF Image API 3.0 `info.json` of one image service. */
export interface ImageInfo {
  '@context': 'http://iiif.io/api/image/3/context.json';
  id: string;
  type: 'ImageService3';
  protocol: 'http://iiif.io/api/image';
  profile: 'level2';
  width: number;
  height: number;
  maxArea: number;
  sizes: { width: number; height: number }[];
  tiles: { width: number; height: number; scaleFactors: number[] }[];
  extraQualities: string[];
  extraFormats: string[];
  extraFeatures: string[];
}

/**
 * `info.json` for an image of `width`x`height` served at `id` (absolute). Level 2 (regions in pixels
 * and percent, sizes w, ,h pct:n w,h !w,h, quarter rotations, jpg and png) plus what is listed in
 * `extraFeatures`; no upscaling and no arbitrary rotation, so neither is claimed.
 */
export function imageInfo(id: string, width: number, height: number): ImageInfo {
  const factors = scaleFactors(width, height);
  // The full-image sizes the pyramid holds, smallest first (a thumbnail strip picks from these).
  const sizes = factors
    .map((f) => ({ width: Math.ceil(width / f), height: Math.ceil(height / f) }))
    .filter((s) => s.width * s.height <= IMAGE_LIMITS.maxArea)
    .reverse();
  return {
    '@context': 'http://iiif.io/api/image/3/context.json',
    id,
    type: 'ImageService3',
    protocol: 'http://iiif.io/api/image',
    profile: 'level2',
    width,
    height,
    maxArea: IMAGE_LIMITS.maxArea,
    sizes,
    tiles: [{ width: TILE_SIZE, height: TILE_SIZE, scaleFactors: factors }],
    // Beyond level 2 (which already names default, color, gray, jpg, png and quarter rotations).
    extraQualities: QUALITIES.filter((q) => q !== 'default' && q !== 'color' && q !== 'gray'),
    extraFormats: FORMATS.filter((f) => f !== 'jpg' && f !== 'png'),
    extraFeatures: ['mirroring'],
  };
}
