import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBook, setPageImageInfo, upsertPage } from '../archive/index.ts';
import { silentLogger } from '../common/index.ts';
import { openDb, type Db } from '../db/index.ts';
import { proposeZones, submitKeying } from '../keying/index.ts';
import { bulkLink, isStrongAndUnique, linkProposals } from './link-proposals.ts';
import { createLink } from './links.ts';
import { upsertRecord } from './records.ts';

// Bulk linking of verified keyed entries on an embedded database with the real migrations.
describe('link proposals and bulk links for keyed entries (PGlite, pg_trgm)', () => {
  let dir: string;
  let db: Db;
  let bookId: string;
  let pageId: string;
  let row = 0;
  const entries: Record<string, string> = {};
  const records: Record<string, string> = {};

  /** A zone keyed alike by two keyers, so verified: its entry id. */
  async function keyedEntry(v: { nr: string; date: string; first: string; surname: string; father: string }): Promise<string> {
    row += 1;
    const [zone] = await proposeZones(db, pageId, { source: 'drawn', zones: [{ box: { x0: 10, y0: row * 50, x1: 1900, y1: row * 50 + 40 } }] }, { user: 'clerk' });
    const fields = Object.fromEntries(Object.entries({
      entryNumber: v.nr, dateOfBirth: v.date, firstName: v.first, surname: v.surname, sex: 'M', fatherName: v.father, mother: 'Drita Gashi', placeOfBirth: 'Pejë',
    }).map(([k, x]) => [k, { value: x }]));
    await submitKeying(db, zone!.id, 'keyer-a', fields);
    expect((await submitKeying(db, zone!.id, 'keyer-b', fields)).zoneStatus).toBe('verified');
    return (await db.query<{ entry_id: string }>('SELECT entry_id FROM entry_zones WHERE id = $1', [zone!.id])).rows[0]!.entry_id;
  }
  const record = async (key: string, personNames: string[], eventDate: string | null, municipality: string | null) => {
    records[key] = (await upsertRecord(db, { system: 'civil', recordType: 'birth', recordId: key, personNames, eventDate, municipality }, { user: 'rm' })).record.id;
  };

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'arkiva-link-proposals-'));
    db = await openDb({ kind: 'pglite', dir }, silentLogger());
    const { book } = await createBook(db, { registerType: 'birth', municipality: 'Pejë', yearFrom: 1958, yearTo: 1958, languages: 'sqi', sourceFormat: 'tiff', sourceSha256: randomBytes(32).toString('hex'), sourceSize: 1 });
    bookId = book.id;
    pageId = (await upsertPage(db, bookId, 1)).id;
    await setPageImageInfo(db, pageId, { width: 2000, height: 3000, dpiX: 300, dpiY: 300, orientation: 0, inkRatio: 0.05 });
    entries.arben = await keyedEntry({ nr: '1', date: '12.03.1958', first: 'Arbën', surname: 'Çitaku', father: 'Gëzim' });
    entries.besa = await keyedEntry({ nr: '2', date: '02.05.1958', first: 'Besa', surname: 'Krasniqi', father: 'Ilir' });
    entries.drita = await keyedEntry({ nr: '3', date: '01.07.1958', first: 'Drita', surname: 'Hoxha', father: 'Fadil' });
    entries.luan = await keyedEntry({ nr: '4', date: '09.09.1958', first: 'Luan', surname: 'Berisha', father: 'Agim' });
    entries.linked = await keyedEntry({ nr: '5', date: '10.10.1958', first: 'Valon', surname: 'Morina', father: 'Sami' });
    // The record written in Serbian, in Cyrillic: names and municipality are folded alike.
    await record('arben', ['Арбен Ћитаку', 'Гезим Ћитаку'], '1958-03-12', 'Пећ');
    await record('besa', ['Besa Krasniqi'], '1958-05-02', 'Pejë');
    await record('besa-namesake', ['Besa Krasniqi'], '1958', 'Peć');
    await record('drita-elsewhere', ['Drita Hoxhaj'], '1958-07-01', 'Prizren');
    await record('luan', ['Luan Berisha', 'Agim Berisha'], '1958-09-09', 'Pejë');
    await record('valon', ['Valon Morina', 'Sami Morina'], '1958-10-10', 'Pejë');
    await createLink(db, { recordId: records.valon!, target: { kind: 'entry', entryId: entries.linked! }, linkType: 'original-entry' }, { user: 'clerk' });
  }, 120_000);
  afterAll(async () => {
    await db?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('calls a candidate strong from 0.85 and unique when the runner-up is more than 0.2 below', () => {
    expect(isStrongAndUnique(0.85, null)).toEqual({ strong: true, unique: true });
    expect(isStrongAndUnique(0.849, null).strong).toBe(false);
    // A namesake in the same municipality (names and place: 0.80) under a perfect match is not unique.
    expect(isStrongAndUnique(1, 0.8).unique).toBe(false);
    expect(isStrongAndUnique(1, 0.799).unique).toBe(true);
  });

  it('proposes only the unlinked entries whose best record is strong and unique, with the runner-up score', async () => {
    const r = await linkProposals(db, bookId);
    expect(r.considered).toBe(4);
    expect(r.proposals.map((p) => [p.entryId, p.candidate.record.id])).toEqual([[entries.arben, records.arben], [entries.luan, records.luan]]);
    const arben = r.proposals[0]!;
    expect(arben.candidate.score).toBeGreaterThanOrEqual(0.85);
    expect(arben.query).toEqual({ surname: 'Çitaku', givenName: 'Arbën', father: 'Gëzim', eventDate: '1958-03-12' });
    expect(arben.runnerUpScore === null || arben.candidate.score - arben.runnerUpScore > 0.2).toBe(true);
    expect(r.notProposed).toMatchObject({ ambiguous: 1, weak: 1 });
    expect(r.nextCursor).toBeNull();
    // Page by page with the cursor, the same entries are looked at once each.
    const first = await linkProposals(db, bookId, { limit: 3 });
    const rest = await linkProposals(db, bookId, { limit: 3, cursor: first.nextCursor! });
    expect([first.considered, rest.considered, rest.nextCursor]).toEqual([3, 1, null]);
    expect([...first.proposals, ...rest.proposals].map((p) => p.entryId)).toEqual([entries.arben, entries.luan]);
    await expect(linkProposals(db, bookId, { cursor: 'x' })).rejects.toThrow(/cursor/);
  });

  it('links the pairs still strong and unique, refuses one whose record stopped being unique, and never links an entry twice', async () => {
    const before = await linkProposals(db, bookId);
    expect(before.proposals.map((p) => p.entryId)).toContain(entries.luan);
    // Since the review: a namesake of Luan's, born the same year in the same municipality, was imported.
    await record('luan-namesake', ['Luan Berisha'], '1958', 'Pejë');
    const seen: string[] = [];
    const report = await bulkLink(db, bookId, [
      { entryId: entries.arben!, recordId: records.arben! },
      { entryId: entries.luan!, recordId: records.luan! },
      { entryId: entries.besa!, recordId: records.besa! },
    ], { user: 'rm', onLinked: async (_tx, l) => void seen.push(l.link.id) });
    expect(report.linked.map((l) => [l.entryId, l.recordId])).toEqual([[entries.arben, records.arben]]);
    expect(report.linked[0]!.link).toMatchObject({ linkType: 'original-entry', createdBy: 'rm', item: { kind: 'entry', entryId: entries.arben } });
    expect(report.linked[0]!.link.reason).toMatch(/^bulk link: score \d\.\d{3}, runner-up/);
    expect(seen).toEqual([report.linked[0]!.link.id]);
    expect(report.refused.map((r) => [r.entryId, r.error])).toEqual([
      [entries.luan, expect.stringMatching(/another record is now within 0.2/)],
      [entries.besa, expect.stringMatching(/another record is now within 0.2/)],
    ]);
    const live = await db.query<{ entry_id: string }>('SELECT entry_id FROM record_links WHERE unlinked_at IS NULL AND entry_id = ANY($1::uuid[])', [[entries.luan, entries.besa]]);
    expect(live.rows).toEqual([]);

    // Submitted again: the entry is linked now, so nothing is made.
    const again = await bulkLink(db, bookId, [{ entryId: entries.arben!, recordId: records.arben! }], { user: 'rm' });
    expect(again.linked).toEqual([]);
    expect(again.refused[0]!.error).toMatch(/without a link/);
    // An entry already linked by a clerk, another book's entry, a record that is not the best: refused.
    const other = await bulkLink(db, bookId, [
      { entryId: entries.linked!, recordId: records.valon! },
      { entryId: entries.drita!, recordId: records['drita-elsewhere']! },
    ], { user: 'rm' });
    expect(other.linked).toEqual([]);
    expect(other.refused.map((r) => r.error)).toEqual([expect.stringMatching(/without a link/), expect.stringMatching(/below 0.85/)]);
    await expect(bulkLink(db, randomBytes(16).toString('hex').replace(/^(.{8})(.{4})(.{4})(.{4})(.{12})$/, '$1-$2-$3-$4-$5'), [{ entryId: entries.drita!, recordId: records.besa! }], { user: 'rm' }))
      .resolves.toMatchObject({ refused: [{ error: expect.stringMatching(/not of book/) }] });
    await expect(bulkLink(db, bookId, [], { user: 'rm' })).rejects.toThrow(/no pairs/);
    await expect(bulkLink(db, bookId, [{ entryId: entries.drita!, recordId: records.besa! }, { entryId: entries.drita!, recordId: records.besa! }], { user: 'rm' })).rejects.toThrow(/twice/);
    expect((await linkProposals(db, bookId)).proposals).toEqual([]);
  });
});
