/**
 * End-to-end throughput on the real services (issues 9 and 19): a generated book ingested
 * through BullMQ on Redis, PostgreSQL and Ceph RGW, processed by N `arkiva worker` processes
 * (one OCR thread each, OCR_ENGINE as chosen), against native Debian `tesseract` (N processes,
 * OMP_THREAD_LIMIT=1) and OCRmyPDF (`-j N --output-type pdfa`) on the same pages, in the same run,
 * as ratios. Both baselines read the very traineddata the pipeline reads (the npm packages'
 * 4.0.0_best_int, unpacked), so the comparison is of engines, not of models.
 *
 *   npm run bench:throughput -- [--pages 20] [--scale 1] [--lang sqi] [--rounds 2]
 *        [--engine native|wasm] [--processes 2] [--book generated|typewriter|rotated]
 *
 * `--book typewriter` is a noisy typewriter book (monospace, noise 3) read with the book profile
 * 'typewriter'; `--book rotated` turns the pages 0/90/180/270 in turn.
 *
 * Services come from `.services.env` (scripts/services.sh start). The bench uses its own schema,
 * queue prefix and bucket and removes them afterwards. The machine is shared: the three are
 * measured in alternating rounds and each round's ratios are printed with their medians.
 * Prints a table and one JSON line; never fails on speed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { generateFixtureFiles, planBook, type BookOptions } from '../fixtures/index.ts';
import type { BookOcrProfile } from '../common/vocabulary.ts';
import { loadConfig } from '../config/index.ts';
import { createLogger } from '../common/index.ts';
import { openAppDeps, type AppDeps } from '../app/deps.ts';
import { ingestBook } from '../ingest/index.ts';
import { getBook, isFinalBookStatus } from '../archive/index.ts';
import { scanOcrData, unpackOcrData } from '../ocr/index.ts';
import { commandVersion, loadServicesEnv, median, procCpuSeconds, r1, r2, run } from './bench-support.ts';

const { values } = parseArgs({
  options: {
    pages: { type: 'string', default: '20' },
    scale: { type: 'string', default: '1' },
    lang: { type: 'string', default: 'sqi' },
    seed: { type: 'string', default: '2020' },
    rounds: { type: 'string', default: '2' },
    engine: { type: 'string', default: 'native' },
    processes: { type: 'string', default: '2' },
    book: { type: 'string', default: 'generated' },
    'skip-ocrmypdf': { type: 'boolean', default: false },
  },
});
if (!['native', 'wasm'].includes(values.engine!)) throw new Error(`--engine must be native or wasm, not ${values.engine}`);
const BOOKS: Record<string, { options: Partial<BookOptions>; ocrProfile: BookOcrProfile }> = {
  generated: { options: {}, ocrProfile: 'printed' },
  typewriter: { options: { style: 'typewriter', noise: 3 }, ocrProfile: 'typewriter' },
  rotated: { options: { rotate: Object.fromEntries(Array.from({ length: 10_000 }, (_, i) => [i + 1, ([0, 90, 180, 270] as const)[i % 4]])) }, ocrProfile: 'printed' },
};
const bookKind = BOOKS[values.book!];
if (!bookKind) throw new Error(`--book must be one of ${Object.keys(BOOKS).join(', ')}, not ${values.book}`);
const pages = Number(values.pages);
const scale = Number(values.scale);
const lang = values.lang!;
const seed = Number(values.seed);
const rounds = Math.max(1, Number(values.rounds));
const WORKERS = Math.max(1, Number(values.processes));
const root = path.resolve(import.meta.dirname, '..');

const services = loadServicesEnv(root);
const id = randomUUID().replace(/-/g, '').slice(0, 10);
const env: Record<string, string> = {
  ...services,
  DATABASE_SCHEMA: `bench_${id}`,
  QUEUE_PREFIX: `bench-${id}`,
  S3_BUCKET: `arkiva-bench-${id}`,
  OCR_POOL_SIZE: '1',
  OCR_ENGINE: values.engine!,
  LOG_LEVEL: 'warn',
};
// The pipeline's own models, as native tesseract and OCRmyPDF will read them too.
const tessdata = await unpackOcrData(await scanOcrData());

const dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'arkiva-throughput-'));
const planned = planBook({ ...bookKind.options, seed, pages, scale });
const pngFiles: string[] = [];
for (let s = 1; s <= pages; s++) {
  const f = path.join(dir, `page-${String(s).padStart(4, '0')}.png`);
  await fs.promises.writeFile(f, await planned.renderPng(s));
  pngFiles.push(f);
}

/** Native tesseract, 2 processes, one thread each, text and hOCR (what the pipeline keeps). */
async function nativeTesseract(): Promise<number> {
  const out = path.join(dir, 'native');
  await fs.promises.mkdir(out, { recursive: true });
  const start = performance.now();
  let next = 0;
  await Promise.all(Array.from({ length: WORKERS }, async () => {
    while (next < pngFiles.length) {
      const i = next++;
      await run('tesseract', [pngFiles[i]!, path.join(out, `p${i}`), '--tessdata-dir', tessdata, '-l', lang, '--psm', '3', '-c', 'tessedit_create_txt=1', '-c', 'tessedit_create_hocr=1'], { env: { ...process.env, OMP_THREAD_LIMIT: '1' } });
    }
  }));
  return performance.now() - start;
}

/** OCRmyPDF on a PDF of the same pages (image-only PDF written by the fixture generator). */
async function ocrmypdf(pdf: string): Promise<number> {
  const out = path.join(dir, `ocrmypdf-${randomUUID().slice(0, 6)}.pdf`);
  const start = performance.now();
  await run('ocrmypdf', ['-j', String(WORKERS), '--output-type', 'pdfa', '-l', lang, '--quiet', pdf, out], { env: { ...process.env, OMP_THREAD_LIMIT: '1', TESSDATA_PREFIX: tessdata } });
  const ms = performance.now() - start;
  await fs.promises.rm(out, { force: true });
  return ms;
}

function startWorker(n: number): { child: ChildProcess; ready: Promise<void> } {
  // BENCH_WORKER_NODE_ARGS, e.g. '--cpu-prof --cpu-prof-dir=/tmp/prof', profiles the workers only.
  const nodeArgs = process.env.BENCH_WORKER_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  const child = spawn(process.execPath, [...nodeArgs, path.join(root, 'bin/arkiva.mjs'), 'worker'], { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  const ready = new Promise<void>((resolve, reject) => {
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      if (err.includes(' started (')) resolve();
    });
    child.on('exit', (code) => reject(new Error(`worker ${n} exited with ${code}: ${err.slice(-500)}`)));
  });
  return { child, ready };
}

/** Waits for the book's preservation package (built after completion), at most `timeoutMs`; false when it did not come. */
async function waitPackage(deps: AppDeps, bookId: string, timeoutMs: number): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const r = await deps.db.query(`SELECT 1 FROM stored_objects WHERE book_id = $1 AND role = 'package' AND superseded_at IS NULL`, [bookId]);
    if (r.rows.length > 0) return true;
    await new Promise((res) => setTimeout(res, 250));
  }
  return false;
}

async function waitComplete(deps: AppDeps, bookId: string): Promise<void> {
  for (;;) {
    const b = await getBook(deps.db, bookId);
    if (b && isFinalBookStatus(b.status)) {
      if (b.status !== 'complete') throw new Error(`book ended ${b.status}: ${JSON.stringify(b.summary?.failures)}`);
      return;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

const deps = await openAppDeps(loadConfig({ ...process.env, ...env }), createLogger('warn'));
const workers = Array.from({ length: WORKERS }, (_, i) => startWorker(i + 1));
type Timed = { ms: number; cpuS: number };
const rows: { pipeline: Timed; withPackage: number; native: Timed; ocrmypdf: Timed | null }[] = [];
/** CPU seconds of the waited-for children of this process (tesseract, ocrmypdf and its tesseracts). */
const childCpu = () => procCpuSeconds('self', { children: true }) - procCpuSeconds('self');
const timedChildren = async (f: () => Promise<number>): Promise<Timed> => {
  const c = childCpu();
  const ms = await f();
  return { ms, cpuS: childCpu() - c };
};
// The workers' own CPU and their waited-for children's (native tesseract runs as a child process per page).
const pipelineCpu = () => workers.reduce((n, w) => n + procCpuSeconds(w.child.pid!, { children: true }), 0) + process.cpuUsage().user / 1e6 + process.cpuUsage().system / 1e6;
try {
  await Promise.all(workers.map((w) => w.ready));
  const meta = { registerType: 'birth' as const, municipality: 'Prishtinë', yearFrom: 1960, yearTo: 1960, languages: lang, ocrProfile: bookKind.ocrProfile };
  // Warm-up book (untimed): OCR threads start and load their language as in a long-running worker.
  const warm = await generateFixtureFiles({ outDir: path.join(dir, 'warm'), pages: 2 * WORKERS, seed: seed + 999, formats: ['tiff'], scale });
  const w = await ingestBook(deps, { kind: 'file', path: warm.tiff!.path }, meta);
  await waitComplete(deps, w.book.id);
  await waitPackage(deps, w.book.id, 300_000);

  for (let r = 0; r < rounds; r++) {
    // A different seed per round: the same bytes again would be recognised as a duplicate upload.
    const files = await generateFixtureFiles({ ...bookKind.options, outDir: path.join(dir, `book-${r}`), pages, seed: r === 0 ? seed : seed + r * 7919, formats: ['tiff', 'pdf'], scale });
    const native = await timedChildren(nativeTesseract);
    const om = values['skip-ocrmypdf'] ? null : await timedChildren(() => ocrmypdf(files.pdf!.path));
    const cpu0 = pipelineCpu();
    const start = performance.now();
    const { book } = await ingestBook(deps, { kind: 'file', path: files.tiff!.path }, meta);
    await waitComplete(deps, book.id);
    const pipeline = { ms: performance.now() - start, cpuS: pipelineCpu() - cpu0 };
    // Packaging (ALTO, PDF/A, METS, BagIt) runs after completion; wait for it before the next round measures anything.
    const packaged = await waitPackage(deps, book.id, 600_000);
    rows.push({ pipeline, withPackage: packaged ? performance.now() - start : NaN, native, ocrmypdf: om });
  }
} finally {
  for (const w of workers) w.child.kill('SIGTERM');
  await Promise.all(workers.map((w) => new Promise((r) => (w.child.exitCode !== null ? r(null) : w.child.once('exit', r)))));
  await deps.queue.obliterate().catch(() => undefined);
  await deps.db.query(`DROP SCHEMA IF EXISTS "${env.DATABASE_SCHEMA}" CASCADE`).catch(() => undefined);
  for await (const v of deps.store.listVersions('')) {
    await deps.store.delete(v.key, { ...(v.versionId ? { versionId: v.versionId } : {}), bypassGovernance: true }).catch(() => undefined);
  }
  await deps.close();
  await fs.promises.rm(dir, { recursive: true, force: true });
}

const perMin = (ms: number) => r1((pages / ms) * 60_000);
const cpuPerPage = (t: Timed) => r2(t.cpuS / pages);
const table = rows.map((x) => ({
  pipelinePagesPerMin: perMin(x.pipeline.ms),
  pipelineWithPackagePagesPerMin: perMin(x.withPackage),
  nativeTesseractPagesPerMin: perMin(x.native.ms),
  ocrmypdfPagesPerMin: x.ocrmypdf === null ? null : perMin(x.ocrmypdf.ms),
  ratioVsNative: r2(x.native.ms / x.pipeline.ms),
  ratioVsOcrmypdf: x.ocrmypdf === null ? null : r2(x.ocrmypdf.ms / x.pipeline.ms),
  pipelineCpuSecondsPerPage: cpuPerPage(x.pipeline),
  nativeCpuSecondsPerPage: cpuPerPage(x.native),
  ocrmypdfCpuSecondsPerPage: x.ocrmypdf === null ? null : cpuPerPage(x.ocrmypdf),
  cpuRatioVsNative: r2(x.native.cpuS / x.pipeline.cpuS),
  cpuRatioVsOcrmypdf: x.ocrmypdf === null ? null : r2(x.ocrmypdf.cpuS / x.pipeline.cpuS),
}));
const med = (k: keyof (typeof table)[number]) => {
  const xs = table.map((t) => t[k]).filter((v): v is number => typeof v === 'number');
  return xs.length ? r2(median(xs)) : null;
};
const result = {
  bench: 'throughput',
  pages,
  scale,
  lang,
  workers: WORKERS,
  engine: values.engine,
  book: values.book,
  rounds,
  mode: `postgresql/bullmq/s3 (Ceph RGW), ${WORKERS} worker process(es) x 1 OCR thread, OCR_ENGINE=${values.engine}`,
  pipelinePagesPerMin: med('pipelinePagesPerMin'),
  pipelineWithPackagePagesPerMin: med('pipelineWithPackagePagesPerMin'),
  nativeTesseractPagesPerMin: med('nativeTesseractPagesPerMin'),
  ocrmypdfPagesPerMin: med('ocrmypdfPagesPerMin'),
  ratioVsNative: med('ratioVsNative'),
  ratioVsOcrmypdf: med('ratioVsOcrmypdf'),
  cpuRatioVsNative: med('cpuRatioVsNative'),
  cpuRatioVsOcrmypdf: med('cpuRatioVsOcrmypdf'),
  targets: { vsNative: 0.8, vsOcrmypdf: 2.2 },
  perRound: table,
  cpus: os.cpus().length,
  loadavg: os.loadavg().map(r2),
  versions: { node: process.version, tesseract: await commandVersion('tesseract', ['--version']), ocrmypdf: await commandVersion('ocrmypdf', ['--version']) },
};
console.log('| round | pipeline pages/min | incl. packaging | native tesseract | OCRmyPDF | ratio vs native (>= 0.8) | ratio vs OCRmyPDF (>= 2.2) |');
console.log('| --- | --- | --- | --- | --- | --- | --- |');
table.forEach((t, i) => console.log(`| ${i + 1} | ${t.pipelinePagesPerMin} | ${t.pipelineWithPackagePagesPerMin} | ${t.nativeTesseractPagesPerMin} | ${t.ocrmypdfPagesPerMin ?? '-'} | ${t.ratioVsNative} | ${t.ratioVsOcrmypdf ?? '-'} |`));
console.log(`| median | ${result.pipelinePagesPerMin} | ${result.pipelineWithPackagePagesPerMin} | ${result.nativeTesseractPagesPerMin} | ${result.ocrmypdfPagesPerMin ?? '-'} | ${result.ratioVsNative} | ${result.ratioVsOcrmypdf ?? '-'} |`);
console.log('\n| round | CPU s/page pipeline (workers + ingest) | native tesseract | OCRmyPDF | CPU ratio vs native | CPU ratio vs OCRmyPDF |');
console.log('| --- | --- | --- | --- | --- | --- |');
table.forEach((t, i) => console.log(`| ${i + 1} | ${t.pipelineCpuSecondsPerPage} | ${t.nativeCpuSecondsPerPage} | ${t.ocrmypdfCpuSecondsPerPage ?? '-'} | ${t.cpuRatioVsNative} | ${t.cpuRatioVsOcrmypdf ?? '-'} |`));
console.log(`| median | | | | ${result.cpuRatioVsNative} | ${result.cpuRatioVsOcrmypdf ?? '-'} |`);
console.log(`\n${pages} pages at scale ${scale}, language ${lang}; ${result.mode}; load average ${result.loadavg.join(' ')}`);
console.log(JSON.stringify(result));
