import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setPageOcr, setPageType, upsertPage } from '../../archive/index.ts';
import { createBookWithRetention } from '../../retention/index.ts';
import { seedDisposedBook } from '../../test-support/tombstone.ts';
import { asUser, openTestApp, userHeaders, type Injector, type TestApp } from '../test-kit.ts';

// Books are picked by title, lists that carry book ids name them, and a disposed book explains itself.
describe('book titles, browsing and tombstones', () => {
  let t: TestApp;
  let rm: Injector;
  let digitiser: Injector;
  let auditor: Injector;
  const ids: Record<string, string> = {};

  async function book(key: string, registerType: 'birth' | 'death', municipality: string, yearFrom: number, yearTo: number, volume?: string) {
    const { book: b } = await createBookWithRetention(t.deps.db, {
      registerType, municipality, yearFrom, yearTo, ...(volume ? { volume } : {}), languages: 'sqi', sourceFormat: 'tiff', sourceSha256: randomBytes(32).toString('hex'), sourceSize: 1,
    });
    ids[key] = b.id;
  }

  beforeAll(async () => {
    t = await openTestApp();
    rm = asUser(t.app, await userHeaders(t.deps.db, ['records_manager'], 'rm-titles'));
    digitiser = asUser(t.app, await userHeaders(t.deps.db, ['digitiser'], 'dg-titles'));
    auditor = asUser(t.app, await userHeaders(t.deps.db, ['auditor'], 'au-titles'));
    await book('prizren58', 'birth', 'Prizren', 1958, 1958, '2');
    await book('prishtina60', 'birth', 'Prishtinë', 1960, 1962);
    await book('prizrenDeath', 'death', 'Prizren', 1961, 1961);
  }, 60_000);
  afterAll(async () => t?.close());

  it('lets records managers browse books by title words, type, municipality and year', async () => {
    const find = async (query: Record<string, string>) => {
      const r = await rm.inject({ method: 'GET', url: `/books?${new URLSearchParams(query)}` });
      expect(r.statusCode, r.body).toBe(200);
      return (r.json() as { books: { id: string }[] }).books.map((b) => b.id).sort();
    };
    expect(await find({ q: 'birth priz' })).toEqual([ids.prizren58]);
    expect(await find({ q: 'PRISHTINË 1962' })).toEqual([ids.prishtina60]);
    expect(await find({ municipality: 'priz' })).toEqual([ids.prizren58, ids.prizrenDeath].sort());
    expect(await find({ registerType: 'death' })).toEqual([ids.prizrenDeath]);
    expect(await find({ year: '1961' })).toEqual([ids.prishtina60, ids.prizrenDeath].sort());
    expect(await find({ q: '100%' })).toEqual([]);
    expect((await rm.inject({ method: 'GET', url: '/books?registerType=novel' })).statusCode).toBe(400);
  });

  it('folds diacritics and script in title words and municipality, over every name the gazetteer gives it', async () => {
    const find = async (query: Record<string, string>) =>
      ((await rm.inject({ method: 'GET', url: `/books?${new URLSearchParams(query)}` })).json() as { books: { id: string }[] }).books.map((b) => b.id).sort();
    expect(await find({ q: 'prishtine' })).toEqual([ids.prishtina60]);
    expect(await find({ q: 'birth Приштина 1960' })).toEqual([ids.prishtina60]);
    expect(await find({ q: 'pristina' })).toEqual([ids.prishtina60]);
    expect(await find({ q: 'Призрен' })).toEqual([ids.prizren58, ids.prizrenDeath].sort());
    expect(await find({ q: 'priz', year: '1958' })).toEqual([ids.prizren58]);
    expect(await find({ municipality: 'prisht' })).toEqual([ids.prishtina60]);
    expect(await find({ municipality: 'Приш' })).toEqual([ids.prishtina60]);
    expect(await find({ q: 'prishtine 1958' })).toEqual([]);
    expect(await find({ q: '·' })).toEqual([]);
    // Paged by the same cursor as the plain listing: two pages of one give both Prizren books, newest first, once each.
    const first = (await rm.inject({ method: 'GET', url: '/books?q=prizren&limit=1' })).json() as { books: { id: string }[]; nextBefore: string };
    const second = (await rm.inject({ method: 'GET', url: `/books?q=prizren&limit=1&before=${first.nextBefore}` })).json() as { books: { id: string }[] };
    expect([first.books[0]!.id, second.books[0]!.id]).toEqual([ids.prizrenDeath, ids.prizren58]);
  });

  it('names the books of holds, batches and audit events, disposed ones from their tombstone', async () => {
    const gone = await seedDisposedBook(t.deps.db, { registerType: 'marriage', municipality: 'Pejë', yearFrom: 1950, yearTo: 1951 });
    const hold = await rm.inject({ method: 'POST', url: '/retention/holds', payload: { name: 'Case 7', reason: 'court order', authority: 'Court', items: [{ bookId: ids.prizren58 }] } });
    expect(hold.statusCode, hold.body).toBe(201);
    const holds = (await rm.inject({ method: 'GET', url: '/retention/holds' })).json() as { holds: { name: string; items: { book: unknown }[] }[] };
    expect(holds.holds.find((x) => x.name === 'Case 7')!.items[0]!.book).toMatchObject({ registerType: 'birth', municipality: 'Prizren', yearFrom: 1958, volume: '2', disposed: false });
    const batches = (await rm.inject({ method: 'GET', url: '/ui-api/disposal/batches' })).json() as { batches: { id: string; items: { book: unknown }[] }[] };
    expect(batches.batches.find((b) => b.id === gone.batchId)!.items[0]!.book).toMatchObject({ registerType: 'marriage', municipality: 'Pejë', yearFrom: 1950, yearTo: 1951, disposed: true });
    expect((await rm.inject({ method: 'GET', url: `/books/${gone.bookId}/tombstone` })).statusCode).toBe(200);
    const events = (await auditor.inject({ method: 'GET', url: `/audit/events?targetType=book&targetId=${gone.bookId}&limit=10` })).json() as { events: { book?: unknown }[] };
    expect(events.events.length).toBeGreaterThan(0);
    for (const e of events.events) expect(e.book).toMatchObject({ registerType: 'marriage', municipality: 'Pejë', disposed: true });
    // Newest first, and paged back from there by sequence number (reads are audited too, so the chain is read last).
    const seqs = async (qs: string) => ((await auditor.inject({ method: 'GET', url: `/audit/events?${qs}` })).json() as { events: { seq: number }[] }).events.map((e) => e.seq);
    const newest = await seqs('newestFirst=true&limit=3');
    const older = await seqs(`newestFirst=true&limit=2&beforeSeq=${newest[2]}`);
    const chain = await seqs('limit=1000');
    expect(newest).toEqual(chain.filter((n) => n <= newest[0]!).slice(-3).reverse());
    expect(older).toEqual(chain.filter((n) => n < newest[2]!).slice(-2).reverse());
  });

  it("gives a page's type and OCR engine with its detail, null before classification and OCR", async () => {
    const db = t.deps.db;
    const page = await upsertPage(db, ids.prizrenDeath!, 1);
    const url = `/books/${ids.prizrenDeath}/pages/1`;
    expect((await digitiser.inject({ method: 'GET', url })).json().facts).toEqual({ pageType: null, ocrEngine: null });
    await setPageOcr(db, page.id, 'text', 81, 'tesseract-5');
    await setPageType(db, page.id, 'cover', 'test');
    expect((await digitiser.inject({ method: 'GET', url })).json().facts).toEqual({ pageType: 'cover', ocrEngine: 'tesseract-5' });
  });

  it('answers a disposed book id with its tombstone, audited, and a live or unknown id with 404', async () => {
    const gone = await seedDisposedBook(t.deps.db, { registerType: 'death', municipality: 'Gjakovë', yearFrom: 1970, yearTo: 1970, volume: '1', pages: 3 });
    expect((await digitiser.inject({ method: 'GET', url: `/books/${gone.bookId}` })).json()).toMatchObject({ error: { code: 'ERR_BOOK_NOT_FOUND' } });
    const r = await digitiser.inject({ method: 'GET', url: `/books/${gone.bookId}/tombstone` });
    expect(r.statusCode, r.body).toBe(200);
    expect(r.json()).toMatchObject({ tombstone: { bookId: gone.bookId, registerType: 'death', municipality: 'Gjakovë', volume: '1', batchId: gone.batchId, status: 'disposed', disposedAt: gone.disposedAt, pages: 3, hasCertificate: true } });
    expect((await auditor.inject({ method: 'GET', url: `/books/${gone.bookId}/tombstone` })).statusCode).toBe(200);
    expect((await rm.inject({ method: 'GET', url: `/books/${ids.prizren58}/tombstone` })).statusCode).toBe(404);
    const audit = (await auditor.inject({ method: 'GET', url: `/audit/events?action=book.tombstone.read&targetId=${gone.bookId}` })).json() as { events: { actor: string }[] };
    expect(audit.events.map((e) => e.actor)).toEqual(expect.arrayContaining(['dg-titles', 'au-titles']));
  });
});
