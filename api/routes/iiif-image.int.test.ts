import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import type { FastifyInstance } from 'fastify';
import { requireService } from '../../test-support/services.ts';
import { openRealDeps, realServicesEnv } from '../../test-support/real-deps.ts';
import { createBook, findPageObjects, listPages, recordObject, setPageImageInfo, upsertPage, type Page } from '../../archive/index.ts';
import { listAuditEvents } from '../../audit/index.ts';
import { readObject } from '../../storage/index.ts';
import { pipelineHandlers } from '../../workers/index.ts';
import type { AppDeps } from '../../app/deps.ts';
import type { JobContext } from '../../queue/index.ts';
import { buildApp } from '../index.ts';
import { METADATA, asUser, multipart, userHeaders, type Injector } from '../test-kit.ts';

const enabled = requireService('databaseUrl') && requireService('redisUrl') && requireService('s3');

const W = 1700;
const H = 2300;
const PURPOSE = { 'x-access-purpose': 'IIIF test: checking tiles' };

/** A colour page with a gradient and text, so that a tile from the wrong place or scale differs. */
async function scan(): Promise<Buffer> {
  const lines = Array.from({ length: 18 }, (_, i) => `<text x="${80 + (i % 4) * 40}" y="${180 + i * 115}" font-family="DejaVu Sans" font-size="64" fill="#1d1a3a">${i + 1}. Arben Gashi 23.07.1970 Prizren</text>`).join('');
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}"><defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1"><stop offset="0" stop-color="#f6ecd2"/><stop offset="1" stop-color="#c9d8ea"/></linearGradient></defs><rect width="100%" height="100%" fill="url(#g)"/><circle cx="1300" cy="1900" r="260" fill="#a33"/>${lines}</svg>`;
  return sharp(Buffer.from(svg)).removeAlpha().tiff({ compression: 'deflate' }).toBuffer();
}

/** Mean absolute difference per channel value between two images of the same size and channels. */
async function meanDiff(a: Buffer, b: Buffer): Promise<number> {
  const [x, y] = await Promise.all([sharp(a).raw().toBuffer({ resolveWithObject: true }), sharp(b).raw().toBuffer({ resolveWithObject: true })]);
  expect([x.info.width, x.info.height, x.info.channels]).toEqual([y.info.width, y.info.height, y.info.channels]);
  let sum = 0;
  for (let i = 0; i < x.data.length; i++) sum += Math.abs(x.data[i]! - y.data[i]!);
  return sum / x.data.length;
}

describe.skipIf(!enabled)('IIIF Image API on PostgreSQL + RGW', () => {
  let deps: AppDeps;
  let cleanup: () => Promise<void>;
  let app: FastifyInstance;
  let clerk: Injector;
  let bookId: string;
  let page: Page;
  let master: Buffer;
  const ctx: JobContext = { jobId: 'iiif-test', attempt: 1, signal: new AbortController().signal, log: undefined as never, failedChildren: async () => [] };

  beforeAll(async () => {
    ({ deps, cleanup } = await openRealDeps(realServicesEnv()));
    ctx.log = deps.log;
    app = await buildApp(deps, { logRequests: false });
    clerk = asUser(app, { ...(await userHeaders(deps.db, ['clerk'], 'iiif-clerk')), ...PURPOSE });
    // A birth register of the 1960s: closed for privacy, so every read below states a purpose.
    const form = multipart([...METADATA, { data: await scan() }]);
    const upload = await app.inject({ method: 'POST', url: '/books', headers: { ...(await userHeaders(deps.db, ['digitiser'], 'iiif-digitiser')), ...form.headers }, payload: form.payload });
    expect(upload.statusCode, upload.body).toBe(201);
    bookId = upload.json().book.id;
    // The real stages, without the OCR after them: the split, then the master stage (master, derivatives, pyramid).
    const stages = pipelineHandlers(deps);
    await stages['book.split']({ bookId }, ctx);
    page = (await listPages(deps.db, bookId))[0]!;
    expect(await stages['page.master']({ bookId, pageId: page.id, revision: 1 }, ctx)).toBe('done');
    page = (await listPages(deps.db, bookId))[0]!;
    const objects = await findPageObjects(deps.db, { bookId, pageId: page.id, revision: 1 });
    master = await readObject(deps.store, objects.get('master')!.storeKey);
  }, 120_000);
  afterAll(async () => {
    await app?.close();
    await cleanup?.();
  });

  it('makes the pyramid in the master stage once, beside an untouched master', async () => {
    const objects = await findPageObjects(deps.db, { bookId, pageId: page.id, revision: 1 });
    const pyramid = objects.get('derivative/pyramid-tiff')!;
    expect(pyramid).toMatchObject({ mediaType: 'image/tiff' });
    const meta = await sharp(await readObject(deps.store, pyramid.storeKey, { expectedSha256: pyramid.sha256 })).metadata();
    // 1700, 850, 425 and 213 px wide: halved until a level fits in one tile.
    expect(meta).toMatchObject({ width: W, height: H, pages: 4 });
    const before = [...objects.values()].map((o) => `${o.id}:${o.sha256}`).sort();
    expect(await pipelineHandlers(deps)['page.master']({ bookId, pageId: page.id, revision: 1 }, ctx)).toBe('skipped');
    const after = [...(await findPageObjects(deps.db, { bookId, pageId: page.id, revision: 1 })).values()].map((o) => `${o.id}:${o.sha256}`).sort();
    expect(after).toEqual(before);
  });

  it('answers info.json for OpenSeadragon and Mirador', async () => {
    const res = await clerk.inject({ method: 'GET', url: `/iiif/3/books/${bookId}/pages/1/info.json`, headers: { host: 'arkiva.example:8443', 'x-forwarded-proto': 'https' } });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    const info = res.json();
    expect(info).toEqual({
      '@context': 'http://iiif.io/api/image/3/context.json',
      id: `http://arkiva.example:8443/iiif/3/books/${bookId}/pages/1`,
      type: 'ImageService3', protocol: 'http://iiif.io/api/image', profile: 'level2', width: W, height: H, maxArea: 4096 * 4096,
      sizes: [{ width: 213, height: 288 }, { width: 425, height: 575 }, { width: 850, height: 1150 }, { width: 1700, height: 2300 }],
      tiles: [{ width: 512, height: 512, scaleFactors: [1, 2, 4, 8] }],
      extraQualities: ['bitonal'], extraFormats: ['webp'], extraFeatures: ['mirroring'],
    });
    const ld = await clerk.inject({ method: 'GET', url: `/iiif/3/books/${bookId}/pages/1/info.json`, headers: { accept: 'application/ld+json' } });
    expect(ld.headers['content-type']).toMatch(/^application\/ld\+json; ?profile="http:\/\/iiif\.io\/api\/image\/3\/context\.json"/);
    const base = await clerk.inject({ method: 'GET', url: `/iiif/3/books/${bookId}/pages/1` });
    expect(base.statusCode).toBe(303);
    expect(base.headers.location).toBe(`http://localhost:80/iiif/3/books/${bookId}/pages/1/info.json`);
  });

  it('serves tiles with the pixels of the master at every scale, rotated, gray and mirrored as asked', async () => {
    const tile = async (path: string) => {
      const res = await clerk.inject({ method: 'GET', url: `/iiif/3/books/${bookId}/pages/1/${path}` });
      expect(res.statusCode, `${path}: ${res.body.slice(0, 200)}`).toBe(200);
      expect(res.headers.etag).toMatch(/^"[0-9a-f]{64}"$/);
      expect(res.headers['cache-control']).toBe('no-store');
      return res;
    };
    const crop = (x: number, y: number, w: number, h: number) => sharp(master).extract({ left: x, top: y, width: w, height: h });

    // Full resolution, an edge tile (cut at the page's edge), and scale 2 and 4 (from the pyramid's levels).
    const full = await tile('512,1536,512,512/512,512/0/default.png');
    expect(await meanDiff(full.rawPayload, await crop(512, 1536, 512, 512).png().toBuffer())).toBeLessThan(3);
    const edge = await tile('1536,2048,512,512/164,252/0/default.png');
    expect(await meanDiff(edge.rawPayload, await crop(1536, 2048, 164, 252).png().toBuffer())).toBeLessThan(3);
    const half = await tile('0,1024,1024,1024/512,512/0/default.png');
    expect(await meanDiff(half.rawPayload, await crop(0, 1024, 1024, 1024).resize(512, 512).png().toBuffer())).toBeLessThan(3);
    const quarter = await tile('full/425,/0/default.jpg');
    expect((await sharp(quarter.rawPayload).metadata()).format).toBe('jpeg');
    expect(await meanDiff(await sharp(quarter.rawPayload).png().toBuffer(), await sharp(master).resize(425, 575).png().toBuffer())).toBeLessThan(5);
    // Another tile really differs: the comparison can fail.
    expect(await meanDiff(full.rawPayload, await crop(1024, 1536, 512, 512).png().toBuffer())).toBeGreaterThan(10);

    const turned = await tile('0,0,600,300/600,300/90/gray.png');
    const turnedMeta = await sharp(turned.rawPayload).metadata();
    expect([turnedMeta.width, turnedMeta.height, turnedMeta.channels]).toEqual([300, 600, 1]);
    expect(await meanDiff(turned.rawPayload, await crop(0, 0, 600, 300).rotate(90).toColourspace('b-w').png().toBuffer())).toBeLessThan(3);
    const mirrored = await tile('pct:50,50,25,25/!200,200/!0/default.png');
    const m = await sharp(mirrored.rawPayload).metadata();
    // The 425x575 region fitted within 200x200, never past it.
    expect([m.width, m.height]).toEqual([Math.floor((425 * 200) / 575), 200]);
    // Scaled by 2.9 from the pyramid's half level (box-filtered), not from the master: resampling differs a little at text edges.
    const asked = await crop(850, 1150, 425, 575).resize(147, 200, { fit: 'fill' });
    const mirroredDiff = await meanDiff(mirrored.rawPayload, await asked.clone().flop().png().toBuffer());
    expect(mirroredDiff).toBeLessThan(8);
    expect(await meanDiff(mirrored.rawPayload, await asked.clone().png().toBuffer())).toBeGreaterThan(2 * mirroredDiff);

    // The same tile again: its ETag answers 304 without the bytes.
    const again = await clerk.inject({ method: 'GET', url: `/iiif/3/books/${bookId}/pages/1/512,1536,512,512/512,512/0/default.png`, headers: { 'if-none-match': String(full.headers.etag) } });
    expect(again.statusCode).toBe(304);
    expect(again.headers.etag).toBe(full.headers.etag);
  });

  it('serves a page archived before pyramids from its master', async () => {
    const { book } = await createBook(deps.db, { registerType: 'death', municipality: 'Peja', yearFrom: 1900, yearTo: 1901, languages: 'sqi', sourceFormat: 'images', sourceSha256: 'a'.repeat(64), sourceSize: 1 });
    const old = await upsertPage(deps.db, book.id, 1);
    const put = await deps.store.putContentAddressed('masters', master, { contentType: 'image/tiff' });
    await recordObject(deps.db, { bookId: book.id, pageId: old.id, role: 'master', revision: 1 }, put, 'image/tiff');
    await setPageImageInfo(deps.db, old.id, { width: W, height: H, dpiX: null, dpiY: null, orientation: 0 });
    const res = await clerk.inject({ method: 'GET', url: `/iiif/3/books/${book.id}/pages/1/512,1536,512,512/512,512/0/default.png` });
    expect(res.statusCode, res.body).toBe(200);
    // Lossless from the master: exactly its pixels.
    expect(await meanDiff(res.rawPayload, await sharp(master).extract({ left: 512, top: 1536, width: 512, height: 512 }).png().toBuffer())).toBe(0);
  });

  it('refuses bad parameters with 400 naming them, features not offered with 501, and a closed book without purpose', async () => {
    const get = (path: string, headers: Record<string, string> = {}) => clerk.inject({ method: 'GET', url: `/iiif/3/books/${bookId}/pages/1/${path}`, headers });
    const cases: [path: string, status: number, field: string][] = [
      ['0,0,x,10/max/0/default.jpg', 400, 'region'], ['5000,0,10,10/max/0/default.jpg', 400, 'region'], ['full/full/0/default.jpg', 400, 'size'],
      ['0,0,100,100/200,/0/default.jpg', 400, 'size'], ['0,0,100,100/%5E200,/0/default.jpg', 501, 'size'], ['full/max/45/default.jpg', 501, 'rotation'],
      ['full/max/-90/default.jpg', 400, 'rotation'], ['full/max/0/sepia.jpg', 400, 'quality'], ['full/max/0/default.tif', 501, 'format'], ['full/max/0/default.bmp', 400, 'format'],
    ];
    for (const [path, status, field] of cases) {
      const res = await get(path);
      expect(res.statusCode, path).toBe(status);
      expect(res.json().error, path).toMatchObject({ field, message: expect.stringContaining(`IIIF ${field}`) });
    }
    const anon = await app.inject({ method: 'GET', url: `/iiif/3/books/${bookId}/pages/1/info.json` });
    expect(anon.statusCode).toBe(401);
    const headers = await userHeaders(deps.db, ['clerk'], 'iiif-clerk-no-purpose');
    for (const path of ['info.json', 'full/max/0/default.jpg', '0,0,512,512/512,512/0/default.jpg']) {
      const res = await app.inject({ method: 'GET', url: `/iiif/3/books/${bookId}/pages/1/${path}`, headers });
      expect(res.statusCode, path).toBe(403);
      expect(res.json().error.reason, path).toBe('closed-purpose-required');
    }
    // A digitiser may read open pages, not a closed book's even with a purpose.
    const digitiser = { ...(await userHeaders(deps.db, ['digitiser'], 'iiif-digitiser-2')), ...PURPOSE };
    expect((await app.inject({ method: 'GET', url: `/iiif/3/books/${bookId}/pages/1/full/max/0/default.jpg`, headers: digitiser })).statusCode).toBe(403);
  });

  it('audits 20 tiles of one page as one event per session, across two API processes, and each refusal apart', async () => {
    const headers = { ...(await userHeaders(deps.db, ['clerk'], 'iiif-auditor-view')), ...PURPOSE };
    const second = await buildApp(deps, { logRequests: false });
    try {
      const urls: string[] = [];
      for (let row = 0; row < 5; row++) for (let col = 0; col < 4; col++) urls.push(`/iiif/3/books/${bookId}/pages/1/${col * 512},${row * 512},512,512/${Math.min(512, W - col * 512)},/0/default.jpg`);
      expect(urls).toHaveLength(20);
      // Half to each process, several at a time as a viewer sends them.
      const answers = await Promise.all(urls.map((url, i) => (i % 2 ? second : app).inject({ method: 'GET', url, headers })));
      expect(answers.map((a) => a.statusCode)).toEqual(urls.map(() => 200));
      const events = (await listAuditEvents(deps.db, { actor: 'iiif-auditor-view', limit: 100 })).filter((e) => e.action === 'page.image.read');
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({ targetType: 'book', targetId: bookId, outcome: 'ok', purpose: PURPOSE['x-access-purpose'], detail: expect.objectContaining({ page: 1, revision: 1, restricted: true }) });
      // Another purpose is another reading, and a refused tile is recorded on its own.
      expect((await app.inject({ method: 'GET', url: urls[0]!, headers: { ...headers, 'x-access-purpose': 'a second inquiry' } })).statusCode).toBe(200);
      expect((await app.inject({ method: 'GET', url: `/iiif/3/books/${bookId}/pages/1/full/max/45/default.jpg`, headers })).statusCode).toBe(501);
      const all = (await listAuditEvents(deps.db, { actor: 'iiif-auditor-view', limit: 100 })).filter((e) => e.action === 'page.image.read');
      expect(all.map((e) => `${e.outcome} ${e.purpose}`).sort()).toEqual(['failed IIIF test: checking tiles', 'ok IIIF test: checking tiles', 'ok a second inquiry']);
    } finally {
      await second.close();
    }
  });
});
