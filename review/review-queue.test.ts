import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBook, setPageImageInfo, setPageOcr, setPageType, upsertPage } from '../archive/index.ts';
import { silentLogger } from '../common/index.ts';
import { openDb, type Db } from '../db/index.ts';
import { listReviewQueue } from './review.ts';

// The queue's reasons as the OCR stage leaves pages: an embedded database, the real migrations.
describe('review queue: pages with ink on which OCR read no text', () => {
  let dir: string;
  let db: Db;
  let bookId: string;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'arkiva-review-queue-'));
    db = await openDb({ kind: 'pglite', dir }, silentLogger());
    ({ book: { id: bookId } } = await createBook(db, { registerType: 'birth', municipality: 'Pejë', yearFrom: 1958, yearTo: 1958, languages: 'sqi', sourceFormat: 'tiff', sourceSha256: randomBytes(32).toString('hex'), sourceSize: 1 }));
    const page = async (sequence: number, ink: number | null, text: string, confidence: number, type?: 'blank') => {
      const p = await upsertPage(db, bookId, sequence);
      if (ink !== null) await setPageImageInfo(db, p.id, { width: 1240, height: 877, dpiX: 150, dpiY: 150, orientation: 0, inkRatio: ink });
      await setPageOcr(db, p.id, text, confidence, 'fake');
      if (type) await setPageType(db, p.id, type, 'ink covers 0.01% of the page');
      await db.query(`UPDATE pages SET status = 'done' WHERE id = $1`, [p.id]);
    };
    const row = '1 02.03.1958 Arbën Krasniqi M Gëzim Drita Hoxha Pejë';
    // Grey grainy carbon copy read as nothing: ink, no words.
    await page(1, 0.045, '', 0);
    // Three specks read surely: still no text.
    await page(2, 0.05, 'I E Së', 82.5);
    // A blank leaf the OCR stage skipped: 'blank', not 'no-text'.
    await page(3, 0.0004, '', 0, 'blank');
    // Read, but below the floor.
    await page(4, 0.03, row, 41);
    // Read well: not in the queue.
    await page(5, 0.03, `${row}\n${row}`, 88);
  });
  afterAll(async () => {
    await db?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("lists a page with ink read as empty as 'no-text', before blank and low-confidence pages", async () => {
    const queue = await listReviewQueue(db, { bookId });
    expect(queue.map((p) => [p.sequence, p.reason])).toEqual([[1, 'no-text'], [2, 'no-text'], [3, 'blank'], [4, 'low-confidence']]);
  });
});
