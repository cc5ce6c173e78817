/**
 * Keyboard use and accessibility in Debian's Chromium (issue 22 point 9): every screen change puts
 * focus on the new screen's heading (not the page body), in English and Albanian; the header names
 * the user's roles in the interface language; and axe-core finds no moderate, serious or critical violation
 * on any screen of any role. Embedded deps (PGlite, filesystem store), one browser for the file.
 */
import { randomBytes } from 'node:crypto';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import { markPageDone, recordObject, setPageImageInfo, upsertPage } from '../../archive/index.ts';
import { createUser } from '../../auth/index.ts';
import { proposeZones, submitKeying } from '../../keying/index.ts';
import { upsertRecord } from '../../records/index.ts';
import { createBookWithRetention } from '../../retention/index.ts';
import { expectAccessible } from '../../test-support/axe.ts';
import { setClosure } from '../../test-support/closure.ts';
import { E2E_PASSWORD as PASSWORD, openEmbeddedDeps, openTab, requireBrowser, serveToChromium, signIn as signInTab, tearDown, type EmbeddedDeps, type ServedChromium } from '../../test-support/browser.ts';

const ready = requireBrowser();

type Lang = 'en' | 'sq';

describe.skipIf(!ready)('keyboard focus and accessibility of every screen in Chromium', () => {
  let dir: string;
  let deps: EmbeddedDeps;
  let web: ServedChromium;
  let base: string;
  let bookId: string;
  let recordId: string;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    ({ dir, deps } = await openEmbeddedDeps('arkiva-ux-keyboard-e2e-'));
    const db = deps.db;
    const { book } = await createBookWithRetention(db, { registerType: 'birth', municipality: 'Prizren', yearFrom: 1961, yearTo: 1961, languages: 'sqi', sourceFormat: 'images', sourceSha256: randomBytes(32).toString('hex'), sourceSize: 1 });
    bookId = book.id;
    await setClosure(db, bookId, '2000-12-31');
    const page = await upsertPage(db, bookId, 1);
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="1200" height="800"><rect width="100%" height="100%" fill="#f4efe3"/>
      <rect x="40" y="200" width="1100" height="60" fill="#334"/><rect x="40" y="300" width="1100" height="60" fill="#633"/></svg>`;
    const master = await sharp(Buffer.from(svg)).png().toBuffer();
    await recordObject(db, { bookId, pageId: page.id, role: 'master', revision: 1 }, await deps.store.putContentAddressed('masters', master, { contentType: 'image/png' }), 'image/png');
    await setPageImageInfo(db, page.id, { width: 1200, height: 800, dpiX: 300, dpiY: 300, orientation: 0, inkRatio: 0.05 });
    await markPageDone(db, page.id, page.revision);
    // Two rows: one keyed twice alike (an entry with a record to propose), one keyed differently
    // (a difference for the reviewer), so the keying, arbitration and linking screens are not empty.
    const zones = await proposeZones(db, page.id, { source: 'drawn', zones: [0, 1].map((i) => ({ box: { x0: 40, y0: 200 + i * 100, x1: 1140, y1: 260 + i * 100 } })) }, { user: 'clerk' });
    const fields = (surname: string) => Object.fromEntries(Object.entries({ entryNumber: '1', dateOfBirth: '04.06.1961', firstName: 'Teuta', surname, sex: 'F', fatherName: 'Ahmet', mother: 'Vera', placeOfBirth: 'Prizren' }).map(([k, v]) => [k, { value: v }]));
    await submitKeying(db, zones[0]!.id, 'keyer-1', fields('Rama'));
    await submitKeying(db, zones[0]!.id, 'keyer-2', fields('Rama'));
    await submitKeying(db, zones[1]!.id, 'keyer-1', fields('Berisha'));
    await submitKeying(db, zones[1]!.id, 'keyer-2', fields('Bërisha'));
    recordId = (await upsertRecord(db, { system: 'civil-registry', recordType: 'birth', recordId: 'PZ-1961-1', personNames: ['Teuta Rama', 'Ahmet Rama'], eventDate: '1961-06-04', municipality: 'Prizren' }, { user: 'rm' })).record.id;
    for (const [username, roles] of [['dita', ['digitiser']], ['klea', ['clerk']], ['rita', ['records_manager']], ['ana', ['auditor']], ['reni', ['reviewer']], ['adi', ['admin']]] as const) {
      await createUser(db, { username, password: PASSWORD, roles: [...roles] });
    }
    web = await serveToChromium(deps);
    base = web.base;
  }, 120_000);

  afterAll(() => tearDown({ contexts, ...web, deps, dir }), 60_000);

  const open = (lang: Lang) => openTab(web.browser, base, { lang, contexts });
  const signIn = (username: string, lang: Lang) => signInTab(web.browser, base, username, { lang, contexts });

  /** What has keyboard focus: its tag, text and whether it is inside the screen (main). */
  const focused = (page: Page) => page.evaluate(() => {
    const a = document.activeElement;
    return { tag: a?.tagName.toLowerCase() ?? null, text: a?.textContent?.trim() ?? '', inMain: !!a && a !== document.body && !!document.getElementById('main')?.contains(a) };
  });

  for (const lang of ['en', 'sq'] as const) {
    it(`focus lands on the new screen's heading after each navigation, not the page body, and roles read in the language (${lang})`, async () => {
      const L = lang === 'en'
        ? { records: 'Registry records', progress: 'Keying progress', role: '(clerk)' }
        : { records: 'Regjistri civil', progress: 'Përparimi i futjes', role: '(nëpunës)' };
      const page = await signIn('klea', lang);
      // Sign-in leads to the clerk's search, whose empty query field asks for the focus itself.
      await expect.poll(() => focused(page)).toMatchObject({ tag: 'input', inMain: true });
      expect(await page.locator('header .who').textContent()).toContain(L.role);
      // Keyboard only: focus a navigation link, Enter; focus moves to the new screen's heading.
      const nav = page.getByRole('navigation').first();
      await nav.getByRole('link', { name: L.records, exact: true }).focus();
      await page.keyboard.press('Enter');
      await expect.poll(() => focused(page)).toEqual({ tag: 'h1', text: L.records, inMain: true });
      // One Tab from the heading reaches the screen's first control, not the header's links.
      await page.keyboard.press('Tab');
      expect((await focused(page)).inMain).toBe(true);
      await nav.getByRole('link', { name: L.progress, exact: true }).focus();
      await page.keyboard.press('Enter');
      await expect.poll(() => focused(page)).toEqual({ tag: 'h1', text: L.progress, inMain: true });
      await expectAccessible(page, `keying progress (${lang})`);
      // Going back in history is a screen change too.
      await page.goBack();
      await expect.poll(() => focused(page)).toEqual({ tag: 'h1', text: L.records, inMain: true });
      await expectAccessible(page, `records (${lang})`);
      // Switching the language redraws the same screen: focus stays on the language control.
      const other = lang === 'en' ? 'sq' : 'en';
      await page.locator('#lang').focus();
      await page.locator('#lang').selectOption(other);
      await expect.poll(() => page.evaluate(() => document.activeElement?.id)).toBe('lang');
      expect(await page.locator('header .who').textContent()).toContain(other === 'en' ? '(clerk)' : '(nëpunës)');
      expect(page.errors).toEqual([]);
      await page.context().close();
    }, 60_000);
  }

  for (const lang of ['en', 'sq'] as const) it(`the sign-in screen focuses the username field; a public page and every screen of every role pass axe-core (${lang})`, async () => {
    const anon = await open(lang);
    await expect.poll(() => focused(anon)).toMatchObject({ tag: 'input', inMain: true });
    await expectAccessible(anon, `sign-in (${lang})`);
    await anon.goto(`${base}/ui/#/verify`);
    await expect.poll(() => focused(anon)).toMatchObject({ tag: 'input', inMain: true });
    await expectAccessible(anon, `verify (${lang})`);
    await anon.context().close();

    const screens: [string, string[]][] = [
      ['dita', ['/books', `/books/${bookId}`, `/view/${bookId}/1`, '/processing']],
      ['klea', ['/search?q=Rama', '/records', `/records/${recordId}`, '/entries?q=Rama', '/entry-keying', '/keying/progress', `/zones/${bookId}/1`]],
      ['rita', [`/link-proposals/${bookId}`, '/retention/rules', '/retention/holds', '/retention/due', '/retention/disposal', '/retention/fixity', '/layouts', '/extracts']],
      ['ana', ['/audit']],
      ['reni', ['/arbitration']],
    ];
    for (const [user, paths] of screens) {
      const page = await signIn(user, lang);
      for (const p of paths) {
        await page.goto(`${base}/ui/#${p}`);
        // The screen has settled once its heading (or the field it asks for) took focus.
        await expect.poll(() => focused(page), { timeout: 15_000, message: `focus on ${p}` }).toMatchObject({ inMain: true });
        await expectAccessible(page, `${p} (${user}, ${lang})`);
      }
      expect(page.errors).toEqual([]);
      // Closed before the next role signs in, so its screens' polling does not load the embedded database.
      await page.context().close();
    }
  }, 120_000);
});
