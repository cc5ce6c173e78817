import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBook, recordObjects, setPageImageInfo, upsertPage } from '../archive/index.ts';
import { silentLogger } from '../common/index.ts';
import { loadConfig } from '../config/index.ts';
import { openAppDeps, type AppDeps } from '../app/deps.ts';
import { zoneCrop, zoneCropRegion } from './zone-crop.ts';
import { masterBoxToUpright, readingTurn, uprightBoxToMaster } from './reading-order.ts';
import { nextZone } from './keyings.ts';
import { pageZones, proposeZones, type EntryZone } from './zones.ts';

describe('zone crop region', () => {
  const page = { width: 2000, height: 3000 };

  it('adds a fifth of the row height around the row, and whole row heights above and below for context', () => {
    expect(zoneCropRegion({ x0: 100, y0: 300, x1: 1900, y1: 360 }, page, 0)).toEqual({
      row: { x0: 88, y0: 288, x1: 1912, y1: 372 }, crop: { x0: 88, y0: 288, x1: 1912, y1: 372 },
    });
    expect(zoneCropRegion({ x0: 100, y0: 300, x1: 1900, y1: 360 }, page, 2).crop).toEqual({ x0: 88, y0: 168, x1: 1912, y1: 492 });
  });

  it('keeps at least 4 px of margin on thin rows and stays within the page', () => {
    expect(zoneCropRegion({ x0: 0, y0: 1, x1: 2000, y1: 11 }, page, 1)).toEqual({ row: { x0: 0, y0: 0, x1: 2000, y1: 15 }, crop: { x0: 0, y0: 0, x1: 2000, y1: 25 } });
    expect(zoneCropRegion({ x0: 10, y0: 2950, x1: 200, y1: 2995 }, page, 1).crop).toEqual({ x0: 1, y0: 2896, x1: 209, y1: 3000 });
  });

  it('refuses a context outside 0..2 rows and a zone off the page', () => {
    expect(() => zoneCropRegion({ x0: 0, y0: 0, x1: 10, y1: 10 }, page, 3)).toThrow(/context/);
    expect(() => zoneCropRegion({ x0: 0, y0: 0, x1: 10, y1: 10 }, page, 0.5)).toThrow(/context/);
    expect(() => zoneCropRegion({ x0: 2100, y0: 0, x1: 2200, y1: 10 }, page, 0)).toThrow(/outside/);
  });
});

// A page scanned a quarter turn round: the master's rows run top to bottom across it, and the OCR
// stood it upright with a 270° turn. Zones, in master pixels, must be read and shown upright.
describe('zones of a page the OCR turned', () => {
  let dir: string;
  let deps: AppDeps & { close(): Promise<void> };
  let pageId: string;
  let bookId: string;
  // Upright page 400×300: three rows, each with a dark mark at its left end; row B's mark is the widest.
  const UPRIGHT = { width: 400, height: 300 };
  const rows = { a: { x0: 20, y0: 40, x1: 380, y1: 80 }, b: { x0: 20, y0: 120, x1: 380, y1: 160 }, c: { x0: 20, y0: 200, x1: 380, y1: 240 } };

  beforeAll(async () => {
    dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'arkiva-turned-'));
    deps = await openAppDeps(loadConfig({ ARKIVA_DATA_DIR: dir }), silentLogger());
    const marks = [{ r: rows.a, w: 30 }, { r: rows.b, w: 120 }, { r: rows.c, w: 30 }]
      .map(({ r, w }) => `<rect x="${r.x0}" y="${r.y0}" width="${w}" height="${r.y1 - r.y0}" fill="#000"/>`).join('');
    const upright = await sharp(Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="${UPRIGHT.width}" height="${UPRIGHT.height}"><rect width="100%" height="100%" fill="#fff"/>${marks}</svg>`)).png().toBuffer();
    // Scanned a quarter turn clockwise: a further 270° clockwise stands it upright.
    const master = await sharp(upright).rotate(90).png().toBuffer();
    const { book } = await createBook(deps.db, { registerType: 'birth', municipality: 'Pejë', yearFrom: 1900, yearTo: 1900, languages: 'sqi', ocrProfile: 'handwritten', sourceFormat: 'images', sourceSha256: randomBytes(32).toString('hex'), sourceSize: master.length });
    bookId = book.id;
    const page = await upsertPage(deps.db, book.id, 1);
    pageId = page.id;
    const put = await deps.store.putContentAddressed('masters', master, { contentType: 'image/png' });
    await recordObjects(deps.db, [{ place: { bookId, pageId, revision: page.revision, role: 'master' }, put, mediaType: 'image/png' }]);
    await setPageImageInfo(deps.db, pageId, { width: UPRIGHT.height, height: UPRIGHT.width, dpiX: 150, dpiY: 150, orientation: 0 });
    await deps.db.query('UPDATE pages SET ocr_turn = 270 WHERE id = $1', [pageId]);
    // Drawn in master pixels, out of order.
    const toMaster = (b: typeof rows.a) => uprightBoxToMaster(b, 270, UPRIGHT.height, UPRIGHT.width);
    await proposeZones(deps.db, pageId, { source: 'drawn', zones: [rows.c, rows.a, rows.b].map((b) => ({ box: toMaster(b) })) }, { user: 'clerk' });
  }, 60_000);
  afterAll(async () => {
    await deps?.close();
    if (dir) await fs.promises.rm(dir, { recursive: true, force: true });
  });

  const uprightOf = (z: EntryZone) => masterBoxToUpright(z.box, readingTurn(270, z.box), UPRIGHT.height, UPRIGHT.width);

  it('lists the rows and hands them to keyers top to bottom as the page is read', async () => {
    const zones = await pageZones(deps.db, pageId);
    expect(zones.map((z) => uprightOf(z).y0)).toEqual([rows.a.y0, rows.b.y0, rows.c.y0]);
    const task = await nextZone(deps.db, 'ana', { bookId });
    expect(task?.zone.id).toBe(zones[0]!.id);
  });

  it('shows the crop upright, the row across it and its neighbours faded', async () => {
    const zones = await pageZones(deps.db, pageId);
    const img = await zoneCrop(deps, zones[1]!, { width: 300, context: 1 });
    const { data, info } = await sharp(img.body).greyscale().raw().toBuffer({ resolveWithObject: true });
    // Upright: wider than tall (the row runs across), as wide as asked (give or take the rounding of the turn).
    expect(Math.abs(info.width - 300)).toBeLessThanOrEqual(1);
    expect(info.height).toBeLessThan(info.width);
    const mean = (x0: number, x1: number, y0: number, y1: number) => {
      let s = 0;
      let n = 0;
      for (let y = Math.floor(y0 * info.height); y < Math.ceil(y1 * info.height); y++) for (let x = Math.floor(x0 * info.width); x < Math.ceil(x1 * info.width); x++) { s += data[y * info.width + x]!; n++; }
      return s / n;
    };
    // The crop spans a row height above and below the row (with margins): the row's own band is the middle.
    // Row B's wide mark is at the left of the middle band, dark; its right end is paper.
    expect(mean(0.1, 0.25, 0.45, 0.55)).toBeLessThan(60);
    expect(mean(0.6, 0.9, 0.45, 0.55)).toBeGreaterThan(200);
    // The neighbours' marks (short, at the left) show faded: lighter than row B's, darker than paper.
    for (const [y0, y1] of [[0.005, 0.045], [0.955, 0.995]] as const) {
      const neighbour = mean(0.04, 0.08, y0, y1);
      expect(neighbour).toBeGreaterThan(100);
      expect(neighbour).toBeLessThan(210);
    }
  });
});
