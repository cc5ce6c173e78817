/**
 * Layouts, zone correction and keying progress in the browser: an embedded Arkiva (PGlite, the
 * filesystem store, the in-memory queue; no workers, no OCR) listening on 127.0.0.1, driven by
 * Debian's Chromium through playwright-core. The handwritten page and its zones are written
 * through the domain functions, as the pipeline and zone detection would leave them.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import type { BrowserContext, Page } from 'playwright-core';
import { createUser } from '../../auth/index.ts';
import { createBook, markPageDone, recordObjects, setPageImageInfo, setPageType, upsertPage } from '../../archive/index.ts';
import { defineLayout, keyingStats, layoutVersions, proposeZones, submitKeying, zoneChanges, type EntryZone } from '../../keying/index.ts';
import { handwrittenPagePng } from '../../test-support/handwritten-page.ts';
import { expectAccessible } from '../../test-support/axe.ts';
import { SHOTS, E2E_PASSWORD as PASSWORD, openEmbeddedDeps, requireBrowser, serveToChromium, signIn as signInTab, tearDown, type EmbeddedDeps, type ServedChromium, type Tab } from '../../test-support/browser.ts';
import { setClosure } from '../../test-support/closure.ts';

const ready = requireBrowser();

// Rows of the page in master pixels: row 2 holds two rows (to split), rows 3 and 4 are one row
// torn in two (to merge), row 5 has been keyed once (a split is refused).
const ROWS = [
  { x0: 60, y0: 300, x1: 1180, y1: 360 },
  { x0: 60, y0: 370, x1: 1180, y1: 490 },
  { x0: 60, y0: 500, x1: 1180, y1: 530 },
  { x0: 60, y0: 530, x1: 1180, y1: 560 },
  { x0: 60, y0: 570, x1: 1180, y1: 630 },
];

describe.skipIf(!ready)('layouts, zone correction and keying progress in Chromium', () => {
  let dir: string;
  let deps: EmbeddedDeps;
  let web: ServedChromium;
  let base: string;
  let bookId: string;
  let pageHeight: number;
  let zones: EntryZone[];
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    await fs.promises.mkdir(SHOTS, { recursive: true });
    const [png, opened] = await Promise.all([handwrittenPagePng({ seed: 20, width: 1240 }), openEmbeddedDeps('arkiva-keying-admin-')]);
    ({ dir, deps } = opened);
    const { db, store } = deps;
    const { book } = await createBook(db, {
      registerType: 'birth', municipality: 'Pejë', yearFrom: 1900, yearTo: 1900, languages: 'sqi', ocrProfile: 'handwritten',
      sourceFormat: 'images', sourceSha256: randomBytes(32).toString('hex'), sourceSize: png.length,
    });
    bookId = book.id;
    // A birth register of 1900, whose closure ended in 2000 (as the default schedule computes it at ingest): no purpose is asked.
    await setClosure(db, bookId, '2000-12-31');
    const page = await upsertPage(db, book.id, 1);
    const meta = await sharp(png).metadata();
    pageHeight = meta.height!;
    const put = await store.putContentAddressed('masters', png, { contentType: 'image/png' });
    await recordObjects(db, [{ place: { bookId, pageId: page.id, revision: page.revision, role: 'master' }, put, mediaType: 'image/png' }]);
    await setPageImageInfo(db, page.id, { width: meta.width!, height: meta.height!, dpiX: 150, dpiY: 150, orientation: 0 });
    await setPageType(db, page.id, 'handwritten', "the book's OCR profile is handwritten");
    await markPageDone(db, page.id, page.revision);
    zones = await proposeZones(db, page.id, { source: 'detected', zones: ROWS.map((box) => ({ box })) }, { user: 'zone-detection' });
    const columns = (await layoutVersions(db, zones[0]!.layoutKey)).at(-1)!.columns;
    await submitKeying(db, zones[4]!.id, 'vera', Object.fromEntries(columns.map((c) => [c.key, { value: c.field === 'sex' ? 'M' : c.field === 'entry_number' ? '5' : 'Krasniqi' }])));
    await defineLayout(db, {
      key: 'birth-e2e', name: 'Birth form 1850', registerType: 'birth', yearFrom: 1850, yearTo: 1870,
      columns: [{ key: 'nr', field: 'entry_number' }, { key: 'given', field: 'given_name' }, { key: 'surname', field: 'surname' }],
    }, { user: 'setup', reason: 'form of 1850' });
    for (const [username, roles] of [['klea', ['clerk']], ['rita', ['records_manager']]] as const) await createUser(db, { username, password: PASSWORD, roles });

    web = await serveToChromium(deps);
    base = web.base;
  }, 120_000);

  afterAll(() => tearDown({ contexts, ...web, deps, dir }), 60_000);

  const signIn = (username: string) => signInTab(web.browser, base, username, { viewport: { width: 1280, height: 860 }, cspErrors: true, contexts });
  const noErrors = (page: Tab) => expect(page.errors).toEqual([]);
  /** The page's zones as the API gives them to the signed-in user. */
  const apiZones = (page: Page) => page.evaluate(async (u) => ((await (await fetch(u, { headers: { accept: 'application/json' } })).json()) as { zones: EntryZone[] }).zones, `/books/${bookId}/pages/1/zones`);

  it('a records manager defines version 2 of a layout (a column added and moved up), is told why a wrong one is refused, and sees both versions', async () => {
    const rita = await signIn('rita');
    await rita.getByRole('link', { name: 'Register layouts' }).click();
    await expect.poll(() => rita.getByTestId('layouts').textContent()).toContain('birth-e2e');
    await rita.getByTestId('layouts').getByRole('link', { name: 'birth-e2e' }).click();
    await expect.poll(() => rita.getByTestId('layout-versions').locator('tbody tr').count()).toBe(1);

    await rita.getByLabel('Name', { exact: true }).fill('Birth form 1850, with remarks');
    await rita.getByRole('button', { name: 'Add a column' }).click();
    await rita.getByLabel('Column key 4').fill('note');
    // Surname is held by a column already: the archive refuses and says so.
    await rita.getByLabel('Field 4').selectOption('surname');
    await rita.getByLabel('Reason for the change').fill('Remarks column found on the 1850 form');
    await rita.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => rita.locator('.notice.fail').textContent()).toContain('field surname is held by two columns');
    await rita.getByLabel('Field 4').selectOption('remarks');
    await rita.getByLabel('Heading (Albanian) 4').fill('Vërejtje');
    await rita.getByRole('button', { name: 'Move up column 4' }).click();
    // Focus follows the moved column, so it can be moved again from the keyboard.
    expect(await rita.evaluate(() => document.activeElement?.id)).toBe('up-3');
    await rita.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => rita.getByTestId('layout-versions').locator('tbody tr').count(), { timeout: 10_000 }).toBe(2);
    expect(await rita.locator('.notice.ok').textContent()).toContain('v2');
    const rows = rita.getByTestId('layout-versions').locator('tbody tr');
    expect(await rows.nth(0).locator('th').textContent()).toContain('v2');
    expect(await rows.nth(0).textContent()).toContain('Remarks column found on the 1850 form');
    expect(await rows.nth(1).textContent()).toContain('form of 1850');

    const versions = await layoutVersions(deps.db, 'birth-e2e');
    expect(versions.map((v) => [v.version, v.name, v.columns.map((c) => c.key), v.supersededAt !== null, v.createdBy])).toEqual([
      [1, 'Birth form 1850', ['nr', 'given', 'surname'], true, 'setup'],
      [2, 'Birth form 1850, with remarks', ['nr', 'given', 'note', 'surname'], false, 'rita'],
    ]);
    expect(versions[1]!.columns[2]).toEqual({ key: 'note', field: 'remarks', label: { sq: 'Vërejtje' } });
    await rita.screenshot({ path: path.join(SHOTS, 'layouts.png'), fullPage: true });
    await expectAccessible(rita, 'layouts');
    noErrors(rita);
  }, 60_000);

  it('a keyer moves a zone with the keyboard and resizes one by its handle, splits one, merges two, draws one, and is told why a keyed zone cannot be split', async () => {
    const klea = await signIn('klea');
    await klea.goto(`${base}/ui/#/view/${bookId}/1`);
    await klea.getByRole('link', { name: 'Correct entry zones' }).click();
    const layer = klea.getByTestId('zone-layer');
    await expect.poll(() => layer.locator('.zone-box').count(), { timeout: 10_000 }).toBe(5);
    await expect.poll(() => klea.locator('.page-img:not(.loading)').count(), { timeout: 10_000 }).toBe(1);
    const [z1, z2, z3, z4, z5] = zones as [EntryZone, EntryZone, EntryZone, EntryZone, EntryZone];
    const box = (z: EntryZone) => layer.locator(`[data-zone-id="${z.id}"]`);
    const step = Math.max(1, Math.round(pageHeight / 400));

    // Keyboard: select row 1, three steps down, one right with Shift (ten steps), Enter saves.
    await box(z1).click();
    for (let i = 0; i < 3; i++) await klea.keyboard.press('ArrowDown');
    await klea.keyboard.press('Shift+ArrowRight');
    expect(await box(z1).getAttribute('class')).toContain('unsaved');
    await klea.keyboard.press('Enter');
    await expect.poll(() => klea.locator('.notice').textContent()).toContain('Zone moved.');
    const moved = (await apiZones(klea)).find((z) => z.id === z1.id)!;
    expect(moved.box).toEqual({ x0: 60 + 10 * step, y0: 300 + 3 * step, x1: 1180 + 10 * step, y1: 360 + 3 * step });
    expect(moved.source).toBe('corrected');
    // Pointer: the bottom-right handle dragged down makes the row taller, saved on release.
    const handle = box(z1).locator('.zone-handle.se');
    const hb = (await handle.boundingBox())!;
    await klea.mouse.move(hb.x + hb.width / 2, hb.y + hb.height / 2);
    await klea.mouse.down();
    await klea.mouse.move(hb.x + hb.width / 2, hb.y + hb.height / 2 + 8, { steps: 4 });
    await klea.mouse.up();
    await expect.poll(async () => (await apiZones(klea)).find((z) => z.id === z1.id)!.box.y1, { timeout: 10_000 }).toBeGreaterThan(360 + 3 * step + 2);
    const history1 = await zoneChanges(deps.db, z1.id);
    expect(history1.map((c) => [c.op, c.changedBy])).toEqual([['move', 'klea'], ['move', 'klea']]);
    expect((history1[0]!.before as { box: unknown }).box).toEqual(ROWS[0]);
    // The selected zone's history is on the screen, as the API keeps it.
    const historyList = klea.getByTestId('zone-history').locator('li');
    await expect.poll(() => historyList.count(), { timeout: 10_000 }).toBe(2);
    expect(await historyList.first().textContent()).toMatch(/^moved y 300–360, x 60–1180 → y \d+–\d+.*klea/);

    // Split row 2 at y 430, typed.
    await box(z2).click();
    await klea.getByLabel('Split the selected zone at height (page pixels)').fill('430');
    await klea.getByRole('button', { name: 'Split', exact: true }).click();
    await expect.poll(() => klea.locator('.notice').textContent()).toContain('Zone split in two.');
    let live = await apiZones(klea);
    expect(live).toHaveLength(6);
    expect(live.some((z) => z.id === z2.id)).toBe(false);
    const split = await zoneChanges(deps.db, z2.id);
    expect(split.map((c) => c.op)).toEqual(['split']);
    expect(live.filter((z) => split[0]!.resultZoneIds.includes(z.id)).map((z) => [z.box.y0, z.box.y1])).toEqual([[370, 430], [430, 490]]);
    // A zone a split made tells where it came from.
    await layer.locator(`[data-zone-id="${split[0]!.resultZoneIds[0]}"]`).click();
    await expect.poll(() => historyList.first().textContent(), { timeout: 10_000 }).toMatch(/^made by split y 370–490/);

    // Rows 1 and 5 are not neighbours: refused before any call. A click selects one zone, the list's checkboxes add more.
    await box(z1).click();
    await klea.locator(`#zsel-${z5.id}`).check();
    await klea.getByRole('button', { name: 'Merge selected' }).click();
    await expect.poll(() => klea.locator('.notice.fail').textContent()).toContain('Only zones next to each other can be merged');
    expect(await apiZones(klea)).toHaveLength(6);

    // Merge the torn row (3 and 4): Space on a focused zone adds it to the selection.
    await box(z3).click();
    await box(z4).focus();
    await klea.keyboard.press('Space');
    expect(await klea.locator(`#zsel-${z4.id}`).isChecked()).toBe(true);
    await klea.getByRole('button', { name: 'Merge selected' }).click();
    await expect.poll(() => klea.locator('.notice').textContent()).toContain('Zones merged.');
    live = await apiZones(klea);
    expect(live).toHaveLength(5);
    const merged = await zoneChanges(deps.db, z3.id);
    expect(merged.map((c) => [c.op, c.changedBy])).toEqual([['merge', 'klea']]);
    expect(live.find((z) => z.id === merged[0]!.resultZoneIds[0])!.box).toEqual({ x0: 60, y0: 500, x1: 1180, y1: 560 });
    expect((await zoneChanges(deps.db, z4.id)).map((c) => c.op)).toEqual(['merge']);

    // Row 5 has been keyed: the archive refuses the split and the screen says why.
    await box(z5).click();
    await klea.getByLabel('Split the selected zone at height (page pixels)').fill('600');
    await klea.getByRole('button', { name: 'Split', exact: true }).click();
    await expect.poll(() => klea.locator('.notice.fail').textContent()).toMatch(/Refused by the archive: .*has been keyed/);
    expect(await apiZones(klea)).toHaveLength(5);
    expect(await zoneChanges(deps.db, z5.id)).toEqual([]);

    // Draw a missing row below the others.
    await klea.getByRole('button', { name: 'Draw a zone' }).click();
    const stage = (await klea.locator('.zone-stage').boundingBox())!;
    const sx = (x: number) => stage.x + (x / 1240) * stage.width;
    const sy = (y: number) => stage.y + (y / pageHeight) * stage.height;
    await klea.mouse.move(sx(60), sy(640));
    await klea.mouse.down();
    await klea.mouse.move(sx(600), sy(670), { steps: 4 });
    await klea.mouse.move(sx(1180), sy(700), { steps: 4 });
    await klea.mouse.up();
    await expect.poll(() => klea.locator('.notice').textContent()).toContain('Zone added.');
    live = await apiZones(klea);
    expect(live).toHaveLength(6);
    const drawn = live.find((z) => z.source === 'drawn')!;
    expect(Math.abs(drawn.box.y0 - 640)).toBeLessThan(4);
    expect(Math.abs(drawn.box.x1 - 1180)).toBeLessThan(4);
    expect(drawn.layoutKey).toBe(z1.layoutKey);
    expect(await layer.locator('.zone-box').count()).toBe(6);
    // Each correction is attributed in the audit trail, the refused split included.
    const audit = await deps.db.query<{ action: string; outcome: string }>(
      "SELECT action, outcome FROM audit_events WHERE actor = 'klea' AND action IN ('zone.move', 'zone.split', 'zone.merge', 'zone.create') ORDER BY seq");
    expect(audit.rows.map((r) => `${r.action}:${r.outcome}`)).toEqual(['zone.move:ok', 'zone.move:ok', 'zone.split:ok', 'zone.merge:ok', 'zone.split:refused', 'zone.create:ok']);
    // The whole page: the zones sit below the fold, and a viewport shot cut the screen's heading off.
    await klea.screenshot({ path: path.join(SHOTS, 'zones.png'), fullPage: true });
    await expectAccessible(klea, 'zone correction');
    noErrors(klea);
  }, 60_000);

  it('the progress screen shows the book\'s zones by state and the keyer\'s work, as the API counts them', async () => {
    const klea = await signIn('klea');
    await klea.getByRole('link', { name: 'Keying progress' }).click();
    const row = klea.getByTestId('book-progress').locator(`tr[data-book-id="${bookId}"]`);
    await expect.poll(() => row.count(), { timeout: 10_000 }).toBe(1);
    const stats = await keyingStats(deps.db, { bookId });
    const b = stats.books[0]!;
    // After the corrections above, six live zones: five open, the keyed one once; none disputed or verified yet.
    expect(b.keyedOnce).toBe(1);
    expect(b.zones).toBe(b.open + 1);
    expect(await row.locator('td.num').allTextContents()).toEqual([b.zones, b.open, b.keyedOnce, b.disputed, b.verified, b.empty].map(String));
    // A clerk goes on to the book's zones; the bulk link review is for records managers.
    expect(await row.getByTestId('progress-zones').getAttribute('href')).toBe(`#/zones/${bookId}/1`);
    expect(await row.getByTestId('progress-link-review').count()).toBe(0);
    expect(await row.locator('progress').getAttribute('value')).toBe('0');
    const keyer = klea.getByTestId('keyer-quality').locator('tbody tr');
    expect(await keyer.count()).toBe(1);
    expect(await keyer.locator('th').textContent()).toBe('vera');
    // Keyed once, compared with nothing yet: no agreement rate.
    expect(await keyer.locator('td').allTextContents()).toEqual(['1', '0', '0', '–', '0']);
    await klea.getByLabel('Book', { exact: true }).selectOption(bookId);
    await expect.poll(() => klea.url()).toContain(`book=${bookId}`);
    await expect.poll(() => klea.getByTestId('book-progress').locator('tbody tr').count()).toBe(1);
    await klea.screenshot({ path: path.join(SHOTS, 'keying-progress.png') });
    await expectAccessible(klea, 'keying progress');
    noErrors(klea);
    const rita = await signIn('rita');
    await rita.goto(`${base}/ui/#/keying/progress`);
    const ritaRow = rita.getByTestId('book-progress').locator(`tr[data-book-id="${bookId}"]`);
    await ritaRow.getByTestId('progress-link-review').click();
    await expect.poll(() => rita.url()).toContain(`#/link-proposals/${bookId}`);
    noErrors(rita);
  }, 60_000);
});
