import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordEvent, upsertPage } from '../../archive/index.ts';
import { createBookWithRetention } from '../../retention/index.ts';
import { insertPageWords } from '../../test-support/seed-words.ts';
import { asUser, openTestApp, userHeaders, type Injector, type TestApp } from '../test-kit.ts';

// One embedded app: the review queue, corrections feeding search, page types, proposals with fields.
describe('review and corrections API', () => {
  let t: TestApp;
  let clerk: Injector;
  let auditor: Injector;
  let bookId: string;
  let pageId: string;
  const w = (text: string, i: number, line: number, confidence = 90) => ({ text, confidence, line, block: 0, box: { x0: 20 + i * 120, y0: 40 + line * 60, x1: 130 + i * 120, y1: 90 + line * 60 } });

  beforeAll(async () => {
    t = await openTestApp();
    clerk = asUser(t.app, await userHeaders(t.deps.db, ['clerk'], 'clerk-ana'));
    auditor = asUser(t.app, await userHeaders(t.deps.db, ['auditor'], 'auditor-bo'));
    const db = t.deps.db;
    // A register whose closure has ended (births 1900: closed until 2000-12-31), archived as the API does (issue 18).
    ({ book: { id: bookId } } = await createBookWithRetention(db, { registerType: 'birth', municipality: 'Shkodër', yearFrom: 1900, yearTo: 1900, languages: 'sqi', sourceFormat: 'tiff', sourceSha256: randomBytes(32).toString('hex'), sourceSize: 1 }));
    const page = await upsertPage(db, bookId, 1);
    pageId = page.id;
    await insertPageWords(db, { bookId, pageId, revision: 1 }, [
      w('1', 0, 0), w('02.03.1958', 1, 0), w('Arbën', 2, 0), w('Krasnlqi', 3, 0, 31), w('M', 4, 0), w('Gëzim', 5, 0), w('Drita', 6, 0), w('Hoxha', 7, 0), w('Shkodër', 8, 0),
      w('2', 0, 1), w('05.04.1958', 1, 1), w('Ana', 2, 1), w('Gashi', 3, 1), w('F', 4, 1), w('Ilir', 5, 1), w('Vjosa', 6, 1), w('Berisha', 7, 1), w('Shkodër', 8, 1),
    ]);
    await db.query(`UPDATE pages SET status = 'done', ocr_confidence = 41 WHERE id = $1`, [pageId]);
    const blank = await upsertPage(db, bookId, 2);
    await db.query(`UPDATE pages SET status = 'done', ocr_confidence = 0, page_type = 'blank' WHERE id = $1`, [blank.id]);
    const fine = await upsertPage(db, bookId, 3);
    await db.query(`UPDATE pages SET status = 'done', ocr_confidence = 92 WHERE id = $1`, [fine.id]);
    // What the OCR stage records for a page that ran out of its time bound with every profile.
    const stuck = await upsertPage(db, bookId, 4);
    await db.query(`UPDATE pages SET status = 'failed', failure_reason = $2 WHERE id = $1`, [stuck.id, 'OCR exceeded the page time bound of 15000 ms with every profile (printed timeout 15002 ms); needs review']);
  });
  afterAll(async () => t?.close());

  it('lists timed-out, blank and low-confidence pages for review (worst first), not good ones', async () => {
    const r = await clerk.inject({ method: 'GET', url: `/review/pages?bookId=${bookId}` });
    expect(r.statusCode).toBe(200);
    const pages = r.json().pages as { sequence: number; reason: string; lowWords: number }[];
    expect(pages.map((p) => [p.sequence, p.reason])).toEqual([[4, 'timeout'], [2, 'blank'], [1, 'low-confidence']]);
    expect(pages.find((p) => p.sequence === 1)!.lowWords).toBe(1);
    expect((await auditor.inject({ method: 'GET', url: '/review/pages' })).statusCode).toBe(403);
    const words = (await clerk.inject({ method: 'GET', url: `/books/${bookId}/pages/1/review` })).json();
    expect(words.pageType).toBe('register');
    expect(words.words.filter((x: { low: boolean }) => x.low).map((x: { text: string }) => x.text)).toEqual(['Krasnlqi']);
  });

  it('stores a correction as a new text revision that search finds, keeping the OCR reading and who/when/before/after', async () => {
    const before = await clerk.inject({ method: 'GET', url: '/search?q=krasniqi&fuzzy=false' });
    expect(before.json().hits).toEqual([]);
    const c = await clerk.inject({ method: 'POST', url: `/books/${bookId}/pages/1/corrections`, payload: { textRevision: 0, corrections: [{ wordIndex: 3, text: 'Krasniqi' }] } });
    expect(c.statusCode).toBe(200);
    expect(c.json()).toEqual({ textRevision: 1, changed: [{ wordIndex: 3, before: 'Krasnlqi', after: 'Krasniqi' }] });
    // The stale revision is refused rather than overwritten.
    const stale = await clerk.inject({ method: 'POST', url: `/books/${bookId}/pages/1/corrections`, payload: { textRevision: 0, corrections: [{ wordIndex: 2, text: 'Arben' }] } });
    expect(stale.statusCode).toBe(409);
    const line = await clerk.inject({ method: 'POST', url: `/books/${bookId}/pages/1/corrections`, payload: { textRevision: 1, corrections: [{ lineIndex: 1, text: '2 05.04.1958 Ana Gashi F Ilir Vjosa Berisha Shkodra' }] } });
    expect(line.json().changed).toEqual([{ wordIndex: 17, before: 'Shkodër', after: 'Shkodra' }]);
    expect((await clerk.inject({ method: 'POST', url: `/books/${bookId}/pages/1/corrections`, payload: { corrections: [{ lineIndex: 1, text: 'too few words' }] } })).statusCode).toBe(400);

    const after = (await clerk.inject({ method: 'GET', url: '/search?q=krasniqi&fuzzy=false' })).json();
    expect(after.hits.map((h: { pageId: string }) => h.pageId)).toEqual([pageId]);
    expect(after.hits[0].words[0]).toMatchObject({ text: 'Krasniqi', wordIndex: 3 });
    // The old reading is no longer indexed as an exact word.
    expect((await clerk.inject({ method: 'GET', url: '/search?q=krasnlqi&fuzzy=false' })).json().hits).toEqual([]);

    const review = (await clerk.inject({ method: 'GET', url: `/books/${bookId}/pages/1/review` })).json();
    expect(review.textRevision).toBe(2);
    expect(review.words[3]).toMatchObject({ text: 'Krasniqi', ocrText: 'Krasnlqi', low: false });
    const history = (await auditor.inject({ method: 'GET', url: `/books/${bookId}/pages/1/corrections` })).json().corrections;
    expect(history).toMatchObject([
      { textRevision: 1, wordIndex: 3, before: 'Krasnlqi', after: 'Krasniqi', correctedBy: 'clerk-ana' },
      { textRevision: 2, wordIndex: 17, before: 'Shkodër', after: 'Shkodra', correctedBy: 'clerk-ana' },
    ]);
    // Corrected pages leave the queue; the blank one stays until accepted.
    const queue = (await clerk.inject({ method: 'GET', url: `/review/pages?bookId=${bookId}` })).json().pages;
    expect(queue.map((p: { sequence: number }) => p.sequence)).toEqual([4, 2]);
    expect((await clerk.inject({ method: 'POST', url: `/books/${bookId}/pages/2/review/accept`, payload: { note: 'verso, empty' } })).statusCode).toBe(204);
    expect((await clerk.inject({ method: 'GET', url: `/review/pages?bookId=${bookId}` })).json().pages.map((p: { sequence: number }) => p.sequence)).toEqual([4]);
  });

  it('proposes entries with names, date and place only on register pages', async () => {
    expect((await clerk.inject({ method: 'PUT', url: `/books/${bookId}/pages/1/page-type`, payload: { pageType: 'cover' } })).statusCode).toBe(204);
    expect((await clerk.inject({ method: 'POST', url: `/books/${bookId}/pages/1/entries/propose`, payload: { eventType: 'birth' } })).json().entries).toEqual([]);
    await clerk.inject({ method: 'PUT', url: `/books/${bookId}/pages/1/page-type`, payload: { pageType: 'register' } });
    const p = (await clerk.inject({ method: 'POST', url: `/books/${bookId}/pages/1/entries/propose`, payload: { eventType: 'birth' } })).json().entries;
    expect(p).toHaveLength(2);
    expect(p[0]).toMatchObject({
      entryNumber: '1', eventDate: '1958-03-02', place: 'Shkodër', status: 'proposed', source: 'ocr',
      names: expect.arrayContaining([{ role: 'subject', name: 'Arbën Krasniqi' }, { role: 'father', name: 'Gëzim' }, { role: 'mother', name: 'Drita Hoxha' }]),
    });
    const found = (await clerk.inject({ method: 'GET', url: '/entries?name=arben%20krasniqi&role=subject' })).json().entries;
    expect(found.map((e: { id: string }) => e.id)).toEqual([p[0].id]);
  });

  it('filters search by municipality across accents and scripts', async () => {
    for (const m of ['Shkodër', 'shkoder', 'Шкодер', 'SHKODER']) {
      const r = (await clerk.inject({ method: 'GET', url: `/search?q=gashi&municipality=${encodeURIComponent(m)}` })).json();
      expect(r.hits.map((h: { pageId: string }) => h.pageId), m).toEqual([pageId]);
    }
    expect((await clerk.inject({ method: 'GET', url: '/search?q=gashi&municipality=Prizren' })).json().hits).toEqual([]);
  });

  it('reports per-stage timings, one figure per page and stage, re-runs not counted twice', async () => {
    const db = t.deps.db;
    const ids = (await db.query<{ id: string; sequence: number }>('SELECT id, sequence FROM pages WHERE book_id = $1 ORDER BY sequence', [bookId])).rows;
    const ev = (pageId: string, type: 'ocr' | 'normalization', durationMs: number, outcome: 'success' | 'failure' = 'success') =>
      recordEvent(db, { bookId, pageId, type, agent: 'test', outcome, durationMs });
    await ev(ids[0]!.id, 'ocr', 9000, 'failure');
    await ev(ids[0]!.id, 'ocr', 1000);
    await ev(ids[1]!.id, 'ocr', 2000);
    await ev(ids[2]!.id, 'ocr', 1500);
    await ev(ids[3]!.id, 'ocr', 12000);
    await ev(ids[0]!.id, 'normalization', 300);
    const r = await clerk.inject({ method: 'GET', url: `/books/${bookId}/timings` });
    expect(r.json().stages).toEqual([
      { stage: 'master', pages: 1, meanMs: 300, medianMs: 300, p95Ms: 300, maxMs: 300, overFactor: 0 },
      { stage: 'ocr', pages: 4, meanMs: 4125, medianMs: 1750, p95Ms: 12000, maxMs: 12000, overFactor: 1 },
    ]);
  });

  it('queues a re-OCR with a validated profile and languages', async () => {
    expect((await clerk.inject({ method: 'POST', url: `/books/${bookId}/reocr`, payload: { profile: 'typewriter', pages: [1] } })).statusCode).toBe(404);
    expect((await clerk.inject({ method: 'POST', url: `/books/${bookId}/reocr`, payload: { profile: 'nonsense' } })).statusCode).toBe(400);
    expect((await clerk.inject({ method: 'POST', url: `/books/${bookId}/reocr`, payload: { profile: 'printed', languages: ['xxx'] } })).statusCode).toBe(400);
  });
});
