import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { createBook, recordObject, setPageImageInfo, upsertPage } from '../../archive/index.ts';
import { listAuditEvents } from '../../audit/index.ts';
import { createUser } from '../../auth/index.ts';
import { openTestApp, userHeaders, type TestApp } from '../test-kit.ts';

// The embedded deployment (PGlite, filesystem store): a page archived before pyramids, served from its master.
describe('IIIF Image API on the embedded database and filesystem store', () => {
  let t: TestApp;
  let bookId: string;
  let master: Buffer;
  beforeAll(async () => {
    t = await openTestApp();
    master = await sharp({ create: { width: 1200, height: 900, channels: 3, background: '#e8dcc0', noise: { type: 'gaussian', mean: 200, sigma: 30 } } }).tiff({ compression: 'deflate' }).toBuffer();
    const { book } = await createBook(t.deps.db, { registerType: 'death', municipality: 'Peja', yearFrom: 1900, yearTo: 1901, languages: 'sqi', sourceFormat: 'images', sourceSha256: 'b'.repeat(64), sourceSize: 1 });
    bookId = book.id;
    const page = await upsertPage(t.deps.db, bookId, 1);
    const put = await t.deps.store.putContentAddressed('masters', master, { contentType: 'image/tiff' });
    await recordObject(t.deps.db, { bookId, pageId: page.id, role: 'master', revision: 1 }, put, 'image/tiff');
    await setPageImageInfo(t.deps.db, page.id, { width: 1200, height: 900, dpiX: null, dpiY: null, orientation: 0 });
  });
  afterAll(async () => t?.close());

  it('serves the master losslessly as png tiles, keeps them in the store, and audits the page once for 20 tiles', async () => {
    // A book whose closure is not computed yet is closed: reads state a purpose.
    const headers = { ...(await userHeaders(t.deps.db, ['clerk'], 'embedded-iiif-clerk')), 'x-access-purpose': 'test' };
    const info = await t.app.inject({ method: 'GET', url: `/iiif/3/books/${bookId}/pages/1/info.json`, headers });
    expect(info.json()).toMatchObject({ id: `http://localhost:80/iiif/3/books/${bookId}/pages/1`, width: 1200, height: 900, tiles: [{ width: 512, scaleFactors: [1, 2, 4] }] });
    const urls: string[] = [];
    for (let i = 0; i < 20; i++) urls.push(`/iiif/3/books/${bookId}/pages/1/${(i % 5) * 200},${Math.floor(i / 5) * 200},200,200/200,200/0/default.png`);
    for (const url of urls) {
      const res = await t.app.inject({ method: 'GET', url, headers });
      expect(res.statusCode, url).toBe(200);
    }
    const [x, y] = [400, 600];
    const tile = await t.app.inject({ method: 'GET', url: `/iiif/3/books/${bookId}/pages/1/${x},${y},200,200/200,200/0/default.png`, headers });
    const want = await sharp(master).extract({ left: x, top: y, width: 200, height: 200 }).raw().toBuffer();
    expect(Buffer.compare(await sharp(tile.rawPayload).raw().toBuffer(), want)).toBe(0);
    const kept = await t.deps.db.query<{ n: number }>("SELECT count(*)::int AS n FROM page_image_cache WHERE spec LIKE 'iiif3:%'");
    expect(kept.rows[0]!.n).toBe(20);
    const events = (await listAuditEvents(t.deps.db, { actor: 'embedded-iiif-clerk', limit: 100 })).filter((e) => e.action === 'page.image.read');
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ targetId: bookId, outcome: 'ok', detail: expect.objectContaining({ page: 1, revision: 1, iiif: true }) });
  });

  it('audits a page once per signed-in session: a second sign-in is a second reading', async () => {
    await createUser(t.deps.db, { username: 'session-iiif-clerk', password: 'a long enough password 7', roles: ['clerk'] });
    const signIn = async () => {
      const login = await t.app.inject({ method: 'POST', url: '/auth/login', payload: { username: 'session-iiif-clerk', password: 'a long enough password 7' } });
      expect(login.statusCode, login.body).toBe(200);
      return { cookie: String(login.headers['set-cookie']).split(';')[0]!, 'x-access-purpose': 'test' };
    };
    const tiles = (headers: Record<string, string>) => Promise.all([0, 1, 2, 3, 4].map((i) => t.app.inject({ method: 'GET', url: `/iiif/3/books/${bookId}/pages/1/${i * 200},0,200,200/100,/0/default.jpg`, headers })));
    const reads = async () => (await listAuditEvents(t.deps.db, { actor: 'session-iiif-clerk', limit: 100 })).filter((e) => e.action === 'page.image.read').length;
    const first = await signIn();
    expect((await tiles(first)).map((r) => r.statusCode)).toEqual([200, 200, 200, 200, 200]);
    await tiles(first);
    expect(await reads()).toBe(1);
    await tiles(await signIn());
    expect(await reads()).toBe(2);
  });
});
