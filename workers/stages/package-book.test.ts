/**
 * A packaging run cut off after it stored its PDF and bag, before it recorded them (a killed
 * worker, a lost claim), and run again: the archive ends with every stored package object named by
 * a row, as the fault suite checks. On embedded PGlite and the filesystem store.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Readable } from 'node:stream';
import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../common/index.ts';
import { loadConfig } from '../../config/index.ts';
import { openAppDeps, type AppDeps } from '../../app/deps.ts';
import {
  completeBook, createBook, listObjects, markPageDone, recordEvent, recordObject, setPageImageInfo, setPageOcr, upsertPage,
} from '../../archive/index.ts';
import type { ArchivedOcr } from '../../archive/archived-ocr.ts';
import type { JobContext } from '../../queue/index.ts';
import type { ObjectStore } from '../../storage/index.ts';
import { packageBook } from '../../preservation/package-book.ts';
import { packageBookJob } from './package-book.job.ts';

function contextOf(attempt: number): JobContext {
  return { jobId: `book.package-${attempt}`, attempt, signal: new AbortController().signal, log: silentLogger(), failedChildren: async () => [] };
}

/**
 * The store, except that the run dies at the bag: once it is stored (`after`: the run is cut off
 * before it records anything) or while it streams (the PDF alone is stored).
 */
function dyingAtTheBag(store: ObjectStore, when: 'after' | 'while'): ObjectStore {
  return new Proxy(store, {
    get(target, prop) {
      if (prop === 'putContentAddressed') {
        return async (prefix: string, body: Readable | Buffer, opts?: Parameters<ObjectStore['putContentAddressed']>[2]) => {
          if (prefix !== 'packages') return target.putContentAddressed(prefix, body, opts);
          if (when === 'after') await target.putContentAddressed(prefix, body, opts);
          throw new Error('worker killed');
        };
      }
      const v = Reflect.get(target, prop) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

/** Keys of the PDFs and bags in the store that no stored_objects row names. */
async function unrecordedPackageObjects(deps: AppDeps): Promise<string[]> {
  const named = new Set((await deps.db.query<{ store_key: string }>('SELECT store_key FROM stored_objects')).rows.map((r) => r.store_key));
  const out: string[] = [];
  for (const prefix of ['pdf/', 'packages/']) for await (const o of deps.store.list(prefix)) if (!named.has(o.key)) out.push(o.key);
  return out;
}

async function storedKeys(deps: AppDeps, prefix: string): Promise<string[]> {
  const out: string[] = [];
  for await (const o of deps.store.list(prefix)) out.push(o.key);
  return out;
}

describe('book.package run again after a crash between storing and recording', () => {
  let dir: string;
  let deps: AppDeps & { close(): Promise<void> };

  beforeEach(async () => {
    dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'arkiva-package-rerun-'));
    deps = await openAppDeps(loadConfig({ ARKIVA_DATA_DIR: dir }), silentLogger());
  });

  afterEach(async () => {
    await deps?.close();
    await fs.promises.rm(dir, { recursive: true, force: true });
  });

  /** A finished book of two pages, each with a master and an OCR reading, as the page stages leave it. */
  async function finishedBook(): Promise<{ bookId: string; pageIds: string[] }> {
    const { book } = await createBook(deps.db, {
      registerType: 'birth', municipality: 'Prizren', yearFrom: 1958, yearTo: 1959, languages: 'sqi', sourceFormat: 'tiff', sourceSha256: randomBytes(32).toString('hex'), sourceSize: 1,
    });
    const pageIds: string[] = [];
    for (const sequence of [1, 2]) {
      const page = await upsertPage(deps.db, book.id, sequence);
      const master = await sharp({ create: { width: 240, height: 160, channels: 3, background: { r: 230 + sequence, g: 230, b: 230 } } }).png().toBuffer();
      const masterPut = await deps.store.putContentAddressed('masters', master, { contentType: 'image/png' });
      await recordObject(deps.db, { bookId: book.id, pageId: page.id, role: 'master', revision: 1 }, masterPut, 'image/png');
      await setPageImageInfo(deps.db, page.id, { width: 240, height: 160, dpiX: 300, dpiY: 300, orientation: 0 });
      const ocr: ArchivedOcr = {
        engine: 'test', languages: ['sqi'], width: 240, height: 160, meanConfidence: 90, text: `Emri ${sequence}`,
        words: [{ text: 'Emri', confidence: 90, bbox: { x0: 10, y0: 10, x1: 60, y1: 30 }, line: 0, block: 0 }, { text: String(sequence), confidence: 90, bbox: { x0: 70, y0: 10, x1: 90, y1: 30 }, line: 0, block: 0 }],
        lines: [{ text: `Emri ${sequence}`, confidence: 90, bbox: { x0: 10, y0: 10, x1: 90, y1: 30 }, block: 0 }],
      };
      const ocrPut = await deps.store.putContentAddressed('ocr', Buffer.from(JSON.stringify(ocr)), { contentType: 'application/json' });
      await recordObject(deps.db, { bookId: book.id, pageId: page.id, role: 'ocr', variant: 'ocr-json', revision: 1 }, ocrPut, 'application/json');
      await setPageOcr(deps.db, page.id, ocr.text, 90, 'test');
      await markPageDone(deps.db, page.id, 1);
      pageIds.push(page.id);
    }
    await completeBook(deps.db, book.id, 'complete', { pages: 2, done: 2, failed: 0, meanOcrConfidence: 90, failures: [], processingSeconds: 1, pagesPerMinute: 120 });
    await recordEvent(deps.db, { bookId: book.id, type: 'accession', agent: 'arkiva book.complete', outcome: 'success', detail: '2 of 2 pages archived, 0 failed' });
    return { bookId: book.id, pageIds };
  }

  it('the re-run writes the same PDF and bag, though a page row and the book’s events changed in between', async () => {
    const { bookId, pageIds } = await finishedBook();

    await expect(packageBookJob({ ...deps, store: dyingAtTheBag(deps.store, 'after') }, { bookId }, contextOf(1))).rejects.toThrow(/worker killed/);
    const [firstPdf] = await storedKeys(deps, 'pdf/');
    const [firstBag] = await storedKeys(deps, 'packages/');
    expect(firstPdf).toBeDefined();
    expect(firstBag).toBeDefined();

    // Meanwhile, without changing what the package is built from: a duplicate OCR run of page 1
    // that lost its claim ends and writes the page row again, and a late fan-in of another block
    // of pages records the book's accession again. The dates are to the second, hence the wait.
    await sleep(1100);
    await setPageOcr(deps.db, pageIds[0]!, 'Emri 1', 90, 'test');
    await recordEvent(deps.db, { bookId, type: 'accession', agent: 'arkiva book.complete', outcome: 'success', detail: '2 of 2 pages archived, 0 failed' });

    expect(await packageBookJob(deps, { bookId }, contextOf(2))).toBe('done');
    const recorded = (await listObjects(deps.db, bookId)).filter((o) => o.role === 'pdf' || o.role === 'package');
    expect(recorded.map((o) => [o.role, o.storeKey]).sort()).toEqual([['package', firstBag], ['pdf', firstPdf]]);
    expect(await unrecordedPackageObjects(deps)).toEqual([]);
  });

  it('what an interrupted run stored with other bytes is removed once the basis is recorded', async () => {
    const { bookId } = await finishedBook();

    // A run of the same basis whose bytes differ (here: dated otherwise), cut off while it streams its bag.
    await expect(packageBook({ ...deps, store: dyingAtTheBag(deps.store, 'while') }, bookId, { now: new Date('2001-02-03T04:05:06Z') })).rejects.toThrow(/worker killed/);
    const leftovers = await storedKeys(deps, 'pdf/');
    expect(leftovers).toHaveLength(1);

    const r = await packageBook(deps, bookId);
    expect(r.outcome).toBe('done');
    expect(leftovers).not.toContain(r.pdf!.storeKey);
    expect(await unrecordedPackageObjects(deps)).toEqual([]);
    expect((await storedKeys(deps, 'pdf/')).sort()).toEqual([r.pdf!.storeKey]);
    expect(await deps.db.query('SELECT * FROM package_parts WHERE book_id = $1', [bookId]).then((x) => x.rows)).toEqual([]);
  });
});
