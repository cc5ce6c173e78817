import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setPageImageInfo, upsertPage } from '../../archive/index.ts';
import { proposeZones, submitKeying } from '../../keying/index.ts';
import { upsertRecord } from '../../records/index.ts';
import { createBookWithRetention } from '../../retention/index.ts';
import { setClosure } from '../../test-support/closure.ts';
import { asUser, openTestApp, userHeaders, type Injector, type TestApp } from '../test-kit.ts';

// Bulk linking over HTTP: who may, closed books, and one audit event per link made.
describe('link proposals and bulk links API', () => {
  let t: TestApp;
  let rm: Injector;
  let clerk: Injector;
  let openBook: string;
  let closedBook: string;
  const entryOf: Record<string, string> = {};
  const recordOf: Record<string, string> = {};

  async function book(closedUntil: string, first: string, surname: string): Promise<string> {
    const db = t.deps.db;
    const { book: b } = await createBookWithRetention(db, { registerType: 'birth', municipality: 'Prizren', yearFrom: 1961, yearTo: 1961, languages: 'sqi', sourceFormat: 'tiff', sourceSha256: randomBytes(32).toString('hex'), sourceSize: 1 });
    await setClosure(db, b.id, closedUntil);
    const p = await upsertPage(db, b.id, 1);
    await setPageImageInfo(db, p.id, { width: 2000, height: 3000, dpiX: 300, dpiY: 300, orientation: 0, inkRatio: 0.05 });
    const [zone] = await proposeZones(db, p.id, { source: 'drawn', zones: [{ box: { x0: 10, y0: 100, x1: 1900, y1: 140 } }] }, { user: 'clerk' });
    const fields = Object.fromEntries(Object.entries({ entryNumber: '1', dateOfBirth: '03.04.1961', firstName: first, surname, sex: 'F', fatherName: 'Rexhep', mother: 'Hana Gashi', placeOfBirth: 'Prizren' }).map(([k, v]) => [k, { value: v }]));
    await submitKeying(db, zone!.id, 'keyer-1', fields);
    await submitKeying(db, zone!.id, 'keyer-2', fields);
    entryOf[b.id] = (await db.query<{ entry_id: string }>('SELECT entry_id FROM entry_zones WHERE id = $1', [zone!.id])).rows[0]!.entry_id;
    recordOf[b.id] = (await upsertRecord(db, { system: 'civil', recordType: 'birth', recordId: `R-${surname}`, personNames: [`${first} ${surname}`, `Rexhep ${surname}`], eventDate: '1961-04-03', municipality: 'Prizren' }, { user: 'rm' })).record.id;
    return b.id;
  }

  beforeAll(async () => {
    t = await openTestApp();
    rm = asUser(t.app, await userHeaders(t.deps.db, ['records_manager'], 'rm-bulk'));
    clerk = asUser(t.app, await userHeaders(t.deps.db, ['clerk'], 'clerk-bulk'));
    openBook = await book('2000-12-31', 'Teuta', 'Shala');
    closedBook = await book('2100-12-31', 'Mimoza', 'Kelmendi');
  }, 120_000);
  afterAll(async () => t?.close());

  it('lists proposals to records managers only, and for a closed book only with a stated purpose', async () => {
    const url = `/books/${openBook}/link-proposals`;
    expect((await clerk.inject({ method: 'GET', url })).statusCode).toBe(403);
    const r = await rm.inject({ method: 'GET', url });
    expect(r.statusCode, r.body).toBe(200);
    expect(r.json()).toMatchObject({ bookId: openBook, considered: 1, nextCursor: null, proposals: [{ entryId: entryOf[openBook], candidate: { record: { id: recordOf[openBook] } }, runnerUpScore: null }] });
    const refused = await rm.inject({ method: 'GET', url: `/books/${closedBook}/link-proposals` });
    expect(refused.statusCode).toBe(403);
    expect(refused.json().error.message).toMatch(/closed for privacy/);
    const purposed = await rm.inject({ method: 'GET', url: `/books/${closedBook}/link-proposals`, headers: { 'x-access-purpose': 'linking the 1961 births to the registry' } });
    expect(purposed.statusCode).toBe(200);
    expect(purposed.json().proposals).toHaveLength(1);
    expect((await rm.inject({ method: 'GET', url: `/books/${randomUUID()}/link-proposals` })).statusCode).toBe(404);
    expect((await rm.inject({ method: 'GET', url: `${url}?cursor=nonsense` })).statusCode).toBe(400);
  });

  it('links the accepted pairs with one audit event per link, and refuses the second submission', async () => {
    const url = `/books/${openBook}/links/bulk`;
    const payload = { links: [{ entryId: entryOf[openBook], recordId: recordOf[openBook] }] };
    expect((await clerk.inject({ method: 'POST', url, payload })).statusCode).toBe(403);
    expect((await rm.inject({ method: 'POST', url, payload: { links: [] } })).statusCode).toBe(400);
    const r = await rm.inject({ method: 'POST', url, payload });
    expect(r.statusCode, r.body).toBe(200);
    const body = r.json() as { linked: { link: { id: string; createdBy: string } }[]; refused: unknown[] };
    expect(body.refused).toEqual([]);
    expect(body.linked).toHaveLength(1);
    const linkId = body.linked[0]!.link.id;
    expect(body.linked[0]!.link.createdBy).toBe('rm-bulk');
    const events = await t.deps.db.query<{ action: string; actor: string; target_type: string; target_id: string; detail: Record<string, unknown> | string }>(
      `SELECT action, actor, target_type, target_id, detail FROM audit_events WHERE action IN ('link.create', 'link.bulk') ORDER BY seq`);
    const parsed = events.rows.map((e) => ({ ...e, detail: typeof e.detail === 'string' ? (JSON.parse(e.detail) as Record<string, unknown>) : e.detail }));
    expect(parsed.filter((e) => e.action === 'link.create')).toEqual([
      expect.objectContaining({ actor: 'rm-bulk', target_type: 'link', target_id: linkId, detail: expect.objectContaining({ via: 'bulk', entryId: entryOf[openBook], recordId: recordOf[openBook] }) }),
    ]);
    const bulk = parsed.filter((e) => e.action === 'link.bulk');
    expect(bulk.at(-1)).toMatchObject({ target_type: 'book', target_id: openBook, detail: { linked: [linkId], refused: [] } });

    // The clerks' CSV export of links marks the entry as keyed, with its page; importing it back is unaffected.
    const csv = await rm.inject({ method: 'GET', url: `/links/export?bookId=${openBook}` });
    expect(csv.statusCode).toBe(200);
    const [header, line] = csv.body.trim().split('\r\n').map((l) => l.split(','));
    expect(header!.slice(-2)).toEqual(['entry_source', 'entry_page']);
    expect(line![header!.indexOf('entry_id')]).toBe(entryOf[openBook]);
    expect(line!.slice(-2)).toEqual(['keyed', '1']);
    const record = await rm.inject({ method: 'GET', url: `/records/${recordOf[openBook]}` });
    expect(record.json().links[0].item).toMatchObject({ kind: 'entry', entrySource: 'keyed', imageHref: `/entries/${entryOf[openBook]}/image` });

    const again = await rm.inject({ method: 'POST', url, payload });
    expect(again.json()).toMatchObject({ linked: [], refused: [{ entryId: entryOf[openBook], error: expect.stringMatching(/without a link/) }] });
    expect((await rm.inject({ method: 'GET', url: `/books/${openBook}/link-proposals` })).json().proposals).toEqual([]);
    // A closed book's entries are linked only with a stated purpose.
    const closed = { links: [{ entryId: entryOf[closedBook], recordId: recordOf[closedBook] }] };
    expect((await rm.inject({ method: 'POST', url: `/books/${closedBook}/links/bulk`, payload: closed })).statusCode).toBe(403);
  });
});
