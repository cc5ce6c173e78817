/**
 * Catalogue rebuild speed (issue 25): `rebuildCatalogue` (catalogue/rebuild.ts) recreating
 * `--books` books (default 100) of `--pages` pages each (default 10) from Ceph RGW into an empty
 * PostgreSQL schema, in books and pages per minute, with the process's peak memory.
 *
 *   npm run bench:catalogue-rebuild -- [--books 100] [--pages 10] [--words 120]
 *
 * The books are made cheaply, without OCR: rows as the pipeline leaves them (a master and an OCR
 * reading per page, `--words` words each, indexed), one entry per page, the catalogue written out
 * with `writeCatalogue`. Then the schema is dropped and rebuilt from the store, which reads every
 * page's OCR reading again to index it. Uses the real PostgreSQL and RGW from `.services.env`, in
 * its own schema, bucket and queue prefix, removed afterwards. Prints a table and one JSON line.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config/index.ts';
import { createLogger } from '../common/index.ts';
import { openAppDeps, type AppDeps } from '../app/deps.ts';
import { createBook, recordObject, replacePageWords, upsertPage, type ArchivedOcr } from '../archive/index.ts';
import { normaliseWord } from '../search/normalise.ts';
import { writeCatalogue } from '../catalogue/write.ts';
import { rebuildCatalogue } from '../catalogue/rebuild.ts';
import { loadServicesEnv, r1 } from './bench-support.ts';

const { values } = parseArgs({ options: { books: { type: 'string', default: '100' }, pages: { type: 'string', default: '10' }, words: { type: 'string', default: '120' } } });
const books = Number(values.books);
const pagesPer = Number(values.pages);
const wordsPer = Number(values.words);
const root = path.resolve(import.meta.dirname, '..');
const id = randomUUID().replace(/-/g, '').slice(0, 10);
const env = { ...loadServicesEnv(root), DATABASE_SCHEMA: `bench_${id}`, S3_BUCKET: `arkiva-bench-${id}`, S3_OBJECT_LOCK: 'false', QUEUE_PREFIX: `bench-${id}`, LOG_LEVEL: 'warn' };
const config = loadConfig({ ...process.env, ...env });
let deps: AppDeps & { close(): Promise<void> } = await openAppDeps(config, createLogger('warn'));

const NAMES = ['Gashi', 'Krasniqi', 'Berisha', 'Hoxha', 'Shala', 'Morina', 'Jovanović', 'Petrović', 'Đorđević', 'Arbën', 'Drita', 'Ilir', 'Vjollca', 'Prizren', 'Pejë', 'Gjakovë'];

/** One page's OCR reading: `wordsPer` words in lines of eight. */
function reading(seed: number): ArchivedOcr {
  const words = Array.from({ length: wordsPer }, (_, i) => {
    const line = Math.floor(i / 8);
    const x = (i % 8) * 120;
    return { text: `${NAMES[(seed * 7 + i * 3) % NAMES.length]}${i % 5 === 0 ? seed % 97 : ''}`, confidence: 70 + ((seed + i) % 30), bbox: { x0: x, y0: line * 40, x1: x + 100, y1: line * 40 + 30 }, line, block: 0 };
  });
  return { engine: 'bench', languages: ['sqi'], width: 1000, height: 2000, meanConfidence: 85, text: words.map((w) => w.text).join(' '), words, lines: [] };
}

let peakRss = 0;
let result: Record<string, unknown> = {};
try {
  const t0 = performance.now();
  // Made four books at a time: loading is not what is measured.
  const makeBook = async (b: number) => {
    const { book } = await createBook(deps.db, {
      registerType: 'birth', municipality: 'Bench', yearFrom: 1930, yearTo: 1935, languages: 'sqi', sourceFormat: 'tiff', sourceSha256: randomBytes(32).toString('hex'), sourceSize: 1,
    });
    const original = await deps.store.putContentAddressed('originals', randomBytes(4096), { contentType: 'image/tiff' });
    await recordObject(deps.db, { bookId: book.id, role: 'original' }, original, 'image/tiff');
    for (let s = 1; s <= pagesPer; s++) {
      const page = await upsertPage(deps.db, book.id, s);
      const master = await deps.store.putContentAddressed('masters', randomBytes(2048), { contentType: 'image/tiff' });
      await recordObject(deps.db, { bookId: book.id, pageId: page.id, role: 'master', revision: 1 }, master, 'image/tiff');
      const ocr = reading(b * 1000 + s);
      const ocrPut = await deps.store.putContentAddressed('ocr', Buffer.from(JSON.stringify(ocr)), { contentType: 'application/json' });
      await recordObject(deps.db, { bookId: book.id, pageId: page.id, role: 'ocr', variant: 'ocr-json', revision: 1 }, ocrPut, 'application/json');
      await deps.db.transaction(async (tx) => {
        await replacePageWords(tx, { bookId: book.id, pageId: page.id, revision: 1 }, ocr.words.map((w) => ({ ...w, norm: normaliseWord(w.text) })));
        await tx.query(`UPDATE pages SET status = 'done', indexed_revision = 1, ocr_text = $2, ocr_confidence = 85 WHERE id = $1`, [page.id, ocr.text]);
        await tx.query(
          `INSERT INTO entries (book_id, page_id, x0, y0, x1, y1, event_type, entry_number, source, status, created_by) VALUES ($1, $2, 0, 0, 100, 40, 'birth', $3, 'manual', 'verified', 'bench')`,
          [book.id, page.id, String(s)],
        );
      });
    }
    await deps.db.query(`UPDATE books SET status = 'complete', page_count = $2, pages_done = $2, completed_at = now() WHERE id = $1`, [book.id, pagesPer]);
  };
  for (let b = 0; b < books; b += 4) await Promise.all(Array.from({ length: Math.min(4, books - b) }, (_, i) => makeBook(b + i)));
  const loadSeconds = (performance.now() - t0) / 1000;
  const w0 = performance.now();
  const written = await writeCatalogue(deps, { all: true, flushAudit: true });
  const writeSeconds = (performance.now() - w0) / 1000;
  if (written.failed.length) throw new Error(`catalogue not written: ${JSON.stringify(written.failed.slice(0, 3))}`);
  const words = (await deps.db.query<{ n: number }>('SELECT count(*)::int AS n FROM page_words')).rows[0]!.n;
  console.error(`made ${books} books of ${pagesPer} pages (${words} words) in ${loadSeconds.toFixed(0)} s; catalogue written in ${writeSeconds.toFixed(1)} s`);

  await deps.db.query(`DROP SCHEMA "${env.DATABASE_SCHEMA}" CASCADE`);
  await deps.close();
  deps = await openAppDeps(config, createLogger('warn'));
  if (global.gc) global.gc();
  const rssBefore = process.memoryUsage().rss;
  peakRss = rssBefore;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 50);
  const r0 = performance.now();
  const report = await rebuildCatalogue(deps);
  const seconds = (performance.now() - r0) / 1000;
  clearInterval(sampler);
  const rebuiltWords = (await deps.db.query<{ n: number }>('SELECT count(*)::int AS n FROM page_words')).rows[0]!.n;
  if (report.books !== books || rebuiltWords !== words || report.unplacedCount !== 0) {
    throw new Error(`rebuild incomplete: ${report.books} books, ${rebuiltWords}/${words} words, ${report.unplacedCount} unplaced (${JSON.stringify(report.unplaced.slice(0, 3))})`);
  }
  const mb = (x: number) => Math.round(x / 1024 / 1024);
  result = {
    books, pages: report.pages, words, seconds: r1(seconds), booksPerMinute: r1((books / seconds) * 60), pagesPerMinute: Math.round((report.pages / seconds) * 60),
    rssBeforeMb: mb(rssBefore), peakRssMb: mb(peakRss), projected10kBooksMinutes: r1(((10_000 / books) * seconds) / 60), catalogueWriteSeconds: r1(writeSeconds),
  };
  console.log('| books | pages | words | rebuild s | books/min | pages/min | RSS before MB | peak RSS MB | 10,000 books (projected) |');
  console.log('|---|---|---|---|---|---|---|---|---|');
  console.log(`| ${books} | ${report.pages} | ${words} | ${r1(seconds)} | ${result.booksPerMinute} | ${result.pagesPerMinute} | ${result.rssBeforeMb} | ${result.peakRssMb} | ${result.projected10kBooksMinutes} min |`);
  console.log(JSON.stringify({ bench: 'catalogue-rebuild', ...result }));
} finally {
  await deps.queue.obliterate().catch(() => undefined);
  await deps.db.query(`DROP SCHEMA IF EXISTS "${env.DATABASE_SCHEMA}" CASCADE`).catch(() => undefined);
  for await (const v of deps.store.listVersions('')) await deps.store.delete(v.key, { ...(v.versionId ? { versionId: v.versionId } : {}), bypassGovernance: true }).catch(() => undefined);
  await deps.close();
}
