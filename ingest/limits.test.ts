import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { imageHeader, pixelLimitReason, resolveLimits, tooManyPagesError } from './limits.ts';

describe('limits', () => {
  it('states a pixel overrun with both numbers', () => {
    expect(pixelLimitReason(100, 100, 10_000)).toBeUndefined();
    expect(pixelLimitReason(101, 100, 10_000)).toBe('101×100 = 10,100 pixels exceeds the limit of 10,000 pixels');
  });

  it('fills defaults and rejects nonsense bounds', () => {
    expect(resolveLimits({ maxPixels: 1, maxPages: 1 })).toMatchObject({ maxFileBytes: 1024 ** 3, maxTotalBytes: 16 * 1024 ** 3 });
    expect(() => resolveLimits({ maxPixels: 0, maxPages: 1 })).toThrow(RangeError);
    expect(() => resolveLimits({ maxPixels: 1, maxPages: 1.5 })).toThrow(RangeError);
  });

  it('makes a 413 for too many pages', () => {
    expect(tooManyPagesError('PDF', 10, 12)).toMatchObject({ code: 'ERR_PAYLOAD_TOO_LARGE', status: 413, message: 'PDF has 12 pages; the limit is 10' });
  });
});

describe('imageHeader', () => {
  it('reads size, pages, declared density and orientation without decoding', async () => {
    const jpeg = await sharp({ create: { width: 40, height: 20, channels: 3, background: '#fff' } }).withMetadata({ orientation: 6, density: 300 }).jpeg().toBuffer();
    expect(await imageHeader(jpeg)).toMatchObject({ format: 'jpeg', width: 40, height: 20, pages: 1, density: 300, orientation: 6, upright: { width: 20, height: 40 } });
  });

  it('leaves density out when the file declares none (libvips would say 72)', async () => {
    const png = await sharp({ create: { width: 4, height: 4, channels: 3, background: '#fff' } }).png().toBuffer();
    const withoutPhys = Buffer.concat([png.subarray(0, 33), png.subarray(33 + 21)]);
    expect(withoutPhys.subarray(37, 41).toString('latin1')).not.toBe('pHYs');
    expect((await sharp(withoutPhys).metadata()).density).toBe(72);
    expect(await imageHeader(withoutPhys)).not.toHaveProperty('density');
  });

  it('refuses an image over maxPixels with ERR_PAYLOAD_TOO_LARGE naming its size', async () => {
    const png = await sharp({ create: { width: 300, height: 200, channels: 3, background: '#000' } }).png().toBuffer();
    await expect(imageHeader(png, 50_000)).rejects.toMatchObject({ code: 'ERR_PAYLOAD_TOO_LARGE', message: 'image is 300×200 = 60,000 pixels exceeds the limit of 50,000 pixels' });
  });
});
