import { randomBytes } from 'node:crypto';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordObject, setPageImageInfo, setPageType, upsertPage } from '../../archive/index.ts';
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

  it('serves a zone\'s crop with its neighbouring rows faded, to keyers and arbitrators, and tells the verifying keyer the entry', async () => {
    // A dark page: the faded neighbours come out light, the row itself stays dark.
    const png = await sharp({ create: { width: 2000, height: 3000, channels: 3, background: '#404040' } }).png().toBuffer();
    const pageId = (await t.deps.db.query<{ id: string }>('SELECT id FROM pages WHERE book_id = $1 AND sequence = 1', [openBook])).rows[0]!.id;
    await recordObject(t.deps.db, { bookId: openBook, pageId, role: 'master', revision: 1 }, await t.deps.store.putContentAddressed('masters', png, { contentType: 'image/png' }), 'image/png');
    const zoneId = (await ana.inject({ method: 'GET', url: `/books/${openBook}/pages/1/zones` })).json().zones[0].id as string;

    // Zone y 300..360: a 12 px margin, one row (60 px) above and below; half size at width 957.
    const r = await rev.inject({ method: 'GET', url: `/keying/zones/${zoneId}/crop?width=957` });
    expect(r.statusCode, r.body).toBe(200);
    expect(r.headers['content-type']).toBe('image/jpeg');
    const { data, info } = await sharp(r.rawPayload).greyscale().raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height]).toEqual([957, 102]);
    const meanRow = (y: number) => data.subarray(y * info.width + 10, y * info.width + info.width - 10).reduce((s, v) => s + v, 0) / (info.width - 20);
    expect(meanRow(10)).toBeGreaterThan(meanRow(50) + 60);
    expect(meanRow(95)).toBeGreaterThan(meanRow(50) + 60);
    expect(Math.abs(meanRow(50) - 0x40)).toBeLessThan(8);
    const bare = await ben.inject({ method: 'GET', url: `/keying/zones/${zoneId}/crop?width=957&context=0` });
    expect((await sharp(bare.rawPayload).metadata()).height).toBe(42);
    const again = await ben.inject({ method: 'GET', url: `/keying/zones/${zoneId}/crop?width=957`, headers: { 'if-none-match': r.headers.etag as string } });
    expect(again.statusCode).toBe(304);
    expect((await ben.inject({ method: 'GET', url: `/keying/zones/${zoneId}/crop?context=3` })).statusCode).toBe(400);
    expect((await digitiser.inject({ method: 'GET', url: `/keying/zones/${zoneId}/crop` })).statusCode).toBe(403);
    expect((await auditor.inject({ method: 'GET', url: `/keying/zones/${zoneId}/crop` })).statusCode).toBe(403);
    const closedZone = (await t.deps.db.query<{ id: string }>('SELECT id FROM entry_zones WHERE book_id = $1', [closedBook])).rows[0]!.id;
    expect((await ana.inject({ method: 'GET', url: `/keying/zones/${closedZone}/crop` })).statusCode).toBe(403);
    const reads = await t.deps.db.query<{ actor: string; target_id: string }>(`SELECT actor, target_id FROM audit_events WHERE action = 'zone.image.read' AND outcome = 'ok' ORDER BY seq`);
    expect(reads.rows[0]).toEqual({ actor: 'rev-arbiter', target_id: zoneId });

    // The second, agreeing keying of the closed book's zone verifies it: its keyer is told the entry.
    const purpose = { 'x-access-purpose': 'keying project 2026' };
    const second = await ben.inject({ method: 'POST', url: `/keying/zones/${closedZone}/keyings`, headers: purpose, payload: { fields: birth() } });
    expect(second.json().zoneStatus).toBe('verified');
    const entryId = (await t.deps.db.query<{ entry_id: string }>('SELECT entry_id FROM entry_zones WHERE id = $1', [closedZone])).rows[0]!.entry_id;
    expect(second.json().entryId).toBe(entryId);
  });

  it('checks dates before a keying is stored, and stores nothing', async () => {
    const zoneId = (await ana.inject({ method: 'POST', url: `/books/${openBook}/pages/1/zones`, payload: { layoutKey: 'birth-default', source: 'drawn', zones: [{ box: { x0: 10, y0: 500, x1: 1900, y1: 560 } }] } })).json().zones[0].id as string;
    const check = (fields: Record<string, unknown>) => ana.inject({ method: 'POST', url: `/keying/zones/${zoneId}/check`, payload: { fields } });
    const late = await check({ dateOfBirth: { value: '31.4.1901' }, surname: { value: 'Çitaku' } });
    expect(late.statusCode, late.body).toBe(200);
    expect(late.json().warnings.map((w: { column: string; code: string }) => `${w.column}:${w.code}`)).toEqual(['dateOfBirth:impossible-date', 'dateOfBirth:outside-book-years']);
    expect(late.json().dates).toEqual({ dateOfBirth: '1901-04' });
    expect((await check({ dateOfBirth: { value: '2. V 1900' } })).json()).toEqual({ warnings: [], dates: { dateOfBirth: '1900-05-02' } });
    expect((await check({ dateOfBirth: { answer: 'illegible' } })).json()).toEqual({ warnings: [], dates: {} });
    expect((await check({ nickname: { value: 'x' } })).statusCode).toBe(400);
    expect((await digitiser.inject({ method: 'POST', url: `/keying/zones/${zoneId}/check`, payload: { fields: {} } })).statusCode).toBe(403);
    const stored = await t.deps.db.query('SELECT 1 FROM keyings WHERE zone_id = $1', [zoneId]);
    expect(stored.rowCount).toBe(0);
  });

  it('suggests names keyed in verified entries, most used first, only from books the keyer may read', async () => {
    const suggest = (q: string, field = 'given_name', headers: Record<string, string> = {}) => ana.inject({ method: 'GET', url: `/keying/suggestions?field=${field}&q=${encodeURIComponent(q)}`, headers });
    // Verified so far: two zones of the open book (Arbën), one of the closed book (Arbën).
    expect((await suggest('arb')).json().suggestions).toEqual([{ value: 'Arbën', uses: 2 }]);
    expect((await suggest('arb', 'given_name', { 'x-access-purpose': 'keying project 2026' })).json().suggestions).toEqual([{ value: 'Arbën', uses: 3 }]);
    expect((await suggest('çit', 'surname')).json().suggestions).toEqual([{ value: 'Çitaku', uses: 2 }]);
    expect((await suggest('x')).json().suggestions).toEqual([]);
    expect((await suggest('%')).json().suggestions).toEqual([]);
    expect((await suggest('4', 'entry_number')).statusCode).toBe(400);
    expect((await digitiser.inject({ method: 'GET', url: '/keying/suggestions?field=given_name&q=a' })).statusCode).toBe(403);
    const audit = await t.deps.db.query<{ actor: string; detail: Record<string, unknown> }>(`SELECT actor, detail FROM audit_events WHERE action = 'keying.suggestions' AND outcome = 'ok' ORDER BY seq LIMIT 1`);
    expect(audit.rows[0]).toMatchObject({ actor: 'ana-keyer', detail: { field: 'given_name', shown: 1 } });
    expect(JSON.stringify(audit.rows[0]!.detail)).not.toMatch(/Arb/i);
  });

  it('shows a zone\'s corrections, its keyings and decisions to those who may read them, and the page\'s type', async () => {
    const made = await ana.inject({ method: 'POST', url: `/books/${openBook}/pages/1/zones`, payload: { layoutKey: 'birth-default', source: 'drawn', zones: [{ box: { x0: 10, y0: 2000, x1: 1900, y1: 2060 } }] } });
    const zoneId = made.json().zones[0].id as string;
    const moved = await ana.inject({ method: 'PATCH', url: `/keying/zones/${zoneId}`, payload: { box: { x0: 10, y0: 2004, x1: 1900, y1: 2064 } } });
    expect(moved.statusCode, moved.body).toBe(200);
    const changes = await rm.inject({ method: 'GET', url: `/keying/zones/${zoneId}/changes` });
    expect(changes.statusCode, changes.body).toBe(200);
    expect(changes.json().changes).toEqual([expect.objectContaining({
      zoneId, op: 'move', changedBy: 'ana-keyer', before: { box: { x0: 10, y0: 2000, x1: 1900, y1: 2060 }, cells: [] }, after: { box: { x0: 10, y0: 2004, x1: 1900, y1: 2064 }, cells: [] },
    })]);
    expect((await auditor.inject({ method: 'GET', url: `/keying/zones/${zoneId}/changes` })).statusCode).toBe(403);

    await ana.inject({ method: 'POST', url: `/keying/zones/${zoneId}/keyings`, payload: { fields: birth({ entryNumber: '9' }) } });
    // Keying stays blind: while the zone waits for its second keying, nobody reads the first one's answers.
    const once = await rev.inject({ method: 'GET', url: `/keying/zones/${zoneId}/keyings` });
    expect(once.statusCode, once.body).toBe(200);
    expect(once.json().keyings).toEqual([expect.objectContaining({ slot: 1, keyer: 'ana-keyer', fields: null })]);
    expect((await ana.inject({ method: 'GET', url: `/keying/zones/${zoneId}/keyings` })).statusCode).toBe(403);
    await ben.inject({ method: 'POST', url: `/keying/zones/${zoneId}/keyings`, payload: { fields: birth({ entryNumber: '9', surname: 'Gashi' }) } });
    // Disputed: the arbitrator sees A and B without names; the records manager sees who keyed what.
    expect((await rev.inject({ method: 'GET', url: `/keying/zones/${zoneId}/keyings` })).json().keyings.map((k: { keyer: string | null }) => k.keyer)).toEqual([null, null]);
    expect((await rm.inject({ method: 'GET', url: `/keying/zones/${zoneId}/keyings` })).json().keyings.map((k: { keyer: string | null }) => k.keyer)).toEqual(['ana-keyer', 'ben-keyer']);
    expect((await rev.inject({ method: 'POST', url: `/keying/zones/${zoneId}/decision`, payload: { fields: { surname: { pick: 'b' } } } })).json()).toMatchObject({ zoneStatus: 'verified' });
    const settled = (await rm.inject({ method: 'GET', url: `/keying/zones/${zoneId}/keyings` })).json();
    expect(settled.decisions).toEqual([expect.objectContaining({ column: 'surname', choice: 'b', answer: { value: 'Gashi' }, overruled: ['ana-keyer'], decidedBy: 'rev-arbiter' })]);
    expect(settled.keyings.map((k: { fields: Record<string, { value: string }> }) => k.fields.surname)).toEqual([{ value: 'Çitaku' }, { value: 'Gashi' }]);
    const audit = await t.deps.db.query<{ actor: string }>(`SELECT actor FROM audit_events WHERE action = 'zone.keyings.read' AND outcome = 'ok' AND target_id = $1`, [zoneId]);
    expect(audit.rows.map((r) => r.actor).sort()).toEqual(['rev-arbiter', 'rev-arbiter', 'rm-keying', 'rm-keying']);

    const page = (await t.deps.db.query<{ id: string }>('SELECT id FROM pages WHERE book_id = $1 AND sequence = 1', [openBook])).rows[0]!;
    await setPageType(t.deps.db, page.id, 'handwritten', 'few dictionary words, low confidence');
    const shown = await rm.inject({ method: 'GET', url: `/books/${openBook}/pages/1` });
    expect(shown.json().page).toMatchObject({ pageType: 'handwritten', pageTypeReason: 'few dictionary words, low confidence' });
    expect((await rm.inject({ method: 'GET', url: `/books/${openBook}/pages` })).json().pages[0]).toMatchObject({ pageType: 'handwritten' });
  });

  it('retires the detected zones nobody keyed when a page image is replaced, and keeps keyed and hand-drawn ones flagged for review', async () => {
    const bookId = await book('2000-12-31');
    const detected = (await ana.inject({ method: 'POST', url: `/books/${bookId}/pages/1/zones`, payload: { layoutKey: 'birth-default', source: 'detected', zones: [{ box: { x0: 10, y0: 300, x1: 1900, y1: 360 } }, { box: { x0: 10, y0: 360, x1: 1900, y1: 420 } }] } })).json().zones as { id: string }[];
    const drawn = (await ana.inject({ method: 'POST', url: `/books/${bookId}/pages/1/zones`, payload: { layoutKey: 'birth-default', source: 'drawn', zones: [{ box: { x0: 10, y0: 420, x1: 1900, y1: 480 } }] } })).json().zones as { id: string }[];
    const [untouched, keyed] = detected as [{ id: string }, { id: string }];
    await ana.inject({ method: 'POST', url: `/keying/zones/${keyed.id}/keyings`, payload: { fields: birth() } });
    const png = await sharp({ create: { width: 200, height: 300, channels: 3, background: '#f4f0e6' } }).png().toBuffer();
    const replaced = await digitiser.inject({ method: 'PUT', url: `/books/${bookId}/pages/1/image`, headers: { 'content-type': 'image/png' }, payload: png });
    expect(replaced.statusCode, replaced.body).toBe(202);

    const live = (await ana.inject({ method: 'GET', url: `/books/${bookId}/pages/1/zones` })).json().zones as { id: string; reviewReason: string | null; status: string }[];
    expect(live.map((z) => z.id).sort()).toEqual([keyed.id, drawn[0]!.id].sort());
    for (const z of live) expect(z.reviewReason).toMatch(/page image was replaced \(revision 2\)/);
    expect(live.find((z) => z.id === keyed.id)!.status).toBe('keyed-once');
    const gone = await t.deps.db.query<{ retired_at: Date | null; retired_by: string }>('SELECT retired_at, retired_by FROM entry_zones WHERE id = $1', [untouched.id]);
    expect(gone.rows[0]).toMatchObject({ retired_by: 'digi-keying' });
    expect(gone.rows[0]!.retired_at).not.toBeNull();
    const event = await t.deps.db.query<{ detail: string }>(`SELECT detail FROM processing_events WHERE book_id = $1 AND event_type = 'replacement'`, [bookId]);
    expect(event.rows[0]!.detail).toContain('entry zones: 1 detected and unkeyed retired, 2 kept and flagged for review');
    // A keyer who checked the zone and moved it onto its row clears the flag.
    const moved = await ana.inject({ method: 'PATCH', url: `/keying/zones/${drawn[0]!.id}`, payload: { box: { x0: 10, y0: 20, x1: 190, y1: 40 } } });
    expect(moved.json().zone.reviewReason).toBeNull();
  });
});
