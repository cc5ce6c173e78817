/**
 * Bad book files on the real services (PostgreSQL, Redis, S3 on RGW): each gives a clear error, and
 * a book archived before them is left exactly as it was.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateFixtureFiles, writeBadInputs, type BadInputFiles, type FixtureFiles } from '../fixtures/index.ts';
import { getBook, listPages, type Book, isFinalBookStatus } from '../archive/index.ts';
import { isAppError } from '../common/index.ts';
import { requireService } from '../test-support/services.ts';
import { openRealDeps, realServicesEnv } from '../test-support/real-deps.ts';
import { startWorkers } from '../workers/index.ts';
import type { AppDeps } from '../app/deps.ts';
import type { WorkerHandle } from '../queue/index.ts';
import { ingestBook } from './index.ts';

const ready = requireService('databaseUrl') && requireService('redisUrl') && requireService('s3');
const meta = { registerType: 'birth' as const, municipality: 'Gjakovë', yearFrom: 1970, yearTo: 1970, languages: 'sqi' };

async function ended(deps: AppDeps, id: string): Promise<Book> {
  const end = Date.now() + 180_000;
  for (;;) {
    const b = await getBook(deps.db, id);
    if (b && isFinalBookStatus(b.status)) return b;
    if (Date.now() > end) throw new Error(`book still ${b?.status}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function snapshot(deps: AppDeps, bookId: string) {
  const rows = await deps.db.query<{ store_key: string; sha256: string; role: string; variant: string }>(
    'SELECT store_key, sha256, role, variant FROM stored_objects WHERE book_id = $1 ORDER BY store_key, role, variant', [bookId]);
  const hashes: string[] = [];
  for (const r of rows.rows) {
    const h = createHash('sha256');
    for await (const c of await deps.store.get(r.store_key)) h.update(c as Buffer);
    hashes.push(h.digest('hex'));
  }
  const pages = (await listPages(deps.db, bookId)).map((p) => ({ seq: p.sequence, status: p.status, rev: p.revision }));
  return { rows: rows.rows, hashes, pages, book: await getBook(deps.db, bookId) };
}

/**
 * Books, stored objects and every version under originals/ in the store (staging leftovers of an
 * aborted write included): what a refused ingest must leave as it was.
 */
async function footprint(deps: AppDeps) {
  const rows = await deps.db.query<{ books: number; objects: number }>('SELECT (SELECT count(*)::int FROM books) AS books, (SELECT count(*)::int FROM stored_objects) AS objects');
  const originals: string[] = [];
  for await (const o of deps.store.listVersions('originals/')) originals.push(`${o.key} ${o.versionId ?? ''}`);
  return { ...rows.rows[0]!, originals: originals.sort() };
}

describe.skipIf(!ready)('bad inputs leave the archive untouched', () => {
  let dir: string;
  let good: FixtureFiles;
  let bad: BadInputFiles;
  let env: Awaited<ReturnType<typeof openRealDeps>>;
  let workers: WorkerHandle;
  let goodBook: Book;
  let before: Awaited<ReturnType<typeof snapshot>>;

  beforeAll(async () => {
    dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'arkiva-bad-'));
    good = await generateFixtureFiles({ outDir: path.join(dir, 'good'), pages: 2, seed: 5, formats: ['tiff'], scale: 0.4 });
    bad = await writeBadInputs(path.join(dir, 'bad'), { seed: 8 });
    env = await openRealDeps(realServicesEnv({ OCR_POOL_SIZE: '1' }));
    workers = await startWorkers(env.deps);
    goodBook = await ended(env.deps, (await ingestBook(env.deps, { kind: 'file', path: good.tiff!.path }, meta)).book.id);
    expect(goodBook.status).toBe('complete');
    await env.deps.queue.drained({ timeoutMs: 120_000 });
    before = await snapshot(env.deps, goodBook.id);
  }, 300_000);

  /** `arkiva ingest` of `file` fails with ERR_BAD_INPUT_FILE saying `message`, and books, objects and the store are as before. */
  async function refusedLeavingNothing(file: string, message: RegExp): Promise<void> {
    const before = await footprint(env.deps);
    const err = await ingestBook(env.deps, { kind: 'file', path: file }, meta).catch((e: unknown) => e);
    expect(isAppError(err, 'ERR_BAD_INPUT_FILE'), String(err)).toBe(true);
    expect((err as Error).message).toMatch(message);
    expect(await footprint(env.deps)).toEqual(before);
  }

  afterAll(async () => {
    await workers?.close({ timeoutMs: 10_000 });
    await env?.cleanup();
    if (dir) await fs.promises.rm(dir, { recursive: true, force: true });
  });

  it('refuses a non-image renamed .tif at the door, naming what it is not', async () => {
    const booksBefore = (await env.deps.db.query('SELECT id FROM books')).rowCount;
    const err = await ingestBook(env.deps, { kind: 'file', path: bad.notAnImage }, meta).catch((e: unknown) => e);
    expect(isAppError(err, 'ERR_UNSUPPORTED_MEDIA')).toBe(true);
    expect((err as Error).message).toMatch(/not a TIFF, PDF, PNG, JPEG or ZIP/);
    expect((await env.deps.db.query('SELECT id FROM books')).rowCount).toBe(booksBefore);
  });

  // `arkiva ingest` passes the same inspection as an API upload (ingest/inspect.ts): what the API
  // refuses is refused here too, at the door, with nothing archived.
  it('refuses a PDF with JavaScript at the door, as the API does, saying so', () => refusedLeavingNothing(bad.pdfWithJavaScript, /active content \(\/(OpenAction|JavaScript|JS)\)/));

  // A reader finds `%PDF-` anywhere in the first 1024 bytes, and so do detection and inspection.
  it('refuses a PDF with JavaScript after one newline before %PDF-, storing nothing', () => refusedLeavingNothing(bad.pdfWithJavaScriptAfterNewline, /active content \(\/(OpenAction|JavaScript|JS)\)/));

  it('refuses a PDF whose JavaScript sits between "% stream" and "% endstream" comment lines, storing nothing', () => refusedLeavingNothing(bad.pdfWithJavaScriptBetweenCommentLines, /active content \(\/(OpenAction|JavaScript|JS)\)/));

  it('refuses a 100000x100000 TIFF whose directory follows 1 MiB of padding, storing nothing', () => refusedLeavingNothing(bad.tiffBombAfterPadding, /declares 100000×100000 pixels/));

  it('refuses a 30000x30000 PNG at the door before decoding it, as the API does, with the pixel count', () => refusedLeavingNothing(bad.hugePng, /900[,.\s]?000[,.\s]?000|30000\s*[x×]\s*30000/));

  it('archives the readable frames of a truncated TIFF and records why the rest failed', async () => {
    const { book } = await ingestBook(env.deps, { kind: 'file', path: bad.truncatedTiff }, meta);
    const b = await ended(env.deps, book.id);
    const pages = await listPages(env.deps.db, book.id);
    const failed = pages.filter((p) => p.status === 'failed');
    if (b.status === 'failed' && pages.length === 0) {
      expect(b.failureReason).toMatch(/TIFF|truncat/i);
    } else {
      expect(failed.length).toBeGreaterThan(0);
      for (const p of failed) expect(p.failureReason).toMatch(/tiff frame|truncat|cannot be read/i);
      expect(b.status).toMatch(/complete_with_failures|failed/);
    }
  });

  it('finishes a folder whose page 3 is garbage, page 3 failed with its reason', async () => {
    const { book } = await ingestBook(env.deps, { kind: 'folder', path: bad.corruptPageFolder }, meta);
    const b = await ended(env.deps, book.id);
    expect(b.status).toBe('complete_with_failures');
    const pages = await listPages(env.deps.db, book.id);
    expect(pages.map((p) => [p.sequence, p.status])).toEqual([[1, 'done'], [2, 'done'], [3, 'failed'], [4, 'done']]);
    expect(pages[2]!.failureReason).toBeTruthy();
  });

  it('left the earlier book exactly as it was', async () => {
    await env.deps.queue.drained({ timeoutMs: 120_000 });
    const after = await snapshot(env.deps, goodBook.id);
    expect(after).toEqual(before);
  });
});
