/**
 * The deep-zoom page viewer (issue 24) in Debian's Chromium, in English and Albanian: a clerk
 * searches a name, opens the hit, zooms the master to 100% and sees the highlighted word there
 * (the highlight's screen rectangle is the word's box at one screen pixel per master pixel, a
 * full-resolution IIIF tile under it was fetched, and the screen shows ink inside the highlight);
 * rotates the page (the highlight turns with it), goes full screen and back, turns pages from the
 * thumbnail strip by mouse and keyboard, with "Page N of M" and axe-core clean. Embedded deps.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { markPageDone, recordObject, setBookPageCount, setPageImageInfo, upsertPage } from '../../archive/index.ts';
import { createUser } from '../../auth/index.ts';
import { createBookWithRetention } from '../../retention/index.ts';
import { expectAccessible } from '../../test-support/axe.ts';
import { setClosure } from '../../test-support/closure.ts';
import { insertPageWords, type SeedWord } from '../../test-support/seed-words.ts';
import { SHOTS, E2E_PASSWORD as PASSWORD, openEmbeddedDeps, requireBrowser, serveToChromium, signIn as signInTab, tearDown, type EmbeddedDeps, type ServedChromium } from '../../test-support/browser.ts';

const ready = requireBrowser();

// An A4 page scanned at 300 dpi: four levels of 512 px tiles, so 100% is well above the fitted view.
const W = 2480;
const H = 3508;
const NAME = 'Krasniqi';
const FONT = 'font-family="DejaVu Sans" font-size="72" fill="#111"';

type Lang = 'en' | 'sq';
const LANGS: Lang[] = ['en', 'sq'];
/** What the screens must say, per language: written out here so a missing translation fails. */
const SAYS = {
  query: { en: 'Words to find', sq: 'Fjalët për të gjetur' },
  search: { en: 'Search', sq: 'Kërko' },
  pageOf: { en: (n: number) => `Page ${n} of 3`, sq: (n: number) => `Faqja ${n} nga 3` },
  page: { en: (n: number) => `Page ${n}`, sq: (n: number) => `Faqja ${n}` },
  actual: { en: 'Actual size 1:1 (100%)', sq: 'Madhësia reale 1:1 (100%)' },
  rotateRight: { en: 'Rotate right (90°)', sq: 'Rrotullo djathtas (90°)' },
  rotateLeft: { en: 'Rotate left (90°)', sq: 'Rrotullo majtas (90°)' },
  fullScreen: { en: 'Full screen', sq: 'Ekran i plotë' },
  strip: { en: 'Pages of the book', sq: 'Faqet e librit' },
} as const;

/** A full-resolution IIIF tile request: region x,y,w,h at size w,h (scale factor 1). */
const TILE = /\/iiif\/3\/books\/[^/]+\/pages\/(\d+)\/(\d+),(\d+),(\d+),(\d+)\/(\d+),(\d+)\/0\/default\.jpg$/;

describe.skipIf(!ready)('the deep-zoom viewer over IIIF tiles in Chromium', () => {
  let dir: string;
  let deps: EmbeddedDeps;
  let web: ServedChromium;
  let base: string;
  let bookId: string;
  /** The name's box on page 2, in master pixels, measured from the rendered ink. */
  let word: { x0: number; y0: number; x1: number; y1: number };

  /** A page: a header line, the page number, and on page 2 the name, alone on its line. */
  const pageSvg = (seq: number, withName: boolean) => `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}">
    <rect width="100%" height="100%" fill="#fff"/>
    <text x="300" y="400" ${FONT}>Regjistri i lindjeve 1962, faqja ${seq}</text>
    ${withName ? `<text x="1500" y="2450" ${FONT}>${NAME}</text>` : ''}</svg>`;

  beforeAll(async () => {
    ({ dir, deps } = await openEmbeddedDeps('arkiva-iiif-viewer-e2e-'));
    const db = deps.db;
    bookId = (await createBookWithRetention(db, {
      registerType: 'birth', municipality: 'Prizren', yearFrom: 1962, yearTo: 1962, languages: 'sqi', sourceFormat: 'tiff', sourceSha256: randomBytes(32).toString('hex'), sourceSize: 1,
    })).book.id;
    await setClosure(db, bookId, '2000-12-31');
    await setBookPageCount(db, bookId, 3);
    // Where the name's ink is: the same text alone on a blank page, trimmed to its ink.
    const alone = await sharp(Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}"><rect width="100%" height="100%" fill="#fff"/><text x="1500" y="2450" ${FONT}>${NAME}</text></svg>`))
      .flatten({ background: '#fff' }).trim({ background: '#ffffff', threshold: 40 }).toBuffer({ resolveWithObject: true });
    const x0 = -alone.info.trimOffsetLeft!;
    const y0 = -alone.info.trimOffsetTop!;
    word = { x0, y0, x1: x0 + alone.info.width, y1: y0 + alone.info.height };
    expect(word.x1 - word.x0).toBeGreaterThan(200);
    for (const seq of [1, 2, 3]) {
      const page = await upsertPage(db, bookId, seq);
      const png = await sharp(Buffer.from(pageSvg(seq, seq === 2))).png().toBuffer();
      await recordObject(db, { bookId, pageId: page.id, role: 'master', revision: 1 }, await deps.store.putContentAddressed('masters', png, { contentType: 'image/png' }), 'image/png');
      const thumb = await sharp(png).resize({ width: 320 }).jpeg({ quality: 78 }).toBuffer();
      await recordObject(db, { bookId, pageId: page.id, role: 'derivative', variant: 'thumb-jpeg', revision: 1 }, await deps.store.putContentAddressed('derivatives', thumb, { contentType: 'image/jpeg' }), 'image/jpeg');
      await setPageImageInfo(db, page.id, { width: W, height: H, dpiX: 300, dpiY: 300, orientation: 0 });
      await markPageDone(db, page.id, 1);
      const words: SeedWord[] = [{ text: 'Regjistri', confidence: 91, line: 0, block: 0, box: { x0: 300, y0: 340, x1: 700, y1: 410 } }];
      if (seq === 2) words.push({ text: NAME, confidence: 93, line: 1, block: 1, box: word });
      await insertPageWords(db, { bookId, pageId: page.id, revision: 1 }, words);
    }
    await db.query(`UPDATE books SET status = 'complete', pages_done = 3 WHERE id = $1`, [bookId]);
    await createUser(db, { username: 'klea', password: PASSWORD, roles: ['clerk'] });
    web = await serveToChromium(deps);
    base = web.base;
  }, 120_000);

  afterAll(() => tearDown({ ...web, deps, dir }), 60_000);

  type Tab = Page & { errors: string[]; tiles: { url: string; status: number }[] };
  async function signIn(username: string): Promise<Tab> {
    const tiles: Tab['tiles'] = [];
    // OpenSeadragon under the UI's strict CSP: any blocked script, style or image counts as an error.
    const page = await signInTab(web.browser, base, username, {
      cspErrors: true,
      prepare: (p) => { p.on('response', (r) => { if (r.url().includes('/iiif/3/')) tiles.push({ url: r.url(), status: r.status() }); }); },
    });
    return Object.assign(page, { tiles });
  }

  async function open(page: Page, lang: Lang, hash: string): Promise<void> {
    await page.evaluate((l) => localStorage.setItem('arkiva.lang', l), lang);
    await page.goto(`${base}/ui/#${hash}`);
    await page.reload();
  }

  /** The share of dark (ink) pixels in a rectangle of the screen. */
  async function ink(page: Page, r: { x: number; y: number; width: number; height: number }): Promise<number> {
    const png = await page.screenshot({ clip: { x: Math.round(r.x) + 2, y: Math.round(r.y) + 2, width: Math.round(r.width) - 4, height: Math.round(r.height) - 4 } });
    const { data } = await sharp(png).greyscale().raw().toBuffer({ resolveWithObject: true });
    let dark = 0;
    for (const v of data) if (v < 128) dark++;
    return dark / data.length;
  }

  const box = async (page: Page, selector: string) => (await page.locator(selector).first().boundingBox())!;

  for (const lang of LANGS) {
    it(`${lang}: a clerk searches a name, opens the hit, zooms the master to 100% and sees the highlighted word there; rotates, goes full screen, turns pages from the strip`, async () => {
      const page = await signIn('klea');
      await open(page, lang, '/search');
      await page.getByLabel(SAYS.query[lang]).fill(NAME);
      await page.getByRole('button', { name: SAYS.search[lang], exact: true }).click();
      await expect.poll(() => page.locator('.hit').count(), { timeout: 15_000 }).toBe(1);
      const opened = Date.now();
      await page.locator('.hit-link').first().click();

      await expect.poll(() => page.getByTestId('page-no').textContent(), { timeout: 15_000 }).toBe(SAYS.pageOf[lang](2));
      await expect.poll(() => page.locator('.box.hl').count(), { timeout: 15_000 }).toBe(1);
      await expect.poll(() => page.locator('.page-img:not(.loading)').count(), { timeout: 20_000, interval: 50 }).toBe(1);
      const openMs = Date.now() - opened;
      // Opened onto the word at a readable scale, below the master's full resolution.
      const before = Number((await page.getByTestId('zoom-level').textContent())!.replace('%', ''));
      expect(before).toBeLessThan(100);

      const wordW = word.x1 - word.x0;
      const wordH = word.y1 - word.y0;
      const zoomed = Date.now();
      await page.getByRole('button', { name: SAYS.actual[lang] }).click();
      await expect.poll(() => page.getByTestId('zoom-level').textContent()).toBe('100%');
      await expect.poll(() => page.locator('.page-img:not(.loading)').count(), { timeout: 20_000, interval: 50 }).toBe(1);
      const zoomMs = Date.now() - zoomed;
      console.log(`iiif viewer e2e (${lang}): hit clicked to its tiles loaded ${openMs} ms; 1:1 clicked to full-resolution tiles loaded ${zoomMs} ms; ${page.tiles.length} IIIF requests so far`);
      // One master pixel on one screen pixel: the highlight is the word's box, unscaled, and in sight.
      // The zoom animates: wait on the whole page's outline, which shows a scale still short of 1 long
      // after a word-sized box looks settled.
      await expect.poll(async () => Math.abs((await box(page, '[data-testid=page-frame]')).width - W), { timeout: 5_000 }).toBeLessThan(1.5);
      await expect.poll(async () => Math.abs((await box(page, '.box.hl')).width - wordW), { timeout: 5_000 }).toBeLessThan(1.5);
      const hl = await box(page, '.box.hl');
      expect(Math.abs(hl.height - wordH)).toBeLessThan(1.5);
      const view = await box(page, '.viewport');
      expect(hl.x).toBeGreaterThanOrEqual(view.x);
      expect(hl.y).toBeGreaterThanOrEqual(view.y);
      expect(hl.x + hl.width).toBeLessThanOrEqual(view.x + view.width);
      expect(hl.y + hl.height).toBeLessThanOrEqual(view.y + view.height);
      // Where the word sits on the page's outline, at that scale.
      const frame = await box(page, '[data-testid=page-frame]');
      expect(Math.abs(hl.x - frame.x - word.x0)).toBeLessThan(1.5);
      expect(Math.abs(hl.y - frame.y - word.y0)).toBeLessThan(1.5);
      expect(Math.abs(frame.width - W)).toBeLessThan(1.5);
      // A tile at full resolution (scale factor 1) holding the word's centre was fetched and served
      // (already at the readable scale the view opened at, when that was above half the master's).
      const cx = (word.x0 + word.x1) / 2;
      const cy = (word.y0 + word.y1) / 2;
      const full = page.tiles.map((t) => ({ ...t, m: TILE.exec(t.url) })).filter((t) => t.m && t.m[1] === '2').map((t) => {
        const [x, y, w, h, sw, sh] = t.m!.slice(2).map(Number) as [number, number, number, number, number, number];
        return { status: t.status, x, y, w, h, sw, sh };
      }).filter((t) => t.sw === t.w && t.sh === t.h && t.w <= 512 && t.h <= 512);
      expect(full.some((t) => t.status === 200 && cx >= t.x && cx < t.x + t.w && cy >= t.y && cy < t.y + t.h), JSON.stringify(full)).toBe(true);
      // And the screen shows it: ink under the highlight, blank paper just left of it.
      expect(await ink(page, hl)).toBeGreaterThan(0.08);
      expect(await ink(page, { ...hl, x: hl.x - hl.width - 30 })).toBeLessThan(0.005);
      if (lang === 'en') await page.screenshot({ path: path.join(SHOTS, 'viewer-deep-zoom.png') });
      await expectAccessible(page, `deep-zoom viewer at 100% (${lang})`);

      // A quarter turn: the page lies on its side and the highlight turns with it, still on the word.
      await page.getByRole('button', { name: SAYS.rotateRight[lang] }).click();
      await expect.poll(() => page.getByTestId('zoom-level').textContent()).toBe('100% · 90°');
      // The turn animates too: settled once the page's outline lies on its side, H wide and W high.
      await expect.poll(async () => {
        const turned = await box(page, '[data-testid=page-frame]');
        return Math.max(Math.abs(turned.width - H), Math.abs(turned.height - W));
      }, { timeout: 5_000 }).toBeLessThan(1.5);
      expect(Math.abs((await box(page, '.box.hl')).width - wordH)).toBeLessThan(1.5);
      expect(Math.abs((await box(page, '.box.hl')).height - wordW)).toBeLessThan(1.5);
      await expect.poll(() => page.locator('.page-img:not(.loading)').count(), { timeout: 20_000 }).toBe(1);
      expect(await ink(page, await box(page, '.box.hl'))).toBeGreaterThan(0.08);
      // From the keyboard, back upright (Shift+R turns left), then the button again.
      await page.locator('.viewport').focus();
      await page.keyboard.press('Shift+R');
      await expect.poll(() => page.getByTestId('zoom-level').textContent()).toBe('100%');
      await page.getByRole('button', { name: SAYS.rotateLeft[lang] }).click();
      await expect.poll(() => page.getByTestId('zoom-level').textContent()).toBe('100% · 270°');
      await page.locator('.viewport').focus();
      await page.keyboard.press('r');
      await expect.poll(() => page.getByTestId('zoom-level').textContent()).toBe('100%');

      // Full screen: the viewer fills the window, the header and side panel give way; then back.
      const fs1 = page.getByRole('button', { name: SAYS.fullScreen[lang] });
      const inPage = await box(page, '.viewport');
      await fs1.click();
      await expect.poll(() => fs1.getAttribute('aria-pressed')).toBe('true');
      await expect.poll(async () => { const b = await box(page, '.view-main'); return [b.x, b.y, b.width, b.height]; }).toEqual([0, 0, 1280, 900]);
      // The browser's own full screen too (the whole document, so turning pages keeps it).
      expect(await page.evaluate(() => document.fullscreenElement === document.documentElement)).toBe(true);
      const whole = await box(page, '.viewport');
      expect(whole.width).toBeGreaterThan(inPage.width);
      expect(whole.height).toBeGreaterThan(inPage.height);
      expect(await page.locator('header.top').isVisible()).toBe(false);
      expect(await page.getByTestId('page-strip').isVisible()).toBe(true);
      await fs1.click();
      await expect.poll(() => fs1.getAttribute('aria-pressed')).toBe('false');
      expect(await page.locator('header.top').isVisible()).toBe(true);
      expect(await page.evaluate(() => document.fullscreenElement)).toBe(null);

      // The strip: every page, the current one marked; a thumbnail leads to its page.
      const strip = page.getByRole('navigation', { name: SAYS.strip[lang] });
      expect(await strip.getByRole('link').count()).toBe(3);
      expect(await strip.locator('a[aria-current=page]').getAttribute('data-sequence')).toBe('2');
      await expect.poll(() => strip.locator('img.strip-thumb:not(.loading):not(.broken)').count(), { timeout: 10_000 }).toBe(3);
      await strip.getByRole('link', { name: SAYS.page[lang](3), exact: true }).click();
      await expect.poll(() => page.getByTestId('page-no').textContent(), { timeout: 10_000 }).toBe(SAYS.pageOf[lang](3));
      await expect.poll(() => page.locator('.page-img:not(.loading)').count(), { timeout: 20_000 }).toBe(1);
      const strip3 = page.getByRole('navigation', { name: SAYS.strip[lang] });
      expect(await strip3.locator('a[aria-current=page]').getAttribute('data-sequence')).toBe('3');
      // One Tab stop: the arrow keys move along the strip, Enter opens the page.
      await strip3.locator('a[aria-current=page]').focus();
      await page.keyboard.press('ArrowLeft');
      expect(await page.evaluate(() => document.activeElement?.getAttribute('data-sequence'))).toBe('2');
      await page.keyboard.press('Enter');
      await expect.poll(() => page.getByTestId('page-no').textContent(), { timeout: 10_000 }).toBe(SAYS.pageOf[lang](2));
      // The search came along: the word is highlighted again on page 2.
      await expect.poll(() => page.locator('.box.hl').count(), { timeout: 15_000 }).toBe(1);
      await expect.poll(() => page.locator('.page-img:not(.loading)').count(), { timeout: 20_000 }).toBe(1);
      await expectAccessible(page, `deep-zoom viewer (${lang})`);
      expect(page.errors).toEqual([]);
      await page.context().close();
    }, 120_000);
  }
});
