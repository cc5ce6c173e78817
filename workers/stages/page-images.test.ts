import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { planBook } from '../../fixtures/index.ts';
import { DERIVATIVES, renderPageImages, UnreadableImageError } from './page-images.ts';

const maxPixels = 50_000_000;
const pixelsOf = async (image: Buffer) => (await sharp(image).raw().toBuffer({ resolveWithObject: true }));

describe('renderPageImages', () => {
  it('keeps a greyscale scan one channel in a lossless master, with the derivatives and its ink ratio', async () => {
    const page = await planBook({ seed: 7, pages: 1, scale: 0.4 }).renderPng(1);
    expect((await sharp(page).metadata()).channels).toBe(1);
    const images = await renderPageImages(page, { maxPixels });

    const master = await sharp(images.master).metadata();
    expect(master).toMatchObject({ format: 'tiff', channels: 1, depth: 'uchar' });
    expect(Buffer.compare((await pixelsOf(images.master)).data, (await pixelsOf(page)).data)).toBe(0);
    expect([images.width, images.height]).toEqual([master.width, master.height]);
    expect(images.derivatives.map((d) => d.variant)).toEqual(DERIVATIVES.map((d) => d.variant));
    for (const [i, d] of images.derivatives.entries()) {
      const m = await sharp(d.body).metadata();
      expect(`image/${m.format === 'jpeg' ? 'jpeg' : m.format}`).toBe(d.mediaType);
      expect(m.width).toBe(Math.min(DERIVATIVES[i]!.width, images.width));
    }
    // The deep-zoom pyramid: the full size first, then halves down to one 512 px tile.
    const pyramid = await sharp(images.pyramid).metadata();
    expect(pyramid).toMatchObject({ format: 'tiff', width: images.width, height: images.height, channels: 1 });
    expect(pyramid.pages).toBeGreaterThan(1);
    const levels = await Promise.all(Array.from({ length: pyramid.pages! }, async (_, p) => (await sharp(images.pyramid, { page: p }).metadata()).width));
    expect(levels[0]).toBe(images.width);
    for (let i = 1; i < levels.length; i++) expect(levels[i]).toBe(Math.floor(levels[i - 1]! / 2));
    expect(Math.max(levels.at(-1)!, Math.round(images.height / 2 ** (levels.length - 1)))).toBeLessThanOrEqual(512);
    // A register page carries a few percent of ink; the blank threshold is 0.2%.
    expect(images.inkRatio).toBeGreaterThan(0.01);
    expect(images.inkRatio).toBeLessThan(0.3);
  });

  it('keeps colour in three channels, losslessly, and measures a plain leaf as no ink', async () => {
    const colour = await sharp({ create: { width: 400, height: 300, channels: 3, background: { r: 236, g: 226, b: 200 }, noise: { type: 'gaussian', mean: 0, sigma: 3 } } }).png().toBuffer();
    const images = await renderPageImages(colour, { maxPixels });
    expect(await sharp(images.master).metadata()).toMatchObject({ channels: 3, space: 'srgb' });
    expect(Buffer.compare((await pixelsOf(images.master)).data, (await pixelsOf(colour)).data)).toBe(0);
    expect(images.inkRatio).toBeLessThan(0.002);
  });

  it('applies the EXIF orientation and records it; keeps 16-bit greyscale 16-bit', async () => {
    const turned = await sharp({ create: { width: 300, height: 200, channels: 3, background: '#fff' } }).withMetadata({ orientation: 6, density: 300 }).jpeg().toBuffer();
    const images = await renderPageImages(turned, { maxPixels });
    expect([images.width, images.height, images.orientation, images.dpi]).toEqual([200, 300, 90, 300]);
    expect(await sharp(images.master).metadata()).toMatchObject({ width: 200, height: 300 });

    const deep = await sharp(Buffer.alloc(64 * 32 * 2, 0x7f), { raw: { width: 64, height: 32, channels: 1 } }).toColourspace('grey16').png().toBuffer();
    expect(await sharp(deep).metadata()).toMatchObject({ depth: 'ushort', channels: 1 });
    expect(await sharp((await renderPageImages(deep, { maxPixels })).master).metadata()).toMatchObject({ depth: 'ushort', channels: 1 });
  });

  it('names an unreadable source', async () => {
    await expect(renderPageImages(Buffer.from('not an image at all'), { maxPixels })).rejects.toBeInstanceOf(UnreadableImageError);
  });
});
