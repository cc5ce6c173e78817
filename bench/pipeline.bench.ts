/**
 * End-to-end pages/min of the pipeline on a 20-page generated book with 2 OCR workers, against
 * tesseract.js alone (2 workers) on the same page images, in the same run, as a ratio.
 *
 *   npx tsx bench/pipeline.bench.ts [--pages 20] [--scale 0.6] [--lang sqi]
 *
 * Embedded by default; with DATABASE_URL, REDIS_URL and S3_* set (e.g. `set -a; . ./.services.env`)
 * it measures the real services. Prints a table and one JSON line.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createWorker, OEM, PSM } from 'tesseract.js';
import { generateFixtureFiles, ocrLangPath, planBook } from '../fixtures/index.ts';
import { loadConfig } from '../config/index.ts';
import { createLogger } from '../common/index.ts';
import { openAppDeps } from '../app/deps.ts';
import { ingestBook } from '../ingest/index.ts';
import { getBook } from '../archive/index.ts';
import { startWorkers } from '../workers/index.ts';

const { values } = parseArgs({ options: { pages: { type: 'string', default: '20' }, scale: { type: 'string', default: '0.6' }, lang: { type: 'string', default: 'sqi' }, seed: { type: 'string', default: '2020' } } });
const pages = Number(values.pages);
const scale = Number(values.scale);
const lang = values.lang!;
const seed = Number(values.seed);
const WORKERS = 2;

const dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'arkiva-bench-'));
const files = await generateFixtureFiles({ outDir: dir, pages, seed, formats: ['tiff'], scale });
const planned = planBook({ seed, pages, scale });
const pngs: Buffer[] = [];
for (let s = 1; s <= pages; s++) pngs.push(await planned.renderPng(s));

// Baseline: tesseract.js alone, 2 workers, the same page images, the same language.
async function tesseractAlone(): Promise<number> {
  const langs = lang.split('+');
  const langPath = ocrLangPath(langs[0] as 'sqi');
  const workers = await Promise.all(Array.from({ length: WORKERS }, () => createWorker(langs, OEM.LSTM_ONLY, { langPath, gzip: true, cacheMethod: 'none' })));
  // The same page segmentation as the pipeline (automatic layout; the default reads no table cells).
  await Promise.all(workers.map((w) => w.setParameters({ tessedit_pageseg_mode: PSM.AUTO })));
  const start = performance.now();
  try {
    let next = 0;
    await Promise.all(workers.map(async (w) => {
      while (next < pngs.length) {
        const i = next++;
        await w.recognize(pngs[i]!, {}, { text: true, blocks: true });
      }
    }));
    return performance.now() - start;
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

async function pipeline(): Promise<{ ms: number; mode: string; stages: { event_type: string; n: number; total_ms: number }[] }> {
  const config = loadConfig({ ...process.env, ARKIVA_DATA_DIR: path.join(dir, 'data'), OCR_POOL_SIZE: String(WORKERS), LOG_LEVEL: 'warn' });
  const deps = await openAppDeps(config, createLogger('warn'));
  const workers = await startWorkers(deps);
  try {
    // Warm OCR workers, as in a long-running worker process (the baseline's are created untimed too).
    await Promise.all(Array.from({ length: WORKERS }, () => deps.ocr().recognize(pngs[0]!, { languages: lang.split('+') })));
    const start = performance.now();
    const { book } = await ingestBook(deps, { kind: 'file', path: files.tiff!.path }, { registerType: 'birth', municipality: files.truth.book.municipality, yearFrom: files.truth.book.yearFrom, yearTo: files.truth.book.yearTo, languages: lang });
    for (;;) {
      const b = await getBook(deps.db, book.id);
      if (b && ['complete', 'complete_with_failures', 'failed'].includes(b.status)) {
        if (b.status !== 'complete') throw new Error(`book ended ${b.status}: ${JSON.stringify(b.summary?.failures)}`);
        break;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    const ms = performance.now() - start;
    const stages = await deps.db.query<{ event_type: string; n: number; total_ms: number }>(
      `SELECT event_type, count(*)::int AS n, coalesce(sum(duration_ms), 0)::int AS total_ms
         FROM processing_events WHERE book_id = $1 AND duration_ms IS NOT NULL GROUP BY event_type ORDER BY event_type`,
      [book.id],
    );
    return { ms, mode: `${deps.db.kind}/${deps.queue.kind}/${deps.store.kind}`, stages: stages.rows };
  } finally {
    await workers.close({ timeoutMs: 10_000 });
    await deps.close();
  }
}

try {
  const aloneMs = await tesseractAlone();
  const run = await pipeline();
  const perMin = (ms: number) => (pages / ms) * 60_000;
  const result = {
    bench: 'pipeline',
    pages,
    scale,
    lang,
    workers: WORKERS,
    mode: run.mode,
    pipelinePagesPerMin: Math.round(perMin(run.ms) * 10) / 10,
    tesseractJsAlonePagesPerMin: Math.round(perMin(aloneMs) * 10) / 10,
    ratio: Math.round((aloneMs / run.ms) * 100) / 100,
    target: 0.9,
    cpus: os.cpus().length,
  };
  console.log('| measure | pages/min |');
  console.log('| --- | --- |');
  console.log(`| pipeline (${run.mode}, ${WORKERS} OCR workers, ingest to book complete) | ${result.pipelinePagesPerMin} |`);
  console.log(`| tesseract.js alone (${WORKERS} workers, same pages) | ${result.tesseractJsAlonePagesPerMin} |`);
  console.log(`| ratio pipeline / OCR alone (target >= 0.9) | ${result.ratio} |`);
  console.log('');
  console.log('| stage event (wall time inside the stage) | count | total s |');
  console.log('| --- | --- | --- |');
  for (const st of run.stages) console.log(`| ${st.event_type} | ${st.n} | ${(st.total_ms / 1000).toFixed(1)} |`);
  console.log(JSON.stringify({ ...result, stages: run.stages }));
} finally {
  await fs.promises.rm(dir, { recursive: true, force: true });
}
