/**
 * The OCR stage reads a book's pages with orientation detection first once the book's pages come
 * turned (issue 19), on real services: PostgreSQL, Redis (BullMQ) and S3 (Ceph RGW).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateFixtureFiles, surnameRecall, type FixtureFiles } from '../../fixtures/index.ts';
import { ingestBook } from '../../ingest/index.ts';
import { getBook, isFinalBookStatus } from '../../archive/index.ts';
import { requireService } from '../../test-support/services.ts';
import { openRealDeps, realServicesEnv } from '../../test-support/real-deps.ts';
import { startWorkers } from '../index.ts';

const ready = requireService('databaseUrl') && requireService('redisUrl') && requireService('s3');

describe.skipIf(!ready)('orientation detection first in a book of turned pages', () => {
  let dir: string;
  let files: FixtureFiles;
  let env: Awaited<ReturnType<typeof openRealDeps>>;

  beforeAll(async () => {
    dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'arkiva-turned-'));
    // Every page scanned a quarter turn clockwise, as a book fed into the scanner sideways.
    files = await generateFixtureFiles({ outDir: dir, pages: 7, seed: 19, formats: ['tiff'], scale: 0.5, rotate: 90 });
    env = await openRealDeps(realServicesEnv({ OCR_POOL_SIZE: '2' }));
  });

  afterAll(async () => {
    await env?.cleanup();
    if (dir) await fs.promises.rm(dir, { recursive: true, force: true });
  });

  it('reads the first pages upright first, then, the book’s pages having come turned, starts with orientation detection; every page stood upright and read', async () => {
    const { deps } = env;
    const workers = await startWorkers(deps);
    try {
      const { book } = await ingestBook(deps, { kind: 'file', path: files.tiff!.path }, { registerType: 'birth', municipality: files.truth.book.municipality, yearFrom: files.truth.book.yearFrom, yearTo: files.truth.book.yearTo, languages: 'sqi' });
      for (const until = Date.now() + 240_000; ; ) {
        const b = await getBook(deps.db, book.id);
        if (b && isFinalBookStatus(b.status)) {
          expect(b.status).toBe('complete');
          break;
        }
        if (Date.now() > until) throw new Error('the book did not complete');
        await new Promise((r) => setTimeout(r, 300));
      }
      const events = await deps.db.query<{ page_id: string; detail: string }>(
        `SELECT page_id, detail FROM processing_events WHERE book_id = $1 AND event_type = 'ocr' AND outcome = 'success' AND agent <> 'arkiva ocr review'`,
        [book.id],
      );
      const firstAttempt = events.rows.map((e) => /attempts: ([^ ,]+)/.exec(e.detail)?.[1]);
      expect(firstAttempt).toHaveLength(7);
      // With no pages read yet the book's first pages start upright (and waste that reading) ...
      expect(firstAttempt.filter((a) => a === 'printed').length).toBeGreaterThanOrEqual(3);
      // ... and once three were found turned, the rest start with orientation detection.
      expect(firstAttempt.filter((a) => a === 'printed+osd').length).toBeGreaterThanOrEqual(2);
      const pages = await deps.db.query<{ sequence: number; ocr_turn: number; ocr_text: string }>('SELECT sequence, ocr_turn, ocr_text FROM pages WHERE book_id = $1 ORDER BY sequence', [book.id]);
      // A page turned 90° clockwise is stood upright by a further 270°.
      expect(pages.rows.map((r) => r.ocr_turn)).toEqual(Array(7).fill(270));
      for (const p of pages.rows) expect(surnameRecall(files.truth.pages[p.sequence - 1]!, p.ocr_text).recall, `page ${p.sequence}`).toBeGreaterThanOrEqual(0.9);
    } finally {
      await workers.close();
    }
  }, 300_000);
});
