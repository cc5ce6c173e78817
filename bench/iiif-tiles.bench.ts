/**
 * IIIF Image API tiles of a 600 dpi A4 page (4960x7016, colour, paper grain and lines of text), on
 * PostgreSQL and RGW through the API (access hook, audit, page lookup included), for the two
 * strategies in the same run:
 *   master:  tiles cut on request from the lossless master (deflate TIFF), renderings kept in the store;
 *   pyramid: tiles cut on request from the master stage's tiled pyramidal TIFF derivative, kept likewise.
 * Per strategy and repetition a fresh app (empty in-process source cache) and a fresh page (no stored
 * renderings): a viewer's first view (1280x800 screen fitting the page: the scale-16 tile, then the
 * four scale-8 tiles) and a zoom to 100% (the 4x3 scale-1 tiles in the middle), six requests at a time
 * as a browser sends them; cold (nothing cached), then warm (the same view again: renderings from the
 * store). Prints p95 per tile, tiles per second, the API process's CPU per tile (steadier than wall time
 * on a shared machine) and the pyramid's cost in the master stage, then one
 * JSON line. Never fails on the figures.
 *
 *   npm run bench:iiif
 *   npx tsx bench/iiif-tiles.bench.ts [--reps 2]
 */
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import type { FastifyInstance } from 'fastify';
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { openRealDeps } from '../test-support/real-deps.ts';
import { createBook, recordObject, setPageImageInfo, upsertPage } from '../archive/index.ts';
import { buildApp } from '../api/index.ts';
import { userHeaders } from '../api/test-kit.ts';
import { pyramidTiff, PYRAMID } from '../workers/stages/page-images.ts';
import { loadServicesEnv, percentile, procCpuSeconds, r1 } from './bench-support.ts';

const { values } = parseArgs({ options: { reps: { type: 'string', default: '2' } } });
const reps = Number(values.reps);
const W = 4960;
const H = 7016;

/** A colour scan-like page: warm paper with grain, and 60 lines of dark text. */
async function makePage(): Promise<Buffer> {
  const grain = await sharp({ create: { width: W, height: H, channels: 3, background: { r: 0, g: 0, b: 0 }, noise: { type: 'gaussian', mean: 236, sigma: 6 } } }).raw().toBuffer();
  const lines = Array.from({ length: 60 }, (_, i) => `<text x="300" y="${400 + i * 105}" font-family="DejaVu Serif" font-size="70" fill="#2b2118">${i + 1}. Gjergj Krasniqi, lindur më 12.03.1958 në Prishtinë; babai Lekë, nëna Drita</text>`).join('');
  const svg = Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}">${lines}</svg>`);
  return sharp(grain, { raw: { width: W, height: H, channels: 3 } }).composite([{ input: svg }]).raw().toBuffer();
}

interface Tile { url: string }
const firstView = (base: string): Tile[] => [
  { url: `${base}/full/310,439/0/default.jpg` },
  ...[[0, 0], [4096, 0], [0, 4096], [4096, 4096]].map(([x, y]) => ({ url: `${base}/${x},${y},${Math.min(4096, W - x!)},${Math.min(4096, H - y!)}/${Math.ceil(Math.min(4096, W - x!) / 8)},${Math.ceil(Math.min(4096, H - y!) / 8)}/0/default.jpg` })),
];
const zoom100 = (base: string): Tile[] => {
  const out: Tile[] = [];
  for (let row = 6; row < 9; row++) for (let col = 3; col < 7; col++) out.push({ url: `${base}/${col * 512},${row * 512},512,512/512,512/0/default.jpg` });
  return out;
};

async function fetchAll(app: FastifyInstance, headers: Record<string, string>, tiles: Tile[]): Promise<{ times: number[]; wallMs: number; cpuMs: number }> {
  const times: number[] = [];
  const queue = [...tiles];
  const started = performance.now();
  const cpu0 = procCpuSeconds('self');
  await Promise.all(Array.from({ length: 6 }, async () => {
    for (let t = queue.shift(); t; t = queue.shift()) {
      const t0 = performance.now();
      const res = await app.inject({ method: 'GET', url: t.url, headers });
      if (res.statusCode !== 200) throw new Error(`${t.url}: ${res.statusCode} ${res.body.slice(0, 200)}`);
      times.push(performance.now() - t0);
    }
  }));
  return { times, wallMs: performance.now() - started, cpuMs: (procCpuSeconds('self') - cpu0) * 1000 };
}

const id = randomUUID().replace(/-/g, '').slice(0, 12);
const root = path.resolve(import.meta.dirname, '..');
const { deps, cleanup } = await openRealDeps({ ...loadServicesEnv(root), DATABASE_SCHEMA: `bench_${id}`, S3_BUCKET: `arkiva-bench-${id}`, S3_OBJECT_LOCK: 'false', LOG_LEVEL: 'warn' });
try {
  const raw = await makePage();
  const pixels = () => sharp(raw, { raw: { width: W, height: H, channels: 3 } });
  const master = await pixels().tiff({ compression: 'deflate', predictor: 'horizontal' }).toBuffer();
  const t0 = performance.now();
  const pyramid = await pyramidTiff(pixels());
  const pyramidMs = performance.now() - t0;
  const masterPut = await deps.store.putContentAddressed('masters', master, { contentType: 'image/tiff' });
  const pyramidPut = await deps.store.putContentAddressed('derivatives', pyramid, { contentType: PYRAMID.mediaType });
  const { book } = await createBook(deps.db, { registerType: 'birth', municipality: 'Peja', yearFrom: 1950, yearTo: 1960, languages: 'sqi', sourceFormat: 'images', sourceSha256: masterPut.sha256, sourceSize: master.length });
  // The book is young enough to be closed: a clerk states a purpose, as for any read of it.
  const headers = { ...(await userHeaders(deps.db, ['clerk'], 'bench-clerk')), 'x-access-purpose': 'benchmark' };

  const strategies = ['master', 'pyramid'] as const;
  const samples: Record<string, { times: number[]; tiles: number; wallMs: number; cpuMs: number }> = {};
  const add = (key: string, r: { times: number[]; wallMs: number; cpuMs: number }) => {
    const s = (samples[key] ??= { times: [], tiles: 0, wallMs: 0, cpuMs: 0 });
    s.times.push(...r.times);
    s.tiles += r.times.length;
    s.wallMs += r.wallMs;
    s.cpuMs += r.cpuMs;
  };
  let sequence = 0;
  for (let rep = 0; rep < reps; rep++) {
    for (const strategy of strategies) {
      const page = await upsertPage(deps.db, book.id, ++sequence);
      await recordObject(deps.db, { bookId: book.id, pageId: page.id, role: 'master', revision: 1 }, masterPut, 'image/tiff');
      if (strategy === 'pyramid') await recordObject(deps.db, { bookId: book.id, pageId: page.id, role: 'derivative', variant: PYRAMID.variant, revision: 1 }, pyramidPut, PYRAMID.mediaType);
      await setPageImageInfo(deps.db, page.id, { width: W, height: H, dpiX: 600, dpiY: 600, orientation: 0 });
      const app = await buildApp(deps, { logRequests: false });
      try {
        const base = `/iiif/3/books/${book.id}/pages/${sequence}`;
        add(`${strategy} first view cold`, await fetchAll(app, headers, firstView(base)));
        add(`${strategy} zoom 100% cold`, await fetchAll(app, headers, zoom100(base)));
        add(`${strategy} first view warm`, await fetchAll(app, headers, firstView(base)));
        add(`${strategy} zoom 100% warm`, await fetchAll(app, headers, zoom100(base)));
      } finally {
        await app.close();
      }
    }
  }
  const rows = Object.entries(samples).map(([name, s]) => ({ name, tiles: s.tiles, p95Ms: r1(percentile(s.times, 95)), medianMs: r1(percentile(s.times, 50)), tilesPerSecond: r1((s.tiles / s.wallMs) * 1000), apiCpuMsPerTile: r1(s.cpuMs / s.tiles) }));
  console.log(`IIIF tiles, ${W}x${H} colour page, ${reps} repetition(s) per strategy, 6 requests at a time`);
  console.log(`load average at the end: ${os.loadavg().map(r1).join(' ')} (${os.cpus().length} cores)`);
  console.log('view                          tiles   p95 ms  median ms  tiles/s  API CPU ms/tile');
  for (const r of rows) console.log(`${r.name.padEnd(30)}${String(r.tiles).padStart(5)}${String(r.p95Ms).padStart(9)}${String(r.medianMs).padStart(11)}${String(r.tilesPerSecond).padStart(9)}${String(r.apiCpuMsPerTile).padStart(17)}`);
  const ratio = (view: string) => {
    const m = rows.find((r) => r.name === `master ${view}`)!;
    const p = rows.find((r) => r.name === `pyramid ${view}`)!;
    return { p95: r1(m.p95Ms / p.p95Ms), tilesPerSecond: r1(p.tilesPerSecond / m.tilesPerSecond) };
  };
  const ratios = { firstViewCold: ratio('first view cold'), zoomCold: ratio('zoom 100% cold'), firstViewWarm: ratio('first view warm'), zoomWarm: ratio('zoom 100% warm') };
  console.log('pyramid vs master (p95 master/pyramid, tiles/s pyramid/master):', JSON.stringify(ratios));
  console.log(`master ${r1(master.length / 1e6)} MB; pyramid ${r1(pyramid.length / 1e6)} MB made in ${Math.round(pyramidMs)} ms`);
  console.log(JSON.stringify({ bench: 'iiif-tiles', width: W, height: H, reps, rows, ratios, masterBytes: master.length, pyramidBytes: pyramid.length, pyramidMs: Math.round(pyramidMs) }));
} finally {
  await cleanup();
}
