import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  PDFDocument,
  PDFHexString,
  PDFName,
  PDFString,
  StandardFonts,
  TextRenderingMode,
  beginText,
  concatTransformationMatrix,
  degrees,
  drawObject,
  endText,
  moveText,
  popGraphicsState,
  pushGraphicsState,
  setFontAndSize,
  setTextRenderingMode,
  showText,
  type PDFPage,
} from 'pdf-lib';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAppError } from '../common/errors.ts';
import { splitBook, type PageImage, type PageSource, type SplitLimits } from './split.ts';

const LIMITS: SplitLimits = { maxPixels: 50_000_000, maxPages: 100 };

let dir: string;
beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'split-pdf-test-'));
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

async function save(name: string, data: Uint8Array): Promise<string> {
  const file = path.join(dir, name);
  await fs.writeFile(file, data);
  return file;
}

async function collect(file: string, limits: SplitLimits = LIMITS): Promise<PageSource[]> {
  const out: PageSource[] = [];
  for await (const p of splitBook({ path: file }, limits)) out.push(p);
  return out;
}

async function refusal(file: string, limits: SplitLimits = LIMITS): Promise<unknown> {
  const gen = splitBook({ path: file }, limits);
  return gen.next().then(
    () => new Error('expected the book to be refused'),
    (e: unknown) => e,
  );
}

function ok(p: PageSource | undefined): PageImage {
  if (!p?.ok) throw new Error(`page failed: ${p ? p.reason : 'missing'}`);
  return p;
}

/** A scan-like page: paper colour, a dark heading, and a red block in its top-left corner. */
async function scan(width: number, height: number, opts: { grey?: boolean; format?: 'jpeg' | 'png' } = {}): Promise<Buffer> {
  const marker = await sharp({ create: { width: Math.round(width / 4), height: Math.round(height / 6), channels: 3, background: '#c00000' } }).png().toBuffer();
  const drawn = await sharp({ create: { width, height, channels: 3, background: '#efe8d8' } })
    .composite([
      { input: marker, left: 0, top: 0 },
      { input: { text: { text: 'Register of births', dpi: Math.round(width / 4) } }, left: Math.round(width / 3), top: Math.round(height / 2) },
    ])
    .png()
    .toBuffer();
  const flat = sharp(drawn).flatten({ background: '#efe8d8' });
  if (opts.grey) flat.toColourspace('b-w');
  return opts.format === 'png' ? flat.png().toBuffer() : flat.jpeg({ quality: 90 }).toBuffer();
}

async function meanDifference(a: Buffer, b: Buffer, width = 40, height = 40): Promise<number> {
  const norm = (x: Buffer) => sharp(x).removeAlpha().toColourspace('srgb').resize(width, height, { fit: 'fill' }).raw().toBuffer();
  const [ra, rb] = await Promise.all([norm(a), norm(b)]);
  let sum = 0;
  for (let i = 0; i < ra.length; i++) sum += Math.abs(ra[i]! - rb[i]!);
  return sum / ra.length;
}

describe('PDF books', () => {
  it('takes the pixels of the one image on each page of a 3-page scanned PDF, without rendering', async () => {
    const doc = await PDFDocument.create();
    const sizes: Array<[number, number, boolean]> = [[600, 800, false], [500, 700, true], [450, 650, false]];
    const jpegs: Buffer[] = [];
    for (const [w, h, grey] of sizes) {
      const jpeg = await scan(w, h, { grey });
      jpegs.push(jpeg);
      // Placed at exactly 150 dpi.
      const page = doc.addPage([(w * 72) / 150, (h * 72) / 150]);
      page.drawImage(await doc.embedJpg(jpeg), { x: 0, y: 0, width: page.getWidth(), height: page.getHeight() });
    }
    const pages = await collect(await save('scans.pdf', await doc.save()));
    expect(pages).toHaveLength(3);
    for (const [i, [w, h, grey]] of sizes.entries()) {
      const p = ok(pages[i]);
      expect(p).toMatchObject({ sequence: i + 1, width: w, height: h, dpiX: 150, dpiY: 150, extraction: 'pdf-image', origin: `pdf page ${i + 1} image`, mediaType: 'image/png' });
      const meta = await sharp(p.image).metadata();
      expect(meta).toMatchObject({ format: 'png', width: w, height: h, channels: grey ? 1 : 3 });
      // pdfjs's JPEG decoder and libjpeg differ by rounding only.
      expect(await meanDifference(p.image, jpegs[i]!)).toBeLessThan(2);
    }
  });

  it('renders a page of vector text at 300 dpi', async () => {
    const doc = await PDFDocument.create();
    const font = await doc.embedFont(StandardFonts.Helvetica);
    const page = doc.addPage([216, 144]);
    page.drawText('Certificate of marriage', { x: 20, y: 100, size: 14, font });
    const [p] = await collect(await save('vector.pdf', await doc.save()));
    expect(ok(p)).toMatchObject({ extraction: 'pdf-render', origin: 'pdf page 1 rendered', width: 900, height: 600, dpiX: 300, dpiY: 300 });
    // Text was drawn: the page is not blank.
    const { channels } = await sharp(ok(p).image).stats();
    expect(channels[0]!.min).toBeLessThan(100);
  });

  it('keeps extracting the image under an invisible OCR text layer, renders when text is visible', async () => {
    const build = async (mode: TextRenderingMode) => {
      const doc = await PDFDocument.create();
      const font = await doc.embedFont(StandardFonts.Helvetica);
      const page = doc.addPage([288, 384]);
      page.drawImage(await doc.embedJpg(await scan(600, 800)), { x: 0, y: 0, width: 288, height: 384 });
      const key = page.node.newFontDictionary(font.name, font.ref);
      page.pushOperators(beginText(), setFontAndSize(key, 12), setTextRenderingMode(mode), moveText(100, 190), showText(font.encodeText('Register of births')), endText());
      return save(`ocr-${mode}.pdf`, await doc.save());
    };
    expect(ok((await collect(await build(TextRenderingMode.Invisible)))[0]).extraction).toBe('pdf-image');
    expect(ok((await collect(await build(TextRenderingMode.Fill)))[0]).extraction).toBe('pdf-render');
  });

  it('turns the extracted image the way the page shows it (page /Rotate, rotated or mirrored placement)', async () => {
    const png = await scan(200, 300, { format: 'png' });
    type Place = (page: PDFPage, name: PDFName) => void;
    const cases: Array<{ name: string; size: [number, number]; rotate?: number; place: Place }> = [
      { name: 'rotate-90', size: [144, 216], rotate: 90, place: (pg, n) => pg.pushOperators(pushGraphicsState(), concatTransformationMatrix(144, 0, 0, 216, 0, 0), drawObject(n), popGraphicsState()) },
      { name: 'rotate-180', size: [144, 216], rotate: 180, place: (pg, n) => pg.pushOperators(pushGraphicsState(), concatTransformationMatrix(144, 0, 0, 216, 0, 0), drawObject(n), popGraphicsState()) },
      // The image drawn turned a quarter anticlockwise onto a landscape page.
      { name: 'ctm-rotated', size: [216, 144], place: (pg, n) => pg.pushOperators(pushGraphicsState(), concatTransformationMatrix(0, 144, -216, 0, 216, 0), drawObject(n), popGraphicsState()) },
      { name: 'mirrored', size: [144, 216], place: (pg, n) => pg.pushOperators(pushGraphicsState(), concatTransformationMatrix(-144, 0, 0, 216, 144, 0), drawObject(n), popGraphicsState()) },
    ];
    for (const c of cases) {
      const build = async (withLine: boolean) => {
        const doc = await PDFDocument.create();
        const image = await doc.embedPng(png);
        const page = doc.addPage(c.size);
        if (c.rotate) page.setRotation(degrees(c.rotate));
        c.place(page, page.node.newXObject('Im0', image.ref));
        // A hairline forces rendering; the rendered page is the reference orientation.
        if (withLine) page.drawLine({ start: { x: c.size[0] / 2, y: c.size[1] / 2 }, end: { x: c.size[0] / 2 + 1, y: c.size[1] / 2 }, thickness: 0.1 });
        return save(`${c.name}-${withLine}.pdf`, await doc.save());
      };
      const extracted = ok((await collect(await build(false)))[0]);
      const rendered = ok((await collect(await build(true)))[0]);
      expect(extracted.extraction, c.name).toBe('pdf-image');
      expect(rendered.extraction, c.name).toBe('pdf-render');
      expect(extracted.width / extracted.height, c.name).toBeCloseTo(rendered.width / rendered.height, 2);
      expect(await meanDifference(extracted.image, rendered.image), c.name).toBeLessThan(6);
      // ...and the measure does tell orientations apart: the stored, unturned pixels look different.
      expect(await meanDifference(extracted.image, png), c.name).toBeGreaterThan(12);
      // 200 px over 2 inches (144 pt) of the page's width or height.
      expect([extracted.dpiX, extracted.dpiY], c.name).toEqual([100, 100]);
    }
  });

  it('renders a page whose only image is a small picture on it, and flattens a translucent full-page image onto white', async () => {
    const doc = await PDFDocument.create();
    const photo = await doc.embedJpg(await scan(100, 100));
    doc.addPage([288, 384]).drawImage(photo, { x: 20, y: 20, width: 72, height: 72 });
    const translucent = await sharp({ create: { width: 80, height: 100, channels: 4, background: { r: 200, g: 0, b: 0, alpha: 0.5 } } }).png().toBuffer();
    const page = doc.addPage([57.6, 72]);
    page.drawImage(await doc.embedPng(translucent), { x: 0, y: 0, width: 57.6, height: 72 });
    const [small, tinted] = await collect(await save('coverage.pdf', await doc.save()));
    expect(ok(small)).toMatchObject({ extraction: 'pdf-render', width: 1200, height: 1600 });
    expect(ok(tinted)).toMatchObject({ extraction: 'pdf-image', width: 80, height: 100, dpiX: 100 });
    const { data, info } = await sharp(ok(tinted).image).raw().toBuffer({ resolveWithObject: true });
    expect(info.channels).toBe(3);
    // Half-transparent rgb(200,0,0) over white.
    const expected = [228, 128, 128];
    expected.forEach((v, c) => expect(Math.abs(data[c]! - v)).toBeLessThanOrEqual(2));
  });

  it('expands a 1-bit image to greyscale with black where the PDF says black', async () => {
    const doc = await PDFDocument.create();
    const bits = Buffer.alloc(8 * 32);
    for (let y = 16; y < 32; y++) bits.fill(0xff, y * 8, y * 8 + 8);
    const ref = doc.context.register(doc.context.stream(bits, { Type: 'XObject', Subtype: 'Image', Width: 64, Height: 32, ColorSpace: 'DeviceGray', BitsPerComponent: 1 }));
    const page = doc.addPage([46.08, 23.04]);
    page.pushOperators(pushGraphicsState(), concatTransformationMatrix(46.08, 0, 0, 23.04, 0, 0), drawObject(page.node.newXObject('Im0', ref)), popGraphicsState());
    const p = ok((await collect(await save('bilevel.pdf', await doc.save())))[0]);
    expect(p).toMatchObject({ width: 64, height: 32, dpiX: 100, extraction: 'pdf-image' });
    expect((await sharp(p.image).metadata()).channels).toBe(1);
    const raw = await sharp(p.image).extractChannel(0).raw().toBuffer();
    expect(raw[0]).toBe(0);
    expect(raw[64 * 31]).toBe(255);
  });

  it('fails only the page whose image exceeds maxPixels, quickly and without decoding it', async () => {
    const doc = await PDFDocument.create();
    const huge = doc.context.register(doc.context.flateStream(Buffer.alloc(1000), { Type: 'XObject', Subtype: 'Image', Width: 30000, Height: 30000, ColorSpace: 'DeviceGray', BitsPerComponent: 8 }));
    const page = doc.addPage([600, 600]);
    page.pushOperators(pushGraphicsState(), concatTransformationMatrix(600, 0, 0, 600, 0, 0), drawObject(page.node.newXObject('Im0', huge)), popGraphicsState());
    const small = doc.addPage([144, 192]);
    small.drawImage(await doc.embedJpg(await scan(300, 400)), { x: 0, y: 0, width: 144, height: 192 });
    const started = Date.now();
    const pages = await collect(await save('huge-image.pdf', await doc.save()));
    expect(Date.now() - started).toBeLessThan(5000);
    expect(pages.map((p) => p.ok)).toEqual([false, true]);
    if (!pages[0]!.ok) expect(pages[0]!.reason).toBe('pdf page 1: an image on the page exceeds the limit of 50,000,000 pixels');
  });

  it('refuses a PDF with an OpenAction JavaScript, naming JavaScript', async () => {
    const doc = await PDFDocument.create();
    doc.addPage([200, 200]);
    const action = doc.context.obj({ Type: 'Action', S: 'JavaScript', JS: PDFString.of('app.alert("hello")') });
    doc.catalog.set(PDFName.of('OpenAction'), doc.context.register(action));
    // Object streams hide the action from the raw byte scan, so pdfjs's check is what refuses it.
    for (const useObjectStreams of [true, false]) {
      const err = await refusal(await save(`js-${useObjectStreams}.pdf`, await doc.save({ useObjectStreams })));
      expect(isAppError(err, 'ERR_BAD_INPUT_FILE'), String(err)).toBe(true);
      expect((err as Error).message).toMatch(/^PDF contains JavaScript/);
    }
  });

  it('refuses encrypted PDFs, with or without a user password', async () => {
    // RC4-40 standard security handler (PDF 1.4 algorithms 3.2 and 3.4), enough for pdfjs to
    // recognise the empty user password or to ask for one.
    const pad = Buffer.from('28BF4E5E4E758A4164004E56FFFA01082E2E00B6D0683E802F0CA9FE6453697A', 'hex');
    const rc4 = (key: Buffer, data: Buffer): Buffer => {
      const s = Array.from({ length: 256 }, (_, i) => i);
      for (let i = 0, j = 0; i < 256; i++) {
        j = (j + s[i]! + key[i % key.length]!) & 255;
        [s[i], s[j]] = [s[j]!, s[i]!];
      }
      const out = Buffer.alloc(data.length);
      for (let k = 0, i = 0, j = 0; k < data.length; k++) {
        i = (i + 1) & 255;
        j = (j + s[i]!) & 255;
        [s[i], s[j]] = [s[j]!, s[i]!];
        out[k] = data[k]! ^ s[(s[i]! + s[j]!) & 255]!;
      }
      return out;
    };
    for (const needsPassword of [true, false]) {
      const doc = await PDFDocument.create();
      doc.addPage([100, 100]);
      const id = crypto.randomBytes(16);
      const owner = crypto.randomBytes(32);
      const p = Buffer.alloc(4);
      p.writeInt32LE(-4);
      const key = crypto.createHash('md5').update(Buffer.concat([pad, owner, p, id])).digest().subarray(0, 5);
      const user = needsPassword ? crypto.randomBytes(32) : rc4(key, pad);
      const encrypt = doc.context.obj({ Filter: 'Standard', V: 1, R: 2, O: PDFHexString.of(owner.toString('hex')), U: PDFHexString.of(user.toString('hex')), P: -4 });
      doc.context.trailerInfo.Encrypt = doc.context.register(encrypt);
      doc.context.trailerInfo.ID = doc.context.obj([PDFHexString.of(id.toString('hex')), PDFHexString.of(id.toString('hex'))]);
      const err = await refusal(await save(`enc-${needsPassword}.pdf`, await doc.save({ useObjectStreams: false })));
      expect(isAppError(err, 'ERR_BAD_INPUT_FILE'), String(err)).toBe(true);
      expect((err as Error).message).toMatch(needsPassword ? /^PDF is encrypted and needs a password/ : /^PDF is encrypted \(Standard security handler\)/);
    }
  });

  it('refuses an unparseable PDF and one with too many pages, before any page', async () => {
    const junk = await refusal(await save('junk.pdf', Buffer.from('%PDF-1.7\nnot really a PDF at all\n')));
    expect(isAppError(junk, 'ERR_BAD_INPUT_FILE')).toBe(true);
    expect((junk as Error).message).toMatch(/^PDF cannot be parsed \(damaged or truncated\)/);

    const doc = await PDFDocument.create();
    for (let i = 0; i < 4; i++) doc.addPage([100, 100]);
    const many = await refusal(await save('many.pdf', await doc.save()), { ...LIMITS, maxPages: 3 });
    expect(isAppError(many, 'ERR_PAYLOAD_TOO_LARGE')).toBe(true);
    expect((many as Error).message).toBe('PDF has 4 pages; the limit is 3');
  });
});
