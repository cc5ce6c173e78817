import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setPageImageInfo, upsertPage } from '../../archive/index.ts';
import { createBookWithRetention } from '../../retention/index.ts';
import { setClosure } from '../../test-support/closure.ts';
import { asUser, openTestApp, userHeaders, type Injector, type TestApp } from '../test-kit.ts';

// The keying workflow over HTTP: who may do what, and two keyers, an arbitrator and a search.
describe('keying API', () => {
  let t: TestApp;
  let rm: Injector;
  let ana: Injector;
  let ben: Injector;
  let rev: Injector;
  let revKeyer: Injector;
  let digitiser: Injector;
  let auditor: Injector;
  let openBook: string;
  let closedBook: string;

  const birth = (over: Record<string, string> = {}) => Object.fromEntries(Object.entries({
    entryNumber: '4', dateOfBirth: '2.5.1900', firstName: 'Arbën', surname: 'Çitaku', sex: 'M', fatherName: 'Gëzim', mother: 'Drita Hoxha', placeOfBirth: 'Shkodër', ...over,
  }).map(([k, v]) => [k, { value: v }]));

  async function book(closedUntil: string): Promise<string> {
    const { book: b } = await createBookWithRetention(t.deps.db, { registerType: 'birth', municipality: 'Shkodër', yearFrom: 1900, yearTo: 1900, languages: 'sqi', sourceFormat: 'tiff', sourceSha256: randomBytes(32).toString('hex'), sourceSize: 1 });
    await setClosure(t.deps.db, b.id, closedUntil);
    const p = await upsertPage(t.deps.db, b.id, 1);
    await setPageImageInfo(t.deps.db, p.id, { width: 2000, height: 3000, dpiX: 300, dpiY: 300, orientation: 0, inkRatio: 0.05 });
    return b.id;
  }

  beforeAll(async () => {
    t = await openTestApp();
    const db = t.deps.db;
    rm = asUser(t.app, await userHeaders(db, ['records_manager'], 'rm-keying'));
    ana = asUser(t.app, await userHeaders(db, ['clerk'], 'ana-keyer'));
    ben = asUser(t.app, await userHeaders(db, ['clerk'], 'ben-keyer'));
    rev = asUser(t.app, await userHeaders(db, ['reviewer'], 'rev-arbiter'));
    revKeyer = asUser(t.app, await userHeaders(db, ['reviewer'], 'rev-keyer'));
    digitiser = asUser(t.app, await userHeaders(db, ['digitiser'], 'digi-keying'));
    auditor = asUser(t.app, await userHeaders(db, ['auditor'], 'auditor-keying'));
    openBook = await book('2000-12-31');
    closedBook = await book('2100-12-31');
  });
  afterAll(async () => t?.close());

  it('lets records managers define layout versions and refuses keying routes to roles without them', async () => {
    const layout = { key: 'birth-1900', name: 'Birth form 1900', registerType: 'birth', yearFrom: 1890, yearTo: 1910, columns: [{ key: 'nr', field: 'entry_number' }], changeReason: 'first' };
    expect((await ana.inject({ method: 'POST', url: '/keying/layouts', payload: layout })).statusCode).toBe(403);
    expect((await digitiser.inject({ method: 'POST', url: '/keying/layouts', payload: layout })).statusCode).toBe(403);
    const v1 = await rm.inject({ method: 'POST', url: '/keying/layouts', payload: layout });
    expect(v1.statusCode, v1.body).toBe(201);
    const v2 = await rm.inject({ method: 'POST', url: '/keying/layouts', payload: { ...layout, key: 'birth-1900', yearTo: 1905, changeReason: 'narrower period' } });
    expect(v2.json().layout).toMatchObject({ key: 'birth-1900', version: 2, yearTo: 1905, changeReason: 'narrower period', createdBy: 'rm-keying' });
    const versions = await ana.inject({ method: 'GET', url: '/keying/layouts/birth-1900/versions' });
    expect(versions.json().layouts.map((l: { version: number; supersededAt: string | null }) => [l.version, l.supersededAt === null])).toEqual([[1, false], [2, true]]);
    const bad = await rm.inject({ method: 'POST', url: '/keying/layouts', payload: { ...layout, columns: [{ key: 'nr', field: 'nickname' }] } });
    expect(bad.statusCode).toBe(400);

    expect((await auditor.inject({ method: 'GET', url: '/keying/next' })).statusCode).toBe(403);
    expect((await digitiser.inject({ method: 'POST', url: `/books/${openBook}/pages/1/zones`, payload: { source: 'drawn', zones: [{ box: { x0: 0, y0: 0, x1: 9, y1: 9 } }] } })).statusCode).toBe(403);
    expect((await ana.inject({ method: 'GET', url: '/keying/disputes' })).statusCode).toBe(403);
    expect((await auditor.inject({ method: 'GET', url: '/keying/stats' })).statusCode).toBe(403);
  });

  it('accepts the reviewer role when an admin creates a user', async () => {
    const r = await t.api.inject({ method: 'POST', url: '/users', payload: { username: 'rev-new', roles: ['reviewer'] } });
    expect(r.statusCode, r.body).toBe(201);
    expect(r.json().user.roles).toEqual(['reviewer']);
  });

  it('runs two blind keyings, a dispute and an arbitration to an entry found by search, audited at each step', async () => {
    const zones = await ana.inject({ method: 'POST', url: `/books/${openBook}/pages/1/zones`, payload: { layoutKey: 'birth-default', source: 'detected', zones: [{ box: { x0: 10, y0: 300, x1: 1900, y1: 360 } }] } });
    expect(zones.statusCode, zones.body).toBe(201);
    const zoneId = zones.json().zones[0].id as string;

    const next = await ana.inject({ method: 'GET', url: `/keying/next?bookId=${openBook}` });
    expect(next.json().task.zone.id).toBe(zoneId);
    expect(next.json().task.layout.columns).toHaveLength(8);
    const badAnswer = await ana.inject({ method: 'POST', url: `/keying/zones/${zoneId}/keyings`, payload: { fields: { ...birth(), sex: { answer: 'unsure' } } } });
    expect(badAnswer.statusCode).toBe(400);
    const first = await ana.inject({ method: 'POST', url: `/keying/zones/${zoneId}/keyings`, payload: { fields: { ...birth({ dateOfBirth: '2.5.1901' }), sex: { answer: 'illegible' } } } });
    expect(first.statusCode, first.body).toBe(201);
    expect(first.json()).toMatchObject({ zoneStatus: 'keyed-once', keying: { slot: 1, warnings: [{ column: 'dateOfBirth', code: 'outside-book-years' }] } });
    // Blind: the second keyer is handed the zone with nothing of the first keying.
    const bens = await ben.inject({ method: 'GET', url: `/keying/next?bookId=${openBook}` });
    expect(bens.json().task.zone.id).toBe(zoneId);
    expect(bens.body).not.toMatch(/Çitaku|1901|illegible/);
    expect((await ana.inject({ method: 'GET', url: `/keying/next?bookId=${openBook}` })).json().task).toBeNull();
    const second = await ben.inject({ method: 'POST', url: `/keying/zones/${zoneId}/keyings`, payload: { fields: { ...birth({ surname: 'Citaku' }), sex: { value: 'M' } } } });
    expect(second.json()).toMatchObject({ zoneStatus: 'disputed' });
    expect(second.body).not.toMatch(/Çitaku|1901/);

    expect((await ana.inject({ method: 'POST', url: `/keying/zones/${zoneId}/decision`, payload: { fields: { surname: { pick: 'a' } } } })).statusCode).toBe(403);
    const disputes = await rev.inject({ method: 'GET', url: `/keying/disputes?bookId=${openBook}` });
    expect(disputes.statusCode).toBe(200);
    const d = disputes.json().disputes[0];
    expect(d.differences).toEqual(['dateOfBirth', 'surname', 'sex']);
    expect([d.a.fields.surname, d.b.fields.surname, d.a.fields.sex]).toEqual([{ value: 'Çitaku' }, { value: 'Citaku' }, { answer: 'illegible' }]);
    const missing = await rev.inject({ method: 'POST', url: `/keying/zones/${zoneId}/decision`, payload: { fields: { surname: { pick: 'a' } } } });
    expect(missing.json().error).toMatchObject({ code: 'ERR_VALIDATION' });
    const decided = await rev.inject({ method: 'POST', url: `/keying/zones/${zoneId}/decision`, payload: { fields: { surname: { pick: 'a' }, sex: { pick: 'b' }, dateOfBirth: { value: '2.5.1900' } } } });
    expect(decided.statusCode, decided.body).toBe(200);
    expect(decided.json().decided).toEqual({ dateOfBirth: 'typed', surname: 'a', sex: 'b' });

    for (const q of ['citaku', 'Читаку']) {
      const found = await ana.inject({ method: 'GET', url: `/entries?name=${encodeURIComponent(q)}&bookId=${openBook}` });
      expect(found.json().entries.map((e: { id: string; source: string; eventDate: string }) => [e.id, e.source, e.eventDate])).toEqual([[decided.json().entryId, 'keyed', '1900-05-02']]);
    }
    const stats = await rm.inject({ method: 'GET', url: `/keying/stats?bookId=${openBook}` });
    expect(stats.json().books[0]).toMatchObject({ zones: 1, verified: 1, disputed: 0 });
    expect(stats.json().keyers).toEqual([
      { keyer: 'ana-keyer', keyings: 1, compared: 1, agreed: 0, agreementRate: 0, fieldsOverruled: 2 },
      { keyer: 'ben-keyer', keyings: 1, compared: 1, agreed: 0, agreementRate: 0, fieldsOverruled: 1 },
    ]);
    const csv = await ana.inject({ method: 'GET', url: `/books/${openBook}/keyed-entries?format=csv` });
    expect(csv.headers['content-type']).toMatch(/text\/csv/);
    expect(csv.body.split('\r\n')[1]).toContain(',4,2.5.1900,Arbën,Çitaku,M,Gëzim,Drita Hoxha,Shkodër,rev-arbiter,');

    const events = await t.deps.db.query<{ actor: string; action: string; target_type: string; target_id: string; outcome: string }>(
      `SELECT actor, action, target_type, target_id, outcome FROM audit_events WHERE action IN ('zone.create', 'keying.submit', 'keying.decision') ORDER BY seq`);
    expect(events.rows.filter((e) => e.outcome === 'ok').map((e) => [e.actor, e.action, e.target_type, e.target_type === 'zone' ? e.target_id : 'book'])).toEqual([
      ['ana-keyer', 'zone.create', 'book', 'book'],
      ['ana-keyer', 'keying.submit', 'zone', zoneId],
      ['ben-keyer', 'keying.submit', 'zone', zoneId],
      ['rev-arbiter', 'keying.decision', 'zone', zoneId],
    ]);
  });

  it('keeps an arbitrator off a zone they keyed', async () => {
    const zones = await ana.inject({ method: 'POST', url: `/books/${openBook}/pages/1/zones`, payload: { layoutKey: 'birth-default', source: 'drawn', zones: [{ box: { x0: 10, y0: 400, x1: 1900, y1: 460 } }] } });
    const zoneId = zones.json().zones[0].id as string;
    expect((await revKeyer.inject({ method: 'POST', url: `/keying/zones/${zoneId}/keyings`, payload: { fields: birth() } })).statusCode).toBe(201);
    expect((await ben.inject({ method: 'POST', url: `/keying/zones/${zoneId}/keyings`, payload: { fields: birth({ entryNumber: '5' }) } })).json().zoneStatus).toBe('disputed');
    expect((await revKeyer.inject({ method: 'GET', url: '/keying/disputes' })).json().disputes).toEqual([]);
    const refused = await revKeyer.inject({ method: 'POST', url: `/keying/zones/${zoneId}/decision`, payload: { fields: { entryNumber: { pick: 'a' } } } });
    expect(refused.statusCode).toBe(403);
    expect((await rev.inject({ method: 'POST', url: `/keying/zones/${zoneId}/decision`, payload: { fields: { entryNumber: { pick: 'b' } } } })).statusCode).toBe(200);
  });

  it('keeps a closed book\'s zones from keyers who state no purpose', async () => {
    const zones = await ana.inject({ method: 'POST', url: `/books/${closedBook}/pages/1/zones`, headers: { 'x-access-purpose': 'keying project 2026' }, payload: { layoutKey: 'birth-default', source: 'drawn', zones: [{ box: { x0: 10, y0: 300, x1: 1900, y1: 360 } }] } });
    expect(zones.statusCode, zones.body).toBe(201);
    const zoneId = zones.json().zones[0].id as string;
    expect((await ana.inject({ method: 'POST', url: `/books/${closedBook}/pages/1/zones`, payload: { source: 'drawn', zones: [{ box: { x0: 10, y0: 300, x1: 1900, y1: 360 } }] } })).statusCode).toBe(403);
    expect((await ana.inject({ method: 'GET', url: `/keying/next?bookId=${closedBook}` })).json().task).toBeNull();
    expect((await ana.inject({ method: 'GET', url: `/keying/next?bookId=${closedBook}`, headers: { 'x-access-purpose': 'keying project 2026' } })).json().task.zone.id).toBe(zoneId);
    const refused = await ana.inject({ method: 'POST', url: `/keying/zones/${zoneId}/keyings`, payload: { fields: birth() } });
    expect(refused.statusCode).toBe(403);
    expect((await ana.inject({ method: 'PATCH', url: `/keying/zones/${zoneId}`, payload: { box: { x0: 10, y0: 300, x1: 1900, y1: 370 } } })).statusCode).toBe(403);
    const keyed = await ana.inject({ method: 'POST', url: `/keying/zones/${zoneId}/keyings`, headers: { 'x-access-purpose': 'keying project 2026' }, payload: { fields: birth() } });
    expect(keyed.statusCode, keyed.body).toBe(201);
    const denied = await t.deps.db.query<{ outcome: string; detail: { restricted?: boolean } }>(
      `SELECT outcome, detail FROM audit_events WHERE action = 'keying.submit' AND target_id = $1 ORDER BY seq`, [zoneId]);
    expect(denied.rows.map((e) => [e.outcome, e.detail.restricted])).toEqual([['denied', true], ['ok', true]]);
  });
});
