/**
 * Closed books and destructive actions as staff meet them, in Debian's Chromium, in English and
 * Albanian (issue 22, points 1 and 2): a clerk's search says how many results were withheld and
 * takes a purpose right there; a closed page asks for the purpose instead of naming a header; a
 * digitiser is told plainly why a closed book's thumbnails are withheld; errors are sentences in
 * the interface's language with the server's English only as a detail; executing a disposal batch
 * names the books and their pages and wants the batch's reference typed; releasing a hold names
 * it; the certificate is a page with its PDF. Embedded deps (PGlite, filesystem store).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { recordObject, setPageImageInfo, upsertPage } from '../../archive/index.ts';
import { createUser } from '../../auth/index.ts';
import { createEntry } from '../../entries/index.ts';
import { createBookWithRetention, decideBatch, placeHold, proposeBatch, saveRuleAndRecompute } from '../../retention/index.ts';
import { setClosure } from '../../test-support/closure.ts';
import { insertPageWords } from '../../test-support/seed-words.ts';
import { expectAccessible } from '../../test-support/axe.ts';
import { SHOTS, E2E_PASSWORD as PASSWORD, openEmbeddedDeps, requireBrowser, serveToChromium, signIn as signInTab, tearDown, type EmbeddedDeps, type ServedChromium, type Tab } from '../../test-support/browser.ts';

const ready = requireBrowser();

type Lang = 'en' | 'sq';
/** What the screens must say, per language: written out here so a missing translation fails. */
const SAYS = {
  en: {
    withheld: '1 result withheld: its book is closed for privacy.', searchAgain: 'Search again with this purpose', open: 'Open with this purpose',
    closedBook: 'This book is closed for privacy.', closedPage: 'This page belongs to a book closed for privacy.',
    thumbs: 'The page images of this book are withheld', notForRole: 'Your roles may not read closed books, even with a purpose',
    notFound: 'Error: Not found', detailLabel: 'Server’s words', execute: 'Execute', destroy: 'Destroy for good', cancel: 'Cancel', pages: '2 pages',
    title: 'Birth · Prizren · 1900', mismatch: 'The reference you typed is not this batch’s.', executed: 'executed', certificate: 'Certificate',
    certValid: 'The certificate’s hash checks out.', certPdf: 'Download the certificate (PDF)', release: 'Release', confirmRelease: 'Release this legal hold?',
    reason: 'Reason for release', purpose: 'Purpose of access',
  },
  sq: {
    withheld: '1 rezultat i fshehur: libri i tij është i mbyllur për privatësi.', searchAgain: 'Kërko sërish me këtë qëllim', open: 'Hape me këtë qëllim',
    closedBook: 'Ky libër është i mbyllur për privatësi.', closedPage: 'Kjo faqe i përket një libri të mbyllur për privatësi.',
    thumbs: 'Imazhet e faqeve të këtij libri janë të fshehura', notForRole: 'Rolet tuaja nuk lejojnë leximin e librave të mbyllur, as me qëllim',
    notFound: 'Gabim: Nuk u gjet', detailLabel: 'Fjalët e serverit', execute: 'Ekzekuto', destroy: 'Asgjëso përgjithmonë', cancel: 'Anulo', pages: '2 faqe',
    title: 'Lindje · Prizren · 1900', mismatch: 'Numri që shkruat nuk është i këtij grupi.', executed: 'ekzekutuar', certificate: 'Certifikata',
    certValid: 'Hash-i i certifikatës përputhet.', certPdf: 'Shkarko certifikatën (PDF)', release: 'Liro', confirmRelease: 'Të lirohet ky bllokim ligjor?',
    reason: 'Arsyeja e lirimit', purpose: 'Qëllimi i qasjes',
  },
} as const;

describe.skipIf(!ready)('closed books, translated errors and confirmations in Chromium', () => {
  let dir: string;
  let deps: EmbeddedDeps;
  let web: ServedChromium;
  let base: string;
  let closedBook: string;
  /** Per language: a book due for destruction in an approved batch, and a hold on another book. */
  const disposal: Record<Lang, { bookId: string; batchId: string; holdName: string }> = {} as never;

  beforeAll(async () => {
    ({ dir, deps } = await openEmbeddedDeps('arkiva-ux-closure-e2e-'));
    const db = deps.db;
    const mkBook = async (municipality: string, year: number) => (await createBookWithRetention(db, {
      registerType: 'birth', municipality, yearFrom: year, yearTo: year, languages: 'sqi', sourceFormat: 'tiff', sourceSha256: randomBytes(32).toString('hex'), sourceSize: 1,
    })).book.id;
    // Destroyed one year after the register's last year, in Prizren only (the closed book is elsewhere).
    await saveRuleAndRecompute(db, 'prizren-births', { kind: 'retention', name: 'Prizren births (test)', registerType: 'birth', municipality: 'Prizren', periodYears: 1, trigger: 'closing-year', action: 'destroy' }, { user: 'rita', reason: 'test schedule' });

    closedBook = await mkBook('Gjakovë', 2001);
    const png = await sharp({ create: { width: 400, height: 200, channels: 3, background: '#f0f0f0' } }).png().toBuffer();
    const put = await deps.store.putContentAddressed('masters', png, { contentType: 'image/png' });
    const page = await upsertPage(db, closedBook, 1);
    await recordObject(db, { bookId: closedBook, pageId: page.id, role: 'master', revision: 1 }, put, 'image/png');
    await setPageImageInfo(db, page.id, { width: 400, height: 200, dpiX: null, dpiY: null, orientation: 0 });
    await db.query(`UPDATE pages SET status = 'done' WHERE id = $1`, [page.id]);
    await db.query(`UPDATE books SET status = 'complete', page_count = 1, pages_done = 1 WHERE id = $1`, [closedBook]);
    const w = (text: string, i: number) => ({ text, confidence: 90, line: 0, block: 0, box: { x0: 20 + i * 100, y0: 40, x1: 110 + i * 100, y1: 90 } });
    await insertPageWords(db, { bookId: closedBook, pageId: page.id, revision: 1 }, [w('1', 0), w('Zenepe', 1), w('Shkurtaj', 2)]);
    await createEntry(db, page.id, { box: { x0: 10, y0: 30, x1: 250, y1: 80 }, eventType: 'birth', names: [{ role: 'subject', name: 'Zenepe Shkurtaj' }] }, { user: 'seed' });
    await setClosure(db, closedBook, '2999-12-31');

    for (const lang of ['en', 'sq'] as const) {
      const bookId = await mkBook('Prizren', 1900);
      for (const seq of [1, 2]) await upsertPage(db, bookId, seq);
      await db.query(`UPDATE books SET status = 'complete', page_count = 2, pages_done = 2 WHERE id = $1`, [bookId]);
      const batch = await proposeBatch(deps, { bookIds: [bookId], by: 'rita' });
      await decideBatch(deps, batch.id, 'approve', { user: 'besnik' });
      const holdName = `Court case ${lang}-17`;
      await placeHold(deps, { name: holdName, reason: 'pending litigation', authority: 'Basic Court', by: 'rita', items: [{ bookId: await mkBook('Pejë', 1960) }] });
      disposal[lang] = { bookId, batchId: batch.id, holdName };
    }

    await createUser(db, { username: 'klea', password: PASSWORD, roles: ['clerk'] });
    await createUser(db, { username: 'dita', password: PASSWORD, roles: ['digitiser'] });
    await createUser(db, { username: 'besnik', password: PASSWORD, roles: ['records_manager'] });
    web = await serveToChromium(deps);
    base = web.base;
  }, 120_000);

  afterAll(() => tearDown({ ...web, deps, dir }), 60_000);

  /** Signs in (in English), then switches the language with the header's select, as a user would. */
  async function signIn(username: string, lang: Lang): Promise<Tab> {
    const page = await signInTab(web.browser, base, username, { acceptDownloads: true });
    await page.locator('#lang').selectOption(lang);
    await expect.poll(() => page.evaluate(() => document.documentElement.lang)).toBe(lang);
    return page;
  }

  for (const lang of ['en', 'sq'] as const) {
    const say = SAYS[lang];
    /** The README's screenshots of these screens, taken in English. */
    const shot = async (page: Page, name: string) => {
      if (lang !== 'en') return;
      await fs.promises.mkdir(SHOTS, { recursive: true });
      await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
    };

    it(`${lang}: a clerk's search says how many results were withheld and searches again with a purpose stated there`, async () => {
      const page = await signIn('klea', lang);
      await page.goto(`${base}/ui/#/search?q=Zenepe&fuzzy=false`);
      const withheld = page.getByTestId('withheld');
      await expect.poll(() => withheld.locator('strong').textContent(), { timeout: 10_000 }).toBe(say.withheld);
      expect(await page.locator('.hits .hit').count()).toBe(0);
      await expectAccessible(page, `search with withheld results (${lang})`);
      await shot(page, 'search-withheld');
      await withheld.getByLabel(say.purpose).fill(`request ${lang} 12/2026`);
      await withheld.getByRole('button', { name: say.searchAgain }).click();
      await expect.poll(() => page.locator('.hits .hit').count(), { timeout: 10_000 }).toBe(1);
      expect(await page.getByTestId('withheld').count()).toBe(0);
      // The header's purpose field shows the purpose now sent with every read.
      expect(await page.locator('#purpose').inputValue()).toBe(`request ${lang} 12/2026`);

      // The entries search counts its withheld entries too.
      const fresh = await signIn('klea', lang);
      await fresh.goto(`${base}/ui/#/entries?name=Shkurtaj`);
      await expect.poll(() => fresh.getByTestId('withheld').locator('strong').textContent(), { timeout: 10_000 }).toBe(say.withheld);
      expect(page.errors.concat(fresh.errors)).toEqual([]);
    }, 60_000);

    it(`${lang}: opening a closed page asks for the purpose, in words, and opens the page with it`, async () => {
      const page = await signIn('klea', lang);
      await page.goto(`${base}/ui/#/view/${closedBook}/1`);
      const closed = page.getByTestId('closed-notice');
      await expect.poll(() => closed.count(), { timeout: 10_000 }).toBe(1);
      const text = (await closed.textContent()) ?? '';
      expect([say.closedBook, say.closedPage].some((s) => text.includes(s)), text).toBe(true);
      expect(text).not.toContain('x-access-purpose');
      await expectAccessible(page, `closed page (${lang})`);
      await shot(page, 'viewer-closed');
      await closed.getByLabel(say.purpose).fill('identity check 7/2026');
      await closed.getByRole('button', { name: say.open }).click();
      await expect.poll(() => page.locator('.page-img:not(.loading):not(.broken)').count(), { timeout: 15_000 }).toBe(1);
      expect(await page.getByTestId('closed-notice').count()).toBe(0);
      expect(page.errors).toEqual([]);
    }, 60_000);

    it(`${lang}: a digitiser is told plainly why a closed book's thumbnails are withheld`, async () => {
      const page = await signIn('dita', lang);
      await page.goto(`${base}/ui/#/books/${closedBook}`);
      const closed = page.getByTestId('closed-notice');
      await expect.poll(() => closed.count(), { timeout: 15_000 }).toBe(1);
      expect(await closed.textContent()).toContain(say.thumbs);
      expect(await closed.textContent()).toContain(say.notForRole);
      // Digitisers may not read closed books even with a purpose: no form that could not help.
      expect(await closed.getByTestId('purpose-form').count()).toBe(0);
      await expectAccessible(page, `closed thumbnails (${lang})`);
      await shot(page, 'book-closed-thumbnails');
      expect(page.errors).toEqual([]);
    }, 60_000);

    it(`${lang}: an error is a translated sentence with the server's English only as a detail`, async () => {
      const page = await signIn('besnik', lang);
      await page.goto(`${base}/ui/#/disposal/certificates/${randomUUID()}`);
      const alert = page.locator('main [role=alert]');
      await expect.poll(() => alert.textContent(), { timeout: 10_000 }).toContain(say.notFound);
      expect(await alert.locator('.detail').textContent()).toContain(say.detailLabel);
      expect(await alert.locator('.detail [lang=en]').count()).toBe(1);
      expect(page.errors).toEqual([]);
    }, 60_000);

    it(`${lang}: executing a disposal names the books and their pages, wants the batch's reference, and the certificate is a page with its PDF`, async () => {
      const { bookId, batchId, holdName } = disposal[lang];
      const ref = batchId.slice(0, 8);
      const page = await signIn('besnik', lang);
      await page.goto(`${base}/ui/#/retention/disposal`);
      const card = page.locator(`[data-batch="${batchId}"]`);
      await expect.poll(() => card.count(), { timeout: 10_000 }).toBe(1);
      await card.getByRole('button', { name: say.execute }).click();
      const dialog = page.getByTestId('confirm-dialog');
      await expect.poll(() => dialog.getByTestId('doomed').textContent(), { timeout: 5_000 }).toContain(say.title);
      expect(await dialog.getByTestId('doomed').textContent()).toContain(say.pages);
      await expectAccessible(page, `disposal confirmation (${lang})`);
      await shot(page, 'disposal-confirm');
      // A wrong reference destroys nothing; neither does cancelling.
      await dialog.getByRole('textbox').fill('00000000');
      await dialog.getByRole('button', { name: say.destroy }).click();
      expect(await dialog.getByRole('alert').textContent()).toBe(say.mismatch);
      await dialog.getByRole('button', { name: say.cancel }).click();
      expect(await page.getByTestId('confirm-dialog').count()).toBe(0);
      expect((await deps.db.query('SELECT status FROM disposal_batches WHERE id = $1', [batchId])).rows[0]).toEqual({ status: 'approved' });

      await card.getByRole('button', { name: say.execute }).click();
      await page.getByTestId('confirm-dialog').getByRole('textbox').fill(ref);
      await page.getByTestId('confirm-dialog').getByRole('button', { name: say.destroy }).click();
      await expect.poll(() => page.locator(`[data-batch="${batchId}"] .badge`).textContent(), { timeout: 30_000 }).toBe(say.executed);
      expect((await deps.db.query('SELECT count(*)::int AS n FROM books WHERE id = $1', [bookId])).rows[0]).toEqual({ n: 0 });

      await page.locator(`[data-batch="${batchId}"]`).getByRole('link', { name: say.certificate, exact: true }).click();
      await expect.poll(() => page.getByTestId('cert-valid').textContent(), { timeout: 10_000 }).toBe(say.certValid);
      expect(await page.getByTestId('certificate').textContent()).toContain(say.title);
      expect(await page.getByTestId('cert-pages').textContent()).toBe('2');
      await expectAccessible(page, `disposal certificate (${lang})`);
      await shot(page, 'disposal-certificate');
      const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: say.certPdf }).click()]);
      expect(download.suggestedFilename()).toBe(`disposal-certificate-${bookId}.pdf`);
      expect((await fs.promises.readFile((await download.path())!)).subarray(0, 5).toString()).toBe('%PDF-');

      // Releasing a hold asks first, naming the hold; cancelling keeps it.
      await page.goto(`${base}/ui/#/retention/holds`);
      const hold = page.locator('.holds > li', { hasText: holdName });
      await expect.poll(() => hold.count(), { timeout: 10_000 }).toBe(1);
      await hold.getByRole('button', { name: say.release }).click();
      const confirm = page.getByTestId('confirm-dialog');
      expect(await confirm.getByRole('heading').textContent()).toBe(say.confirmRelease);
      expect(await confirm.textContent()).toContain(holdName);
      await confirm.getByRole('button', { name: say.cancel }).click();
      expect((await deps.db.query('SELECT released_at FROM legal_holds WHERE name = $1', [holdName])).rows[0]).toEqual({ released_at: null });
      await hold.getByRole('button', { name: say.release }).click();
      await page.getByTestId('confirm-dialog').getByLabel(say.reason).fill('case closed');
      await page.getByTestId('confirm-dialog').getByRole('button', { name: say.release }).click();
      await expect.poll(() => page.locator('.holds > li', { hasText: holdName }).count(), { timeout: 10_000 }).toBe(0);
      expect(page.errors).toEqual([]);
    }, 90_000);
  }
});
