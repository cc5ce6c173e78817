/**
 * Upload abuse on real services (PostgreSQL, Ceph RGW, Redis): each case is refused with a clear
 * error and leaves nothing behind: no object in the bucket, no row, no queued job.
 */
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { PDFDocument, PDFName, PDFString, rgb } from 'pdf-lib';
import sharp from 'sharp';
import { requireService } from '../test-support/services.ts';
import { openRealDeps, realServicesEnv } from '../test-support/real-deps.ts';
import type { AppDeps } from '../app/deps.ts';
import { buildApp } from './index.ts';
import { METADATA, asUser, multiPageTiff, multipart, userHeaders, type Injector } from './test-kit.ts';
import { disguisedJavaScriptPdf, tiffBomb } from '../fixtures/bad-inputs.ts';

const enabled = requireService('databaseUrl') && requireService('s3') && requireService('redisUrl');
// Above 1 MiB, for the TIFF whose directory follows 1 MiB of padding.
const UPLOAD_MAX = 1_500_000;
const RAW = '/books?registerType=birth&municipality=Prizren&year=1958';

/** A PDF of one page; `active` adds JavaScript run on open, `objectStreams` hides it in a compressed object stream. */
async function pdf(active: boolean, objectStreams: boolean): Promise<Buffer> {
  const doc = await PDFDocument.create();
  const page = doc.addPage([300, 200]);
  page.drawRectangle({ x: 20, y: 20, width: 100, height: 50, color: rgb(0.2, 0.2, 0.2) });
  if (active) doc.catalog.set(PDFName.of('OpenAction'), doc.context.obj({ S: 'JavaScript', JS: PDFString.of('app.alert("hi")') }));
  return Buffer.from(await doc.save({ useObjectStreams: objectStreams }));
}

/** A valid PNG header (signature + IHDR) declaring `w`×`h`, followed by a tiny IDAT: a few hundred bytes. */
function pngBomb(w: number, h: number): Buffer {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (b: Buffer) => {
    let c = 0xffffffff;
    for (const x of b) c = crcTable[(c ^ x) & 0xff]! ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type: string, data: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const c = Buffer.alloc(4);
    c.writeUInt32BE(crc(td));
    return Buffer.concat([len, td, c]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 0; // greyscale
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', Buffer.from([0x78, 0x9c, 0x63, 0, 0, 0, 1, 0, 1])), chunk('IEND', Buffer.alloc(0))]);
}

describe.skipIf(!enabled)('upload abuse is refused and stores nothing (PostgreSQL, RGW, Redis)', () => {
  let deps: AppDeps;
  let cleanup: () => Promise<void>;
  let app: FastifyInstance;
  let digitiser: Injector;
  let tiff: Buffer;

  beforeAll(async () => {
    const o = await openRealDeps(realServicesEnv({ UPLOAD_MAX_BYTES: String(UPLOAD_MAX), INGEST_MAX_PIXELS: '50000000' }));
    deps = o.deps;
    cleanup = o.cleanup;
    app = await buildApp(deps, { logRequests: false });
    digitiser = asUser(app, await userHeaders(deps.db, ['digitiser'], 'scanner'));
    tiff = await multiPageTiff(1, 'Valid');
  });
  afterAll(async () => {
    await app?.close();
    await cleanup?.();
  });

  async function footprint() {
    let storeVersions = 0;
    for await (const _ of deps.store.listVersions('')) storeVersions++;
    const rows = await deps.db.query<{ books: number; objects: number; pages: number }>(
      'SELECT (SELECT count(*)::int FROM books) AS books, (SELECT count(*)::int FROM stored_objects) AS objects, (SELECT count(*)::int FROM pages) AS pages',
    );
    const counts = await deps.queue.counts();
    const queued = Object.values(counts).reduce((n, c) => n + Object.values(c as Record<string, number>).reduce((a, b) => a + b, 0), 0);
    // The anchors of the audit trail are the only objects a refusal may add (none here: anchoring is off).
    return { storeVersions, ...rows.rows[0]!, queued };
  }

  async function refused(send: () => Promise<{ statusCode: number; json(): { error: { code: string; message: string } } }>, status: number, message: RegExp) {
    const before = await footprint();
    const res = await send();
    expect(res.statusCode, JSON.stringify(res.json())).toBe(status);
    expect(res.json().error.message).toMatch(message);
    // Nothing internal in the answer.
    expect(JSON.stringify(res.json())).not.toMatch(/\/work\/|node_modules|at \w+ \(|ECONN|SELECT /);
    expect(await footprint()).toEqual(before);
  }

  it('counts what is stored', async () => {
    // The footprint sees a real upload: one object version, one book, one row, one queued split.
    const before = await footprint();
    const ok = await digitiser.inject({ method: 'POST', url: '/books', ...multipart([...METADATA, { data: await multiPageTiff(1, 'Counted') }]) });
    expect(ok.statusCode, ok.body).toBe(201);
    const after = await footprint();
    expect(after.storeVersions).toBe(before.storeVersions + 1);
    expect(after.books).toBe(before.books + 1);
    expect(after.objects).toBe(before.objects + 1);
    expect(after.queued).toBe(before.queued + 1);
  });

  it('path-traversal file names', async () => {
    for (const filename of ['../../../../etc/passwd', '..\\..\\windows\\win.ini', '/tmp/arkiva-owned.tif', 'ok\u0000.tif']) {
      await refused(() => digitiser.inject({ method: 'POST', url: '/books', ...multipart([...METADATA, { data: tiff, filename, contentType: 'image/tiff' }]) }), 400, /plain name/);
    }
  });

  it('an ELF executable declared image/tiff', async () => {
    const elf = Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]), Buffer.alloc(4096, 0x90)]);
    await refused(() => digitiser.inject({ method: 'POST', url: RAW, headers: { 'content-type': 'image/tiff' }, payload: elf }), 415, /TIFF|PDF|ZIP|format/i);
    await refused(() => digitiser.inject({ method: 'POST', url: '/books', ...multipart([...METADATA, { data: elf, filename: 'scan.tif', contentType: 'image/tiff' }]) }), 415, /TIFF|PDF|ZIP|format/i);
  });

  it('an oversized body, streamed or declared, and an oversized JSON body', async () => {
    const big = Buffer.alloc(UPLOAD_MAX + 50_000, 1);
    tiff.copy(big);
    await refused(() => digitiser.inject({ method: 'POST', url: '/books', ...multipart([...METADATA, { data: big }]) }), 413, /larger than the limit/);
    await refused(() => digitiser.inject({ method: 'POST', url: RAW, headers: { 'content-type': 'image/tiff' }, payload: big }), 413, /larger than the limit/);
    const clerk = asUser(app, await userHeaders(deps.db, ['clerk']));
    await refused(() => clerk.inject({ method: 'POST', url: '/links', payload: { recordId: 'x'.repeat(100_000) } }), 413, /larger than this server accepts/);
  });

  it('10,000 multipart parts', async () => {
    const fields = Array.from({ length: 10_000 }, (_, i) => [`f${i}`, 'x'] as const);
    // Before the file: the first unexpected field stops the parser.
    await refused(() => digitiser.inject({ method: 'POST', url: '/books', ...multipart([...fields, { data: tiff }]) }), 400, /unknown form field/);
    // After a valid file: the rest of the form is read before the write completes, so the flood fails it.
    await refused(() => digitiser.inject({ method: 'POST', url: '/books', ...multipart([...METADATA, { data: tiff }, ...fields]) }), 413, /too many parts.*nothing was archived/);
    await refused(() => digitiser.inject({ method: 'POST', url: '/books', ...multipart([...METADATA, ...Array.from({ length: 10_000 }, () => ({ data: tiff }))]) }), 413, /too many parts|exactly one file/);
  });

  it('a PDF with JavaScript, plain or hidden in a compressed object stream (refused, not neutralised)', async () => {
    for (const objectStreams of [false, true]) {
      const body = await pdf(true, objectStreams);
      await refused(() => digitiser.inject({ method: 'POST', url: RAW, headers: { 'content-type': 'application/pdf' }, payload: body }), 422, /active content \(\/(OpenAction|JavaScript|JS)\)/);
    }
    // The same PDF without the action is archived.
    const clean = await digitiser.inject({ method: 'POST', url: RAW, headers: { 'content-type': 'application/pdf' }, payload: await pdf(false, true) });
    expect(clean.statusCode, clean.body).toBe(201);
  });

  it('a PDF with JavaScript after one newline before %PDF-, or between "% stream" and "% endstream" comment lines', async () => {
    for (const disguise of ['leading-newline', 'comment-lines'] as const) {
      const body = disguisedJavaScriptPdf(disguise);
      await refused(() => digitiser.inject({ method: 'POST', url: RAW, headers: { 'content-type': 'application/pdf' }, payload: body }), 422, /active content \(\/(OpenAction|JavaScript|JS)\)/);
      await refused(() => digitiser.inject({ method: 'POST', url: '/books', ...multipart([...METADATA, { data: body, filename: 'book.pdf', contentType: 'application/pdf' }]) }), 422, /active content/);
    }
  });

  it('a TIFF declaring 100,000 × 100,000 pixels in a directory after 1 MiB of padding, sent in 64 KiB chunks as over HTTP', async () => {
    const tif = tiffBomb({ width: 100_000, height: 100_000, padding: 1024 * 1024 });
    // One body of 1 MiB would reach the inspection whole; a network delivers it piece by piece.
    const inChunks = (b: Buffer) => Readable.from(Array.from({ length: Math.ceil(b.length / 65_536) }, (_, i) => b.subarray(i * 65_536, (i + 1) * 65_536)), { objectMode: false });
    await refused(() => digitiser.inject({ method: 'POST', url: RAW, headers: { 'content-type': 'image/tiff' }, payload: inChunks(tif) }), 422, /declares 100000×100000 pixels/);
    const form = multipart([...METADATA, { data: tif, filename: 'book.tif', contentType: 'image/tiff' }]);
    await refused(() => digitiser.inject({ method: 'POST', url: '/books', headers: form.headers, payload: inChunks(form.payload) }), 422, /declares 100000×100000 pixels/);
  });

  it('an original is downloaded as an attachment whose type the browser may not sniff', async () => {
    // A register whose closure has ended (deaths 1900: closed until 1950-12-31): a digitiser may read its original (issue 18).
    const up = await digitiser.inject({ method: 'POST', url: '/books?registerType=death&municipality=Prizren&year=1900', headers: { 'content-type': 'application/pdf' }, payload: await pdf(false, false) });
    expect(up.statusCode, up.body).toBe(201);
    const res = await digitiser.inject({ method: 'GET', url: `/books/${up.json<{ book: { id: string } }>().book.id}/original`, headers: { 'x-access-purpose': 'security test of downloads' } });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['content-type']).toBe('application/pdf');
    expect(res.headers['content-disposition']).toMatch(/^attachment; filename="book-[0-9a-f-]+-original\.pdf"$/);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
  });

  it('decompression bombs: a tiny PNG and a tiny TIFF declaring 100,000 × 100,000 pixels', async () => {
    const png = pngBomb(100_000, 100_000);
    expect(png.length).toBeLessThan(200);
    const meta = await sharp(png, { limitInputPixels: false }).metadata();
    expect(meta.width! * meta.height!).toBe(1e10);
    await refused(() => digitiser.inject({ method: 'POST', url: RAW, headers: { 'content-type': 'image/png' }, payload: png }), 422, /declares 100000×100000 pixels/);
    await refused(() => digitiser.inject({ method: 'POST', url: '/books', ...multipart([...METADATA, { data: png, filename: 'page.png', contentType: 'image/png' }]) }), 422, /declares/);
    const tif = tiffBomb({ width: 100_000, height: 100_000 });
    await refused(() => digitiser.inject({ method: 'POST', url: RAW, headers: { 'content-type': 'image/tiff' }, payload: tif }), 422, /declares 100000×100000 pixels/);
  });
});
