/**
 * A standard IIIF viewer Arkiva did not write, Mirador 4, opens an Arkiva book in Debian's Chromium
 * (issue 24): a book uploaded and processed by the pipeline (embedded deps, in-process workers,
 * tesseract.js), its manifest loaded by Mirador with a clerk's session cookie, page 1 drawn from
 * Image API tiles, page 2 turned to, and a content search that lists a hit. Mirador's page and
 * script are served under Arkiva's own origin by Playwright's request routing (test-support/mirador):
 * the cookie and same-origin rules hold as for a viewer the archive would host.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page, Response } from 'playwright-core';
import { METADATA, multiPageTiff, multipart, userHeaders, waitForBook } from '../../api/test-kit.ts';
import { createUser } from '../../auth/index.ts';
import type { WorkerHandle } from '../../queue/index.ts';
import { parseManifest, schemaErrors } from '../../test-support/iiif-check.ts';
import { SHOTS, E2E_PASSWORD as PASSWORD, launchChromium, newTab, openEmbeddedDeps, requireBrowser, serveApp, type EmbeddedDeps, type ServedApp, type Tab } from '../../test-support/browser.ts';
import { startWorkers } from '../../workers/index.ts';

const MIRADOR_PAGE = path.resolve(import.meta.dirname, '../../test-support/mirador/index.html');
const MIRADOR_JS = path.resolve(import.meta.dirname, '../../node_modules/mirador/dist/mirador.min.js');
const IMAGE_ROUTE = path.resolve(import.meta.dirname, '../../api/routes/iiif-image.route.ts');
// Mirador is served by the test itself: this needs no web/dist.
const ready = requireBrowser({
  webBuild: false,
  needs: [
    { file: MIRADOR_JS, missing: 'node_modules/mirador is missing (npm ci installs it as a devDependency)' },
    { file: IMAGE_ROUTE, missing: 'the IIIF Image API (api/routes/iiif-image.route.ts) is missing' },
  ],
});

/** The word the fixture pages carry (with their number), as tesseract reads it. */
const WORD = 'Krasniqi';

describe.skipIf(!ready)('Mirador opens an Arkiva book over IIIF in Chromium', () => {
  let dir: string;
  let deps: EmbeddedDeps;
  let workers: WorkerHandle;
  let server: ServedApp;
  let browser: Browser;
  let base: string;
  let bookId: string;

  beforeAll(async () => {
    ({ dir, deps } = await openEmbeddedDeps('arkiva-mirador-e2e-'));
    workers = await startWorkers(deps);
    server = await serveApp(deps);
    base = server.base;
    // Uploaded by a digitiser and processed as every book is: a register whose closure has ended (1900-1901).
    const digitiser = await userHeaders(deps.db, ['digitiser'], 'dren-mirador');
    const form = multipart([...METADATA.map(([k, v]) => [k, k === 'year' ? '1900-1901' : v] as const), { data: await multiPageTiff(2, WORD) }]);
    const up = await server.app.inject({ method: 'POST', url: '/books', headers: { ...digitiser, ...form.headers }, payload: form.payload });
    expect(up.statusCode, up.body).toBe(201);
    bookId = up.json().book.id;
    const book = await waitForBook({ inject: (o) => server.app.inject({ ...o, headers: { ...digitiser, ...(o.headers ?? {}) } }) }, bookId, 120_000);
    expect(book.status).toBe('complete');
    await createUser(deps.db, { username: 'klea-mirador', password: PASSWORD, roles: ['clerk'] });
    browser = await launchChromium();
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await workers?.close({ timeoutMs: 10_000 });
    await server?.close();
    await deps?.close();
    if (dir) await fs.promises.rm(dir, { recursive: true, force: true });
  }, 60_000);

  /** A tab signed in as the clerk, with Mirador's page and script answered at Arkiva's origin. */
  async function miradorTab(): Promise<Tab & { responses: Response[] }> {
    const responses: Response[] = [];
    const page = await newTab(browser, { viewport: { width: 1280, height: 860 }, prepare: (p) => { p.on('response', (r) => responses.push(r)); } });
    const context = page.context();
    const login = await context.request.post(`${base}/auth/login`, { data: { username: 'klea-mirador', password: PASSWORD } });
    expect(login.status(), await login.text()).toBe(200);
    await context.route(`${base}/test-mirador/index.html*`, (route) => route.fulfill({ contentType: 'text/html', body: fs.readFileSync(MIRADOR_PAGE) }));
    await context.route(`${base}/test-mirador/mirador.min.js`, (route) => route.fulfill({ contentType: 'text/javascript', body: fs.readFileSync(MIRADOR_JS) }));
    return Object.assign(page, { responses });
  }

  const tilesOf = (page: { responses: Response[] }, sequence: number) => page.responses.filter((r) =>
    new RegExp(`/iiif/3/books/${bookId}/pages/${sequence}/[^/]+/[^/]+/[^/]+/default\\.jpg$`).test(new URL(r.url()).pathname));

  /** Share of the viewer's canvas pixels that are dark (the page's text drawn from tiles); 0 when nothing is drawn. */
  const inkOnCanvas = (page: Page) => page.evaluate(() => {
    const canvas = document.querySelector<HTMLCanvasElement>('.openseadragon-canvas canvas');
    const ctx = canvas?.getContext('2d');
    if (!canvas || !ctx || canvas.width === 0) return 0;
    const { data } = ctx.getImageData(0, 0, canvas.width, canvas.height);
    let dark = 0;
    let painted = 0;
    for (let i = 0; i < data.length; i += 4) {
      if (data[i + 3]! === 0) continue;
      painted++;
      if (data[i]! < 100 && data[i + 1]! < 100 && data[i + 2]! < 100) dark++;
    }
    return painted === 0 ? 0 : dark / painted;
  });

  it('loads the manifest, shows page 1 from Image API tiles, turns to page 2, and finds a word with a hit on the page', async () => {
    const page = await miradorTab();
    const manifestUrl = `${base}/iiif/3/books/${bookId}/manifest`;
    // The manifest the viewer gets passes the schema and @iiif/parser too (a processed book: ALTO, thumbnails, PDF as they exist).
    const manifest = await (await page.context().request.get(manifestUrl)).json();
    expect(schemaErrors(manifest)).toEqual([]);
    expect(parseManifest(manifest).canvases).toEqual([1, 2].map((s) => `${base}/iiif/3/books/${bookId}/canvas/${s}`));
    // The image service the canvas names is the one the Image API describes, at the size of the canvas.
    const service = manifest.items[0].items[0].items[0].body.service[0];
    const info = await (await page.context().request.get(`${service.id}/info.json`)).json();
    expect(info).toMatchObject({ id: service.id, type: service.type, profile: service.profile, width: manifest.items[0].width, height: manifest.items[0].height });

    await page.goto(`${base}/test-mirador/index.html?manifest=${encodeURIComponent(manifestUrl)}`);
    // The window's title is the book's title from the manifest.
    await expect.poll(() => page.getByRole('heading', { name: 'Birth · Tiranë · 1900–1901' }).count(), { timeout: 30_000 }).toBeGreaterThan(0);
    await expect.poll(() => tilesOf(page, 1).filter((r) => r.status() === 200).length, { timeout: 30_000 }).toBeGreaterThan(0);
    expect(tilesOf(page, 1).every((r) => r.status() === 200), tilesOf(page, 1).map((r) => `${r.status()} ${r.url()}`).join('\n')).toBe(true);
    expect(page.responses.find((r) => r.url().endsWith(`/pages/1/info.json`))?.status()).toBe(200);
    await expect.poll(() => inkOnCanvas(page), { timeout: 20_000 }).toBeGreaterThan(0.002);

    await page.getByRole('button', { name: 'Next item' }).first().click();
    await expect.poll(() => tilesOf(page, 2).filter((r) => r.status() === 200).length, { timeout: 30_000 }).toBeGreaterThan(0);
    await expect.poll(() => inkOnCanvas(page), { timeout: 20_000 }).toBeGreaterThan(0.002);

    await page.getByRole('tab', { name: 'Search' }).or(page.getByRole('button', { name: 'Search' })).first().click();
    const input = page.getByRole('combobox', { name: 'search terms' }).or(page.getByLabel('search terms')).first();
    await input.fill(WORD.toLowerCase());
    const [search] = await Promise.all([
      page.waitForResponse((r) => r.url().includes(`/iiif/3/books/${bookId}/search/v1?q=`)),
      input.press('Enter'),
    ]);
    expect(search.status()).toBe(200);
    const answer = await search.json() as { resources: { on: string }[] };
    expect(answer.resources.map((r) => r.on.split('#')[0])).toEqual(expect.arrayContaining([`${base}/iiif/3/books/${bookId}/canvas/2`]));
    // Mirador lists the hits with the matched word.
    const hits = page.locator('[role=complementary], aside, section').filter({ hasText: new RegExp(WORD, 'i') }).locator('li');
    await expect.poll(() => hits.count(), { timeout: 20_000 }).toBeGreaterThan(0);
    expect(page.errors).toEqual([]);

    await fs.promises.mkdir(SHOTS, { recursive: true });
    await page.screenshot({ path: path.join(SHOTS, 'iiif-mirador.png') });
    await page.context().close();
  }, 120_000);
});
