/**
 * Bulk linking and the record page in Debian's Chromium (issue 20, points 5 and 6): a records
 * manager opens the link proposals of a book, sees each keyed entry's crop beside the record
 * proposed, unticks one and links the rest; the record page then shows the linked entry's crop
 * (its verified zone on the page), marked as keyed. Embedded deps (PGlite, filesystem store).
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordObject, setPageImageInfo, upsertPage } from '../../archive/index.ts';
import { createUser } from '../../auth/index.ts';
import { proposeZones, submitKeying } from '../../keying/index.ts';
import { upsertRecord } from '../../records/index.ts';
import { createBookWithRetention } from '../../retention/index.ts';
import { setClosure } from '../../test-support/closure.ts';
import { expectAccessible } from '../../test-support/axe.ts';
import { SHOTS, E2E_PASSWORD as PASSWORD, openEmbeddedDeps, requireBrowser, serveToChromium, signIn as signInTab, tearDown, type EmbeddedDeps, type ServedChromium } from '../../test-support/browser.ts';

const ready = requireBrowser();

describe.skipIf(!ready)('bulk linking and the record page in Chromium', () => {
  let dir: string;
  let deps: EmbeddedDeps;
  let web: ServedChromium;
  let base: string;
  let bookId: string;
  const entries: string[] = [];
  const records: string[] = [];

  beforeAll(async () => {
    ({ dir, deps } = await openEmbeddedDeps('arkiva-link-proposals-e2e-'));
    const db = deps.db;
    const { book } = await createBookWithRetention(db, { registerType: 'birth', municipality: 'Gjakovë', yearFrom: 1962, yearTo: 1962, languages: 'sqi', sourceFormat: 'tiff', sourceSha256: randomBytes(32).toString('hex'), sourceSize: 1 });
    bookId = book.id;
    await setClosure(db, bookId, '2000-12-31');
    const page = await upsertPage(db, bookId, 1);
    // A ruled page with two dark rows, so each crop is an image of its own row.
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="1200" height="800"><rect width="100%" height="100%" fill="#f4efe3"/>
      <rect x="40" y="200" width="1100" height="60" fill="#334"/><rect x="40" y="300" width="1100" height="60" fill="#633"/></svg>`;
    const master = await sharp(Buffer.from(svg)).png().toBuffer();
    await recordObject(db, { bookId, pageId: page.id, role: 'master', revision: 1 }, await deps.store.putContentAddressed('masters', master, { contentType: 'image/png' }), 'image/png');
    await setPageImageInfo(db, page.id, { width: 1200, height: 800, dpiX: 300, dpiY: 300, orientation: 0, inkRatio: 0.05 });
    const people = [['Teuta', 'Rama', 'Ahmet', '04.06.1962'], ['Ilir', 'Deda', 'Gjon', '11.07.1962']] as const;
    for (const [i, [first, surname, father, date]] of people.entries()) {
      const [zone] = await proposeZones(db, page.id, { source: 'drawn', zones: [{ box: { x0: 40, y0: 200 + i * 100, x1: 1140, y1: 260 + i * 100 } }] }, { user: 'clerk' });
      const fields = Object.fromEntries(Object.entries({ entryNumber: String(i + 1), dateOfBirth: date, firstName: first, surname, sex: 'M', fatherName: father, mother: 'Vera', placeOfBirth: 'Gjakovë' }).map(([k, v]) => [k, { value: v }]));
      await submitKeying(db, zone!.id, 'keyer-1', fields);
      await submitKeying(db, zone!.id, 'keyer-2', fields);
      entries.push((await db.query<{ entry_id: string }>('SELECT entry_id FROM entry_zones WHERE id = $1', [zone!.id])).rows[0]!.entry_id);
      const iso = date.split('.').reverse().join('-');
      records.push((await upsertRecord(db, { system: 'civil-registry', recordType: 'birth', recordId: `GJ-1962-${i + 1}`, personNames: [`${first} ${surname}`, `${father} ${surname}`], eventDate: iso, municipality: 'Đakovica' }, { user: 'rm' })).record.id);
    }
    await createUser(db, { username: 'mira', password: PASSWORD, roles: ['records_manager'] });
    await createUser(db, { username: 'klea', password: PASSWORD, roles: ['clerk'] });
    web = await serveToChromium(deps);
    base = web.base;
  }, 120_000);

  afterAll(() => tearDown({ ...web, deps, dir }), 60_000);

  const signIn = (username: string) => signInTab(web.browser, base, username);

  it('a records manager reviews the proposals with their crops and links the ticked one; the record shows the keyed entry\'s crop', async () => {
    const page = await signIn('mira');
    await page.goto(`${base}/ui/#/link-proposals/${bookId}`);
    const rows = page.getByTestId('proposal');
    await expect.poll(() => rows.count(), { timeout: 15_000 }).toBe(2);
    await expect.poll(() => page.locator('[data-testid=proposal] img.crop:not(.loading)').count(), { timeout: 15_000 }).toBe(2);
    expect(await rows.first().textContent()).toContain('GJ-1962-1');
    await fs.promises.mkdir(SHOTS, { recursive: true });
    await page.screenshot({ path: path.join(SHOTS, 'link-proposals.png'), fullPage: true });
    await expectAccessible(page, 'link proposals');
    // Untick the second: only the first is linked.
    await rows.nth(1).getByRole('checkbox').uncheck();
    await page.getByRole('button', { name: 'Link the ticked entries' }).click();
    await expect.poll(() => page.locator('[data-testid=link-proposals] .notice').textContent(), { timeout: 10_000 }).toContain('Linked: 1');
    await expect.poll(() => rows.count(), { timeout: 10_000 }).toBe(1);
    const links = await deps.db.query<{ entry_id: string; record_id: string; created_by: string }>('SELECT entry_id, record_id, created_by FROM record_links WHERE unlinked_at IS NULL');
    expect(links.rows).toEqual([{ entry_id: entries[0], record_id: records[0], created_by: 'mira' }]);

    expect(page.errors).toEqual([]);

    // A clerk opens the record: the linked entry is shown by its crop, marked as keyed.
    const clerk = await signIn('klea');
    await clerk.goto(`${base}/ui/#/records/${records[0]}`);
    const crop = clerk.getByTestId('linked-entry-crop');
    await expect.poll(() => clerk.locator('[data-testid=linked-entry-crop]:not(.loading)').count(), { timeout: 15_000 }).toBe(1);
    // The crop is the zone's row (1100 x 60 plus the margin): wide and short, the row's dark colour.
    const size = await crop.evaluate((i) => [(i as HTMLImageElement).naturalWidth, (i as HTMLImageElement).naturalHeight]);
    expect(size[0]! / size[1]!).toBeGreaterThan(8);
    expect(await clerk.getByTestId('entry-source').textContent()).toBe('keyed twice and verified');
    await clerk.screenshot({ path: path.join(SHOTS, 'record-keyed-entry.png'), fullPage: true });
    await expectAccessible(clerk, 'record');
    expect(clerk.errors).toEqual([]);
  }, 90_000);
});
