import { randomBytes } from 'node:crypto';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../common/index.ts';
import { createBook, recordObject, upsertPage } from '../archive/index.ts';
import { insertPageWords } from '../test-support/seed-words.ts';
import { searchPages } from '../search/index.ts';
import { openRealDeps, realServicesEnv } from '../test-support/real-deps.ts';
import { requireService } from '../test-support/services.ts';
import type { OcrEngine, OcrOptions, OcrResult } from '../ocr/index.ts';
import { correctPage, correctionHistory } from './review.ts';
import { reocrPageJob, requestReocr } from './reocr.ts';

const run = requireService('databaseUrl');

// An engine that reads what it is told, and records what it was asked.
function scriptedEngine(words: string[]): OcrEngine & { calls: OcrOptions[] } {
  const calls: OcrOptions[] = [];
  return {
    calls,
    async recognize(_image: Buffer, opts: OcrOptions): Promise<OcrResult> {
      calls.push(opts);
      return {
        text: words.join(' '), meanConfidence: 88, engine: 'scripted 1.0', durationMs: 5, width: 400, height: 200, profile: opts.profile?.name ?? 'none',
        words: words.map((text, i) => ({ text, confidence: 88, line: 0, block: 0, bbox: { x0: 10 + i * 100, y0: 10, x1: 100 + i * 100, y1: 40 } })),
        lines: [{ text: words.join(' '), confidence: 88, bbox: { x0: 10, y0: 10, x1: 400, y1: 40 }, block: 0, words: words.length }],
        hocr: '<html></html>',
      };
    },
    stats: () => ({}) as ReturnType<OcrEngine['stats']>,
    close: async () => undefined,
  };
}

describe.skipIf(!run)('re-OCR as a new text revision', () => {
  let real: Awaited<ReturnType<typeof openRealDeps>>;
  let bookId: string;
  let pageId: string;
  let masterId: string;

  beforeAll(async () => {
    real = await openRealDeps(realServicesEnv());
    const { db, store } = real.deps;
    ({ book: { id: bookId } } = await createBook(db, { registerType: 'birth', municipality: 'Pejë', yearFrom: 1958, yearTo: 1958, languages: 'sqi', sourceFormat: 'tiff', sourceSha256: randomBytes(32).toString('hex'), sourceSize: 1 }));
    pageId = (await upsertPage(db, bookId, 1)).id;
    const png = await sharp({ create: { width: 400, height: 200, channels: 3, background: '#fff' } }).png().toBuffer();
    const master = await store.putContentAddressed('masters', png, { contentType: 'image/png' });
    masterId = (await recordObject(db, { bookId, pageId, role: 'master', revision: 1 }, master, 'image/png')).object.id;
    const ocr = await store.putContentAddressed('ocr', Buffer.from('{"words":[]}'), { contentType: 'application/json' });
    await recordObject(db, { bookId, pageId, role: 'ocr', variant: 'ocr-json', revision: 1 }, ocr, 'application/json');
    await insertPageWords(db, { bookId, pageId, revision: 1 }, [
      { text: '1', confidence: 40, line: 0, block: 0, box: { x0: 10, y0: 10, x1: 30, y1: 40 } },
      { text: 'Arbcn', confidence: 30, line: 0, block: 0, box: { x0: 40, y0: 10, x1: 120, y1: 40 } },
    ]);
    await db.query(`UPDATE pages SET status = 'done', ocr_confidence = 35 WHERE id = $1`, [pageId]);
    await correctPage(db, pageId, [{ wordIndex: 1, text: 'Arbën' }], { user: 'clerk-ana' });
  });
  afterAll(async () => real?.cleanup());

  it('reads the master again with the asked profile, supersedes the earlier OCR objects and replaces the words; a second delivery skips', async () => {
    const { db } = real.deps;
    const engine = scriptedEngine(['1', 'Arbën', 'Krasniqi']);
    const deps = { ...real.deps, ocr: () => engine };
    const job = { bookId, pageId, revision: 1, fromTextRevision: 1, profile: 'typewriter' as const, languages: ['sqi', 'srp'], requestedBy: 'digi-bo' };
    const ctx = { jobId: 'j1', attempt: 1, signal: new AbortController().signal, log: silentLogger(), failedChildren: async () => [] };
    expect(await reocrPageJob(deps, job, ctx)).toBe('done');
    expect(engine.calls[0]).toMatchObject({ languages: ['sqi', 'srp'], profile: { name: 'typewriter' } });

    const page = (await db.query<{ text_revision: number; ocr_confidence: number; revision: number }>('SELECT text_revision, ocr_confidence, revision FROM pages WHERE id = $1', [pageId])).rows[0]!;
    expect(page).toEqual({ text_revision: 2, ocr_confidence: 88, revision: 1 });
    const objects = (await db.query<{ id: string; role: string; variant: string; superseded: boolean }>(
      'SELECT id, role, variant, superseded_at IS NOT NULL AS superseded FROM stored_objects WHERE page_id = $1 ORDER BY created_at, variant', [pageId],
    )).rows;
    expect(objects.filter((o) => o.role === 'master')).toEqual([{ id: masterId, role: 'master', variant: '', superseded: false }]);
    expect(objects.filter((o) => o.role === 'ocr').map((o) => [o.variant, o.superseded])).toEqual([['ocr-json', true], ['hocr', false], ['ocr-json', false]]);
    expect((await searchPages(db, { q: 'krasniqi', fuzzy: false })).hits.map((h) => h.pageId)).toEqual([pageId]);
    // The clerk's earlier correction stays in the history.
    expect((await correctionHistory(db, pageId)).map((c) => [c.before, c.after, c.textRevision])).toEqual([['Arbcn', 'Arbën', 1]]);
    // At-least-once delivery: the same job again changes nothing.
    expect(await reocrPageJob(deps, job, ctx)).toBe('skipped');
    expect(engine.calls).toHaveLength(1);
  });

  it('queues the rebuild of the package of an ended book once its new reading is in', async () => {
    const { db, queue } = real.deps;
    const packageJobs = async () => (await queue.liveJobs(['book.package'])).filter((j) => (j.data as { bookId: string }).bookId === bookId);
    expect(await packageJobs()).toHaveLength(0);
    await db.query(`UPDATE books SET status = 'complete' WHERE id = $1`, [bookId]);
    const current = (await db.query<{ text_revision: number }>('SELECT text_revision FROM pages WHERE id = $1', [pageId])).rows[0]!.text_revision;
    const deps = { ...real.deps, ocr: () => scriptedEngine(['1', 'Arbën', 'Krasniqi', 'Pejë']) };
    const ctx = { jobId: 'j2', attempt: 1, signal: new AbortController().signal, log: silentLogger(), failedChildren: async () => [] };
    expect(await reocrPageJob(deps, { bookId, pageId, revision: 1, fromTextRevision: current, profile: 'printed', requestedBy: 'digi-bo' }, ctx)).toBe('done');
    expect(await packageJobs()).toHaveLength(1);
  });

  it('queues the pages asked for, and refuses pages that do not exist', async () => {
    await expect(requestReocr(real.deps, { bookId, pages: [1, 5], profile: 'printed' }, { user: 'digi-bo' })).rejects.toMatchObject({ code: 'ERR_PAGE_NOT_FOUND' });
    expect(await requestReocr(real.deps, { bookId, profile: 'mixed', languages: ['srp', 'sqi'] }, { user: 'digi-bo' })).toEqual({ queued: [1] });
  });
});
