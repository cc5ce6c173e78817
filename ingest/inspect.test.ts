import { once } from 'node:events';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { deflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { UploadInspector, imageDimensions, inspectBytes, inspectStream, refuseRawJavaScript } from './inspect.ts';
import { sniffFormat } from './detect.ts';
import { disguisedJavaScriptPdf, tiffBomb } from '../fixtures/bad-inputs.ts';

/** Streams `data` through an inspector in chunks of `chunk` bytes; resolves with the refusal message, if any. */
async function inspect(data: Buffer, maxPixels = 1_000_000, chunk = 7): Promise<string | undefined> {
  const parts: Buffer[] = [];
  for (let i = 0; i < data.length; i += chunk) parts.push(data.subarray(i, i + chunk));
  const inspector = new UploadInspector(maxPixels);
  try {
    await pipeline(Readable.from(parts), inspector, async function* (src) {
      for await (const _ of src) yield* [];
    });
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

const pdfWith = (body: string) => Buffer.from(`%PDF-1.7\n${body}\n%%EOF\n`, 'latin1');

describe('upload inspector', () => {
  it('reads declared dimensions from PNG, JPEG and TIFF headers', async () => {
    const img = sharp({ create: { width: 321, height: 123, channels: 3, background: '#fff' } });
    expect(imageDimensions(await img.clone().png().toBuffer())).toEqual([[321, 123]]);
    expect(imageDimensions(await img.clone().jpeg().toBuffer())).toEqual([[321, 123]]);
    expect(imageDimensions(await img.clone().tiff().toBuffer())).toEqual([[321, 123]]);
    expect(imageDimensions(Buffer.from('hello world'))).toEqual([]);
  });

  it('refuses an image declaring more pixels than allowed, even when cut into tiny chunks', async () => {
    const png = await sharp({ create: { width: 2000, height: 1000, channels: 3, background: '#fff' } }).png().toBuffer();
    expect(await inspect(png, 1_000_000)).toMatch(/declares 2000×1000 pixels/);
    expect(await inspect(png, 2_000_000)).toBeUndefined();
  });

  it('refuses PDFs with active names, escaped, split across chunks, or inside an object stream', async () => {
    expect(await inspect(pdfWith('1 0 obj << /Type /Catalog /OpenAction 2 0 R >> endobj'))).toMatch(/active content \(\/OpenAction\)/);
    expect(await inspect(pdfWith('2 0 obj << /S /JavaScript /JS (app.alert(1)) >> endobj'))).toMatch(/active content/);
    expect(await inspect(pdfWith('2 0 obj << /S /J#61vaScript >> endobj'))).toMatch(/\/JavaScript/);
    const objstm = deflateSync(Buffer.from('1 0 << /Type /Catalog /AA << /O 3 0 R >> >>'));
    const hidden = Buffer.concat([Buffer.from(`%PDF-1.7\n5 0 obj << /Type /ObjStm /N 1 /First 4 /Filter /FlateDecode /Length ${objstm.length} >>\nstream\n`, 'latin1'), objstm, Buffer.from('\nendstream\nendobj\n%%EOF\n', 'latin1')]);
    expect(await inspect(hidden, 1_000_000, 5)).toMatch(/\/AA/);
  });

  it('does not mistake stream bytes for names, and passes a clean PDF', async () => {
    // Image data that happens to contain "/JS " must not refuse the scan.
    const data = Buffer.from('xx/JS (/OpenAction ', 'latin1');
    const pdf = Buffer.concat([Buffer.from(`%PDF-1.4\n4 0 obj << /Type /XObject /Subtype /Image /Length ${data.length} >>\nstream\n`, 'latin1'), data, Buffer.from('\nendstream\nendobj\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n%%EOF\n', 'latin1')]);
    for (const chunk of [1, 3, 7, 1000]) expect(await inspect(pdf, 1_000_000, chunk), `chunk ${chunk}`).toBeUndefined();
  });

  it('inspects bytes already in memory alike, giving them back when they pass', async () => {
    const png = await sharp({ create: { width: 2000, height: 1000, channels: 3, background: '#fff' } }).png().toBuffer();
    expect(() => inspectBytes(png, 1_000_000)).toThrow(/declares 2000×1000 pixels/);
    expect(inspectBytes(png, 2_000_000)).toBe(png);
    expect(() => inspectBytes(pdfWith('1 0 obj << /Type /Catalog /OpenAction 2 0 R >> endobj'), 1_000_000)).toThrow(/active content \(\/OpenAction\)/);
  });

  it('stops the source of a stream it refuses', async () => {
    const png = await sharp({ create: { width: 2000, height: 1000, channels: 3, background: '#fff' } }).png().toBuffer();
    const source = Readable.from([png, Buffer.alloc(300 * 1024), Buffer.alloc(300 * 1024)], { objectMode: false });
    const inspected = inspectStream(source, 1_000_000);
    await expect((async () => { for await (const _ of inspected) { /* read */ } })()).rejects.toMatchObject({ code: 'ERR_BAD_INPUT_FILE' });
    await new Promise((r) => setImmediate(r));
    expect(source.destroyed).toBe(true);
  });

  it('treats a file as a PDF where detection does: JavaScript after one newline before %PDF- is refused', async () => {
    const pdf = disguisedJavaScriptPdf('leading-newline');
    expect(sniffFormat(pdf)).toBe('pdf');
    expect(await inspect(pdf)).toMatch(/active content \(\/(OpenAction|JavaScript|JS)\)/);
    expect(() => inspectBytes(pdf, 1_000_000)).toThrow(/active content/);
    // Anywhere in the first 1024 bytes, as detection reads it.
    const far = Buffer.concat([Buffer.alloc(1000, 0x20), pdfWith('1 0 obj << /Type /Catalog /OpenAction 2 0 R >> endobj')]);
    expect(sniffFormat(far)).toBe('pdf');
    expect(await inspect(far, 1_000_000, 4096)).toMatch(/\/OpenAction/);
  });

  it('refuses active names between "% stream" and "% endstream" comment lines, or after "stream" inside a string', async () => {
    expect(await inspect(disguisedJavaScriptPdf('comment-lines'))).toMatch(/active content/);
    // No /JavaScript at all: only reading comments as comments finds the /OpenAction.
    const commented = pdfWith('% stream\n1 0 obj << /Type /Catalog /OpenAction 2 0 R >> endobj\n% endstream');
    for (const chunk of [1, 7, 1000]) expect(await inspect(commented, 1_000_000, chunk), `chunk ${chunk}`).toMatch(/\/OpenAction/);
    const inString = pdfWith('1 0 obj << /Title (a >>stream\n) /Type /Catalog /AA << /O 3 0 R >> >> endobj\n(endstream)');
    expect(await inspect(inString)).toMatch(/\/AA/);
    const percentInString = pdfWith('1 0 obj << /Title (100% >>stream) /OpenAction 2 0 R >> endobj');
    expect(await inspect(percentInString)).toMatch(/\/OpenAction/);
  });

  it('walks every TIFF directory as the stream comes in: a 100000×100000 frame after 1 MiB of padding is refused', async () => {
    const bomb = tiffBomb({ padding: 1024 * 1024 });
    expect(await inspect(bomb, 50_000_000, 64 * 1024)).toMatch(/declares 100000×100000 pixels/);
    expect(() => inspectBytes(bomb, 50_000_000)).toThrow(/declares 100000×100000 pixels/);
    // A frame the chain points back to (a rewritten first directory appended at the end, as libtiff does).
    const ifd = bomb.readUInt32LE(4);
    const back = Buffer.alloc(2 + bomb.readUInt16LE(ifd) * 12 + 4);
    bomb.copy(back, 0, ifd, ifd + back.length);
    back.writeUInt32LE(10, 2 + 8);
    back.writeUInt32LE(10, 2 + 12 + 8);
    back.writeUInt32LE(ifd, back.length - 4);
    const chained = Buffer.concat([bomb, back]);
    chained.writeUInt32LE(bomb.length, 4);
    expect(await inspect(chained, 50_000_000, 64 * 1024)).toMatch(/declares 100000×100000 pixels/);
    // A frame within the limit, however far its directory, passes.
    expect(await inspect(tiffBomb({ width: 5000, height: 5000, padding: 1024 * 1024 }), 50_000_000, 64 * 1024)).toBeUndefined();
  });

  it('leaves no scratch copy of a TIFF behind, whether it passes, is refused, or its upload breaks off', async () => {
    const saved = process.env.TMPDIR;
    const scratch = await fs.mkdtemp(path.join(os.tmpdir(), 'arkiva-inspect-test-'));
    process.env.TMPDIR = scratch; // os.tmpdir() reads it on every call
    try {
      const tiff = await sharp({ create: { width: 300, height: 200, channels: 3, background: '#fff' } }).tiff().toBuffer();
      expect(await inspect(tiff, 1_000_000, 4096)).toBeUndefined();
      expect(await inspect(tiffBomb({ padding: 300 * 1024 }), 50_000_000, 64 * 1024)).toMatch(/declares/);
      const broken = new Readable({ read() {} });
      const inspected = inspectStream(broken, 50_000_000);
      const consumed = (async () => { for await (const _ of inspected) { /* read */ } })();
      broken.push(tiffBomb({ padding: 600 * 1024 }).subarray(0, 400 * 1024));
      await new Promise((r) => setImmediate(r));
      broken.destroy(new Error('client went away'));
      await expect(consumed).rejects.toThrow(/client went away/);
      if (!inspected.closed) await once(inspected, 'close');
      expect(await fs.readdir(scratch)).toEqual([]);
    } finally {
      process.env.TMPDIR = saved;
      await fs.rm(scratch, { recursive: true, force: true });
    }
  });

  it('gives the PDF splitter its byte-level backstop: /JavaScript named anywhere, stream data included', () => {
    const inStream = Buffer.from('%PDF-1.4\n4 0 obj << /Length 12 >>\nstream\n/JavaScript \nendstream\nendobj\n%%EOF\n', 'latin1');
    expect(() => refuseRawJavaScript(inStream)).toThrow(/^PDF contains JavaScript \(a \/JavaScript action\)/);
    expect(() => refuseRawJavaScript(Buffer.from('%PDF-1.4\n1 0 obj << /JavaScriptX 1 >> endobj\n', 'latin1'))).not.toThrow();
  });
});
