/**
 * The API over a whole pipeline run (embedded deps, in-process workers, tesseract.js): upload,
 * follow, download with validators, replace a page.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordObject } from '../archive/index.ts';
import type { WorkerHandle } from '../queue/index.ts';
import { startWorkers } from '../workers/index.ts';
import { METADATA, multiPageTiff, multipart, openTestApp, pagePng, waitForBook, type TestApp } from './test-kit.ts';

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('API over the pipeline', () => {
  let t: TestApp;
  let workers: WorkerHandle;
  let tiff: Buffer;
  let bookId: string;

  beforeAll(async () => {
    [t, tiff] = await Promise.all([openTestApp(), multiPageTiff(3, 'Page')]);
    workers = await startWorkers(t.deps);
  });
  afterAll(async () => {
    await workers?.close({ timeoutMs: 10_000 });
    await t?.close();
  });

  it('uploads a 3-page TIFF and reports every page done', async () => {
    // A register whose closure has ended (births 1900-1901: closed until 2001-12-31), so that its pages are read without a purpose (issue 18).
    const res = await t.api.inject({ method: 'POST', url: '/books', ...multipart([...METADATA.map(([k, v]) => [k, k === 'year' ? '1900-1901' : v] as const), { data: tiff }]) });
    expect(res.statusCode, res.body).toBe(201);
    bookId = res.json().book.id;

    const book = await waitForBook(t.api, bookId);
    expect(book.status).toBe('complete');
    const detail = (await t.api.inject({ method: 'GET', url: `/books/${bookId}` })).json();
    expect(detail.counts).toEqual({ total: 3, pending: 0, processing: 0, done: 3, failed: 0 });
    expect(detail.book).toMatchObject({ pageCount: 3, pagesDone: 3, pagesFailed: 0, summary: { pages: 3, done: 3, failed: 0 } });

    const pages = (await t.api.inject({ method: 'GET', url: `/books/${bookId}/pages` })).json().pages;
    expect(pages).toHaveLength(3);
    for (const p of pages) expect(p).toMatchObject({ status: 'done', width: 800, height: 400, failureReason: null, revision: 1 });
    expect(pages[0].ocrConfidence).toBeGreaterThan(0);

    const page = (await t.api.inject({ method: 'GET', url: `/books/${bookId}/pages/2` })).json();
    expect(page.page.sequence).toBe(2);
    const hrefs = page.objects.map((o: { href: string | null }) => o.href).filter(Boolean);
    expect(hrefs).toEqual(expect.arrayContaining([
      `/books/${bookId}/pages/2/master?revision=1`,
      `/books/${bookId}/pages/2/derivatives/view-jpeg?revision=1`,
      `/books/${bookId}/pages/2/derivatives/thumb-jpeg?revision=1`,
      `/books/${bookId}/pages/2/derivatives/pyramid-tiff?revision=1`,
      `/books/${bookId}/pages/2/ocr?revision=1`,
    ]));
    const types = (await t.api.inject({ method: 'GET', url: `/books/${bookId}/events` })).json().events.map((e: { type: string }) => e.type);
    expect(types).toEqual(expect.arrayContaining(['ingestion', 'capture', 'normalization', 'ocr', 'indexing', 'accession']));
  });

  it('downloads the master with a strong ETag and answers 304 to If-None-Match', async () => {
    const url = `/books/${bookId}/pages/1/master`;
    const res = await t.api.inject({ method: 'GET', url });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('image/tiff');
    const etag = res.headers.etag as string;
    expect(etag).toMatch(/^"[0-9a-f]{64}"$/);
    expect(etag).toBe(`"${sha256(res.rawPayload)}"`);
    expect(Number(res.headers['content-length'])).toBe(res.rawPayload.length);
    // Personal data: no cache may keep it (issue 18), pinned revision or not; the ETag still answers 304.
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['content-disposition']).toBe(`attachment; filename="book-${bookId}-page-0001-r1-master.tif"`);

    const again = await t.api.inject({ method: 'GET', url, headers: { 'if-none-match': etag } });
    expect(again.statusCode).toBe(304);
    expect(again.rawPayload.length).toBe(0);
    expect(again.headers.etag).toBe(etag);

    const pinned = await t.api.inject({ method: 'GET', url: `${url}?revision=1` });
    expect(pinned.headers['cache-control']).toBe('no-store');
    expect((await t.api.inject({ method: 'GET', url: `${url}?revision=2` })).statusCode).toBe(404);

    const head = await t.api.inject({ method: 'HEAD', url });
    expect(head.statusCode).toBe(200);
    expect(head.headers['content-length']).toBe(res.headers['content-length']);
    expect(head.rawPayload.length).toBe(0);
  });

  it('downloads derivatives, the OCR result and the original (with ranges)', async () => {
    const view = await t.api.inject({ method: 'GET', url: `/books/${bookId}/pages/1/derivatives/view-jpeg` });
    expect(view.statusCode).toBe(200);
    expect(view.headers['content-type']).toBe('image/jpeg');
    expect(view.headers['content-disposition']).toMatch(/^inline; filename="book-[0-9a-f-]+-page-0001-r1-view-jpeg\.jpg"$/);
    // A page archived while the view was WebP keeps it, served under its own name.
    const page1 = (await t.api.inject({ method: 'GET', url: `/books/${bookId}/pages/1` })).json().page as { id: string };
    const earlier = await sharp({ create: { width: 80, height: 40, channels: 3, background: '#eee' } }).webp().toBuffer();
    const put = await t.deps.store.putContentAddressed('derivatives', earlier, { contentType: 'image/webp' });
    await recordObject(t.deps.db, { bookId, pageId: page1.id, role: 'derivative', variant: 'view-webp', revision: 1 }, put, 'image/webp');
    const webp = await t.api.inject({ method: 'GET', url: `/books/${bookId}/pages/1/derivatives/view-webp` });
    expect([webp.statusCode, webp.headers['content-type'], sha256(webp.rawPayload)]).toEqual([200, 'image/webp', put.sha256]);
    const thumb = await t.api.inject({ method: 'GET', url: `/books/${bookId}/pages/1/derivatives/thumb-jpeg` });
    expect(thumb.headers['content-type']).toBe('image/jpeg');
    expect((await t.api.inject({ method: 'GET', url: `/books/${bookId}/pages/1/derivatives/full-png` })).statusCode).toBe(400);

    const ocr = await t.api.inject({ method: 'GET', url: `/books/${bookId}/pages/3/ocr` });
    expect(ocr.statusCode).toBe(200);
    expect(ocr.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(ocr.json().text).toMatch(/Page/);

    const original = await t.api.inject({ method: 'GET', url: `/books/${bookId}/original` });
    expect(original.statusCode).toBe(200);
    expect(original.rawPayload.equals(tiff)).toBe(true);
    expect(original.headers['cache-control']).toBe('no-store');
    expect(original.headers['accept-ranges']).toBe('bytes');
    expect(original.headers['content-disposition']).toBe(`attachment; filename="book-${bookId}-original.tif"`);

    const part = await t.api.inject({ method: 'GET', url: `/books/${bookId}/original`, headers: { range: 'bytes=4-13' } });
    expect(part.statusCode).toBe(206);
    expect(part.headers['content-range']).toBe(`bytes 4-13/${tiff.length}`);
    expect(part.rawPayload.equals(tiff.subarray(4, 14))).toBe(true);
    const outside = await t.api.inject({ method: 'GET', url: `/books/${bookId}/original`, headers: { range: `bytes=${tiff.length}-` } });
    expect(outside.statusCode).toBe(416);
  });

  it('replaces a page with a rescan, which goes through every stage as revision 2', async () => {
    const png = await pagePng('Rescan');
    const res = await t.api.inject({ method: 'PUT', url: `/books/${bookId}/pages/2/image`, headers: { 'content-type': 'image/png' }, payload: png });
    expect(res.statusCode, res.body).toBe(202);
    expect(res.json().page).toMatchObject({ sequence: 2, revision: 2, status: 'pending' });
    expect(await waitForBook(t.api, bookId)).toMatchObject({ status: 'complete' });
    const page = (await t.api.inject({ method: 'GET', url: `/books/${bookId}/pages/2` })).json();
    expect(page.page).toMatchObject({ revision: 2, status: 'done' });
    const ocr = await t.api.inject({ method: 'GET', url: `/books/${bookId}/pages/2/ocr?revision=2` });
    expect(ocr.json().text).toMatch(/Rescan/);

    const notImage = await t.api.inject({ method: 'PUT', url: `/books/${bookId}/pages/2/image`, ...multipart([{ data: Buffer.from('%PDF-1.7 nope'), filename: 'x.pdf' }]) });
    expect(notImage.statusCode).toBe(415);
    const wrongType = await t.api.inject({ method: 'PUT', url: `/books/${bookId}/pages/2/image`, headers: { 'content-type': 'text/plain' }, payload: 'hello' });
    expect(wrongType.statusCode).toBe(415);
    expect(wrongType.json().error.code).toBe('ERR_UNSUPPORTED_MEDIA');
    const noPage = await t.api.inject({ method: 'PUT', url: `/books/${bookId}/pages/9/image`, headers: { 'content-type': 'image/png' }, payload: png });
    expect(noPage.json().error.code).toBe('ERR_PAGE_NOT_FOUND');

    // Bytes that no longer match the archive's record are never delivered whole.
    const thumb = (await t.deps.db.query<{ store_key: string; size: string }>(
      `SELECT o.store_key, o.size FROM stored_objects o JOIN pages p ON p.id = o.page_id
        WHERE o.book_id = $1 AND p.sequence = 3 AND o.variant = 'thumb-jpeg' AND o.superseded_at IS NULL`,
      [bookId],
    )).rows[0]!;
    const file = path.join(t.dir, 'objects', ...thumb.store_key.split('/'));
    const bytes = await fs.promises.readFile(file);
    bytes[bytes.length - 10]! ^= 0xff;
    await fs.promises.chmod(file, 0o644).catch(() => undefined);
    await fs.promises.writeFile(file, bytes);
    // A thumbnail is one chunk, held back until checked: the failure comes before any byte is sent.
    // (A larger object sends all but its last chunk and then breaks the connection.)
    const corrupt = await t.api.inject({ method: 'GET', url: `/books/${bookId}/pages/3/derivatives/thumb-jpeg` });
    expect(corrupt.statusCode).toBe(500);
    expect(corrupt.json().error.code).toBe('ERR_INTEGRITY');
    expect(corrupt.rawPayload.length).toBeLessThan(Number(thumb.size));

    const metrics = (await t.api.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toMatch(/^arkiva_pages_total\{status="done"\} 3$/m);
    expect(metrics).toMatch(/^arkiva_books_total\{status="complete"\} 1$/m);
  });
});
