import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAppError } from '../common/errors.ts';
import { readTiffLayout, splitBook, type PageSource, type SplitLimits } from './split.ts';

const LIMITS: SplitLimits = { maxPixels: 50_000_000, maxPages: 100 };

interface Frame {
  width: number;
  height: number;
  xres?: number;
  yres?: number;
  orientation?: number;
  /** Extra raw tags: [tag, type, count, value bytes]. */
  extra?: Array<[number, number, number, Buffer]>;
}

/**
 * A minimal little-endian TIFF writer (8-bit grey, one uncompressed strip per frame) so tests control
 * the layout: directories before the image data (`ifdFirst`) or after it, as libtiff writes.
 */
function writeTiff(frames: Frame[], opts: { ifdFirst?: boolean } = {}): Buffer {
  type Tag = { id: number; type: number; count: number; value: number | Buffer; ext?: number };
  const built = frames.map((f, i) => {
    const tags: Tag[] = [
      { id: 256, type: 4, count: 1, value: f.width },
      { id: 257, type: 4, count: 1, value: f.height },
      { id: 258, type: 3, count: 1, value: 8 },
      { id: 259, type: 3, count: 1, value: 1 },
      { id: 262, type: 3, count: 1, value: 1 },
      { id: 273, type: 4, count: 1, value: 0 },
      { id: 277, type: 3, count: 1, value: 1 },
      { id: 278, type: 4, count: 1, value: f.height },
      { id: 279, type: 4, count: 1, value: f.width * f.height },
      { id: 296, type: 3, count: 1, value: 2 },
    ];
    const rational = (id: number, v: number) => {
      const b = Buffer.alloc(8);
      b.writeUInt32LE(v, 0);
      b.writeUInt32LE(1, 4);
      tags.push({ id, type: 5, count: 1, value: b });
    };
    if (f.xres) rational(282, f.xres);
    if (f.yres) rational(283, f.yres);
    if (f.orientation) tags.push({ id: 274, type: 3, count: 1, value: f.orientation });
    for (const [id, type, count, value] of f.extra ?? []) tags.push({ id, type, count, value });
    tags.sort((a, b) => a.id - b.id);
    const pixels = Buffer.alloc(f.width * f.height);
    // A gradient that differs per frame, so frames are told apart.
    for (let p = 0; p < pixels.length; p++) pixels[p] = (p % f.width) * 2 + i * 40;
    return { tags, pixels, ifdAt: 0, dataAt: 0 };
  });
  let end = 8;
  const placeIfd = (b: (typeof built)[number]) => {
    b.ifdAt = end;
    end += 2 + b.tags.length * 12 + 4;
    for (const t of b.tags) {
      if (Buffer.isBuffer(t.value) && t.value.length > 4) {
        t.ext = end;
        end += t.value.length + (t.value.length & 1);
      }
    }
  };
  const placeData = (b: (typeof built)[number]) => {
    b.dataAt = end;
    end += b.pixels.length + (b.pixels.length & 1);
  };
  if (opts.ifdFirst) {
    built.forEach(placeIfd);
    built.forEach(placeData);
  } else {
    for (const b of built) {
      placeData(b);
      placeIfd(b);
    }
  }
  const out = Buffer.alloc(end);
  out.write('II', 0, 'latin1');
  out.writeUInt16LE(42, 2);
  out.writeUInt32LE(built[0]!.ifdAt, 4);
  built.forEach((b, i) => {
    let p = b.ifdAt;
    out.writeUInt16LE(b.tags.length, p);
    p += 2;
    for (const t of b.tags) {
      out.writeUInt16LE(t.id, p);
      out.writeUInt16LE(t.type, p + 2);
      out.writeUInt32LE(t.count, p + 4);
      if (t.id === 273) out.writeUInt32LE(b.dataAt, p + 8);
      else if (Buffer.isBuffer(t.value)) {
        if (t.ext !== undefined) {
          out.writeUInt32LE(t.ext, p + 8);
          t.value.copy(out, t.ext);
        } else t.value.copy(out, p + 8);
      } else if (t.type === 3) out.writeUInt16LE(t.value, p + 8);
      else out.writeUInt32LE(t.value, p + 8);
      p += 12;
    }
    out.writeUInt32LE(i + 1 < built.length ? built[i + 1]!.ifdAt : 0, p);
    b.pixels.copy(out, b.dataAt);
  });
  return out;
}

/** A page of synthetic text, so compression behaves like a scan rather than a flat colour. */
async function textPage(width: number, height: number, label: string): Promise<Buffer> {
  const drawn = await sharp({ create: { width, height, channels: 3, background: '#f4f1ea' } })
    .composite([{ input: { text: { text: `${label} — entry no. 17`, dpi: 300 } }, left: 40, top: 60 }])
    .png()
    .toBuffer();
  // sharp flattens before compositing, so a second pass removes the text layer's alpha.
  return sharp(drawn).flatten({ background: '#f4f1ea' }).toColourspace('b-w').png().toBuffer();
}

async function sharpTiff(pages: number, opts: { compression?: string; bigtiff?: boolean; density?: number } = {}): Promise<Buffer> {
  const frames = await Promise.all(Array.from({ length: pages }, (_, i) => textPage(620, 877, `Page ${i + 1}`)));
  const joined = frames.length > 1 ? sharp(frames, { join: { animated: true } }) : sharp(frames[0]);
  // Joining adds an alpha channel; scanners write opaque grey.
  return joined
    .removeAlpha()
    .toColourspace('b-w')
    .withDensity(opts.density ?? 300)
    .tiff({ compression: opts.compression ?? 'lzw', bigtiff: opts.bigtiff ?? false })
    .toBuffer();
}

async function collect(gen: AsyncGenerator<PageSource>): Promise<PageSource[]> {
  const out: PageSource[] = [];
  for await (const p of gen) out.push(p);
  return out;
}

let dir: string;
beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'split-tiff-test-'));
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

async function save(name: string, data: Buffer): Promise<string> {
  const file = path.join(dir, name);
  await fs.writeFile(file, data);
  return file;
}

describe('TIFF books', () => {
  it('splits a 4-page TIFF into 4 lossless greyscale PNG pages with dimensions and dpi', async () => {
    const file = await save('four.tif', await sharpTiff(4));
    const pages = await collect(splitBook({ path: file }, LIMITS));
    expect(pages.map((p) => p.sequence)).toEqual([1, 2, 3, 4]);
    for (const [i, p] of pages.entries()) {
      if (!p.ok) throw new Error(p.reason);
      expect(p).toMatchObject({ width: 620, height: 877, dpiX: 300, dpiY: 300, mediaType: 'image/png', extraction: 'converted', origin: `tiff frame ${i + 1} of 4` });
      const meta = await sharp(p.image).metadata();
      expect(meta).toMatchObject({ format: 'png', width: 620, height: 877, channels: 1, density: 300 });
    }
    // Lossless: the PNG holds exactly the frame's pixels.
    const frame3 = await sharp(file, { page: 2 }).extractChannel(0).raw().toBuffer();
    const page3 = pages[2]!.ok ? await sharp(pages[2]!.image).extractChannel(0).raw().toBuffer() : Buffer.alloc(0);
    expect(page3.equals(frame3)).toBe(true);
  });

  it('reads frames of different sizes and unequal X/Y resolution (fax-style) from their own directories', async () => {
    const file = await save('mixed.tif', writeTiff([
      { width: 300, height: 200, xres: 204, yres: 196 },
      { width: 120, height: 90, xres: 300, yres: 300 },
      { width: 50, height: 70 },
    ]));
    const pages = await collect(splitBook({ path: file }, LIMITS));
    expect(pages).toMatchObject([
      { ok: true, width: 300, height: 200, dpiX: 204, dpiY: 196 },
      { ok: true, width: 120, height: 90, dpiX: 300, dpiY: 300 },
      { ok: true, width: 50, height: 70 },
    ]);
    expect(pages[2]).not.toHaveProperty('dpiX');
  });

  it('accepts ordinary scanner quirks (private tag, ASCII without NUL, odd DateTime) that failOn "warning" refuses', async () => {
    const quirks: Array<[number, number, number, Buffer]> = [
      [65000, 7, 6, Buffer.from('abcdef')],
      [305, 2, 7, Buffer.from('Scanner', 'latin1')],
      [306, 2, 10, Buffer.from('2020:01:01', 'latin1')],
    ];
    const file = await save('quirks.tif', writeTiff([1, 2].map(() => ({ width: 200, height: 100, xres: 300, yres: 300, extra: quirks }))));
    // The measurement behind the choice: 'warning' refuses this file, 'error' does not.
    await expect(sharp(file, { failOn: 'warning' }).png().toBuffer()).rejects.toThrow();
    const pages = await collect(splitBook({ path: file }, LIMITS));
    expect(pages.map((p) => p.ok)).toEqual([true, true]);
  });

  it('a truncated TIFF (libtiff layout, data before directory): intact frames succeed, the lost rest fails with a reason', async () => {
    const whole = await sharpTiff(4);
    const file = await save('cut.tif', whole.subarray(0, Math.floor(whole.length * 0.7)));
    // What sharp alone says about this file: two pages, and failOn 'error' refuses even those.
    expect((await sharp(file).metadata()).pages).toBe(2);
    await expect(sharp(file, { page: 0, failOn: 'error' }).png().toBuffer()).rejects.toThrow();

    const pages = await collect(splitBook({ path: file }, LIMITS));
    expect(pages.map((p) => p.ok)).toEqual([true, true, false]);
    expect(pages[0]).toMatchObject({ width: 620, height: 877 });
    const lost = pages[2]!;
    expect(lost.ok).toBe(false);
    if (!lost.ok) {
      expect(lost.origin).toBe('tiff frame 3');
      expect(lost.reason).toMatch(/^tiff frame 3 and any after it cannot be read: .*truncated/);
    }
    // The uploaded file is left as it was (the repair happens on a private copy).
    expect((await fs.readFile(file)).equals(whole.subarray(0, Math.floor(whole.length * 0.7)))).toBe(true);
  });

  it('a truncated TIFF with directories first: frames whose data is cut off fail, the others succeed', async () => {
    const whole = writeTiff([0, 1, 2, 3].map(() => ({ width: 400, height: 300, xres: 300, yres: 300 })), { ifdFirst: true });
    const file = await save('cut-ifd-first.tif', whole.subarray(0, whole.length - 400 * 300 - 200 * 300));
    const pages = await collect(splitBook({ path: file }, LIMITS));
    expect(pages.map((p) => p.ok)).toEqual([true, true, false, false]);
    const third = pages[2]!;
    if (!third.ok) expect(third.reason).toMatch(/^tiff frame 3 of 4: its image data is cut off: it needs [\d,]+ bytes but the file has [\d,]+/);
  });

  it('refuses a TIFF cut before its first directory, before yielding anything', async () => {
    const whole = await sharpTiff(1);
    const file = await save('headless.tif', whole.subarray(0, 600));
    const err = await collect(splitBook({ path: file }, LIMITS)).catch((e: unknown) => e);
    expect(isAppError(err, 'ERR_BAD_INPUT_FILE')).toBe(true);
    expect((err as Error).message).toMatch(/TIFF is truncated or damaged: its first directory cannot be read/);
  });

  it('refuses a TIFF with more frames than maxPages up front', async () => {
    const file = await save('many.tif', writeTiff(Array.from({ length: 6 }, () => ({ width: 10, height: 10 }))));
    const gen = splitBook({ path: file }, { ...LIMITS, maxPages: 5 });
    const err = await gen.next().catch((e: unknown) => e);
    expect(isAppError(err, 'ERR_PAYLOAD_TOO_LARGE')).toBe(true);
    expect((err as Error).message).toBe('TIFF has more than 5 pages; the limit is 5');
  });

  it('fails only the frame that exceeds maxPixels, naming its size, without decoding it', async () => {
    const file = await save('one-big.tif', writeTiff([{ width: 100, height: 100 }, { width: 1000, height: 1000 }, { width: 100, height: 100 }]));
    const pages = await collect(splitBook({ path: file }, { ...LIMITS, maxPixels: 500_000 }));
    expect(pages.map((p) => p.ok)).toEqual([true, false, true]);
    if (!pages[1]!.ok) expect(pages[1]!.reason).toBe('tiff frame 2 of 3: image is 1,000×1,000 = 1,000,000 pixels exceeds the limit of 500,000 pixels');
  });

  it('keeps 16-bit samples, applies the Orientation tag, decodes CCITT G4 and reads BigTIFF', async () => {
    const deep = await sharp(new Uint16Array(40 * 30).map((_, i) => i * 50), { raw: { width: 40, height: 30, channels: 1 } })
      .toColourspace('grey16')
      .tiff({ compression: 'deflate' })
      .toBuffer();
    const [p16] = await collect(splitBook({ path: await save('deep.tif', deep) }, LIMITS));
    if (!p16?.ok) throw new Error('16-bit frame failed');
    expect(await sharp(p16.image).metadata()).toMatchObject({ depth: 'ushort', channels: 1 });

    const rotated = writeTiff([{ width: 60, height: 20, xres: 200, yres: 100, orientation: 6 }]);
    const [pr] = await collect(splitBook({ path: await save('rotated.tif', rotated) }, LIMITS));
    expect(pr).toMatchObject({ ok: true, width: 20, height: 60, dpiX: 100, dpiY: 200 });

    const g4 = await sharp(await textPage(800, 300, 'Bilevel')).toColourspace('b-w').tiff({ compression: 'ccittfax4', bitdepth: 1 }).toBuffer();
    const [pg] = await collect(splitBook({ path: await save('g4.tif', g4) }, LIMITS));
    expect(pg).toMatchObject({ ok: true, width: 800, height: 300 });

    const big = await sharpTiff(2, { bigtiff: true });
    expect(big.subarray(0, 4)).toEqual(Buffer.from([0x49, 0x49, 0x2b, 0x00]));
    const layout = await readTiffLayout(await save('big.tif', big), 10);
    expect(layout).toMatchObject({ bigTiff: true, frames: [{ width: 620, height: 877, dpiX: 300 }, { width: 620 }] });
    const pb = await collect(splitBook({ path: path.join(dir, 'big.tif') }, LIMITS));
    expect(pb.map((p) => p.ok)).toEqual([true, true]);
  });

  it('refuses a non-image renamed .tif with ERR_UNSUPPORTED_MEDIA', async () => {
    const file = await save('letter.tif', Buffer.from('Dear registrar,\nplease find attached...\n'));
    const err = await collect(splitBook({ path: file }, LIMITS)).catch((e: unknown) => e);
    expect(isAppError(err, 'ERR_UNSUPPORTED_MEDIA')).toBe(true);
    expect((err as Error).message).toMatch(/^file is not a TIFF, PDF, PNG, JPEG or ZIP; it looks like a text file/);
  });
});
