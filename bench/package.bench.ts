/**
 * Size and time of a book's preservation package: a generated N-page book (default 20) runs
 * through the pipeline, then its package is built again from scratch and timed, and the PDF's size
 * is compared with the page images' own sizes.
 *
 *   npx tsx preservation/package.bench.ts [--pages 20] [--scale 0.6] [--seed 2020]
 *
 * Embedded (PGlite, filesystem store, in-process queue) unless DATABASE_URL / REDIS_URL / S3_* are
 * set. Prints a table and one JSON line.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { generateFixtureFiles } from '../fixtures/index.ts';
import { loadConfig } from '../config/index.ts';
import { createLogger } from '../common/index.ts';
import { openAppDeps } from '../app/deps.ts';
import { ingestBook } from '../ingest/index.ts';
import { getBook, listObjects, isFinalBookStatus } from '../archive/index.ts';
import { startWorkers } from '../workers/index.ts';
import { listPackages, packageBook } from '../preservation/package-book.ts';

const { values } = parseArgs({ options: { pages: { type: 'string', default: '20' }, scale: { type: 'string', default: '0.6' }, seed: { type: 'string', default: '2020' } } });
const pages = Number(values.pages);
const dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'arkiva-package-bench-'));
try {
  const files = await generateFixtureFiles({ outDir: dir, pages, seed: Number(values.seed), formats: ['tiff'], scale: Number(values.scale) });
  const config = loadConfig({ ...process.env, ARKIVA_DATA_DIR: path.join(dir, 'data'), OCR_POOL_SIZE: '2', LOG_LEVEL: 'warn' });
  const deps = await openAppDeps(config, createLogger('warn'));
  const workers = await startWorkers(deps);
  try {
    const t = files.truth.book;
    const { book } = await ingestBook(deps, { kind: 'file', path: files.tiff!.path }, { registerType: 'birth', municipality: t.municipality, yearFrom: t.yearFrom, yearTo: t.yearTo, languages: 'sqi' });
    for (;;) {
      const b = await getBook(deps.db, book.id);
      if (b && isFinalBookStatus(b.status)) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    await deps.queue.drained({ timeoutMs: 600_000 });
    // The pipeline's own first package job, ALTO generation included.
    const firstJob = await deps.db.query<{ duration_ms: number }>(
      `SELECT e.duration_ms FROM processing_events e JOIN stored_objects o ON o.id = e.object_id
        WHERE o.book_id = $1 AND o.role = 'package' AND e.event_type = 'creation' ORDER BY e.id LIMIT 1`, [book.id]);
    // Timed on its own: the pipeline's package job may have overlapped other work.
    await deps.db.query(`UPDATE stored_objects SET superseded_at = now() WHERE book_id = $1 AND role IN ('package', 'pdf') AND superseded_at IS NULL`, [book.id]);
    const rss0 = process.memoryUsage().rss;
    let peakRss = rss0;
    const sampler = setInterval(() => { peakRss = Math.max(peakRss, process.memoryUsage().rss); }, 50);
    const started = performance.now();
    const r = await packageBook(deps, book.id);
    const ms = performance.now() - started;
    clearInterval(sampler);
    if (r.outcome !== 'done') throw new Error('package was not rebuilt');
    const objs = await listObjects(deps.db, book.id);
    const sum = (role: string) => objs.filter((o) => o.role === role).reduce((n, o) => n + o.size, 0);
    const pkg = (await listPackages(deps.db, book.id)).find((p) => p.current)!;
    const result = {
      bench: 'package', pages, mode: `${deps.db.kind}/${deps.queue.kind}/${deps.store.kind}`,
      originalBytes: sum('original'), masterBytes: sum('master'), pdfPageJpegBytes: r.pageImageBytes!, pdfBytes: r.pdfBytes!,
      pdfOverJpegs: Math.round((r.pdfBytes! / r.pageImageBytes!) * 1000) / 1000,
      pdfOverMasters: Math.round((r.pdfBytes! / sum('master')) * 1000) / 1000,
      packageBytes: pkg.object.size, packageOverMasters: Math.round((pkg.object.size / sum('master')) * 1000) / 1000,
      payloadFiles: r.payloadFiles!, packageMs: Math.round(ms), firstPackageJobMs: firstJob.rows[0]?.duration_ms ?? null, peakRssGrowthMb: Math.round((peakRss - rss0) / 1e6), cpus: os.cpus().length,
    };
    console.log('| measure | value |');
    console.log('| --- | --- |');
    for (const [k, v] of Object.entries(result)) console.log(`| ${k} | ${v} |`);
    console.log(JSON.stringify(result));
  } finally {
    await workers.close({ timeoutMs: 10_000 });
    await deps.close();
  }
} finally {
  await fs.promises.rm(dir, { recursive: true, force: true });
}
