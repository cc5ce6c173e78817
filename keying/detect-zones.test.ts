/**
 * Zone detection in the pipeline (issue 20) on embedded deps (PGlite, filesystem store, in-process
 * workers, real OCR): a two-page handwritten fixture book (its second page scanned a quarter turn
 * round) is ingested, and its pages come out of
 * the OCR stage with one detected zone per written row, cells per layout column; retries and
 * concurrent runs add nothing; keyers can detect again on demand until a zone is keyed.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findPageObjects, listEvents, listPages, recordObject, upsertPage, type ArchivedOcr, type Page } from '../archive/index.ts';
import { readObject } from '../storage/read-object.ts';
import { generateFixtureFiles, type FixtureFiles } from '../fixtures/index.ts';
import type { Box as TruthBox } from '../fixtures/truth.ts';
import { ingestBook } from '../ingest/index.ts';
import type { WorkerHandle } from '../queue/index.ts';
import { silentLogger } from '../common/index.ts';
import { startWorkers } from '../workers/index.ts';
import { ocrPage } from '../workers/stages/ocr-page.job.ts';
import { asUser, openTestApp, userHeaders, waitForBook, type TestApp } from '../api/test-kit.ts';
import type { Box } from '../entries/index.ts';
import { detectPageZones, detectZonesAfterRouting, ZONE_DETECTION_AGENT } from './detect-zones.ts';
import { pageZones } from './zones.ts';
import { submitKeying } from './keyings.ts';
import { zoneCrop } from './zone-crop.ts';
import sharp from 'sharp';

const iou = (a: Box, t: TruthBox): number => {
  const x0 = Math.max(a.x0, t.left);
  const y0 = Math.max(a.y0, t.top);
  const x1 = Math.min(a.x1, t.left + t.width);
  const y1 = Math.min(a.y1, t.top + t.height);
  const inter = Math.max(0, x1 - x0) * Math.max(0, y1 - y0);
  const union = (a.x1 - a.x0) * (a.y1 - a.y0) + t.width * t.height - inter;
  return union > 0 ? inter / union : 0;
};

describe('entry zones proposed by the pipeline', () => {
  let t: TestApp;
  let workers: WorkerHandle;
  let dir: string;
  let files: FixtureFiles;
  let bookId: string;
  let pages: Page[];
  const ctx = { jobId: 'again', attempt: 2, signal: new AbortController().signal, log: silentLogger(), failedChildren: async () => [] };
  const liveCount = async (pageId: string) => (await pageZones(t.deps.db, pageId)).length;

  beforeAll(async () => {
    dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'arkiva-zones-'));
    // Births of 1900: closed long ago, so keyers read them without a stated purpose.
    [t, files] = await Promise.all([
      openTestApp(),
      generateFixtureFiles({ outDir: dir, pages: 2, seed: 2020, formats: ['tiff'], scale: 0.5, style: 'handwritten', language: 'sq', year: 1900, registerType: 'birth', rotate: { 2: 90 } }),
    ]);
    workers = await startWorkers(t.deps);
    const b = files.truth.book;
    const { book } = await ingestBook(t.deps, { kind: 'file', path: files.tiff!.path }, {
      registerType: 'birth', municipality: b.municipality, yearFrom: b.yearFrom, yearTo: b.yearTo, languages: 'sqi', ocrProfile: 'handwritten',
    });
    bookId = book.id;
    expect((await waitForBook(t.api, bookId, 120_000)).status).toBe('complete');
    pages = await listPages(t.deps.db, bookId);
  }, 180_000);
  afterAll(async () => {
    await workers?.close({ timeoutMs: 10_000 });
    await t?.close();
    if (dir) await fs.promises.rm(dir, { recursive: true, force: true });
  });

  it('proposes one zone per ground-truth row with a cell per layout column, and says so in the page events', async () => {
    expect(pages).toHaveLength(2);
    let rows = 0;
    let found = 0;
    const cellIous: number[] = [];
    for (const p of pages) {
      const truth = files.truth.pages[p.sequence - 1]!;
      const zones = await pageZones(t.deps.db, p.id);
      expect(zones.length).toBeGreaterThan(0);
      for (const z of zones) expect(z).toMatchObject({ source: 'detected', status: 'open', layoutKey: 'birth-default', createdBy: ZONE_DETECTION_AGENT });
      for (const e of truth.entries) {
        rows++;
        const best = zones.reduce<{ z: (typeof zones)[number] | undefined; v: number }>((acc, z) => (iou(z.box, e.box) > acc.v ? { z, v: iou(z.box, e.box) } : acc), { z: undefined, v: 0 });
        if (best.v < 0.5 || !best.z) continue;
        found++;
        expect(best.z.cells).toHaveLength(8);
        e.cells.forEach((c, i) => cellIous.push(iou(best.z!.cells[i]!, c.box)));
      }
      // Rows come as the page is read, top to bottom, on the turned page too: the truth's rows in the zones' order.
      const order = truth.entries.map((e) => zones.findIndex((z) => iou(z.box, e.box) >= 0.5)).filter((i) => i >= 0);
      expect(order, `page ${p.sequence}`).toEqual([...order].sort((a, b) => a - b));
      // Its crop is shown upright: the row runs across it.
      const crop = await sharp((await zoneCrop(t.deps, zones[0]!, { width: 800, context: 1 })).body).metadata();
      expect(crop.width!, `page ${p.sequence}`).toBeGreaterThan(crop.height! * 2);
      // Zones the truth does not hold would be rows keyers skip: at most one per page.
      expect(zones.length).toBeLessThanOrEqual(truth.entries.length + 1);
      const events = await listEvents(t.deps.db, bookId, { pageId: p.id });
      const made = events.filter((e) => e.agent === ZONE_DETECTION_AGENT);
      expect(made).toHaveLength(1);
      expect(made[0]).toMatchObject({ type: 'creation', outcome: 'success' });
      // Page 2 was scanned a quarter turn round: its zones are found on it stood upright as OCR read it, and given in the master's pixels.
      const turned = p.sequence === 2 ? 'page turned 270°, ' : '';
      expect(made[0]!.detail).toMatch(new RegExp(`^${zones.length} entry zones proposed \\(${turned}skew .*8 columns matched to layout birth-default v1 by count`));
    }
    expect(rows).toBeGreaterThan(15);
    expect(found / rows).toBeGreaterThanOrEqual(0.9);
    cellIous.sort((a, b) => a - b);
    expect(cellIous[Math.floor(cellIous.length / 2)]!).toBeGreaterThanOrEqual(0.7);
  });

  it('adds nothing when the stage runs again, and proposes once when a retry and a request race after a lost run', async () => {
    const [p1, p2] = pages as [Page, Page];
    const before = await Promise.all(pages.map((p) => liveCount(p.id)));
    for (const p of pages) expect(await ocrPage(t.deps, { bookId, pageId: p.id, revision: p.revision }, ctx, 3)).toBe('skipped');
    expect(await Promise.all(pages.map((p) => liveCount(p.id)))).toEqual(before);
    expect((await detectPageZones(t.deps, p1.id, { user: 'someone' })).outcome).toBe('skipped');

    // A crash after the reading was recorded but before its zones: the retried stage proposes them.
    await t.deps.db.query(`UPDATE entry_zones SET retired_at = now(), retired_by = 'test' WHERE page_id = $1`, [p2.id]);
    expect(await ocrPage(t.deps, { bookId, pageId: p2.id, revision: p2.revision }, ctx, 3)).toBe('skipped');
    expect(await liveCount(p2.id)).toBe(before[1]);

    await t.deps.db.query(`UPDATE entry_zones SET retired_at = now(), retired_by = 'test' WHERE page_id = $1 AND retired_at IS NULL`, [p2.id]);
    const raced = await Promise.all([detectPageZones(t.deps, p2.id, { user: ZONE_DETECTION_AGENT }), detectPageZones(t.deps, p2.id, { user: ZONE_DETECTION_AGENT })]);
    expect(raced.map((r) => r.outcome).sort()).toEqual(['proposed', 'skipped']);
    expect(await liveCount(p2.id)).toBe(before[1]);
  });

  it('reads an upright page as scanned when the OCR turned it half round (its header row at the bottom), zones in reading order', async () => {
    const p1 = pages[0]!;
    const truth = files.truth.pages[0]!;
    const objects = await findPageObjects(t.deps.db, { bookId, pageId: p1.id, revision: p1.revision });
    const ocr = objects.get('ocr/ocr-json')!;
    const reading = JSON.parse((await readObject(t.deps.store, ocr.storeKey, { expectedSha256: ocr.sha256 })).toString('utf8')) as ArchivedOcr;
    // OSD is unsure on handwriting: a page read upside down still shows its table, so the turn alone cannot tell.
    await t.deps.db.query('UPDATE pages SET ocr_turn = 180 WHERE id = $1', [p1.id]);
    try {
      const d = await detectPageZones(t.deps, p1.id, { user: 'zone-test', replace: true, reading: { ...reading, orientation: 180 } });
      expect(d.outcome).toBe('proposed');
      expect(d.detail).not.toMatch(/page turned/);
      const zones = await pageZones(t.deps.db, p1.id);
      expect(zones.every((z) => z.turn === 0)).toBe(true);
      const order = truth.entries.map((e) => zones.findIndex((z) => iou(z.box, e.box) >= 0.5));
      expect(order.filter((i) => i >= 0).length).toBeGreaterThanOrEqual(truth.entries.length - 1);
      expect(order.filter((i) => i >= 0)).toEqual([...order.filter((i) => i >= 0)].sort((a, b) => a - b));
    } finally {
      await t.deps.db.query('UPDATE pages SET ocr_turn = $2 WHERE id = $1', [p1.id, p1.ocrTurn]);
    }
  });

  it('detects again on demand for keyers and records managers, audited, and refuses once a zone is keyed', async () => {
    const p1 = pages[0]!;
    const clerk = asUser(t.app, await userHeaders(t.deps.db, ['clerk'], 'zone-clerk'));
    const digitiser = asUser(t.app, await userHeaders(t.deps.db, ['digitiser'], 'zone-digitiser'));
    const url = `/books/${bookId}/pages/1/zones/detect`;
    expect((await digitiser.inject({ method: 'POST', url })).statusCode).toBe(403);

    const old = (await pageZones(t.deps.db, p1.id)).map((z) => z.id);
    const res = await clerk.inject({ method: 'POST', url });
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ outcome: 'proposed', columns: { found: 8, layout: 8, matched: true, method: 'count' } });
    expect([...body.retired].sort()).toEqual([...old].sort());
    expect(body.zones).toHaveLength(old.length);
    expect(body.zones.every((z: { createdBy: string; cells: unknown[] }) => z.createdBy === 'zone-clerk' && z.cells.length === 8)).toBe(true);
    expect(await liveCount(p1.id)).toBe(old.length);
    const audit = await t.deps.db.query<{ actor: string; outcome: string }>(`SELECT actor, outcome FROM audit_events WHERE action = 'zone.detect' ORDER BY seq`);
    expect(audit.rows).toContainEqual(expect.objectContaining({ actor: 'zone-clerk' }));

    const columns = ['entryNumber', 'dateOfBirth', 'firstName', 'surname', 'sex', 'fatherName', 'mother', 'placeOfBirth'];
    await submitKeying(t.deps.db, body.zones[0].id, 'zone-clerk', Object.fromEntries(columns.map((c) => [c, { answer: 'illegible' as const }])));
    const refused = await clerk.inject({ method: 'POST', url });
    expect(refused.statusCode).toBe(409);
    expect(refused.json().message ?? refused.body).toMatch(/keyed zones/);
    expect((await pageZones(t.deps.db, p1.id)).map((z) => z.id).sort()).toEqual(body.zones.map((z: { id: string }) => z.id).sort());
  });

  it('records a failed detection as a warning of the page and lets the page be', async () => {
    const page = await upsertPage(t.deps.db, bookId, 99);
    const put = await t.deps.store.putContentAddressed('masters', Buffer.from('not an image at all'), { contentType: 'image/png' });
    await recordObject(t.deps.db, { bookId, pageId: page.id, role: 'master', revision: page.revision }, put, 'image/png');
    expect(await detectZonesAfterRouting(t.deps, { bookId, pageId: page.id })).toBeUndefined();
    const events = await listEvents(t.deps.db, bookId, { pageId: page.id });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: 'creation', agent: ZONE_DETECTION_AGENT, outcome: 'warning' });
    expect(events[0]!.detail).toMatch(/^zone detection failed: .*; the page is archived without zones/);
    expect(await liveCount(page.id)).toBe(0);
  });
});
