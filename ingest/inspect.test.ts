import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { deflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { UploadInspector, imageDimensions, inspectBytes, inspectStream, refuseRawJavaScript } from './inspect.ts';

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

  it('gives the PDF splitter its byte-level backstop: /JavaScript named anywhere, stream data included', () => {
    const inStream = Buffer.from('%PDF-1.4\n4 0 obj << /Length 12 >>\nstream\n/JavaScript \nendstream\nendobj\n%%EOF\n', 'latin1');
    expect(() => refuseRawJavaScript(inStream)).toThrow(/^PDF contains JavaScript \(a \/JavaScript action\)/);
    expect(() => refuseRawJavaScript(Buffer.from('%PDF-1.4\n1 0 obj << /JavaScriptX 1 >> endobj\n', 'latin1'))).not.toThrow();
  });
});
