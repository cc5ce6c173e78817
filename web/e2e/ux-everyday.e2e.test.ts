/**
 * Everyday use in Debian's Chromium (issue 22, points 5, 6 and 8), in English and Albanian: the book
 * screen names each page's real stage, offers Retry only where it can help and says failures in
 * words; OCR languages show as names; an upload resets its form; a session that ends keeps the
 * typed form and returns to it; registry records are created and imported in the UI. Embedded
 * deps (PGlite, filesystem store, no workers): the pages' states are written directly.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { claimPageForStage, markPageFailed, recordEvent, recordObject, setBookStatus, upsertPage } from '../../archive/index.ts';
import { appendAuditEvent } from '../../audit/index.ts';
import { createUser } from '../../auth/index.ts';
import { createBookWithRetention } from '../../retention/index.ts';
import { expectAccessible } from '../../test-support/axe.ts';
import { SHOTS, E2E_PASSWORD as PASSWORD, fillSignIn, openEmbeddedDeps, openTab, requireBrowser, serveToChromium, tearDown, type EmbeddedDeps, type ServedChromium } from '../../test-support/browser.ts';

const ready = requireBrowser();

// What the archive writes when a part of an upload is not a page image (ingest/detect.ts), and when
// OCR runs out of time (workers/stages/ocr-page.job.ts).
const NOT_IMAGE = 'file notes.png: file is not a TIFF, PDF, PNG, JPEG or ZIP; its kind is not recognised';
const OCR_TIMEOUT = 'page.ocr: OCR exceeded the page time bound of 60000 ms with every profile (3); needs review';

const WORDS = {
  en: {
    ocrStage: 'reading the text (OCR)', indexStage: 'indexing for search', masterStage: 'master image',
    notImage: 'This part of the file is not a page image', timeout: 'Reading the text (OCR) took longer than allowed',
    noRetry: 'Retry cannot help', retrySelected: 'Retry selected pages', sent: 'Sent again',
    sessionEnded: 'Your session ended.', restored: 'What you typed before the session ended is back.',
    create: 'Create record', saved: 'Record saved', imported: 'Imported: 1 new, 0 updated, 1 rows with errors.',
    processing: 'Processing', finished: 'Book finished', allShelf: 'shelf.* – all its events (3)', filter: 'Filter', older: 'Older events',
  },
  sq: {
    ocrStage: 'leximi i tekstit (OCR)', indexStage: 'indeksimi për kërkim', masterStage: 'imazhi master',
    notImage: 'Kjo pjesë e skedarit nuk është imazh faqeje', timeout: 'Leximi i tekstit (OCR) zgjati më shumë',
    noRetry: 'Riprovimi nuk ndihmon', retrySelected: 'Riprovo faqet e zgjedhura', sent: 'U dërgua sërish',
    sessionEnded: 'Seanca juaj mbaroi.', restored: 'Ç’keni shkruar para se të mbaronte seanca u rikthye.',
    create: 'Krijo regjistrimin', saved: 'Regjistrimi u ruajt', imported: 'U importuan: 1 të reja, 0 të përditësuara, 1 rreshta me gabime.',
    processing: 'Përpunimi', finished: 'Libri përfundoi', allShelf: 'shelf.* – të gjitha ngjarjet e saj (3)', filter: 'Filtro', older: 'Ngjarje më të vjetra',
  },
} as const;
type Lang = keyof typeof WORDS;

describe.skipIf(!ready)('everyday use in Chromium (issue 22: 5, 6, 8)', () => {
  let dir: string;
  let deps: EmbeddedDeps;
  let web: ServedChromium;
  let base: string;
  let png: Buffer;

  /** A book being processed: page 1 in OCR, 2 failed at splitting, 3 failed in OCR (its source kept), 4 indexing. */
  async function processingBook(municipality: string): Promise<string> {
    const db = deps.db;
    const { book } = await createBookWithRetention(db, { registerType: 'birth', municipality, yearFrom: 1901, yearTo: 1901, languages: 'sqi+srp+eng', sourceFormat: 'zip', sourceSha256: randomBytes(32).toString('hex'), sourceSize: 1 });
    await setBookStatus(db, book.id, 'processing');
    const pages = await Promise.all([1, 2, 3, 4].map((s) => upsertPage(db, book.id, s)));
    await claimPageForStage(db, pages[0]!, 'page.ocr');
    await markPageFailed(db, pages[1]!.id, 'book.split', NOT_IMAGE);
    await recordObject(db, { bookId: book.id, pageId: pages[2]!.id, role: 'source', revision: 1 }, await deps.store.putContentAddressed('sources', png, { contentType: 'image/png' }), 'image/png');
    await claimPageForStage(db, pages[2]!, 'page.ocr');
    await markPageFailed(db, pages[2]!.id, 'page.ocr', OCR_TIMEOUT);
    await recordEvent(db, { bookId: book.id, pageId: pages[2]!.id, type: 'ocr', agent: 'arkiva page.ocr', outcome: 'failure', detail: OCR_TIMEOUT.replace(/^page\.ocr: /, '') });
    await claimPageForStage(db, pages[3]!, 'page.index');
    return book.id;
  }

  beforeAll(async () => {
    ({ dir, deps } = await openEmbeddedDeps('arkiva-ux-everyday-e2e-'));
    png = await sharp({ create: { width: 60, height: 80, channels: 3, background: '#f4efe3' } }).png().toBuffer();
    await createUser(deps.db, { username: 'dita', password: PASSWORD, roles: ['digitiser'] });
    await createUser(deps.db, { username: 'klea', password: PASSWORD, roles: ['clerk'] });
    await createUser(deps.db, { username: 'arta', password: PASSWORD, roles: ['auditor'] });
    // Events of one category under several names, and another category sharing its first letters.
    for (const action of ['shelf.move', 'shelf.label', 'shelf.move', 'shelfmark.add']) {
      await appendAuditEvent(deps.db, { actor: 'dita', action, targetType: 'book', targetId: randomBytes(4).toString('hex'), outcome: 'ok' });
    }
    // More events of one name than the audit screen shows at once (100), oldest s0, newest s104.
    for (let i = 0; i < 105; i++) await appendAuditEvent(deps.db, { actor: 'dita', action: 'stack.count', targetType: 'stack', targetId: `s${i}`, outcome: 'ok' });
    web = await serveToChromium(deps);
    base = web.base;
  }, 120_000);

  afterAll(() => tearDown({ ...web, deps, dir }), 60_000);

  const open = (lang: Lang) => openTab(web.browser, base, { lang });
  const signIn = (page: Page, lang: Lang, username: string) => fillSignIn(page, username, { lang });

  for (const lang of ['en', 'sq'] as const) {
    const w = WORDS[lang];

    it(`${lang}: the book screen names each page's real stage, says failures in words and offers Retry only where it can help`, async () => {
      const bookId = await processingBook(lang === 'en' ? 'Pejë' : 'Gjakovë');
      const page = await open(lang);
      await signIn(page, lang, 'dita');
      await page.goto(`${base}/ui/#/books/${bookId}`);
      const counts = page.getByTestId('stage-counts');
      await expect.poll(() => counts.locator('[data-stage=ocr]').textContent(), { timeout: 15_000 }).toBe(`${w.ocrStage}1`);
      expect(await counts.locator('[data-stage=index]').textContent()).toBe(`${w.indexStage}1`);
      expect(await counts.textContent()).not.toContain(w.masterStage);
      expect(await page.getByTestId('page-stage').allTextContents()).toEqual([w.ocrStage, w.indexStage]);
      expect(await page.getByTestId('book-languages').textContent()).toBe('Shqip, Српски (ћирилица), English');

      const split = page.locator('[data-testid=failed-page][data-sequence="2"]');
      const ocr = page.locator('[data-testid=failed-page][data-sequence="3"]');
      expect(await split.getByTestId('reason-words').textContent()).toContain(w.notImage);
      expect(await ocr.getByTestId('reason-words').textContent()).toContain(w.timeout);
      expect(await split.getByRole('button', { name: /^(Retry|Riprovo) / }).count()).toBe(0);
      expect(await split.getByTestId('no-retry').textContent()).toContain(w.noRetry);
      expect(await ocr.getByRole('button', { name: /^(Retry|Riprovo) / }).count()).toBe(1);
      expect(await page.getByTestId('failed-pages').textContent()).not.toMatch(/starts with|[0-9a-f]{2} [0-9a-f]{2} [0-9a-f]{2}/);
      await page.getByTestId('edit-book').locator('summary').click();
      await page.getByTestId('edit-book').locator('form').waitFor();
      await expectAccessible(page, `book screen (${lang})`);
      await page.getByTestId('edit-book').locator('summary').click();
      if (lang === 'en') await page.screenshot({ path: path.join(SHOTS, 'book-stages.png'), fullPage: true });

      // Bulk: the ticked page is sent again; the page that cannot be retried has no box to tick.
      expect(await split.getByRole('checkbox').count()).toBe(0);
      await ocr.getByRole('checkbox').check();
      await page.getByRole('button', { name: w.retrySelected }).click();
      await expect.poll(() => page.locator('.notice').first().textContent(), { timeout: 10_000 }).toContain(`${w.sent}: 3`);
      const rows = await deps.db.query<{ sequence: number; status: string }>('SELECT sequence, status FROM pages WHERE book_id = $1 AND sequence IN (2, 3) ORDER BY sequence', [bookId]);
      expect(rows.rows).toEqual([{ sequence: 2, status: 'failed' }, { sequence: 3, status: 'pending' }]);

      // The book's details are corrected on its screen, and the correction is audited.
      const corrected = lang === 'en' ? 'Pejë e Re' : 'Gjakovë e Re';
      await page.getByTestId('edit-book').locator('summary').click();
      const edit = page.getByTestId('edit-book').locator('form');
      await edit.locator('input[name=municipality]').fill(corrected);
      await edit.locator('input[name=year]').fill('1901-1902');
      await edit.locator('button[type=submit]').click();
      await expect.poll(() => page.locator('h1').textContent(), { timeout: 10_000 }).toContain(`${corrected} · 1901–1902`);
      const audit = await deps.db.query<{ actor: string }>(`SELECT actor FROM audit_events WHERE action = 'book.edit' AND target_id = $1`, [bookId]);
      expect(audit.rows).toEqual([{ actor: 'dita' }]);
      expect(page.errors).toEqual([]);
      await page.context().close();
    }, 90_000);

    it(`${lang}: an upload sends the ticked OCR languages, then the form starts afresh without a stale progress`, async () => {
      const page = await open(lang);
      await signIn(page, lang, 'dita');
      await page.goto(`${base}/ui/#/books`);
      const form = page.locator('form.upload');
      await form.locator('#book-file').setInputFiles({ name: `scan-${lang}.png`, mimeType: 'image/png', buffer: await sharp(png).png({ compressionLevel: lang === 'en' ? 9 : 1 }).toBuffer() });
      await form.locator('input[name=municipality]').fill(lang === 'en' ? 'Prizren' : 'Ferizaj');
      await form.locator('input[name=year]').fill('1972');
      await form.locator('input[name=volume]').fill('III');
      await form.getByRole('checkbox', { name: 'Српски (ћирилица)' }).uncheck();
      await form.locator('button[type=submit]').click();
      await expect.poll(() => page.getByTestId('live-progress').count(), { timeout: 15_000 }).toBe(1);
      expect(await form.locator('input[name=municipality]').inputValue()).toBe('');
      expect(await form.locator('input[name=volume]').inputValue()).toBe('');
      expect(await page.getByTestId('upload-progress').textContent()).toBe('');
      expect(await page.getByTestId('file-name').textContent()).toBe('');
      expect(await form.getByRole('checkbox', { name: 'Српски (ћирилица)' }).isChecked()).toBe(true);
      const book = await deps.db.query<{ id: string; languages: string }>('SELECT id, languages FROM books WHERE municipality = $1', [lang === 'en' ? 'Prizren' : 'Ferizaj']);
      expect(book.rows.map((b) => b.languages)).toEqual(['sqi+srp_latn']);
      await expectAccessible(page, `books (${lang})`);

      // Elsewhere (the processing overview), the book's end is announced.
      await page.getByRole('navigation').getByRole('link', { name: w.processing }).click();
      await expect.poll(() => page.getByTestId('queue-depths').locator('[data-job="page.ocr"] th').textContent(), { timeout: 10_000 }).toBe(w.ocrStage);
      await expect.poll(() => page.getByTestId('failure-words').allTextContents(), { timeout: 10_000 }).toContainEqual(expect.stringContaining(w.timeout));
      await expectAccessible(page, `processing (${lang})`);
      if (lang === 'en') await page.screenshot({ path: path.join(SHOTS, 'processing.png'), fullPage: true });
      await setBookStatus(deps.db, book.rows[0]!.id, 'complete');
      await expect.poll(() => page.getByTestId('toast').textContent(), { timeout: 15_000 }).toContain(w.finished);
      expect(await page.getByTestId('toast').getByRole('link').getAttribute('href')).toBe(`#/books/${book.rows[0]!.id}`);
      expect(page.errors).toEqual([]);
      await page.context().close();
    }, 90_000);

    it(`${lang}: a form sent after the session ended says so, keeps what was typed and returns to it after signing in`, async () => {
      const page = await open(lang);
      await signIn(page, lang, 'klea');
      await page.goto(`${base}/ui/#/records`);
      const form = page.getByTestId('new-record');
      const recordId = `PR-${lang}-1975-7`;
      await form.locator('input[name=recordType]').fill('birth');
      await form.locator('input[name=newRecordId]').fill(recordId);
      await form.locator('textarea[name=personNames]').fill('Teuta Krasniqi\nAgim Krasniqi');
      await form.locator('input[name=municipality]').fill('Prizren');
      await page.context().clearCookies();
      await form.getByRole('button', { name: w.create }).click();
      await expect.poll(() => page.getByTestId('session-ended').textContent(), { timeout: 10_000 }).toContain(w.sessionEnded);
      await expectAccessible(page, `sign-in after the session ended (${lang})`);
      // Passwords are never kept: nothing of the kind is in the tab's storage.
      expect(await page.evaluate(() => sessionStorage.getItem('arkiva.resume'))).not.toContain(PASSWORD);
      await signIn(page, lang, 'klea');
      await expect.poll(() => new URL(page.url()).hash).toBe('#/records');
      await expect.poll(() => page.getByTestId('form-restored').textContent()).toContain(w.restored);
      const again = page.getByTestId('new-record');
      expect(await again.locator('input[name=newRecordId]').inputValue()).toBe(recordId);
      expect(await again.locator('textarea[name=personNames]').inputValue()).toBe('Teuta Krasniqi\nAgim Krasniqi');
      expect(await page.evaluate(() => sessionStorage.getItem('arkiva.resume'))).toBeNull();

      // Sent again, the record is created, and named with a link to it.
      await again.getByRole('button', { name: w.create }).click();
      await expect.poll(() => again.locator('.notice.ok').textContent(), { timeout: 10_000 }).toContain(w.saved);
      const saved = await deps.db.query<{ person_names: string[]; imported_by: string }>('SELECT person_names, imported_by FROM registry_records WHERE record_id = $1', [recordId]);
      expect(saved.rows).toEqual([{ person_names: ['Teuta Krasniqi', 'Agim Krasniqi'], imported_by: 'klea' }]);
      await expectAccessible(page, `records (${lang})`);
      expect(page.errors).toEqual([]);
      await page.context().close();
    }, 90_000);

    it(`${lang}: the audit trail is filtered by a category chosen from the names it holds`, async () => {
      const page = await open(lang);
      await signIn(page, lang, 'arta');
      await page.goto(`${base}/ui/#/audit`);
      const action = page.getByTestId('audit-action');
      await expect.poll(() => action.locator('option[value="shelf.*"]').textContent(), { timeout: 10_000 }).toBe(w.allShelf);
      await action.selectOption('shelf.*');
      await page.getByRole('button', { name: w.filter }).click();
      await expect.poll(() => new URL(page.url()).hash).toBe(`#/audit?${new URLSearchParams({ action: 'shelf.*' })}`);
      const shown = page.getByTestId('audit-events').locator('tbody td code');
      await expect.poll(() => shown.allTextContents(), { timeout: 10_000 }).toEqual(['shelf.move', 'shelf.label', 'shelf.move']);
      await expectAccessible(page, `audit (${lang})`);
      // The newest events first, 100 of them, then the older ones on demand.
      await page.goto(`${base}/ui/#/audit?action=stack.count`);
      const targets = page.getByTestId('audit-events').locator('tbody tr td:nth-child(5)');
      await expect.poll(() => targets.count(), { timeout: 10_000 }).toBe(100);
      expect(await targets.first().textContent()).toBe('stack s104');
      expect(await targets.last().textContent()).toBe('stack s5');
      await page.getByRole('button', { name: w.older }).click();
      await expect.poll(() => targets.count(), { timeout: 10_000 }).toBe(105);
      expect(await targets.last().textContent()).toBe('stack s0');
      expect(await page.getByTestId('audit-older').isHidden()).toBe(true);
      expect(page.errors).toEqual([]);
      await page.context().close();
    }, 90_000);

    it(`${lang}: registry records are imported from a CSV file, each refused row named with its reason`, async () => {
      const page = await open(lang);
      await signIn(page, lang, 'klea');
      await page.goto(`${base}/ui/#/records`);
      const csv = `system,record_type,record_id,person_names,event_date,municipality\ncivil-registry,birth,CSV-${lang}-1,Ilir Deda;Gjon Deda,1962-07-11,Gjakovë\ncivil-registry,birth,CSV-${lang}-2,Vera Deda,11.07.1962,Gjakovë\n`;
      const form = page.getByTestId('import-records');
      await form.locator('input[type=file]').setInputFiles({ name: 'records.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
      await form.locator('button[type=submit]').click();
      await expect.poll(() => page.getByTestId('import-report').locator('p').textContent(), { timeout: 10_000 }).toBe(w.imported);
      expect(await page.getByTestId('import-report').locator('li').textContent()).toContain('eventDate must be YYYY');
      const n = await deps.db.query<{ n: number }>('SELECT count(*)::int AS n FROM registry_records WHERE record_id LIKE $1', [`CSV-${lang}-%`]);
      expect(n.rows[0]!.n).toBe(1);
      expect(page.errors).toEqual([]);
      await page.context().close();
    }, 90_000);
  }
});
