import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBook, setPageImageInfo, upsertPage } from '../archive/index.ts';
import { silentLogger } from '../common/index.ts';
import { openDb, type Db } from '../db/index.ts';
import { proposeZones, submitKeying } from '../keying/index.ts';
import { createEntry, searchEntries, verifyEntry } from './index.ts';

// Issue 20, point 6: a verified keyed entry is found exactly as an OCR'd entry with the same names:
// without diacritics, in the other script, with a letter wrong. On an embedded database with the real migrations.
describe('keyed entries in entry search', () => {
  let dir: string;
  let db: Db;
  let bookId: string;
  let keyedSq: string;
  let keyedSr: string;
  let ocrSq: string;
  let ocrSr: string;

  async function keyed(pageId: string, y: number, first: string, surname: string): Promise<string> {
    const [zone] = await proposeZones(db, pageId, { source: 'drawn', zones: [{ box: { x0: 10, y0: y, x1: 1900, y1: y + 40 } }] }, { user: 'clerk' });
    const fields = Object.fromEntries(Object.entries({
      entryNumber: String(y), dateOfBirth: '12.03.1958', firstName: first, surname, sex: 'M', fatherName: 'Ilir', mother: 'Drita', placeOfBirth: 'Pejë',
    }).map(([k, v]) => [k, { value: v }]));
    await submitKeying(db, zone!.id, 'keyer-a', fields);
    expect((await submitKeying(db, zone!.id, 'keyer-b', fields)).zoneStatus).toBe('verified');
    return (await db.query<{ entry_id: string }>('SELECT entry_id FROM entry_zones WHERE id = $1', [zone!.id])).rows[0]!.entry_id;
  }

  async function ocrd(pageId: string, y: number, name: string): Promise<string> {
    const e = await createEntry(db, pageId, { box: { x0: 10, y0: y, x1: 1900, y1: y + 40 }, eventType: 'birth', eventDate: '1958-03-12', names: [{ role: 'subject', name }], ocrText: `${y} ${name}` }, { user: 'ocr', source: 'ocr' });
    await verifyEntry(db, e.id, { user: 'clerk' });
    return e.id;
  }

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'arkiva-keyed-search-'));
    db = await openDb({ kind: 'pglite', dir }, silentLogger());
    const { book } = await createBook(db, { registerType: 'birth', municipality: 'Pejë', yearFrom: 1958, yearTo: 1958, languages: 'sqi+srp', sourceFormat: 'tiff', sourceSha256: randomBytes(32).toString('hex'), sourceSize: 1 });
    bookId = book.id;
    const handwritten = (await upsertPage(db, bookId, 1)).id;
    const printed = (await upsertPage(db, bookId, 2)).id;
    for (const id of [handwritten, printed]) await setPageImageInfo(db, id, { width: 2000, height: 3000, dpiX: 300, dpiY: 300, orientation: 0, inkRatio: 0.05 });
    // Albanian as keyed (Latin with ë and ç), Serbian keyed in Cyrillic as written; OCR'd twins of both.
    keyedSq = await keyed(handwritten, 100, 'Arbën', 'Çitaku');
    keyedSr = await keyed(handwritten, 200, 'Милош', 'Ђорђевић');
    ocrSq = await ocrd(printed, 100, 'Arbën Çitaku');
    ocrSr = await ocrd(printed, 200, 'Милош Ђорђевић');
    // Others of the book, which none of the searches below may find.
    await keyed(handwritten, 300, 'Besa', 'Krasniqi');
    await ocrd(printed, 300, 'Zoran Jovanović');
  }, 120_000);
  afterAll(async () => {
    await db?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const cases: [query: string, which: 'sq' | 'sr', why: string][] = [
    ['Citaku', 'sq', 'surname without diacritics'],
    ['Ћитаку', 'sq', 'Albanian surname typed in Cyrillic'],
    ['Citaky', 'sq', 'one letter wrong'],
    ['arben citaku', 'sq', 'given name and surname, plain ASCII'],
    ['Djordjevic', 'sr', 'Cyrillic surname typed in ASCII Latin (dj)'],
    ['Đorđević', 'sr', 'Cyrillic surname typed in Serbian Latin'],
    ['Dordevic', 'sr', 'Serbian Latin without diacritics'],
    ['Đorđevič', 'sr', 'one letter wrong (č for ć)'],
    ['Milos Djordjevik', 'sr', 'both names, one letter wrong'],
  ];

  for (const [query, which, why] of cases) {
    it(`finds the keyed entry as it finds the OCR'd one: ${why} (${query})`, async () => {
      const found = await searchEntries(db, { name: query, bookId, status: 'verified' });
      const [keyedId, ocrId] = which === 'sq' ? [keyedSq, ocrSq] : [keyedSr, ocrSr];
      expect(found.map((e) => e.id).sort()).toEqual([keyedId, ocrId].sort());
      const k = found.find((e) => e.id === keyedId)!;
      const o = found.find((e) => e.id === ocrId)!;
      expect(k.source).toBe('keyed');
      expect(o.source).toBe('ocr');
      expect(k.score).toBeCloseTo(o.score, 6);
    });
  }
});
