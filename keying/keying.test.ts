import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBook, setPageImageInfo, upsertPage } from '../archive/index.ts';
import { silentLogger } from '../common/index.ts';
import { openDb, type Db } from '../db/index.ts';
import { getEntry, searchEntries } from '../entries/index.ts';
import type { RegisterType } from '../common/vocabulary.ts';
import {
  decideZone, decisionsOfZone, defineLayout, exportKeyedEntries, keyedEntriesCsv, keyingStats, keyingsOfZone, layoutVersions, listDisputes, mergeZones,
  moveZone, nextZone, proposeZones, requireLayout, requireZone, splitZone, submitKeying, zoneChanges, zoneHistory, zoneKeyingRecord, type EntryZone, type KeyedFields,
} from './index.ts';

// Domain rules of double keying on an embedded database with the real migrations.
let dir: string;
let db: Db;
let rowY = 0;

async function book(type: RegisterType = 'birth', years: [number, number] = [1958, 1958]): Promise<{ bookId: string; pageId: string }> {
  const { book: b } = await createBook(db, { registerType: type, municipality: 'Pejë', yearFrom: years[0], yearTo: years[1], languages: 'sqi', sourceFormat: 'tiff', sourceSha256: randomBytes(32).toString('hex'), sourceSize: 1 });
  const p = await upsertPage(db, b.id, 1);
  await setPageImageInfo(db, p.id, { width: 2000, height: 3000, dpiX: 300, dpiY: 300, orientation: 0, inkRatio: 0.05 });
  return { bookId: b.id, pageId: p.id };
}

async function zones(pageId: string, n: number): Promise<EntryZone[]> {
  const shapes = Array.from({ length: n }, () => {
    rowY += 40;
    return { box: { x0: 10, y0: rowY % 2900, x1: 1900, y1: (rowY % 2900) + 35 } };
  });
  return proposeZones(db, pageId, { source: 'drawn', zones: shapes }, { user: 'clerk' });
}

const birth = (over: Partial<Record<string, string>> = {}): KeyedFields => {
  const v: Record<string, string> = {
    entryNumber: '17', dateOfBirth: '12.03.1958', firstName: 'Arbën', surname: 'Çitaku', sex: 'M', fatherName: 'Gëzim',
    mother: 'Drita Hoxha', placeOfBirth: 'Pejë', ...over,
  };
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, { value: x! }]));
};

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'arkiva-keying-'));
  db = await openDb({ kind: 'pglite', dir }, silentLogger());
});
afterAll(async () => {
  await db?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('register layouts', () => {
  it('ships a default layout per register type with the generated forms\' columns', async () => {
    const b = await requireLayout(db, 'birth-default');
    expect(b.columns.map((c) => c.key)).toEqual(['entryNumber', 'dateOfBirth', 'firstName', 'surname', 'sex', 'fatherName', 'mother', 'placeOfBirth']);
    expect((await requireLayout(db, 'marriage-default')).columns.map((c) => c.field)).toEqual(['entry_number', 'event_date', 'given_name', 'surname', 'spouse_given_name', 'spouse_surname', 'place']);
    expect((await requireLayout(db, 'death-default')).registerType).toBe('death');
  });

  it('adds a version without rewriting the old one, and the database refuses to rewrite or delete a version', async () => {
    const cols = [{ key: 'nr', field: 'entry_number' as const }, { key: 'name', field: 'given_name' as const }];
    const v1 = await defineLayout(db, { key: 'birth-1946', name: 'Birth form 1946', registerType: 'birth', yearFrom: 1946, yearTo: 1952, columns: cols }, { user: 'rm', reason: 'form of 1946' });
    const v2 = await defineLayout(db, { key: 'birth-1946', name: 'Birth form 1946', registerType: 'birth', yearFrom: 1946, yearTo: 1952, columns: [...cols, { key: 'note', field: 'remarks' as const }] }, { user: 'rm', reason: 'remarks column found' });
    expect([v1.version, v2.version]).toEqual([1, 2]);
    const versions = await layoutVersions(db, 'birth-1946');
    expect(versions.map((v) => [v.version, v.columns.length, v.supersededAt !== null, v.changeReason])).toEqual([[1, 2, true, 'form of 1946'], [2, 3, false, 'remarks column found']]);
    expect((await requireLayout(db, 'birth-1946', 1)).columns).toEqual(cols);
    await expect(db.query(`UPDATE register_layouts SET columns = '[]' WHERE id = $1`, [v1.id])).rejects.toThrow(/not rewritten/);
    await expect(db.query(`UPDATE register_layouts SET name = 'x' WHERE id = $1`, [v2.id])).rejects.toThrow(/not rewritten/);
    await expect(db.query('DELETE FROM register_layouts WHERE id = $1', [v1.id])).rejects.toThrow(/kept/);
  });

  it('refuses a layout with a repeated column key, an unknown field or one field in two columns', async () => {
    const base = { key: 'bad', name: 'Bad', registerType: 'birth' as const };
    await expect(defineLayout(db, { ...base, columns: [{ key: 'a', field: 'surname' }, { key: 'a', field: 'place' }] }, { user: 'rm', reason: 'r' })).rejects.toThrow(/appears twice/);
    await expect(defineLayout(db, { ...base, columns: [{ key: 'a', field: 'nickname' as never }] }, { user: 'rm', reason: 'r' })).rejects.toThrow(/unknown field/);
    await expect(defineLayout(db, { ...base, columns: [{ key: 'a', field: 'surname' }, { key: 'b', field: 'surname' }] }, { user: 'rm', reason: 'r' })).rejects.toThrow(/two columns/);
  });
});

describe('zones', () => {
  it('takes the layout for the book\'s type and period, refuses one of another register type, and keeps every correction', async () => {
    const { pageId } = await book('birth', [1950, 1950]);
    const [z] = await zones(pageId, 1);
    // birth-1946 (1946-1952) is narrower than the default layout for any period.
    expect(z!.layoutKey).toBe('birth-1946');
    await expect(proposeZones(db, pageId, { layoutKey: 'death-default', source: 'drawn', zones: [{ box: { x0: 0, y0: 0, x1: 10, y1: 10 } }] }, { user: 'c' })).rejects.toThrow(/death registers/);
    await expect(proposeZones(db, pageId, { source: 'drawn', zones: [{ box: { x0: 0, y0: 0, x1: 2100, y1: 10 } }] }, { user: 'c' })).rejects.toThrow(/on the page/);

    const moved = await moveZone(db, z!.id, { box: { x0: 12, y0: 100, x1: 1800, y1: 180 } }, { user: 'keyer1' });
    expect([moved.source, moved.box.y1]).toEqual(['corrected', 180]);
    const [a, b] = await splitZone(db, z!.id, [{ box: { x0: 12, y0: 100, x1: 1800, y1: 140 } }, { box: { x0: 12, y0: 140, x1: 1800, y1: 180 } }], { user: 'keyer1' });
    expect((await requireZone(db, z!.id)).retiredAt).not.toBeNull();
    const merged = await mergeZones(db, [a!.id, b!.id], {}, { user: 'keyer2' });
    expect(merged.box).toEqual({ x0: 12, y0: 100, x1: 1800, y1: 180 });
    const changes = await zoneChanges(db, z!.id);
    expect(changes.map((c) => [c.op, c.changedBy])).toEqual([['move', 'keyer1'], ['split', 'keyer1']]);
    expect(changes[1]!.resultZoneIds.sort()).toEqual([a!.id, b!.id].sort());
    expect((await zoneChanges(db, a!.id)).map((c) => [c.op, c.resultZoneIds])).toEqual([['merge', [merged.id]]]);
    // A zone's history names the split that made it, then its own changes; the merged zone's, the two merges that made it.
    expect((await zoneHistory(db, a!.id)).map((c) => [c.zoneId, c.op])).toEqual([[z!.id, 'split'], [a!.id, 'merge']]);
    expect((await zoneHistory(db, merged.id)).map((c) => `${c.zoneId}:${c.op}`).sort()).toEqual([`${a!.id}:merge`, `${b!.id}:merge`].sort());

    await submitKeying(db, merged.id, 'k1', { nr: { value: '1' }, name: { value: 'Ana' }, note: { answer: 'blank' } });
    await expect(splitZone(db, merged.id, [{ box: { x0: 12, y0: 100, x1: 1800, y1: 140 } }, { box: { x0: 12, y0: 140, x1: 1800, y1: 180 } }], { user: 'k' })).rejects.toThrow(/has been keyed/);
  });
});

describe('double blind keying', () => {
  it('sends a zone to two different keyers at most, never twice to one, oldest book first, and shows no one else\'s answers', async () => {
    const older = await book();
    const newer = await book();
    const [n1] = await zones(newer.pageId, 1);
    const [o1, o2] = await zones(older.pageId, 2);
    const onlyThese = { withhold: async (ids: readonly string[]) => new Set(ids.filter((id) => id !== older.bookId && id !== newer.bookId)) };

    const t1 = await nextZone(db, 'ana', onlyThese);
    expect(t1?.zone.id).toBe(o1!.id);
    expect(JSON.stringify(t1)).not.toMatch(/Çitaku|value|fields/);
    // Asked again before keying: the same zone comes back.
    expect((await nextZone(db, 'ana', onlyThese))?.zone.id).toBe(o1!.id);
    await submitKeying(db, o1!.id, 'ana', birth());
    expect((await nextZone(db, 'ana', onlyThese))?.zone.id).toBe(o2!.id);
    expect((await nextZone(db, 'ben', onlyThese))?.zone.id).toBe(o1!.id);
    // o1 has ana's keying and ben's claim: a third keyer goes elsewhere.
    expect((await nextZone(db, 'cem', onlyThese))?.zone.id).toBe(o2!.id);
    expect((await nextZone(db, 'dan', onlyThese))?.zone.id).toBe(n1!.id);
    await expect(submitKeying(db, o1!.id, 'ana', birth())).rejects.toThrow(/keyed zone .* already/);
    await submitKeying(db, o1!.id, 'ben', birth());
    await expect(submitKeying(db, o1!.id, 'cem', birth())).rejects.toThrow(/two keyings/);
    // A closed book's zones are not handed out.
    const closedOlder = { withhold: async (ids: readonly string[]) => new Set(ids.filter((id) => id !== newer.bookId)) };
    expect((await nextZone(db, 'eva', closedOlder))?.zone.id).toBe(n1!.id);
    expect(await nextZone(db, 'eva', { ...closedOlder, bookId: older.bookId })).toBeNull();
  });

  it('verifies equal keyings at once (case, spaces and script aside) and the entry is found by the entry search without diacritics and in Cyrillic', async () => {
    const { bookId, pageId } = await book();
    const [z] = await zones(pageId, 1);
    const first = await submitKeying(db, z!.id, 'ana', birth({ mother: 'Mara Jovanović' }));
    expect(first.zoneStatus).toBe('keyed-once');
    const second = await submitKeying(db, z!.id, 'ben', birth({ firstName: 'ARBËN', surname: '  çitaku ', mother: 'Мара   Јовановић' }));
    expect(second.zoneStatus).toBe('verified');
    const zone = await requireZone(db, z!.id);
    expect(zone.status).toBe('verified');
    const entry = await getEntry(db, zone.entryId!);
    expect(entry).toMatchObject({ source: 'keyed', status: 'verified', eventDate: '1958-03-12', entryNumber: '17', place: 'Pejë', eventType: 'birth', verifiedBy: 'ben' });
    // The first keying's text stands as typed.
    expect(entry!.names).toEqual([{ role: 'father', name: 'Gëzim' }, { role: 'mother', name: 'Mara Jovanović' }, { role: 'subject', name: 'Arbën Çitaku' }]);
    for (const q of ['Citaku', 'Читаку', 'arben citaku', 'Јовановић']) {
      const found = await searchEntries(db, { name: q, bookId });
      expect(found.map((e) => e.id), q).toEqual([entry!.id]);
    }
    expect((await keyingsOfZone(db, z!.id)).map((k) => k.agreed)).toEqual([true, true]);
  });

  it('sends every keying pair with one injected difference to arbitration (50 random cases)', async () => {
    const { pageId } = await book();
    const zs = await zones(pageId, 50);
    const columns = (await requireLayout(db, 'birth-default')).columns.map((c) => c.key);
    let seed = 20;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    // What differs in reading: a letter, a diacritic, a digit, or an explicit answer for a value.
    const disagree = (v: string): { value: string } | { answer: 'illegible' | 'blank' } => {
      const kind = rand(4);
      if (kind === 0) return { answer: rand(2) ? 'illegible' : 'blank' };
      if (kind === 1 && /[eëcç]/i.test(v)) return { value: v.replace(/[eëcç]/i, (ch) => ({ e: 'ë', ë: 'e', c: 'ç', ç: 'c', E: 'Ë', Ë: 'E', C: 'Ç', Ç: 'C' })[ch] ?? ch) };
      const i = rand(v.length);
      const ch = v[i]!;
      const repl = /\d/.test(ch) ? String((Number(ch) + 1 + rand(8)) % 10) : ch.toLowerCase() === 'x' ? 'q' : 'x';
      return { value: v.slice(0, i) + repl + v.slice(i + 1) };
    };
    let disputed = 0;
    for (const z of zs) {
      const col = columns[rand(columns.length)]!;
      const a = birth();
      const b = { ...birth(), [col]: disagree((a[col] as { value: string }).value) };
      await submitKeying(db, z.id, 'ana', a);
      const r = await submitKeying(db, z.id, 'ben', b);
      if (r.zoneStatus === 'disputed') disputed++;
      expect((await requireZone(db, z.id)).differences, `${col}: ${JSON.stringify(b[col])}`).toEqual([col]);
    }
    expect(disputed).toBe(50);
  });

  it('lets only an arbitrator who keyed neither version decide, field by field, keeping every decision', async () => {
    const { bookId, pageId } = await book();
    const [z] = await zones(pageId, 1);
    await submitKeying(db, z!.id, 'ana', birth({ surname: 'Çitaku', fatherName: 'Gëzim', sex: 'M' }));
    await submitKeying(db, z!.id, 'ben', birth({ surname: 'Citaku', fatherName: 'Gezim', sex: 'M' }));
    const zone = await requireZone(db, z!.id);
    expect([zone.status, zone.differences]).toEqual(['disputed', ['surname', 'fatherName']]);

    const disputes = await listDisputes(db, 'rev', { bookId });
    expect(disputes.map((d) => d.zone.id)).toEqual([z!.id]);
    expect(disputes[0]!.a.fields.surname).toEqual({ value: 'Çitaku' });
    expect(disputes[0]!.b.fields.surname).toEqual({ value: 'Citaku' });
    expect(JSON.stringify(disputes[0])).not.toMatch(/"ana"|"ben"/);
    expect(await listDisputes(db, 'ana', { bookId })).toEqual([]);

    await expect(decideZone(db, z!.id, 'ana', { surname: { pick: 'a' }, fatherName: { pick: 'a' } })).rejects.toMatchObject({ code: 'ERR_FORBIDDEN' });
    await expect(decideZone(db, z!.id, 'rev', { surname: { pick: 'a' } })).rejects.toThrow(/missing: fatherName/);
    await expect(decideZone(db, z!.id, 'rev', { surname: { pick: 'a' }, fatherName: { pick: 'a' }, sex: { pick: 'b' } })).rejects.toThrow(/not one the keyings differ on/);
    const r = await decideZone(db, z!.id, 'rev', { surname: { pick: 'a' }, fatherName: { value: 'Gëzimi' } });
    expect(r.decided).toEqual({ surname: 'a', fatherName: 'typed' });
    expect(r.zoneStatus).toBe('verified');
    const entry = await getEntry(db, r.entryId!);
    expect(entry).toMatchObject({ source: 'keyed', status: 'verified', verifiedBy: 'rev' });
    expect(entry!.names).toEqual([{ role: 'father', name: 'Gëzimi' }, { role: 'mother', name: 'Drita Hoxha' }, { role: 'subject', name: 'Arbën Çitaku' }]);
    const decisions = await decisionsOfZone(db, z!.id);
    expect(decisions.map((d) => [d.column, d.choice, d.answer, d.overruled.sort(), d.decidedBy])).toEqual([
      ['fatherName', 'typed', { value: 'Gëzimi' }, ['ana', 'ben'], 'rev'],
      ['surname', 'a', { value: 'Çitaku' }, ['ben'], 'rev'],
    ]);
    await expect(decideZone(db, z!.id, 'rev2', { surname: { pick: 'b' }, fatherName: { pick: 'b' } })).rejects.toThrow(/not disputed/);
  });

  it('warns about impossible dates, an event after its registration and dates outside the book\'s years, and keeps the keying', async () => {
    await defineLayout(db, {
      key: 'death-with-registration', name: 'Death with registration date', registerType: 'death', yearFrom: 1970, yearTo: 1970,
      columns: [{ key: 'nr', field: 'entry_number' }, { key: 'died', field: 'event_date' }, { key: 'registered', field: 'registration_date' }, { key: 'name', field: 'surname' }],
    }, { user: 'rm', reason: 'test form' });
    const { pageId } = await book('death', [1970, 1970]);
    const [z1, z2, z3] = await zones(pageId, 3);
    const key = (z: EntryZone, died: string, registered: string, who = 'ana') => submitKeying(db, z.id, who, { nr: { value: '1' }, died: { value: died }, registered: { value: registered }, name: { value: 'Krasniqi' } });
    expect((await key(z1!, '31.02.1970', '2.3.1970')).keying.warnings.map((w) => [w.column, w.code])).toEqual([['died', 'impossible-date']]);
    expect((await key(z2!, '14. IV 1970', '10.04.1970')).keying.warnings.map((w) => [w.column, w.code])).toEqual([['died', 'event-after-registration']]);
    expect((await key(z3!, '1969', 'sometime')).keying.warnings.map((w) => [w.column, w.code])).toEqual([['died', 'outside-book-years'], ['registered', 'unreadable-date']]);
    expect((await keyingsOfZone(db, z2!.id))[0]!.warnings.map((w) => w.code)).toEqual(['event-after-registration']);
    // An impossible day leaves the month in the entry; the registration date stays with the keying.
    const r = await key(z1!, '31.02.1970', '2.3.1970', 'ben');
    expect(r.zoneStatus).toBe('verified');
    expect((await getEntry(db, (await requireZone(db, z1!.id)).entryId!))?.eventDate).toBe('1970-02');
  });

  it('refuses an answer missing for a column, a column the layout lacks, and an empty value', async () => {
    const { pageId } = await book();
    const [z] = await zones(pageId, 1);
    const { placeOfBirth: _, ...missing } = birth();
    await expect(submitKeying(db, z!.id, 'ana', missing)).rejects.toThrow(/placeOfBirth has no answer/);
    await expect(submitKeying(db, z!.id, 'ana', { ...birth(), nickname: { value: 'x' } })).rejects.toThrow(/no column "nickname"/);
    await expect(submitKeying(db, z!.id, 'ana', { ...birth(), sex: { value: '  ' } })).rejects.toThrow(/answer blank/);
    expect((await requireZone(db, z!.id)).status).toBe('open');
  });
});

describe('empty ruled rows', () => {
  const allBlank = async (): Promise<KeyedFields> =>
    Object.fromEntries((await requireLayout(db, 'birth-default')).columns.map((c) => [c.key, { answer: 'blank' as const }]));
  const entriesOf = async (pageId: string) => Number((await db.query<{ n: string }>('SELECT count(*) AS n FROM entries WHERE page_id = $1', [pageId])).rows[0]!.n);
  const eventsOf = async (bookId: string) => Number((await db.query<{ n: string }>(`SELECT count(*) AS n FROM event_outbox WHERE book_id = $1 AND type = 'entry.verified'`, [bookId])).rows[0]!.n);

  it('settles a row both keyers answered blank in every column as empty: no entry, no event, not exported, counted apart', async () => {
    const { bookId, pageId } = await book();
    const [empty, written, blankButOne] = await zones(pageId, 3);
    await submitKeying(db, empty!.id, 'ana', await allBlank());
    const r = await submitKeying(db, empty!.id, 'ben', await allBlank());
    expect(r.zoneStatus).toBe('empty');
    const zone = await requireZone(db, empty!.id);
    expect([zone.status, zone.entryId, zone.verifiedBy]).toEqual(['empty', null, 'ben']);
    expect(zone.finalFields).toEqual(await allBlank());
    // A row with one thing written in it is an entry, however sparse.
    const sparse = { ...(await allBlank()), surname: { value: 'Krasniqi' } };
    await submitKeying(db, blankButOne!.id, 'ana', sparse);
    expect((await submitKeying(db, blankButOne!.id, 'ben', sparse)).zoneStatus).toBe('verified');
    await submitKeying(db, written!.id, 'ana', birth());
    await submitKeying(db, written!.id, 'ben', birth());

    expect(await entriesOf(pageId)).toBe(2);
    expect(await eventsOf(bookId)).toBe(2);
    expect((await exportKeyedEntries(db, bookId)).entries.map((e) => e.zoneId).sort()).toEqual([written!.id, blankButOne!.id].sort());
    expect((await keyingStats(db, { bookId })).books[0]).toMatchObject({ zones: 3, open: 0, keyedOnce: 0, disputed: 0, verified: 2, empty: 1 });
    // Settled: nobody is sent to it again, and both keyings stay on record.
    expect(await nextZone(db, 'cem', { bookId })).toBeNull();
    expect((await keyingsOfZone(db, empty!.id)).map((k) => [k.keyer, k.agreed])).toEqual([['ana', true], ['ben', true]]);
    await expect(db.query(`UPDATE entry_zones SET status = 'closed' WHERE id = $1`, [empty!.id])).rejects.toThrow(/check/i);
  });

  it('settles a dispute decided blank in every column as an empty row', async () => {
    const { bookId, pageId } = await book();
    const [z] = await zones(pageId, 1);
    await submitKeying(db, z!.id, 'ana', await allBlank());
    await submitKeying(db, z!.id, 'ben', { ...(await allBlank()), surname: { answer: 'illegible' } });
    expect((await requireZone(db, z!.id)).differences).toEqual(['surname']);
    const r = await decideZone(db, z!.id, 'rev', { surname: { pick: 'a' } });
    expect([r.zoneStatus, r.entryId]).toEqual(['empty', null]);
    expect((await requireZone(db, z!.id)).status).toBe('empty');
    expect(await entriesOf(pageId)).toBe(0);
    expect(await eventsOf(bookId)).toBe(0);
    expect((await keyingStats(db, { bookId })).books[0]).toMatchObject({ verified: 0, empty: 1, disputed: 0 });
    // The decision is kept like any other, and the record shows both keyings now the zone is settled.
    const record = await zoneKeyingRecord(db, z!.id, { namesWhileDisputed: false });
    expect(record.decisions.map((d) => [d.column, d.choice, d.overruled])).toEqual([['surname', 'a', ['ben']]]);
    expect(record.keyings.map((k) => [k.keyer, k.fields?.surname])).toEqual([['ana', { answer: 'blank' }], ['ben', { answer: 'illegible' }]]);
  });

  it('withholds answers of a zone still being keyed and keyers\' names of a disputed one', async () => {
    const { pageId } = await book();
    const [z] = await zones(pageId, 1);
    await submitKeying(db, z!.id, 'ana', birth());
    const once = await zoneKeyingRecord(db, z!.id, { namesWhileDisputed: true });
    expect(once.keyings.map((k) => [k.keyer, k.fields])).toEqual([['ana', null]]);
    await submitKeying(db, z!.id, 'ben', birth({ surname: 'Gashi' }));
    expect((await zoneKeyingRecord(db, z!.id, { namesWhileDisputed: false })).keyings.map((k) => k.keyer)).toEqual([null, null]);
    expect((await zoneKeyingRecord(db, z!.id, { namesWhileDisputed: true })).keyings.map((k) => k.keyer)).toEqual(['ana', 'ben']);
  });
});

describe('statistics and export', () => {
  it('counts zones per book and each keyer\'s agreement and overruled fields, and exports the verified entries', async () => {
    const { bookId, pageId } = await book();
    const [z1, z2, z3, z4] = await zones(pageId, 4);
    await submitKeying(db, z1!.id, 'kim', birth());
    await submitKeying(db, z1!.id, 'lea', birth());
    await submitKeying(db, z2!.id, 'kim', birth({ surname: 'Gashi' }));
    await submitKeying(db, z2!.id, 'lea', birth({ surname: 'Gashe', sex: 'F' }));
    await submitKeying(db, z3!.id, 'kim', birth({ entryNumber: '19' }));
    const stats = await keyingStats(db, { bookId });
    expect(stats.books).toEqual([expect.objectContaining({ bookId, zones: 4, open: 1, keyedOnce: 1, disputed: 1, verified: 1, empty: 0 })]);
    expect(stats.keyers).toEqual([
      { keyer: 'kim', keyings: 3, compared: 2, agreed: 1, agreementRate: 0.5, fieldsOverruled: 0 },
      { keyer: 'lea', keyings: 2, compared: 2, agreed: 1, agreementRate: 0.5, fieldsOverruled: 0 },
    ]);
    await decideZone(db, z2!.id, 'rev', { surname: { pick: 'a' }, sex: { pick: 'a' } });
    const after = await keyingStats(db, { bookId });
    expect(after.keyers.map((k) => [k.keyer, k.fieldsOverruled])).toEqual([['kim', 0], ['lea', 2]]);
    expect(after.books[0]).toMatchObject({ disputed: 0, verified: 2 });
    expect(z4).toBeDefined();

    const x = await exportKeyedEntries(db, bookId);
    expect(x.entries.map((e) => (e.fields.surname as { value: string }).value)).toEqual(['Çitaku', 'Gashi']);
    const csv = keyedEntriesCsv(x).split('\r\n');
    expect(csv[0]).toBe('page,zone_id,entry_id,layout,layout_version,entryNumber,dateOfBirth,firstName,surname,sex,fatherName,mother,placeOfBirth,verified_by,verified_at');
    expect(csv[2]).toContain(',17,12.03.1958,Arbën,Gashi,M,Gëzim,Drita Hoxha,Pejë,rev,');
  });
});
