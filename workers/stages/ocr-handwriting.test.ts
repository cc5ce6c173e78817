/**
 * The OCR stage's routing of handwritten pages (issue 20) on embedded deps (PGlite, filesystem
 * store) with a scripted OCR engine: what is read, how often, and what is recorded.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBook, listEvents, recordObject, upsertPage } from '../../archive/index.ts';
import { openAppDeps, type AppDeps } from '../../app/deps.ts';
import { silentLogger } from '../../common/index.ts';
import type { BookOcrProfile } from '../../common/vocabulary.ts';
import { loadConfig } from '../../config/index.ts';
import type { OcrEngine, OcrOptions, OcrResult } from '../../ocr/index.ts';
import { listReviewQueue } from '../../review/index.ts';
import { ocrPage } from './ocr-page.job.ts';

/** A reading: `n` words of six letters at `confidence` each, in rows of five. */
function reading(confidence: number, n = 40): OcrResult {
  const words = Array.from({ length: n }, (_, i) => ({
    text: `Gashix${i}`.slice(0, 6), confidence, line: Math.floor(i / 5), block: 0,
    bbox: { x0: 20 + (i % 5) * 140, y0: 30 + Math.floor(i / 5) * 40, x1: 140 + (i % 5) * 140, y1: 60 + Math.floor(i / 5) * 40 },
  }));
  return { text: words.map((w) => w.text).join(' '), meanConfidence: confidence, words, lines: [], engine: 'scripted', durationMs: 5, width: 800, height: 400, orientation: 0 };
}

/** An engine that answers each page with the reading scripted for its image, and notes the profiles asked for. */
function scriptedEngine(answers: Map<string, OcrResult>): { engine: OcrEngine; calls: { key: string; profile: string }[] } {
  const calls: { key: string; profile: string }[] = [];
  const engine: OcrEngine = {
    async recognize(image: Buffer, opts: OcrOptions) {
      const key = image.toString('base64').slice(-40);
      calls.push({ key, profile: opts.profile?.name ?? '' });
      return { ...answers.get(key)!, profile: opts.profile?.name ?? '' };
    },
    stats: () => ({ workers: 0, busy: 0, queued: 0, recycled: 0, pagesDone: 0 }) as unknown as ReturnType<OcrEngine['stats']>,
    close: async () => {},
  };
  return { engine, calls };
}

describe('the OCR stage and handwritten pages', () => {
  let deps: AppDeps & { close(): Promise<void> };
  let dir: string;
  const answers = new Map<string, OcrResult>();
  const scripted = scriptedEngine(answers);
  const ctx = { jobId: 'j', attempt: 1, signal: new AbortController().signal, log: silentLogger(), failedChildren: async () => [] };

  beforeAll(async () => {
    dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'arkiva-hw-'));
    const opened = await openAppDeps(loadConfig({ ARKIVA_DATA_DIR: dir, OCR_POOL_SIZE: '1' }), silentLogger());
    deps = { ...opened, ocr: () => scripted.engine };
  }, 60_000);
  afterAll(async () => {
    await deps?.close();
    if (dir) await fs.promises.rm(dir, { recursive: true, force: true });
  });

  /** A page with ink whose master OCR answers with `answer`. */
  async function page(profile: BookOcrProfile, label: string, answer: OcrResult) {
    const { book } = await createBook(deps.db, {
      registerType: 'birth', municipality: 'Pejë', yearFrom: 1958, yearTo: 1958, languages: 'sqi', ocrProfile: profile,
      sourceFormat: 'tiff', sourceSha256: randomBytes(32).toString('hex'), sourceSize: 1,
    });
    const png = await sharp(Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="800" height="400"><rect width="100%" height="100%" fill="white"/><text x="40" y="200" font-size="60" font-family="DejaVu Sans">${label}</text></svg>`)).png().toBuffer();
    answers.set(png.toString('base64').slice(-40), answer);
    const p = await upsertPage(deps.db, book.id, 1);
    const put = await deps.store.putContentAddressed('masters', png, { contentType: 'image/png' });
    await recordObject(deps.db, { bookId: book.id, pageId: p.id, role: 'master', revision: 1 }, put, 'image/png');
    return { bookId: book.id, pageId: p.id, key: png.toString('base64').slice(-40) };
  }
  const typeOf = async (pageId: string) =>
    (await deps.db.query<{ page_type: string | null; page_type_reason: string | null; ocr_text: string | null }>('SELECT page_type, page_type_reason, ocr_text FROM pages WHERE id = $1', [pageId])).rows[0]!;

  it('reads a page of a handwritten book once, without rescues, keeps its text and routes it to keying', async () => {
    // A poor reading: on a printed book it would run the whole chain (upright, osd, flip, two rescues).
    const p = await page('handwritten', 'Hand one', reading(35));
    expect(await ocrPage(deps, { bookId: p.bookId, pageId: p.pageId, revision: 1 }, ctx, 3)).toBe('done');
    expect(scripted.calls.filter((c) => c.key === p.key).map((c) => c.profile)).toEqual(['handwritten+osd']);
    const row = await typeOf(p.pageId);
    expect(row).toMatchObject({ page_type: 'handwritten', page_type_reason: "the book's OCR profile is handwritten" });
    expect(row.ocr_text).toContain('Gashix');
    const events = await listEvents(deps.db, p.bookId, { pageId: p.pageId });
    expect(events.map((e) => e.detail)).toContain("routed to keying: the book's OCR profile is handwritten");
    // Keying replaces the OCR review: no "needs review" warning for it.
    expect(events.some((e) => /needs review/.test(e.detail ?? ''))).toBe(false);
    // Once indexed (done), it is not an OCR review item either.
    await deps.db.query(`UPDATE pages SET status = 'done' WHERE id = $1`, [p.pageId]);
    expect(await listReviewQueue(deps.db, { bookId: p.bookId })).toEqual([]);
  });

  it('routes a page of a printed book that reads as handwriting, and leaves a printed reading alone', async () => {
    const hand = await page('printed', 'Hand two', reading(40));
    await ocrPage(deps, { bookId: hand.bookId, pageId: hand.pageId, revision: 1 }, ctx, 3);
    // Detected after the book's full chain: it is not known to be handwriting before it is read.
    expect(scripted.calls.filter((c) => c.key === hand.key).map((c) => c.profile)).toEqual(['printed', 'printed+osd', 'printed+flip', 'rescue:flatten', 'rescue']);
    const row = await typeOf(hand.pageId);
    expect(row.page_type).toBe('handwritten');
    expect(row.page_type_reason).toMatch(/^reads as handwriting: mean OCR confidence 40\.0 \(below 67\), 100% of 40 words/);
    expect((await listEvents(deps.db, hand.bookId, { pageId: hand.pageId })).some((e) => e.detail?.startsWith('routed to keying: reads as handwriting'))).toBe(true);

    const print = await page('printed', 'Print three', reading(91));
    await ocrPage(deps, { bookId: print.bookId, pageId: print.pageId, revision: 1 }, ctx, 3);
    expect((await typeOf(print.pageId)).page_type).toBeNull();
    // The same poor reading on a page not typed handwritten is an OCR review item, as before.
    const poor = await page('printed', 'Poor four', reading(55, 10));
    await ocrPage(deps, { bookId: poor.bookId, pageId: poor.pageId, revision: 1 }, ctx, 3);
    await deps.db.query(`UPDATE pages SET status = 'done' WHERE id = $1`, [poor.pageId]);
    expect((await listReviewQueue(deps.db, { bookId: poor.bookId })).map((x) => x.reason)).toEqual(['low-confidence']);
    expect((await listEvents(deps.db, print.bookId, { pageId: print.pageId })).some((e) => /routed to keying/.test(e.detail ?? ''))).toBe(false);
  });
});
