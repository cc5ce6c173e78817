import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { isAppError } from '../common/index.ts';
import { prepareForOcr, scaleBox, scaleHocr } from './prepare-image.ts';

const bounds = { maxSide: 3500, maxInputPixels: 200_000_000 };

describe('prepareForOcr', () => {
  it('flattens uneven grey paper to white and keeps the ink darker than it', async () => {
    // Paper from grey 150 on the left to 200 on the right, a line of ink 40 darker across it.
    const w = 600, h = 300;
    const data = Buffer.alloc(w * h);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data[y * w + x] = Math.round(150 + (50 * x) / w) - (y >= 140 && y < 146 ? 40 : 0);
    const png = await sharp(data, { raw: { width: w, height: h, channels: 1 } }).toColourspace('b-w').withDensity(150).png().toBuffer();
    const grey = async (prep: { flattenBackground?: boolean }) => {
      const p = await prepareForOcr(png, { ...bounds, preparation: prep });
      expect((await sharp(p.png).metadata()).channels).toBe(1);
      return sharp(p.png).toColourspace('b-w').raw().toBuffer();
    };
    const at = (img: Buffer, x: number, y: number) => img[y * w + x]!;
    const flat = await grey({ flattenBackground: true });
    // Both ends of the sheet come out white alike; unflattened they stay 50 levels apart.
    expect(Math.abs(at(flat, 20, 40) - at(flat, 580, 40))).toBeLessThanOrEqual(6);
    expect(at(flat, 300, 40)).toBeGreaterThanOrEqual(245);
    expect(at(flat, 300, 40) - at(flat, 300, 143)).toBeGreaterThanOrEqual(30);
    const plain = await grey({});
    expect(at(plain, 580, 40) - at(plain, 20, 40)).toBeGreaterThanOrEqual(45);
  });

  it('leaves a page within the bound at its size, as greyscale PNG', async () => {
    const jpeg = await sharp({ create: { width: 1200, height: 800, channels: 3, background: '#c0d0e0' } }).jpeg().toBuffer();
    const p = await prepareForOcr(jpeg, bounds);
    expect([p.width, p.height, p.scaleX, p.scaleY]).toEqual([1200, 800, 1, 1]);
    const meta = await sharp(p.png).metadata();
    expect(meta.format).toBe('png');
    expect(meta.channels).toBe(1);
    // Also after the rules are painted over in JS (pixels handed back to sharp as raw).
    const ruled = await prepareForOcr(jpeg, { ...bounds, preparation: { removeRules: true } });
    expect(await sharp(ruled.png).metadata()).toMatchObject({ format: 'png', channels: 1, space: 'b-w' });
  });

  it('downscales the longest side to the bound and keeps the factors', async () => {
    const png = await sharp({ create: { width: 5000, height: 2000, channels: 3, background: '#fff' } }).png().toBuffer();
    const p = await prepareForOcr(png, bounds);
    const meta = await sharp(p.png).metadata();
    expect([meta.width, meta.height]).toEqual([3500, 1400]);
    expect([p.width, p.height]).toEqual([5000, 2000]);
    expect(p.scaleX).toBeCloseTo(5000 / 3500, 6);
    expect(p.scaleY).toBeCloseTo(2000 / 1400, 6);
  });

  it('reports the size after EXIF orientation (boxes are in the image as displayed)', async () => {
    const jpeg = await sharp({ create: { width: 600, height: 400, channels: 3, background: '#fff' } }).jpeg().withMetadata({ orientation: 6 }).toBuffer();
    const p = await prepareForOcr(jpeg, bounds);
    expect([p.width, p.height]).toEqual([400, 600]);
  });

  it('refuses undecodable and oversized input with ERR_BAD_INPUT_FILE', async () => {
    await expect(prepareForOcr(Buffer.from('not an image'), bounds)).rejects.toSatisfy((e) => isAppError(e, 'ERR_BAD_INPUT_FILE'));
    await expect(prepareForOcr(Buffer.alloc(0), bounds)).rejects.toSatisfy((e) => isAppError(e, 'ERR_BAD_INPUT_FILE'));
    const png = await sharp({ create: { width: 2000, height: 2000, channels: 3, background: '#fff' } }).png().toBuffer();
    await expect(prepareForOcr(png, { ...bounds, maxInputPixels: 1_000_000 })).rejects.toSatisfy((e) => isAppError(e, 'ERR_BAD_INPUT_FILE'));
  });
});

describe('box mapping', () => {
  const p = { scaleX: 2, scaleY: 1.5, width: 1000, height: 600 };

  it('scales boxes back and clamps them to the image', () => {
    expect(scaleBox({ x0: 10, y0: 10, x1: 20, y1: 30 }, p)).toEqual({ x0: 20, y0: 15, x1: 40, y1: 45 });
    expect(scaleBox({ x0: 450, y0: 350, x1: 520, y1: 420 }, p)).toEqual({ x0: 900, y0: 525, x1: 1000, y1: 600 });
  });

  it('rewrites hOCR pixel measures and nothing else', () => {
    const hocr = `<span class='ocr_line' title="bbox 10 20 110 40; baseline 0.012 -4; x_size 20; x_descenders 4; x_ascenders 5"><span class='ocrx_word' id='word_1_1' title='bbox 10 20 50 40; x_wconf 91'>Drita</span>`;
    expect(scaleHocr(hocr, p)).toBe(
      `<span class='ocr_line' title="bbox 20 30 220 60; baseline 0.012 -6; x_size 30; x_descenders 6; x_ascenders 7.5"><span class='ocrx_word' id='word_1_1' title='bbox 20 30 100 60; x_wconf 91'>Drita</span>`,
    );
    expect(scaleHocr(hocr, { ...p, scaleX: 1, scaleY: 1 })).toBe(hocr);
    expect(scaleHocr(`<div class='ocr_page' title='image "unknown"; bbox 0 0 500 400; ppageno 0; scan_res 150 200'>`, p)).toBe(
      `<div class='ocr_page' title='image "unknown"; bbox 0 0 1000 600; ppageno 0; scan_res 75 133'>`,
    );
    const text = `<span class='ocrx_word' title='bbox 1 1 2 2; x_wconf 90'>bbox 1 2 3 4</span>`;
    expect(scaleHocr(text, p)).toBe(`<span class='ocrx_word' title='bbox 2 2 4 3; x_wconf 90'>bbox 1 2 3 4</span>`);
  });
});

describe('prepareForOcr: turning the page', () => {
  it.each([90, 180, 270] as const)('turns by %i degrees and maps boxes back to the pixels of the image given', async (rotate) => {
    // A 300×200 white page with one black block at x 20..60, y 10..30.
    const block = await sharp({ create: { width: 40, height: 20, channels: 3, background: '#000' } }).png().toBuffer();
    const page = await sharp({ create: { width: 300, height: 200, channels: 3, background: '#fff' } }).composite([{ input: block, left: 20, top: 10 }]).png().toBuffer();
    const p = await prepareForOcr(page, { ...bounds, preparation: { rotate } });
    const { data, info } = await sharp(p.png).raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height]).toEqual(rotate === 180 ? [300, 200] : [200, 300]);
    let x0 = Infinity, y0 = Infinity, x1 = -1, y1 = -1;
    for (let y = 0; y < info.height; y++) for (let x = 0; x < info.width; x++) {
      if (data[(y * info.width + x) * info.channels]! < 128) { x0 = Math.min(x0, x); y0 = Math.min(y0, y); x1 = Math.max(x1, x + 1); y1 = Math.max(y1, y + 1); }
    }
    expect(p.rotation).toBe(rotate);
    expect(scaleBox({ x0, y0, x1, y1 }, p)).toEqual({ x0: 20, y0: 10, x1: 60, y1: 30 });
  });
});
