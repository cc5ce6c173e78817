import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../config/index.ts';
import { generateFixtureFiles, normaliseForMatch, surnamesOnPage, type BookTruth } from '../fixtures/index.ts';
import { openAppDeps } from '../app/deps.ts';
import { ingestBook } from '../ingest/index.ts';
import { findWords } from '../search/index.ts';
import { startWorkers } from '../workers/index.ts';
import { parseCommandArgs, UsageError, type CommandContext } from './command.ts';
import { waitForBook } from './wait.ts';

/** Fixture scale of the demo book: large enough for good OCR, small enough to be quick. */
export const DEMO_SCALE = 0.6;

/**
 * `arkiva demo`: embedded mode whatever the environment says (a fresh data folder, no services, no
 * network): generates a seeded register book, runs the whole pipeline, prints the summary and a
 * search hit for a surname from the ground truth.
 */
export async function runDemo(ctx: CommandContext): Promise<number> {
  const { values } = parseCommandArgs(ctx.args, { pages: { type: 'string' }, keep: { type: 'boolean' }, seed: { type: 'string' } });
  const pages = values.pages ? Number(values.pages) : 8;
  if (!Number.isInteger(pages) || pages < 1 || pages > 200) throw new UsageError('--pages must be 1..200');
  const seed = values.seed ? Number(values.seed) : 1958;
  if (!Number.isInteger(seed)) throw new UsageError('--seed must be an integer');

  const dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'arkiva-demo-'));
  const say = (line: string) => { if (!ctx.json) process.stderr.write(`${line}\n`); };
  // Embedded whatever the environment says about services; the OCR settings are the operator's to choose.
  const config = loadConfig({ ARKIVA_DATA_DIR: path.join(dir, 'data'), OCR_POOL_SIZE: process.env.OCR_POOL_SIZE, OCR_ENGINE: process.env.OCR_ENGINE, LOG_LEVEL: 'warn' });
  const started = Date.now();
  say(`generating a ${pages}-page birth register (seed ${seed}) in ${dir}`);
  const files = await generateFixtureFiles({ outDir: path.join(dir, 'fixture'), pages, seed, formats: ['tiff'], scale: DEMO_SCALE, registerType: 'birth', style: 'printed' });
  const truth = files.truth;
  const deps = await openAppDeps(config, ctx.log);
  try {
    const workers = await startWorkers(deps);
    say(`archiving with embedded PostgreSQL (PGlite), a filesystem object store and an in-process queue; OCR: ${deps.ocrChoice.version} (${deps.ocrChoice.reason}), pool of ${config.ocr.poolSize}`);
    const { book } = await ingestBook(
      deps,
      { kind: 'file', path: files.tiff!.path },
      { registerType: 'birth', municipality: truth.book.municipality, yearFrom: truth.book.yearFrom, yearTo: truth.book.yearTo, volume: String(truth.book.volume), languages: 'sqi' },
      { createdBy: 'demo' },
    );
    const done = await waitForBook(deps.db, book.id, { progress: !ctx.json, timeoutMs: 30 * 60_000 });
    await workers.close({ timeoutMs: 10_000 });
    const hit = await sampleHit(deps.db, truth, book.id);
    const seconds = (Date.now() - started) / 1000;
    const s = done.summary;
    if (ctx.json) {
      ctx.out(JSON.stringify({ book: done, hit, seconds, ocr: deps.ocrChoice }));
    } else {
      ctx.out('');
      ctx.out(`book ${done.id}: ${done.status}`);
      ctx.out(`  pages ${s?.pages ?? 0}, archived ${s?.done ?? 0}, failed ${s?.failed ?? 0}`);
      ctx.out(`  mean OCR confidence ${s?.meanOcrConfidence?.toFixed(1) ?? 'n/a'} (${deps.ocrChoice.version})`);
      ctx.out(`  pipeline ${s?.processingSeconds ?? 'n/a'} s, ${s?.pagesPerMinute ?? 'n/a'} pages/min (whole demo ${seconds.toFixed(1)} s)`);
      for (const f of s?.failures ?? []) ctx.out(`  page ${f.sequence} failed: ${f.reason}`);
      if (hit) ctx.out(`  search "${hit.query}": page ${hit.sequence}, read as "${hit.word}" (${hit.confidence.toFixed(0)}%) at x ${hit.box.x0}-${hit.box.x1}, y ${hit.box.y0}-${hit.box.y1}; ground truth: page ${hit.truthPage}`);
      else ctx.out('  search: no ground-truth surname was found in the OCR text');
      ctx.out(values.keep ? `  data kept in ${dir}` : '');
    }
    return done.status === 'complete' && hit ? 0 : 1;
  } finally {
    await deps.close();
    if (!values.keep) await fs.promises.rm(dir, { recursive: true, force: true });
  }
}

/** Looks up surnames from the ground truth until one is found where the truth puts it. */
async function sampleHit(db: Parameters<typeof findWords>[0], truth: BookTruth, bookId: string) {
  for (const page of truth.pages) {
    for (const surname of surnamesOnPage(page)) {
      if (surname.length < 5) continue;
      const hits = await findWords(db, surname, { bookId, limit: 5 });
      const hit = hits.find((h) => h.sequence === page.sequence && normaliseForMatch(h.word).startsWith(normaliseForMatch(surname)));
      if (hit) return { query: surname, truthPage: page.sequence, ...hit };
    }
  }
  return undefined;
}
