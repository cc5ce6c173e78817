/**
 * What the everyday screens ask of the API (issue 22, points 5 and 8): whether a failed page's retry
 * can help, and the audit trail filtered by category with the names it holds. Embedded deps.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claimPageForStage, markPageFailed, recordEvent, recordObject, upsertPage } from '../../archive/index.ts';
import { appendAuditEvent, listAuditEvents } from '../../audit/index.ts';
import { createBookWithRetention } from '../../retention/index.ts';
import { asUser, openTestApp, userHeaders, type Injector, type TestApp } from '../test-kit.ts';

describe('everyday screens: retryable failures and audit categories', () => {
  let t: TestApp;
  let digitiser: Injector;
  let auditor: Injector;

  beforeAll(async () => {
    t = await openTestApp();
    digitiser = asUser(t.app, await userHeaders(t.deps.db, ['digitiser'], 'dg-everyday'));
    auditor = asUser(t.app, await userHeaders(t.deps.db, ['auditor'], 'au-everyday'));
  }, 60_000);
  afterAll(async () => t?.close());

  it('says for each failed page whether a retry can help: not for a page the split could not take from the original', async () => {
    const db = t.deps.db;
    const { book } = await createBookWithRetention(db, { registerType: 'birth', municipality: 'Pejë', yearFrom: 1961, yearTo: 1961, languages: 'sqi', sourceFormat: 'zip', sourceSha256: randomBytes(32).toString('hex'), sourceSize: 1 });
    const [split, ocr, busy] = await Promise.all([1, 2, 3].map((s) => upsertPage(db, book.id, s)));
    await markPageFailed(db, split!.id, 'book.split', 'file notes.txt: file is not a TIFF, PDF, PNG, JPEG or ZIP; it looks like a text file (a note or a list, not a scan)');
    await recordObject(db, { bookId: book.id, pageId: ocr!.id, role: 'source', revision: 1 }, await t.deps.store.putContentAddressed('sources', Buffer.from('source image'), { contentType: 'image/png' }), 'image/png');
    await markPageFailed(db, ocr!.id, 'page.ocr', 'page.ocr: OCR exceeded the page time bound of 60000 ms with every profile (3); needs review');
    await claimPageForStage(db, busy!, 'page.ocr');

    const res = await digitiser.inject({ method: 'GET', url: `/books/${book.id}/pages` });
    expect(res.statusCode, res.body).toBe(200);
    const pages = (res.json() as { pages: { sequence: number; status: string; stage: string; retryable?: boolean }[] }).pages;
    expect(pages.map((p) => [p.sequence, p.status, p.stage, p.retryable])).toEqual([[1, 'failed', 'book.split', false], [2, 'failed', 'page.ocr', true], [3, 'processing', 'page.ocr', undefined]]);
    // What the flag promises: the retry of the page it calls retryable is accepted, of the other refused.
    expect((await digitiser.inject({ method: 'POST', url: `/books/${book.id}/retry`, payload: { pages: [1] } })).statusCode).toBe(409);
    expect((await digitiser.inject({ method: 'POST', url: `/books/${book.id}/retry`, payload: { pages: [2] } })).statusCode).toBe(202);
  });

  it('gives the processing overview: jobs per stage, and the newest failures across books with title, page, stage and reason', async () => {
    const db = t.deps.db;
    const { book } = await createBookWithRetention(db, { registerType: 'death', municipality: 'Prizren', yearFrom: 1970, yearTo: 1971, languages: 'sqi', sourceFormat: 'tiff', sourceSha256: randomBytes(32).toString('hex'), sourceSize: 1 });
    const [p4, p7] = await Promise.all([4, 7].map((s) => upsertPage(db, book.id, s)));
    const timeout = 'OCR exceeded the page time bound of 60000 ms with every profile (3); needs review';
    await recordEvent(db, { bookId: book.id, pageId: p4!.id, type: 'ocr', agent: 'arkiva page.ocr', outcome: 'failure', detail: timeout });
    await recordEvent(db, { bookId: book.id, pageId: p7!.id, type: 'ocr', agent: 'arkiva page.ocr', outcome: 'success', detail: 'read' });
    await recordEvent(db, { bookId: book.id, pageId: p7!.id, type: 'ocr', agent: 'arkiva page.ocr', outcome: 'failure', detail: timeout });
    const res = await digitiser.inject({ method: 'GET', url: '/processing?limit=2' });
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json() as { queues: Record<string, Record<string, number>>; failures: { sequence: number; stage: string; reason: string; book: { municipality: string } }[] };
    expect(body.failures.map((f) => [f.sequence, f.stage, f.reason, f.book.municipality])).toEqual([[7, 'page.ocr', timeout, 'Prizren'], [4, 'page.ocr', timeout, 'Prizren']]);
    expect(body.queues['page.ocr']).toMatchObject({ waiting: expect.any(Number), active: expect.any(Number), failed: expect.any(Number) });
    expect((await auditor.inject({ method: 'GET', url: '/processing' })).statusCode).toBe(403);
  });

  it('corrects a book\'s title metadata, audited with the values before and after; refuses bad years and other roles', async () => {
    const { book } = await createBookWithRetention(t.deps.db, { registerType: 'marriage', municipality: 'Prizern', yearFrom: 1905, yearTo: 1905, volume: '1', languages: 'sqi', sourceFormat: 'tiff', sourceSha256: randomBytes(32).toString('hex'), sourceSize: 1 });
    const res = await digitiser.inject({ method: 'PATCH', url: `/books/${book.id}`, payload: { municipality: ' Prizren ', year: '1905-1906', volume: '' } });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().book).toMatchObject({ municipality: 'Prizren', yearFrom: 1905, yearTo: 1906, registerType: 'marriage' });
    expect(res.json().book.volume ?? null).toBeNull();
    const [ev] = await listAuditEvents(t.deps.db, { action: 'book.edit', targetId: book.id });
    expect(ev).toMatchObject({ actor: 'dg-everyday', outcome: 'ok', detail: { changed: { municipality: { from: 'Prizern', to: 'Prizren' }, yearTo: { from: 1905, to: 1906 }, volume: { from: '1', to: null } } } });
    expect(Object.keys((ev!.detail as { changed: object }).changed)).not.toContain('yearFrom');

    const bad = await digitiser.inject({ method: 'PATCH', url: `/books/${book.id}`, payload: { year: '1970-1960' } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.message).toMatch(/after the last/);
    expect((await digitiser.inject({ method: 'PATCH', url: `/books/${book.id}`, payload: { municipality: '   ' } })).statusCode).toBe(400);
    expect((await digitiser.inject({ method: 'PATCH', url: `/books/${book.id}`, payload: {} })).statusCode).toBe(400);
    expect((await digitiser.inject({ method: 'PATCH', url: `/books/${book.id}`, payload: { registerType: 'birth' } })).statusCode).toBe(400);
    expect((await auditor.inject({ method: 'PATCH', url: `/books/${book.id}`, payload: { volume: '2' } })).statusCode).toBe(403);
    // Moving the years could open a closed book: a closed book's details are not the digitiser's to change.
    const { book: recent } = await createBookWithRetention(t.deps.db, { registerType: 'birth', municipality: 'Prizren', yearFrom: 1990, yearTo: 1990, languages: 'sqi', sourceFormat: 'tiff', sourceSha256: randomBytes(32).toString('hex'), sourceSize: 1 });
    const closed = await digitiser.inject({ method: 'PATCH', url: `/books/${recent.id}`, payload: { year: '1890' } });
    expect(closed.statusCode, closed.body).toBe(403);
    expect((await t.deps.db.query<{ year_from: number }>('SELECT year_from FROM books WHERE id = $1', [recent.id])).rows).toEqual([{ year_from: 1990 }]);
  });

  it('filters the audit trail by a category of actions, and lists the action names with their counts', async () => {
    for (const action of ['holdtest.place', 'holdtest.release', 'holdtest.place', 'holdtestx.other']) {
      await appendAuditEvent(t.deps.db, { actor: 'someone', action, targetType: 'hold', targetId: 'h1', outcome: 'ok' });
    }
    const events = async (action: string) => {
      const r = await auditor.inject({ method: 'GET', url: `/audit/events?${new URLSearchParams({ action, limit: '1000' })}` });
      expect(r.statusCode, r.body).toBe(200);
      return (r.json() as { events: { action: string }[] }).events.map((e) => e.action);
    };
    expect(await events('holdtest.*')).toEqual(['holdtest.place', 'holdtest.release', 'holdtest.place']);
    expect(await events('holdtest.')).toEqual(['holdtest.place', 'holdtest.release', 'holdtest.place']);
    expect(await events('holdtest.place')).toEqual(['holdtest.place', 'holdtest.place']);
    // A name is not a prefix: without the dot nothing else matches.
    expect(await events('holdtest')).toEqual([]);

    const r = await auditor.inject({ method: 'GET', url: '/audit/actions' });
    expect(r.statusCode, r.body).toBe(200);
    const actions = (r.json() as { actions: { action: string; count: number }[] }).actions;
    expect(actions.filter((a) => a.action.startsWith('holdtest'))).toEqual([
      { action: 'holdtest.place', count: 2 }, { action: 'holdtest.release', count: 1 }, { action: 'holdtestx.other', count: 1 },
    ]);
    expect((await digitiser.inject({ method: 'GET', url: '/audit/actions' })).statusCode).toBe(403);
  });
});
