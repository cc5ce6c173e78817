import { describe, expect, it } from 'vitest';
import { AppError } from '../common/index.ts';
import {
  canonicalSpec, parseImageRequest, parseQualityFormat, parseRegion, parseRotation, parseSize, resolveImageRequest, resolveRegion, resolveSize,
} from './image-request.ts';
import { imageInfo, scaleFactors } from './info.ts';

const A4 = { width: 4960, height: 7016 };
const LIMITS = { maxArea: 4096 * 4096 };

function refusal(fn: () => unknown): { status: number; field: unknown; message: string } {
  try {
    fn();
  } catch (e) {
    if (e instanceof AppError) return { status: e.status, field: e.details?.field, message: e.message };
    throw e;
  }
  throw new Error('expected a refusal');
}

describe('IIIF region', () => {
  it('parses every form', () => {
    expect(parseRegion('full')).toEqual({ kind: 'full' });
    expect(parseRegion('square')).toEqual({ kind: 'square' });
    expect(parseRegion('125,15,120,140')).toEqual({ kind: 'pixels', x: 125, y: 15, w: 120, h: 140 });
    expect(parseRegion('pct:41.6,7.5,40,70')).toEqual({ kind: 'percent', x: 41.6, y: 7.5, w: 40, h: 70 });
    expect(parseRegion('pct:0,0,100,100')).toEqual({ kind: 'percent', x: 0, y: 0, w: 100, h: 100 });
  });

  it.each([
    ['', 'region'], ['all', 'region'], ['1,2,3', 'region'], ['1,2,3,4,5', 'region'], ['-1,0,10,10', 'region'], ['1.5,0,10,10', 'region'],
    ['0,0,0,10', 'region'], ['0,0,10,0', 'region'], ['pct:1,2,3', 'region'], ['pct:0,0,0,50', 'region'], ['pct:a,0,10,10', 'region'], ['pct:100,0,10,10', 'region'],
    ['01,0,10,10', 'region'],
  ])('refuses %j with a 400 naming the region', (text, field) => {
    expect(refusal(() => parseRegion(text))).toMatchObject({ status: 400, field });
  });

  it('resolves against the image: square centred, pixels cut at the edges, percent rounded', () => {
    expect(resolveRegion({ kind: 'full' }, A4)).toEqual({ x: 0, y: 0, w: 4960, h: 7016 });
    expect(resolveRegion({ kind: 'square' }, A4)).toEqual({ x: 0, y: 1028, w: 4960, h: 4960 });
    expect(resolveRegion({ kind: 'square' }, { width: 300, height: 120 })).toEqual({ x: 90, y: 0, w: 120, h: 120 });
    expect(resolveRegion(parseRegion('4608,6656,512,512'), A4)).toEqual({ x: 4608, y: 6656, w: 352, h: 360 });
    expect(resolveRegion(parseRegion('pct:50,50,50,50'), A4)).toEqual({ x: 2480, y: 3508, w: 2480, h: 3508 });
    expect(refusal(() => resolveRegion(parseRegion('4960,0,10,10'), A4))).toMatchObject({ status: 400, field: 'region', message: expect.stringMatching(/outside the image \(4960x7016\)/) });
  });
});

describe('IIIF size', () => {
  it('parses every form, with and without ^', () => {
    expect(parseSize('max')).toEqual({ upscale: false, kind: 'max' });
    expect(parseSize('^max')).toEqual({ upscale: true, kind: 'max' });
    expect(parseSize('512,')).toEqual({ upscale: false, kind: 'width', w: 512 });
    expect(parseSize(',300')).toEqual({ upscale: false, kind: 'height', h: 300 });
    expect(parseSize('pct:12.5')).toEqual({ upscale: false, kind: 'percent', n: 12.5 });
    expect(parseSize('512,256')).toEqual({ upscale: false, kind: 'exact', w: 512, h: 256 });
    expect(parseSize('!512,256')).toEqual({ upscale: false, kind: 'fit', w: 512, h: 256 });
    expect(parseSize('^!512,256')).toEqual({ upscale: true, kind: 'fit', w: 512, h: 256 });
  });

  it.each(['', 'full', ',', '0,', ',0', 'pct:0', 'pct:', 'pct:-5', '!512,', '!,512', 'a,b', '512', '1.5,', 'max,'])('refuses %j with a 400 naming the size', (text) => {
    expect(refusal(() => parseSize(text))).toMatchObject({ status: 400, field: 'size' });
  });

  it('resolves sizes against a region, keeping the aspect where one side is given', () => {
    const region = { w: 1024, h: 768 };
    expect(resolveSize(parseSize('max'), region, LIMITS)).toEqual({ width: 1024, height: 768 });
    expect(resolveSize(parseSize('512,'), region, LIMITS)).toEqual({ width: 512, height: 384 });
    expect(resolveSize(parseSize(',384'), region, LIMITS)).toEqual({ width: 512, height: 384 });
    expect(resolveSize(parseSize('pct:25'), region, LIMITS)).toEqual({ width: 256, height: 192 });
    expect(resolveSize(parseSize('100,700'), region, LIMITS)).toEqual({ width: 100, height: 700 });
    expect(resolveSize(parseSize('!500,500'), region, LIMITS)).toEqual({ width: 500, height: 375 });
    // !w,h never goes past the region without ^.
    expect(resolveSize(parseSize('!5000,5000'), region, LIMITS)).toEqual({ width: 1024, height: 768 });
    // ^ is accepted where nothing is enlarged.
    expect(resolveSize(parseSize('^512,'), region, LIMITS)).toEqual({ width: 512, height: 384 });
    // max keeps within maxArea.
    expect(resolveSize(parseSize('max'), { w: 4960, h: 7016 }, LIMITS)).toEqual({ width: 3443, height: 4871 });
  });

  it('refuses enlargement: 400 without ^, 501 with it (not offered); and more than maxArea', () => {
    const region = { w: 1024, h: 768 };
    expect(refusal(() => resolveSize(parseSize('2048,'), region, LIMITS))).toMatchObject({ status: 400, field: 'size', message: expect.stringMatching(/larger than the region/) });
    expect(refusal(() => resolveSize(parseSize('pct:150'), region, LIMITS))).toMatchObject({ status: 400, field: 'size' });
    expect(refusal(() => resolveSize(parseSize('^2048,'), region, LIMITS))).toMatchObject({ status: 501, field: 'size', message: expect.stringMatching(/upscaling/) });
    expect(refusal(() => resolveSize(parseSize('4960,7016'), { w: 4960, h: 7016 }, LIMITS))).toMatchObject({ status: 400, field: 'size', message: expect.stringMatching(/maxArea/) });
  });
});

describe('IIIF rotation, quality and format', () => {
  it('parses quarter turns, mirrored or not', () => {
    expect(parseRotation('0')).toEqual({ rotation: 0, mirror: false });
    expect(parseRotation('90')).toEqual({ rotation: 90, mirror: false });
    expect(parseRotation('180')).toEqual({ rotation: 180, mirror: false });
    expect(parseRotation('270')).toEqual({ rotation: 270, mirror: false });
    expect(parseRotation('!0')).toEqual({ rotation: 0, mirror: true });
    expect(parseRotation('!90')).toEqual({ rotation: 90, mirror: true });
    expect(parseRotation('360')).toEqual({ rotation: 0, mirror: false });
    expect(parseRotation('90.0')).toEqual({ rotation: 90, mirror: false });
  });

  it('answers 501 for arbitrary angles and 400 for what is not an angle', () => {
    expect(refusal(() => parseRotation('22.5'))).toMatchObject({ status: 501, field: 'rotation' });
    for (const bad of ['', '-90', '361', 'ninety', '!!90', '90!']) expect(refusal(() => parseRotation(bad)), bad).toMatchObject({ status: 400, field: 'rotation' });
  });

  it('parses quality.format; 400 for unknown ones, 501 for IIIF formats not offered', () => {
    expect(parseQualityFormat('default.jpg')).toEqual({ quality: 'default', format: 'jpg' });
    expect(parseQualityFormat('gray.png')).toEqual({ quality: 'gray', format: 'png' });
    expect(parseQualityFormat('bitonal.webp')).toEqual({ quality: 'bitonal', format: 'webp' });
    expect(parseQualityFormat('color.jpg')).toEqual({ quality: 'color', format: 'jpg' });
    expect(refusal(() => parseQualityFormat('native.jpg'))).toMatchObject({ status: 400, field: 'quality' });
    expect(refusal(() => parseQualityFormat('default'))).toMatchObject({ status: 400, field: 'quality' });
    expect(refusal(() => parseQualityFormat('.jpg'))).toMatchObject({ status: 400, field: 'quality' });
    expect(refusal(() => parseQualityFormat('default.bmp'))).toMatchObject({ status: 400, field: 'format' });
    expect(refusal(() => parseQualityFormat('default.tif'))).toMatchObject({ status: 501, field: 'format' });
  });
});

describe('IIIF request as a whole', () => {
  it('resolves an OpenSeadragon tile and gives it one canonical spec', () => {
    const req = parseImageRequest({ region: '4096,6144,864,872', size: '432,436', rotation: '0', qualityFormat: 'default.jpg' });
    const r = resolveImageRequest(req, A4, LIMITS);
    expect(r).toEqual({ box: { x: 4096, y: 6144, w: 864, h: 872 }, width: 432, height: 436, rotation: 0, mirror: false, quality: 'default', format: 'jpg' });
    // The same pixels asked for another way share the cache entry.
    const same = resolveImageRequest(parseImageRequest({ region: '4096,6144,864,872', size: '432,', rotation: '360', qualityFormat: 'default.jpg' }), A4, LIMITS);
    expect(canonicalSpec(same)).toBe(canonicalSpec(r));
    expect(canonicalSpec(r)).toBe('iiif3:4096,6144,864,872/432,436/0/default.jpg');
  });
});

describe('info.json', () => {
  it('offers 512 px tiles at scale factors up to one tile for the page, and the pyramid sizes within maxArea', () => {
    expect(scaleFactors(4960, 7016)).toEqual([1, 2, 4, 8, 16]);
    expect(scaleFactors(300, 120)).toEqual([1]);
    const info = imageInfo('https://arkiva.example/iiif/3/books/b/pages/1', 4960, 7016);
    expect(info).toMatchObject({
      '@context': 'http://iiif.io/api/image/3/context.json', id: 'https://arkiva.example/iiif/3/books/b/pages/1', type: 'ImageService3',
      protocol: 'http://iiif.io/api/image', profile: 'level2', width: 4960, height: 7016,
      tiles: [{ width: 512, height: 512, scaleFactors: [1, 2, 4, 8, 16] }],
      extraFeatures: ['mirroring'], extraQualities: ['bitonal'], extraFormats: ['webp'],
    });
    expect(info.sizes).toEqual([{ width: 310, height: 439 }, { width: 620, height: 877 }, { width: 1240, height: 1754 }, { width: 2480, height: 3508 }]);
  });
});
