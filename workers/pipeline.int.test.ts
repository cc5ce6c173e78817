/**
 * The digitisation pipeline end to end on real services: PostgreSQL, Redis (BullMQ) and S3 (Ceph RGW).
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateFixtureFiles, surnameRecall, type FixtureFiles } from '../fixtures/index.ts';
import { ingestBook } from '../ingest/index.ts';
import { getBook, listPages, isFinalBookStatus } from '../archive/index.ts';
import { requireService } from '../test-support/services.ts';
import { openRealDeps, realServicesEnv, type RealDeps } from '../test-support/real-deps.ts';
import { startWorkers } from './index.ts';
import type { AppDeps } from '../app/deps.ts';

const ready = requireService('databaseUrl') && requireService('redisUrl') && requireService('s3');

async function waitDone(deps: AppDeps, bookId: string, timeoutMs: number) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const b = await getBook(deps.db, bookId);
    if (b && isFinalBookStatus(b.status)) return b;
    if (Date.now() > until) throw new Error(`book ${bookId} still ${b?.status} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

describe.skipIf(!ready)('pipeline on PostgreSQL + BullMQ/Redis + S3 (RGW)', () => {
  let dir: string;
  let tiff: FixtureFiles;
  let pdf: FixtureFiles;
  let real: RealDeps;

  beforeAll(async () => {
    dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'arkiva-pipeline-'));
    [tiff, pdf] = await Promise.all([
      generateFixtureFiles({ outDir: path.join(dir, 'a'), pages: 12, seed: 12, formats: ['tiff'], scale: 0.6, style: 'printed' }),
      generateFixtureFiles({ outDir: path.join(dir, 'b'), pages: 6, seed: 6, formats: ['pdf'], scale: 0.6, style: 'printed', registerType: 'death' }),
    ]);
    real = await openRealDeps(realServicesEnv({ OCR_POOL_SIZE: '2' }));
  });

  afterAll(async () => {
    await real?.cleanup();
    if (dir) await fs.promises.rm(dir, { recursive: true, force: true });
  });

  it('archives a 12-page TIFF and a 6-page PDF: every page once, every hash read back, names found', async () => {
    const { deps } = real;
    const workers = await startWorkers(deps);
    try {
      const a = await ingestBook(deps, { kind: 'file', path: tiff.tiff!.path }, { registerType: 'birth', municipality: tiff.truth.book.municipality, yearFrom: tiff.truth.book.yearFrom, yearTo: tiff.truth.book.yearTo, languages: 'sqi' });
      const b = await ingestBook(deps, { kind: 'file', path: pdf.pdf!.path }, { registerType: 'death', municipality: pdf.truth.book.municipality, yearFrom: pdf.truth.book.yearFrom, yearTo: pdf.truth.book.yearTo, languages: 'sqi' });
      // The same bytes again: the existing book, not a second one.
      const again = await ingestBook(deps, { kind: 'file', path: tiff.tiff!.path }, { registerType: 'birth', municipality: 'Elsewhere', yearFrom: 1960, yearTo: 1960, languages: 'sqi' });
      expect(again.duplicate).toBe(true);
      expect(again.book.id).toBe(a.book.id);

      const [bookA, bookB] = await Promise.all([waitDone(deps, a.book.id, 300_000), waitDone(deps, b.book.id, 300_000)]);
      // Packaging runs after completion: let it finish before counting objects.
      await deps.queue.drained({ timeoutMs: 180_000 });
      expect(bookA.status).toBe('complete');
      expect(bookB.status).toBe('complete');
      expect(bookA.pageCount).toBe(12);
      expect(bookB.pageCount).toBe(6);
      expect((await deps.db.query('SELECT 1 FROM books')).rowCount).toBe(2);

      // Every page archived exactly once: one row per page, role and variant, and no other objects in the store.
      const perPage = await deps.db.query<{ role: string; variant: string; n: number }>(
        `SELECT role, variant, count(*)::int AS n FROM stored_objects WHERE page_id IS NOT NULL GROUP BY page_id, role, variant HAVING count(*) <> 1`,
      );
      expect(perPage.rows).toEqual([]);
      const kinds = await deps.db.query<{ role: string; variant: string; n: number }>(
        `SELECT role, variant, count(*)::int AS n FROM stored_objects WHERE role NOT IN ('alto', 'pdf', 'package') GROUP BY role, variant ORDER BY role, variant`,
      );
      expect(kinds.rows).toEqual([
        { role: 'derivative', variant: 'pyramid-tiff', n: 18 },
        { role: 'derivative', variant: 'thumb-jpeg', n: 18 },
        { role: 'derivative', variant: 'view-jpeg', n: 18 },
        { role: 'master', variant: '', n: 18 },
        { role: 'ocr', variant: 'hocr', n: 18 },
        { role: 'ocr', variant: 'ocr-json', n: 18 },
        { role: 'original', variant: '', n: 2 },
        { role: 'source', variant: '', n: 18 },
      ]);
      const objects = await deps.db.query<{ store_key: string; sha256: string; size: number }>('SELECT DISTINCT store_key, sha256, size FROM stored_objects');
      const inStore: string[] = [];
      // The catalogue's own objects (docs/catalogue-format.md) describe the archive; stored_objects does not list them.
      for await (const o of deps.store.list('')) if (!o.key.startsWith('catalogue/')) inStore.push(o.key);
      expect(inStore.sort()).toEqual(objects.rows.map((o) => o.store_key).sort());

      // Fixity: every object's bytes hash to what the database recorded.
      for (const o of objects.rows) {
        const hash = createHash('sha256');
        let size = 0;
        for await (const chunk of await deps.store.get(o.store_key)) {
          hash.update(chunk as Buffer);
          size += (chunk as Buffer).length;
        }
        expect(hash.digest('hex'), o.store_key).toBe(o.sha256);
        expect(size).toBe(Number(o.size));
      }

      // OCR: at least 90% of the ground-truth surnames are in the pages' text.
      let found = 0;
      let total = 0;
      for (const [book, truth] of [[bookA, tiff.truth], [bookB, pdf.truth]] as const) {
        const pages = await listPages(deps.db, book.id);
        for (const p of pages) {
          expect(p.status).toBe('done');
          const text = (await deps.db.query<{ ocr_text: string }>('SELECT ocr_text FROM pages WHERE id = $1', [p.id])).rows[0]!.ocr_text;
          const r = surnameRecall(truth.pages[p.sequence - 1]!, text);
          found += r.total - r.missed.length;
          total += r.total;
        }
      }
      expect(total).toBeGreaterThan(100);
      expect(found / total).toBeGreaterThanOrEqual(0.9);
      const words = await deps.db.query<{ n: number }>('SELECT count(*)::int AS n FROM page_words');
      expect(words.rows[0]!.n).toBeGreaterThan(18 * 50);
    } finally {
      await workers.close({ timeoutMs: 20_000 });
    }
  }, 600_000);
});
