import { randomBytes } from 'node:crypto';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordObject, setPageImageInfo, upsertPage } from '../../archive/index.ts';
import { createBookWithRetention } from '../../retention/index.ts';
import { insertPageWords } from '../../test-support/seed-words.ts';
import { openTestApp, userHeaders, type TestApp } from '../test-kit.ts';

// One embedded app (PGlite starts in ~10 s) for the search, entries, records and images routes.
describe('search, entries, records and images API', () => {
  let t: TestApp;
  let bookId: string;
  let pageId: string;
  const w = (text: string, i: number, line: number) => ({ text, confidence: 90, line, block: 0, box: { x0: 20 + i * 120, y0: 40 + line * 60, x1: 130 + i * 120, y1: 90 + line * 60 } });

  beforeAll(async () => {
    t = await openTestApp();
    const db = t.deps.db;
    // A register whose closure has ended (births 1900: closed until 2000-12-31), archived as the API does (issue 18).
    ({ book: { id: bookId } } = await createBookWithRetention(db, { registerType: 'birth', municipality: 'Prizren', yearFrom: 1900, yearTo: 1900, languages: 'sqi', sourceFormat: 'tiff', sourceSha256: randomBytes(32).toString('hex'), sourceSize: 1 }));
    const page = await upsertPage(db, bookId, 1);
    pageId = page.id;
    const png = await sharp({ create: { width: 800, height: 400, channels: 3, background: '#f0f0f0' } }).png().toBuffer();
    const put = await t.deps.store.putContentAddressed('masters', png, { contentType: 'image/png' });
    await recordObject(db, { bookId, pageId, role: 'master', revision: 1 }, put, 'image/png');
    await setPageImageInfo(db, pageId, { width: 800, height: 400, dpiX: null, dpiY: null, orientation: 0 });
    await insertPageWords(db, { bookId, pageId, revision: 1 }, [
      w('1', 0, 0), w('Arbën', 1, 0), w('Krasnlqi', 2, 0), w('Prizren', 3, 0),
      w('2', 0, 1), w('Марко', 1, 1), w('Петровић', 2, 1), w('Пећ', 3, 1),
    ]);
  });
  afterAll(async () => t?.close());

  it('searches pages: fuzzy, Latin → Cyrillic, with boxes, snippet and cursor', async () => {
    const r = await t.api.inject({ method: 'GET', url: '/search?q=krasniqi&registerType=birth&yearFrom=1895&yearTo=1905' });
    expect(r.statusCode).toBe(200);
    const hit = r.json().hits[0];
    expect(hit).toMatchObject({ pageId, sequence: 1, snippet: '1 Arbën «Krasnlqi» Prizren' });
    expect(hit.words[0].box).toEqual({ x0: 260, y0: 40, x1: 370, y1: 90 });
    const cyr = (await t.api.inject({ method: 'GET', url: '/search?q=Marko%20Petrovic&mode=phrase' })).json();
    expect(cyr.hits[0].words.map((x: { text: string }) => x.text)).toEqual(['Марко', 'Петровић']);
    expect((await t.api.inject({ method: 'GET', url: '/search?q=x&cursor=bad' })).statusCode).toBe(400);
    expect((await t.api.inject({ method: 'GET', url: '/search?q=krasniqi&registerType=death' })).json().hits).toEqual([]);
  });

  let entryId: string;
  it('creates, proposes, edits, verifies and searches entries by field', async () => {
    const c = await t.api.inject({
      method: 'POST', url: `/books/${bookId}/pages/1/entries`, headers: await userHeaders(t.deps.db, ['clerk'], 'clerk1'),
      payload: { box: { x0: 20, y0: 40, x1: 600, y1: 90 }, eventType: 'birth', entryNumber: '1', eventDate: '1958-03-02', place: 'Prizren', names: [{ role: 'subject', name: 'Arbën Krasniqi' }, { role: 'father', name: 'Gëzim Krasniqi' }] },
    });
    expect(c.statusCode).toBe(201);
    entryId = c.json().entry.id;
    expect(c.json().entry).toMatchObject({ status: 'verified', createdBy: 'clerk1', verifiedBy: 'clerk1', pageSequence: 1 });
    const p = await t.api.inject({ method: 'POST', url: `/books/${bookId}/pages/1/entries/propose`, payload: { eventType: 'birth' } });
    expect(p.json().entries).toHaveLength(1);
    expect(p.json().entries[0]).toMatchObject({ entryNumber: '2', status: 'proposed', source: 'ocr', ocrText: '2 Марко Петровић Пећ' });
    const s = await t.api.inject({ method: 'GET', url: '/entries?name=arben%20krasniqi&role=subject&dateFrom=1958&dateTo=1958' });
    expect(s.json().entries.map((e: { id: string }) => e.id)).toEqual([entryId]);
    expect((await t.api.inject({ method: 'GET', url: '/entries?name=gezim&role=subject' })).json().entries).toEqual([]);
    const u = await t.api.inject({ method: 'PATCH', url: `/entries/${entryId}`, payload: { marginalNotes: 'amended 1970' } });
    expect(u.json().entry.marginalNotes).toBe('amended 1970');
    const v = await t.api.inject({ method: 'POST', url: `/entries/${p.json().entries[0].id}/verify`, payload: { status: 'rejected' } });
    expect(v.json().entry.status).toBe('rejected');
    const d = await t.api.inject({ method: 'DELETE', url: `/entries/${p.json().entries[0].id}` });
    expect(d.statusCode).toBe(204);
    expect((await t.api.inject({ method: 'GET', url: `/books/${bookId}/pages/1/entries` })).json().entries).toHaveLength(1);
  });

  it('imports records (JSON and CSV, per-row errors), links both ways with the crop, unlinks with history', async () => {
    const j = await t.api.inject({ method: 'POST', url: '/records/import', payload: { records: [{ system: 'CRS', recordType: 'birth', recordId: 'B-1', personNames: ['Arbën Krasniqi'], eventDate: '1958-03-02', municipality: 'Prizren' }, { system: '', recordType: 'birth', recordId: 'x', personNames: [] }] } });
    expect(j.json()).toEqual({ created: 1, updated: 0, errors: [{ row: 2, error: 'system is required' }] });
    const csv = 'system,record_type,record_id,person_names,event_date,municipality\nCRS,birth,B-2,"Marko Petrović;Ana Petrović",1962,Peć\nCRS,birth,B-3,Bad Date,19xx,Peć\nCRS,birth,B-1,Arbën Krasniqi,1958-03-02,Prizren\n';
    const c = await t.api.inject({ method: 'POST', url: '/records/import', headers: { 'content-type': 'text/csv' }, payload: csv });
    expect(c.json()).toEqual({ created: 1, updated: 1, errors: [{ row: 3, error: 'eventDate must be YYYY, YYYY-MM or YYYY-MM-DD' }] });
    const rec = (await t.api.inject({ method: 'GET', url: '/records?name=krasniqi' })).json().records[0];
    expect(rec.recordId).toBe('B-1');

    const l = await t.api.inject({ method: 'POST', url: '/links', headers: await userHeaders(t.deps.db, ['clerk'], 'clerk2'), payload: { recordId: rec.id, entryId, linkType: 'original-entry', reason: 'matched by name and date' } });
    expect(l.statusCode).toBe(201);
    expect((await t.api.inject({ method: 'POST', url: '/links', payload: { recordId: rec.id, entryId, linkType: 'original-entry' } })).statusCode).toBe(409);
    const fromRecord = (await t.api.inject({ method: 'GET', url: `/records/${rec.id}` })).json();
    expect(fromRecord.links[0].item).toMatchObject({ kind: 'entry', entryId, pageSequence: 1, box: { x0: 20, y0: 40, x1: 600, y1: 90 }, imageHref: `/entries/${entryId}/image` });
    const crop = await t.api.inject({ method: 'GET', url: fromRecord.links[0].item.imageHref });
    expect(crop.statusCode).toBe(200);
    expect(crop.headers['content-type']).toBe('image/jpeg');
    expect((await sharp(crop.rawPayload).metadata()).width).toBe(596);
    const fromEntry = (await t.api.inject({ method: 'GET', url: `/entries/${entryId}/links` })).json();
    expect(fromEntry.links[0]).toMatchObject({ createdBy: 'clerk2', record: { recordId: 'B-1' } });
    expect((await t.api.inject({ method: 'GET', url: `/pages/${pageId}/links` })).json().links).toHaveLength(1);

    const u = await t.api.inject({ method: 'POST', url: `/links/${l.json().link.id}/unlink`, payload: { reason: 'wrong person' } });
    expect(u.json().link).toMatchObject({ unlinkReason: 'wrong person', unlinkedBy: 'tester' });
    expect((await t.api.inject({ method: 'GET', url: `/entries/${entryId}/links` })).json().links).toEqual([]);
    expect((await t.api.inject({ method: 'GET', url: `/entries/${entryId}/links?history=true` })).json().links).toHaveLength(1);

    const bulk = `action,system,record_type,record_id,book_id,page,entry_id,link_type,reason\nlink,CRS,birth,B-2,${bookId},1,,original-entry,bulk\nlink,CRS,birth,NOPE,${bookId},1,,original-entry,\nlink,CRS,birth,B-2,${bookId},9,,original-entry,\nlink,CRS,birth,B-1,${bookId},,,amendment,\n`;
    const b = await t.api.inject({ method: 'POST', url: '/links/import', headers: { 'content-type': 'text/csv' }, payload: bulk });
    expect(b.json().created).toBe(2);
    expect(b.json().errors.map((e: { row: number }) => e.row)).toEqual([3, 4]);
    const exp = await t.api.inject({ method: 'GET', url: `/links/export?bookId=${bookId}&history=true` });
    expect(exp.headers['content-type']).toMatch(/text\/csv/);
    expect(exp.body.trim().split('\r\n')).toHaveLength(4);
    expect((await t.api.inject({ method: 'GET', url: `/books/${bookId}/links` })).json().links).toHaveLength(1);
  });

  it('serves the page at a width and a region, with ETag and never stored by caches', async () => {
    const r = await t.api.inject({ method: 'GET', url: `/books/${bookId}/pages/1/image?width=400` });
    expect(r.statusCode).toBe(200);
    expect((await sharp(r.rawPayload).metadata()).width).toBe(400);
    // Personal data: no cache may keep it (issue 18), pinned revision or not; the ETag still answers 304.
    expect(r.headers['cache-control']).toBe('no-store');
    const etag = r.headers.etag as string;
    expect(etag).toMatch(/^"[0-9a-f]{64}"$/);
    const again = await t.api.inject({ method: 'GET', url: `/books/${bookId}/pages/1/image?width=400`, headers: { 'if-none-match': etag } });
    expect(again.statusCode).toBe(304);
    const pinned = await t.api.inject({ method: 'GET', url: `/books/${bookId}/pages/1/image?width=400&revision=1` });
    expect(pinned.headers['cache-control']).toBe('no-store');
    expect(pinned.headers.etag).toBe(etag);
    const crop = await t.api.inject({ method: 'GET', url: `/books/${bookId}/pages/1/image?width=100&x0=10&y0=10&x1=210&y1=110` });
    expect(await sharp(crop.rawPayload).metadata()).toMatchObject({ width: 100, height: 50 });
    expect((await t.api.inject({ method: 'GET', url: `/books/${bookId}/pages/1/image?width=100&x0=10&y0=10&x1=900&y1=110` })).statusCode).toBe(400);
    const doc = (await t.api.inject({ method: 'GET', url: '/docs/json' })).json();
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/search', '/entries/{entryId}', '/records/import', '/links', '/books/{bookId}/pages/{sequence}/image']));
  });
});
