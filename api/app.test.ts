/**
 * The HTTP API without workers: uploads and their refusals, errors, documentation, operations
 * endpoints and headers, on embedded deps (PGlite, filesystem store, in-process queue).
 */
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from './index.ts';
import { METADATA, asUser, multiPageTiff, multipart, openTestApp, pagePng, type Injector, type TestApp } from './test-kit.ts';
import { toErrorResponse } from './errors.ts';
import { parseRange, etagMatches } from './object-response.ts';
import { chooseOcrEngine } from '../ocr/index.ts';
import { loadConfig } from '../config/index.ts';

async function storedKeys(t: TestApp, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const o of t.deps.store.list(prefix)) keys.push(o.key);
  return keys;
}

async function bookCount(t: TestApp): Promise<number> {
  return (await t.deps.db.query<{ n: number }>('SELECT count(*)::int AS n FROM books')).rows[0]!.n;
}

// One embedded database for the whole file: starting PGlite is the slow part of these tests.
const sharedApp = openTestApp();
afterAll(async () => {
  await (await sharedApp).close();
});

describe('API (embedded, no workers)', () => {
  let t: TestApp;
  let tiff: Buffer;

  beforeAll(async () => {
    [t, tiff] = await Promise.all([sharedApp, multiPageTiff(3, 'Upload')]);
  });

  it('uploads a multipart book: 201 with the book, then 200 duplicate for the same bytes', async () => {
    const body = multipart([...METADATA, ['volume', 'II'], { data: tiff, filename: 'scan.tif', contentType: 'image/tiff' }]);
    const first = await t.api.inject({ method: 'POST', url: '/books', ...body });
    expect(first.statusCode, first.body).toBe(201);
    const created = first.json();
    expect(created.duplicate).toBe(false);
    expect(created.book).toMatchObject({ registerType: 'birth', municipality: 'Tiranë', yearFrom: 1962, yearTo: 1963, volume: 'II', languages: 'eng', ocrProfile: 'printed', sourceFormat: 'tiff', sourceSize: tiff.length });
    expect(first.headers.location).toBe(`/books/${created.book.id}`);

    const again = await t.api.inject({ method: 'POST', url: '/books', ...multipart([...METADATA, { data: tiff }]) });
    expect(again.statusCode).toBe(200);
    expect(again.json()).toMatchObject({ duplicate: true, book: { id: created.book.id } });

    const detail = await t.api.inject({ method: 'GET', url: `/books/${created.book.id}` });
    expect(detail.statusCode).toBe(200);
    expect(detail.json()).toMatchObject({ book: { id: created.book.id, status: 'received' }, counts: { total: 0 } });

    const events = await t.api.inject({ method: 'GET', url: `/books/${created.book.id}/events` });
    expect(events.json().events.map((e: { type: string }) => e.type)).toEqual(['ingestion', 'message digest calculation']);
  });

  it('accepts a raw body with the metadata as query parameters', async () => {
    const png = await pagePng('Raw');
    const res = await t.api.inject({
      method: 'POST',
      url: '/books?registerType=death&municipality=Shkod%C3%ABr&year=1950&languages=eng',
      headers: { 'content-type': 'image/png' },
      payload: png,
    });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json().book).toMatchObject({ registerType: 'death', municipality: 'Shkodër', yearFrom: 1950, yearTo: 1950, sourceFormat: 'images' });
  });

  it('reads a book uploaded without languages with Albanian and Serbian in both scripts', async () => {
    const res = await t.api.inject({
      method: 'POST',
      url: '/books?registerType=birth&municipality=Prizren&year=1951',
      headers: { 'content-type': 'image/png' },
      payload: await pagePng('No languages'),
    });
    expect(res.statusCode, res.body).toBe(201);
    // docs/performance.md §2 (issue 23): more names found than with sqi+srp+eng on every mixed kind.
    expect(res.json().book.languages).toBe('sqi+srp_latn+srp');
  });

  it('refuses bytes that are not a book with 415, and archives nothing', async () => {
    const before = await bookCount(t);
    const res = await t.api.inject({ method: 'POST', url: '/books', ...multipart([...METADATA, { data: Buffer.from('<html><body>not a scan</body></html>'), filename: 'x.tif' }]) });
    expect(res.statusCode, res.body).toBe(415);
    expect(res.json().error.code).toBe('ERR_UNSUPPORTED_MEDIA');
    expect(await bookCount(t)).toBe(before);
  });

  it('refuses bad metadata with 400 naming the field', async () => {
    const cases: [(readonly [string, string])[], string][] = [
      [[['registerType', 'baptism'], ['municipality', 'Durrës'], ['year', '1960']], 'registerType'],
      [[['registerType', 'birth'], ['municipality', 'Durrës'], ['year', '60']], 'year'],
      [[['registerType', 'birth'], ['municipality', 'Durrës'], ['year', '1965-1960']], 'year'],
      [[['registerType', 'birth'], ['year', '1960']], 'municipality'],
      [[['registerType', 'birth'], ['municipality', 'Durrës'], ['year', '1960'], ['languages', 'English']], 'languages'],
      [[['registerType', 'birth'], ['municipality', 'Durrës'], ['year', '1960'], ['register', 'x']], 'register'],
      [[['registerType', 'birth'], ['municipality', 'Durrës'], ['year', '1960'], ['ocrProfile', 'stenographic']], 'ocrProfile'],
    ];
    const before = await bookCount(t);
    for (const [fields, field] of cases) {
      const res = await t.api.inject({ method: 'POST', url: '/books', ...multipart([...fields, { data: tiff }]) });
      expect(res.statusCode, `${field}: ${res.body}`).toBe(400);
      expect(res.json().error).toMatchObject({ code: 'ERR_VALIDATION', field });
      expect(res.json().error.message).toContain(field);
    }
    // Fields after the file are not seen: the answer says the metadata must come first.
    const late = await t.api.inject({ method: 'POST', url: '/books', ...multipart([{ data: tiff }, ...METADATA]) });
    expect(late.statusCode).toBe(400);
    expect(late.json().error.message).toMatch(/before the file/);
    // Query parameters are checked by the route schema.
    const query = await t.api.inject({ method: 'POST', url: '/books?registerType=baptism', headers: { 'content-type': 'image/tiff' }, payload: tiff });
    expect(query.statusCode).toBe(400);
    expect(query.json().error).toMatchObject({ code: 'ERR_VALIDATION', field: 'registerType' });
    // An unknown OCR profile is refused naming the profiles there are, as a form field or a query parameter.
    const profileField = await t.api.inject({ method: 'POST', url: '/books', ...multipart([...METADATA, ['ocrProfile', 'stenographic'], { data: tiff }]) });
    expect(profileField.json().error.message).toBe('ocrProfile must be one of printed, typewriter, mixed, handwritten, got "stenographic"');
    const profileQuery = await t.api.inject({ method: 'POST', url: '/books?registerType=birth&municipality=Durr%C3%ABs&year=1960&ocrProfile=stenographic', headers: { 'content-type': 'image/tiff' }, payload: tiff });
    expect(profileQuery.statusCode).toBe(400);
    expect(profileQuery.json().error).toMatchObject({ code: 'ERR_VALIDATION', field: 'ocrProfile' });
    expect(profileQuery.json().error.message).toMatch(/ocrProfile .*printed, typewriter, mixed, handwritten/);
    expect(await bookCount(t)).toBe(before);
  });

  it('answers 404 ERR_BOOK_NOT_FOUND for an unknown book, 400 for a malformed id', async () => {
    const id = randomUUID();
    for (const url of [`/books/${id}`, `/books/${id}/pages`, `/books/${id}/events`, `/books/${id}/original`, `/books/${id}/pages/1/master`]) {
      const res = await t.api.inject({ method: 'GET', url });
      expect(res.statusCode, url).toBe(404);
      expect(res.json().error.code, url).toBe('ERR_BOOK_NOT_FOUND');
    }
    const retry = await t.api.inject({ method: 'POST', url: `/books/${id}/retry` });
    expect(retry.json().error.code).toBe('ERR_BOOK_NOT_FOUND');
    const bad = await t.api.inject({ method: 'GET', url: '/books/not-a-uuid' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error).toMatchObject({ code: 'ERR_VALIDATION', field: 'bookId' });
    const route = await t.app.inject({ method: 'GET', url: '/nowhere?name=x' });
    expect(route.statusCode).toBe(404);
    expect(route.json().error.code).toBe('ERR_NOT_FOUND');
    expect(route.body).not.toContain('name=x');
  });

  it('lists books with a status filter and keyset pagination', async () => {
    const all = await t.api.inject({ method: 'GET', url: '/books' });
    expect(all.statusCode).toBe(200);
    const books = all.json().books as { id: string; createdAt: string }[];
    expect(books.length).toBeGreaterThanOrEqual(2);
    const firstPage = (await t.api.inject({ method: 'GET', url: '/books?limit=1' })).json();
    expect(firstPage.books).toHaveLength(1);
    expect(typeof firstPage.nextBefore).toBe('string');
    const second = (await t.api.inject({ method: 'GET', url: `/books?limit=1&before=${encodeURIComponent(firstPage.nextBefore)}` })).json();
    expect(second.books[0].id).toBe(books[1]!.id);
    // Walking the pages one by one visits every book once, in order.
    const walked: string[] = [];
    let cursor: string | null = null;
    do {
      const page = (await t.api.inject({ method: 'GET', url: `/books?limit=1${cursor ? `&before=${encodeURIComponent(cursor)}` : ''}` })).json() as { books: { id: string }[]; nextBefore: string | null };
      walked.push(...page.books.map((b: { id: string }) => b.id));
      cursor = page.nextBefore;
    } while (cursor);
    expect(walked).toEqual(books.map((b) => b.id));
    const forged = await t.api.inject({ method: 'GET', url: '/books?before=not-a-cursor' });
    expect(forged.statusCode).toBe(400);
    const received = (await t.api.inject({ method: 'GET', url: '/books?status=received' })).json();
    expect(received.books.length).toBe(books.length);
    const none = (await t.api.inject({ method: 'GET', url: '/books?status=complete' })).json();
    expect(none).toEqual({ books: [], nextBefore: null });
    const typo = await t.api.inject({ method: 'GET', url: '/books?stauts=failed' });
    expect(typo.statusCode).toBe(400);
    expect(typo.json().error.field).toBe('stauts');
    const badStatus = await t.api.inject({ method: 'GET', url: '/books?status=lost' });
    expect(badStatus.json().error).toMatchObject({ code: 'ERR_VALIDATION', field: 'status' });
  });

  it('validates the retry body', async () => {
    const { id } = (await t.api.inject({ method: 'GET', url: '/books?limit=1' })).json().books[0];
    const none = await t.api.inject({ method: 'POST', url: `/books/${id}/retry` });
    expect(none.statusCode, none.body).toBe(202);
    expect(none.json()).toEqual({ retried: [] });
    const notFailed = await t.api.inject({ method: 'POST', url: `/books/${id}/retry`, payload: { pages: [2] } });
    expect(notFailed.statusCode).toBe(409);
    expect(notFailed.json().error.code).toBe('ERR_CONFLICT');
    const bad = await t.api.inject({ method: 'POST', url: `/books/${id}/retry`, payload: { pages: [0] } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.field).toBe('pages.0');
    const huge = await t.api.inject({ method: 'POST', url: `/books/${id}/retry`, payload: { pages: Array.from({ length: 20_000 }, (_, i) => i + 1) } });
    expect(huge.statusCode).toBe(413);
    expect(huge.json().error.code).toBe('ERR_PAYLOAD_TOO_LARGE');
  });

  it('serves the OpenAPI document listing every route, and Swagger UI from local assets', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/docs/json' });
    expect(res.statusCode).toBe(200);
    const doc = res.json();
    expect(doc.openapi).toMatch(/^3\.1/);
    const ops = Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(([p, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${p}`));
    // Later issues add routes; these are the pipeline's own.
    expect(ops.sort()).toEqual(expect.arrayContaining([
      'GET /books', 'POST /books', 'GET /books/{bookId}', 'GET /books/{bookId}/events', 'GET /books/{bookId}/original',
      'GET /books/{bookId}/pages', 'GET /books/{bookId}/pages/{sequence}', 'PUT /books/{bookId}/pages/{sequence}/image',
      'GET /books/{bookId}/pages/{sequence}/master', 'GET /books/{bookId}/pages/{sequence}/derivatives/{variant}',
      'GET /books/{bookId}/pages/{sequence}/ocr', 'POST /books/{bookId}/retry', 'GET /health', 'GET /metrics', 'GET /queues', 'GET /ready',
      // Downloads answer HEAD themselves (without reading the object), so it is documented.
      'HEAD /books/{bookId}/original', 'HEAD /books/{bookId}/pages/{sequence}/master',
      'HEAD /books/{bookId}/pages/{sequence}/derivatives/{variant}', 'HEAD /books/{bookId}/pages/{sequence}/ocr',
    ]));
    const upload = doc.paths['/books'].post;
    expect(Object.keys(upload.requestBody.content)).toContain('multipart/form-data');
    expect(upload.requestBody.content['multipart/form-data'].schema.required).toEqual(['registerType', 'municipality', 'year', 'file']);
    expect(upload.description).toMatch(/first/);
    expect(upload.parameters.map((p: { name: string }) => p.name)).toEqual(expect.arrayContaining(['registerType', 'municipality', 'year']));
    const profileParam = upload.parameters.find((p: { name: string }) => p.name === 'ocrProfile');
    expect(profileParam.schema.enum).toEqual(['printed', 'typewriter', 'mixed', 'handwritten']);
    expect(upload.requestBody.content['multipart/form-data'].schema.properties.ocrProfile.enum).toEqual(['printed', 'typewriter', 'mixed', 'handwritten']);
    expect(doc.components.schemas.Book.properties.ocrProfile.enum).toEqual(['printed', 'typewriter', 'mixed', 'handwritten']);
    expect(doc.components.schemas).toHaveProperty('Book');
    expect(doc.components.schemas).toHaveProperty('Error');

    // Every script and stylesheet of the UI comes from the npm package, through this server.
    for (const page of ['/docs', '/docs/']) {
      const ui = await t.app.inject({ method: 'GET', url: page });
      expect(ui.statusCode, page).toBe(200);
      expect(ui.body).not.toMatch(/https?:\/\//);
      const assets = [...ui.body.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
      expect(assets.length).toBeGreaterThanOrEqual(5);
      for (const src of assets) {
        const asset = await t.app.inject({ method: 'GET', url: new URL(src, `http://x${page}`).pathname });
        expect(asset.statusCode, src).toBe(200);
      }
      expect(ui.headers['content-security-policy']).toContain("script-src 'self'");
    }
  });

  it('reports health, readiness, metrics and the dashboard', async () => {
    // OCR_ENGINE defaults to auto: native where tesseract 5 runs (CI installs it), else tesseract.js.
    const chosen = await chooseOcrEngine(loadConfig({}).ocr);
    expect((await t.app.inject({ method: 'GET', url: '/health' })).json()).toEqual({ status: 'ok', ocr: chosen.kind });
    const ready = await t.api.inject({ method: 'GET', url: '/ready' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toEqual({ status: 'ready', checks: { database: 'ok', store: 'ok', queue: 'ok' } });

    const metrics = await t.api.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.statusCode).toBe(200);
    expect(metrics.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    const samples = parsePrometheus(metrics.body);
    expect(samples.get('arkiva_queue_jobs{job="book.split",state="waiting"}')).toBeGreaterThanOrEqual(1);
    expect(samples.has('arkiva_queue_jobs{job="page.ocr",state="active"}')).toBe(true);
    expect(samples.get('arkiva_books_total{status="received"}')).toBeGreaterThanOrEqual(2);
    expect(samples.get('arkiva_pages_total{status="done"}')).toBe(0);
    expect(samples.get('arkiva_pages_archived_last_hour')).toBe(0);
    expect(samples.get('arkiva_pages_per_minute')).toBe(0);
    expect(samples.get('arkiva_page_failures_total')).toBe(0);
    expect(samples.get('arkiva_metrics_source_up{source="database"}')).toBe(1);

    const dash = await t.api.inject({ method: 'GET', url: '/queues' });
    expect(dash.statusCode).toBe(200);
    expect(dash.headers['content-type']).toMatch(/^text\/html/);
    expect(dash.body).toContain('<meta http-equiv="refresh"');
    expect(dash.body).toContain('book.split');
    expect(dash.body).toContain('Tiranë');
    // Self-contained: no external script, style or image.
    expect(dash.body).not.toMatch(/<script|<link|src=|https?:\/\//);
    expect(dash.headers['content-security-policy']).toMatch(/^default-src 'none'; style-src 'sha256-/);
  });

  it('answers 503 from /ready naming the part that is down, and still serves the other metrics', async () => {
    const queue = Object.create(t.deps.queue) as typeof t.deps.queue;
    queue.counts = () => Promise.reject(new Error('redis: connection refused'));
    const raw = await buildApp({ ...t.deps, queue }, { logRequests: false });
    const app = asUser(raw, t.auth);
    try {
      const ready = await app.inject({ method: 'GET', url: '/ready' });
      expect(ready.statusCode).toBe(503);
      expect(ready.json()).toEqual({ status: 'not ready', checks: { database: 'ok', store: 'ok', queue: 'down' }, message: 'down: queue' });
      expect(ready.body).not.toContain('refused');
      const metrics = await app.inject({ method: 'GET', url: '/metrics' });
      expect(metrics.statusCode).toBe(200);
      expect(metrics.body).toMatch(/^arkiva_metrics_source_up\{source="queue"\} 0$/m);
      expect(metrics.body).toMatch(/^arkiva_books_total\{status="received"\} \d+$/m);
      const dash = await app.inject({ method: 'GET', url: '/queues' });
      expect(dash.statusCode).toBe(200);
      expect(dash.body).toContain('queue counts unavailable');
    } finally {
      await raw.close();
    }
  });

  it('sets security headers on every answer', async () => {
    for (const url of ['/health', '/books', `/books/${randomUUID()}`, '/queues']) {
      const res = await t.api.inject({ method: 'GET', url });
      expect(res.headers['x-content-type-options'], url).toBe('nosniff');
      expect(res.headers['referrer-policy'], url).toBe('no-referrer');
      expect(res.headers['x-frame-options'], url).toBe('DENY');
      expect(res.headers['content-security-policy'], url).toMatch(/default-src 'none'/);
    }
  });
});

describe('API upload limit', () => {
  let t: TestApp;
  let limitedApp: FastifyInstance;
  let limited: Injector;
  beforeAll(async () => {
    // The limit is read from deps.config: a second app on the same deps sees a small one.
    t = await sharedApp;
    const config = { ...t.deps.config, ingest: { ...t.deps.config.ingest, uploadMaxBytes: 20_000 } };
    limitedApp = await buildApp({ ...t.deps, config }, { logRequests: false });
    limited = asUser(limitedApp, t.auth);
  });
  afterAll(async () => {
    await limitedApp?.close();
  });

  it('answers 413 for an upload over the limit and archives nothing, multipart or raw', async () => {
    const big = await multiPageTiff(3, 'Too big');
    expect(big.length).toBeGreaterThan(20_000);
    const books = await bookCount(t);
    const originals = await storedKeys(t, 'originals/');
    const splits = (await t.deps.queue.counts())['book.split']?.waiting ?? 0;

    const mp = await limited.inject({ method: 'POST', url: '/books', ...multipart([...METADATA, { data: big }]) });
    expect(mp.statusCode, mp.body).toBe(413);
    expect(mp.json().error).toMatchObject({ code: 'ERR_PAYLOAD_TOO_LARGE' });
    expect(mp.json().error.message).toMatch(/20000 bytes.*nothing was archived/);

    // Raw and streamed (no Content-Length): the limit is enforced on the bytes themselves.
    const raw = await limited.inject({
      method: 'POST',
      url: '/books?registerType=birth&municipality=Vlor%C3%AB&year=1970',
      headers: { 'content-type': 'image/tiff' },
      payload: Readable.from([big.subarray(0, 15_000), big.subarray(15_000)]),
    });
    expect(raw.statusCode, raw.body).toBe(413);
    // Raw with a Content-Length over the limit: refused before reading.
    const declared = await limited.inject({
      method: 'POST',
      url: '/books?registerType=birth&municipality=Vlor%C3%AB&year=1970',
      headers: { 'content-type': 'image/tiff' },
      payload: big,
    });
    expect(declared.statusCode).toBe(413);

    expect(await bookCount(t)).toBe(books);
    expect(await storedKeys(t, 'originals/')).toEqual(originals);
    expect((await t.deps.queue.counts())['book.split']?.waiting ?? 0).toBe(splits);

    // Under the limit the same app archives.
    const small = await pagePng('Small enough');
    expect(small.length).toBeLessThan(20_000);
    const ok = await limited.inject({ method: 'POST', url: '/books', ...multipart([...METADATA, { data: small }]) });
    expect(ok.statusCode, ok.body).toBe(201);
    expect(await bookCount(t)).toBe(books + 1);
  });
});

describe('API helpers', () => {
  it('maps errors without leaking internals', () => {
    expect(toErrorResponse(new Error('connect ECONNREFUSED 10.0.0.5:5432'))).toEqual({ status: 500, body: { error: { code: 'ERR_INTERNAL', message: expect.not.stringContaining('10.0.0.5') } } });
    expect(toErrorResponse(Object.assign(new Error('request file too large'), { statusCode: 413, code: 'FST_REQ_FILE_TOO_LARGE' })).body.error.code).toBe('ERR_PAYLOAD_TOO_LARGE');
  });

  it('parses byte ranges and If-None-Match', () => {
    expect(parseRange('bytes=0-9', 100)).toEqual({ start: 0, end: 9 });
    expect(parseRange('bytes=90-', 100)).toEqual({ start: 90, end: 99 });
    expect(parseRange('bytes=-10', 100)).toEqual({ start: 90, end: 99 });
    expect(parseRange('bytes=50-500', 100)).toEqual({ start: 50, end: 99 });
    expect(parseRange('bytes=100-', 100)).toBe('unsatisfiable');
    expect(parseRange('bytes=0-1,5-6', 100)).toBeUndefined();
    expect(parseRange('items=0-1', 100)).toBeUndefined();
    const sha = 'a'.repeat(64);
    expect(etagMatches(`"${sha}"`, sha)).toBe(true);
    expect(etagMatches(`W/"${sha}", "b"`, sha)).toBe(true);
    expect(etagMatches('*', sha)).toBe(true);
    expect(etagMatches('"b"', sha)).toBe(false);
  });
});

/** Parses Prometheus text exposition, failing on any malformed line; keys are `name{labels}`. */
function parsePrometheus(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  const typed = new Set<string>();
  expect(text.endsWith('\n')).toBe(true);
  for (const line of text.trimEnd().split('\n')) {
    if (line.startsWith('# HELP ')) continue;
    const type = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (gauge|counter|histogram|summary|untyped)$/.exec(line);
    if (type) {
      typed.add(type[1]!);
      continue;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*"(?:,|(?=\})))*\})? (-?[0-9.e+]+|NaN|[+-]Inf)$/.exec(line);
    expect(m, `malformed line: ${line}`).not.toBeNull();
    expect(typed.has(m![1]!), `no TYPE for ${m![1]}`).toBe(true);
    samples.set(`${m![1]}${m![2] ?? ''}`, Number(m![3]));
  }
  return samples;
}
