import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import yazl from 'yazl';
import { isAppError } from '../common/errors.ts';
import { listFolder, naturalCompare, splitBook, type PageSource, type SplitLimits } from './split.ts';

const LIMITS: SplitLimits = { maxPixels: 50_000_000, maxPages: 100 };

let root: string;
beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'split-images-test-'));
});
afterAll(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

async function folder(name: string, files: Record<string, Buffer>): Promise<string> {
  const dir = path.join(root, name);
  await fs.mkdir(dir, { recursive: true });
  for (const [file, data] of Object.entries(files)) {
    await fs.mkdir(path.dirname(path.join(dir, file)), { recursive: true });
    await fs.writeFile(path.join(dir, file), data);
  }
  return dir;
}

async function collect(input: string, limits: SplitLimits = LIMITS): Promise<PageSource[]> {
  const out: PageSource[] = [];
  for await (const p of splitBook({ path: input }, limits)) out.push(p);
  return out;
}

async function refusal(input: string, limits: SplitLimits = LIMITS): Promise<unknown> {
  return splitBook({ path: input }, limits)
    .next()
    .then(
      () => new Error('expected the book to be refused'),
      (e: unknown) => e,
    );
}

function image(width: number, height: number, format: 'png' | 'jpeg', shade = 200): Promise<Buffer> {
  const s = sharp({ create: { width, height, channels: 3, background: { r: shade, g: shade, b: shade - 20 } } }).withDensity(300);
  return format === 'png' ? s.png().toBuffer() : s.jpeg().toBuffer();
}

async function twoPageTiff(): Promise<Buffer> {
  const pages = await Promise.all([image(80, 100, 'png', 120), image(80, 100, 'png', 220)]);
  return sharp(pages, { join: { animated: true } }).removeAlpha().tiff({ compression: 'lzw' }).toBuffer();
}

/** A valid 30000×30000 1-bit PNG of ~110 KB: cheap to store, 900 Mpx to decode. */
function hugePng(): Buffer {
  const table = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (buf: Buffer) => {
    let c = 0xffffffff;
    for (const b of buf) c = table[(c ^ b) & 0xff]! ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const out = Buffer.alloc(body.length + 8);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc(body), body.length + 4);
    return out;
  };
  const size = 30000;
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr[8] = 1; // bit depth 1, greyscale
  const rows = zlib.deflateSync(Buffer.alloc((1 + size / 8) * size), { level: 9, strategy: zlib.constants.Z_RLE });
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', rows), chunk('IEND', Buffer.alloc(0))]);
}

async function zip(name: string, entries: Array<[string, Buffer, { mode?: number }?]>): Promise<string> {
  const z = new yazl.ZipFile();
  for (const [entry, data, opts] of entries) z.addBuffer(data, entry, opts ?? {});
  z.end();
  const chunks: Buffer[] = [];
  for await (const c of z.outputStream) chunks.push(c as Buffer);
  const file = path.join(root, name);
  await fs.writeFile(file, Buffer.concat(chunks));
  return file;
}

function okOrigins(pages: PageSource[]): string[] {
  return pages.map((p) => `${p.sequence} ${p.ok ? 'ok' : 'failed'} ${p.origin}`);
}

describe('natural order', () => {
  it('orders numbers by value, case-insensitively, with a total tie-break', () => {
    const names = ['page-10.png', 'Page-2.png', 'page-1.png', 'page-02.png', 'page-1a.png', 'page-100.png'];
    expect([...names].sort(naturalCompare)).toEqual(['page-1.png', 'page-1a.png', 'Page-2.png', 'page-02.png', 'page-10.png', 'page-100.png']);
  });
});

describe('folder books', () => {
  it('yields pages 1, 2 and 4 and fails page 3, which is not an image', async () => {
    const dir = await folder('garbage', {
      'page-1.png': await image(100, 140, 'png'),
      'page-2.jpg': await image(110, 150, 'jpeg'),
      'page-3.png': Buffer.from('this is a note, not a scan\n'),
      'page-4.png': await image(120, 160, 'png'),
    });
    const pages = await collect(dir);
    expect(okOrigins(pages)).toEqual(['1 ok file page-1.png', '2 ok file page-2.jpg', '3 failed file page-3.png', '4 ok file page-4.png']);
    const third = pages[2]!;
    if (!third.ok) expect(third.reason).toBe('file page-3.png: file is not a TIFF, PDF, PNG, JPEG or ZIP; it looks like a text file (a note or a list, not a scan)');
    expect(pages[1]).toMatchObject({ mediaType: 'image/jpeg', width: 110, height: 150, dpiX: 300, dpiY: 300, extraction: 'original' });
    // The original bytes, unchanged.
    const first = pages[0]!;
    if (first.ok) expect(first.image.equals(await fs.readFile(path.join(dir, 'page-1.png')))).toBe(true);
  });

  it('sorts naturally, skips hidden files, folders, symlinks and Thumbs.db, and spreads a TIFF over consecutive pages', async () => {
    const dir = await folder('natural', {
      'p10.png': await image(10, 10, 'png'),
      'p2.tif': await twoPageTiff(),
      'p1.jpg': await image(10, 10, 'jpeg'),
      '.DS_Store': Buffer.from('junk'),
      'Thumbs.db': Buffer.from('junk'),
      'sub/p3.png': await image(10, 10, 'png'),
    });
    await fs.symlink(path.join(dir, 'p1.jpg'), path.join(dir, 'p5.jpg'));
    const listed = await listFolder(dir);
    expect(listed.map((e) => `${e.name}:${e.format}`)).toEqual(['p1.jpg:jpeg', 'p2.tif:tiff', 'p10.png:png']);
    expect(okOrigins(await collect(dir))).toEqual([
      '1 ok file p1.jpg',
      '2 ok file p2.tif, tiff frame 1 of 2',
      '3 ok file p2.tif, tiff frame 2 of 2',
      '4 ok file p10.png',
    ]);
  });

  it('fails a truncated JPEG page with a reason and keeps going', async () => {
    const jpeg = await sharp({ create: { width: 300, height: 300, channels: 3, background: '#808080', noise: { type: 'gaussian', mean: 128, sigma: 40 } } }).jpeg().toBuffer();
    const dir = await folder('truncated', { 'a.jpg': jpeg.subarray(0, jpeg.length / 2), 'b.jpg': jpeg });
    const pages = await collect(dir);
    expect(pages.map((p) => p.ok)).toEqual([false, true]);
    if (!pages[0]!.ok) expect(pages[0]!.reason).toMatch(/^file a\.jpg: cannot be decoded: .*premature end/i);
  });

  it('refuses a 30000×30000 PNG from its header, with the pixel count, fast and without decoding', async () => {
    const huge = hugePng();
    const dir = await folder('huge', { 'page-1.png': huge, 'page-2.png': await image(50, 50, 'png') });
    const rssBefore = process.memoryUsage().rss;
    const started = Date.now();
    const pages = await collect(dir);
    expect(Date.now() - started).toBeLessThan(1000);
    // Decoding would need 900 MB; a header read needs nothing noticeable.
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(200 * 1024 ** 2);
    expect(pages.map((p) => p.ok)).toEqual([false, true]);
    if (!pages[0]!.ok) {
      expect(pages[0]!.reason).toBe('file page-1.png: image is 30,000×30,000 = 900,000,000 pixels exceeds the limit of 50,000,000 pixels');
    }
    // As a book of its own: one refused page.
    const single = path.join(root, 'huge.png');
    await fs.writeFile(single, huge);
    expect(await collect(single)).toMatchObject([{ sequence: 1, ok: false, origin: 'image file' }]);
  });

  it('refuses a folder with more pages than maxPages (TIFF frames counted) before the first page', async () => {
    const dir = await folder('many', { 'a.png': await image(10, 10, 'png'), 'b.tif': await twoPageTiff() });
    const err = await refusal(dir, { ...LIMITS, maxPages: 2 });
    expect(isAppError(err, 'ERR_PAYLOAD_TOO_LARGE')).toBe(true);
    expect((err as Error).message).toBe('folder has more than 2 pages; the limit is 2');
    const empty = await folder('empty', { '.hidden': Buffer.from('x') });
    expect(isAppError(await refusal(empty), 'ERR_BAD_INPUT_FILE')).toBe(true);
  });
});

describe('ZIP books', () => {
  it('splits entries in natural order, skipping folders and __MACOSX clutter, TIFF frames in place', async () => {
    const file = await zip('pages.zip', [
      ['scans/page-10.png', await image(20, 30, 'png')],
      ['scans/page-2.tif', await twoPageTiff()],
      ['scans/page-1.jpg', await image(20, 30, 'jpeg')],
      ['__MACOSX/scans/._page-1.jpg', Buffer.from('resource fork')],
      ['scans/notes.txt', Buffer.from('scanned by the registry office')],
    ]);
    const pages = await collect(file);
    expect(okOrigins(pages)).toEqual([
      '1 failed zip entry scans/notes.txt',
      '2 ok zip entry scans/page-1.jpg',
      '3 ok zip entry scans/page-2.tif, tiff frame 1 of 2',
      '4 ok zip entry scans/page-2.tif, tiff frame 2 of 2',
      '5 ok zip entry scans/page-10.png',
    ]);
    expect(pages[1]).toMatchObject({ width: 20, height: 30, mediaType: 'image/jpeg' });
  });

  it('splits a truncated multi-page TIFF entry: intact frames, then one failed page for the lost rest', async () => {
    const pages = await Promise.all([1, 2, 3].map((i) => image(200, 300, 'png', 60 * i)));
    const tiff = await sharp(pages, { join: { animated: true } }).removeAlpha().tiff({ compression: 'none' }).toBuffer();
    const file = await zip('cut-tiff.zip', [['book.tif', tiff.subarray(0, Math.floor(tiff.length * 0.8))]]);
    expect(okOrigins(await collect(file))).toEqual(['1 ok zip entry book.tif, tiff frame 1', '2 ok zip entry book.tif, tiff frame 2', '3 failed zip entry book.tif, tiff frame 3']);
  });

  it('gives an EXIF-rotated JPEG its upright size and keeps its bytes', async () => {
    const jpeg = await sharp({ create: { width: 60, height: 40, channels: 3, background: '#ddd' } }).withMetadata({ orientation: 6 }).jpeg().toBuffer();
    const [page] = await collect(await zip('phone.zip', [['IMG_0001.jpg', jpeg]]));
    expect(page).toMatchObject({ ok: true, width: 40, height: 60, extraction: 'original' });
    if (page?.ok) expect(page.image.equals(jpeg)).toBe(true);
  });

  it('refuses an entry named ../evil.png before reading any page', async () => {
    const file = await zip('evil.zip', [['page-1.png', await image(10, 10, 'png')], ['aa/evil.png', await image(10, 10, 'png')]]);
    // yazl will not write such a name, so it is patched in (names are not covered by the CRC).
    const bytes = await fs.readFile(file);
    let at = bytes.indexOf('aa/evil.png');
    while (at !== -1) {
      bytes.write('../evil.png', at, 'latin1');
      at = bytes.indexOf('aa/evil.png', at);
    }
    await fs.writeFile(file, bytes);
    const err = await refusal(file);
    expect(isAppError(err, 'ERR_BAD_INPUT_FILE')).toBe(true);
    expect((err as Error).message).toBe('ZIP entry "../evil.png" has an unsafe path (invalid relative path: ../evil.png); the archive is refused');
  });

  it('refuses symlink and encrypted entries', async () => {
    const link = await zip('link.zip', [['page-1.png', Buffer.from('/etc/passwd'), { mode: 0o120777 }]]);
    expect((await refusal(link) as Error).message).toBe('ZIP entry "page-1.png" is a symbolic link; the archive is refused');

    const file = await zip('encrypted.zip', [['page-1.png', await image(10, 10, 'png')]]);
    const bytes = await fs.readFile(file);
    const central = bytes.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
    bytes.writeUInt16LE(bytes.readUInt16LE(central + 8) | 1, central + 8);
    await fs.writeFile(file, bytes);
    const err = await refusal(file);
    expect(isAppError(err, 'ERR_BAD_INPUT_FILE')).toBe(true);
    expect((err as Error).message).toBe('ZIP entry "page-1.png" is encrypted; upload an unencrypted archive');
  });

  it('bounds inflation: a whole archive over maxTotalBytes is refused, one entry over maxFileBytes fails alone', async () => {
    const bomb = await zip('bomb.zip', [['page-1.tif', Buffer.alloc(5_000_000)]]);
    expect((await fs.stat(bomb)).size).toBeLessThan(20_000);
    const err = await refusal(bomb, { ...LIMITS, maxTotalBytes: 1_000_000 });
    expect(isAppError(err, 'ERR_PAYLOAD_TOO_LARGE')).toBe(true);
    expect((err as Error).message).toBe('ZIP archive inflates to more than 1,000,000 bytes (the limit); the archive is refused');

    const pages = await collect(bomb, { ...LIMITS, maxFileBytes: 1_000_000 });
    expect(pages).toMatchObject([{ ok: false, reason: 'zip entry page-1.tif: inflates to 4.8 MiB, over the limit of 1,000,000 bytes for one page file' }]);
  });

  it('refuses more page entries than maxPages, and a damaged archive', async () => {
    const png = await image(10, 10, 'png');
    const many = await zip('many.zip', [['1.png', png], ['2.png', png], ['3.png', png]]);
    const err = await refusal(many, { ...LIMITS, maxPages: 2 });
    expect(isAppError(err, 'ERR_PAYLOAD_TOO_LARGE')).toBe(true);

    const whole = await fs.readFile(many);
    const cut = path.join(root, 'cut.zip');
    await fs.writeFile(cut, whole.subarray(0, whole.length - 30));
    const damaged = await refusal(cut);
    expect(isAppError(damaged, 'ERR_BAD_INPUT_FILE')).toBe(true);
    expect((damaged as Error).message).toMatch(/^ZIP archive cannot be read: /);
  });
});
