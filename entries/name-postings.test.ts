import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBook, setPageImageInfo, upsertPage } from '../archive/index.ts';
import { silentLogger } from '../common/index.ts';
import { openDb, type Db } from '../db/index.ts';
import { formSimilarity, normaliseTokens, normaliseText } from '../search/normalise.ts';
import { createEntry, deleteEntry, searchEntries, updateEntry, type EntrySearch, type NameRole } from './index.ts';

// Entry search through the name-word postings (migration 020): the same answers, in the same
// order, as matching every name row directly, whatever the limit; postings follow every write.
describe('entry search over name-word postings', () => {
  let dir: string;
  let db: Db;
  let bookId: string;
  let pageId: string;

  const SURNAMES = ['Krasniqi', 'Krasniqe', 'Gashi', 'Gash', 'Jovanović', 'Јовановић', 'Radovanović', 'Hoxha'];
  const GIVEN = ['Marko', 'Markovic', 'Jovana', 'Jovan', 'Drita', 'Arbën', 'Ана'];
  const PLACES = ['Pejë', 'Peć', 'Prizren', 'Gjakovë'];

  /**
   * The search as a plain scan of every name row: each term must match a word of one of the
   * entry's names (of the role): the same word, or one trigram-similar (pg_trgm `%`) within the
   * term's edit budget; score the mean of each term's best similarity (`formSimilarity`).
   */
  async function reference(s: EntrySearch): Promise<{ id: string; score: number }[]> {
    const terms = normaliseTokens(s.name ?? '');
    const r = await db.query<{ id: string; created_at: Date; i: number; w: string; near: boolean }>(
      `SELECT e.id, e.created_at, t.i::int AS i, w, (w % t.term) AS near FROM entries e
         JOIN entry_names n ON n.entry_id = e.id AND ($2::text IS NULL OR n.role = $2)
        CROSS JOIN LATERAL unnest(string_to_array(n.norm, ' ')) w
        CROSS JOIN unnest($1::text[]) WITH ORDINALITY t(term, i)
        WHERE e.deleted_at IS NULL AND e.book_id = $3
          AND ($4::text IS NULL OR e.event_date >= $4) AND ($5::text IS NULL OR left(e.event_date, length($5)) <= $5)
          AND ($6::text IS NULL OR e.place_norm % $6)`,
      [terms, s.role ?? null, bookId, s.dateFrom ?? null, s.dateTo ?? null, s.place ? normaliseText(s.place) : null],
    );
    const best = new Map<string, { created: number; sims: number[] }>();
    for (const x of r.rows) {
      const term = terms[x.i - 1]!;
      const sim = x.w === term ? 1 : x.near ? formSimilarity(term, x.w) : null;
      if (sim === null) continue;
      const e = best.get(x.id) ?? { created: new Date(x.created_at).getTime(), sims: terms.map(() => -1) };
      e.sims[x.i - 1] = Math.max(e.sims[x.i - 1]!, sim);
      best.set(x.id, e);
    }
    return [...best]
      .filter(([, e]) => e.sims.every((v) => v >= 0))
      .map(([id, e]) => ({ id, created: e.created, score: e.sims.reduce((a, b) => a + b, 0) / terms.length }))
      .sort((a, b) => b.score - a.score || a.created - b.created || (a.id < b.id ? -1 : 1))
      .slice(0, s.limit ?? 50);
  }

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'arkiva-name-postings-'));
    db = await openDb({ kind: 'pglite', dir }, silentLogger());
    ({ book: { id: bookId } } = await createBook(db, { registerType: 'birth', municipality: 'Pejë', yearFrom: 1950, yearTo: 1959, languages: 'sqi+srp', sourceFormat: 'tiff', sourceSha256: randomBytes(32).toString('hex'), sourceSize: 1 }));
    pageId = (await upsertPage(db, bookId, 1)).id;
    await setPageImageInfo(db, pageId, { width: 2000, height: 3000, dpiX: 300, dpiY: 300, orientation: 0, inkRatio: 0.05 });
    // Sixty entries whose names repeat and resemble each other (the lists' lengths are coprime, so
    // the combinations vary), so limits cut through ties and fuzzy matches.
    const pick = <T>(list: readonly T[], i: number) => list[i % list.length]!;
    for (let i = 0; i < 60; i++) {
      const names: { role: NameRole; name: string }[] = [
        { role: 'subject', name: `${pick(GIVEN, i * 3)} ${pick(SURNAMES, i)}` },
        { role: 'father', name: pick(GIVEN, i + 4) },
        { role: 'mother', name: `${pick(GIVEN, i * 5 + 1)} ${pick(SURNAMES, i * 3 + 2)}` },
      ];
      await createEntry(db, pageId, {
        box: { x0: 10, y0: 10 + i * 40, x1: 1900, y1: 45 + i * 40 }, eventType: 'birth', entryNumber: String(i + 1),
        eventDate: `195${i % 10}-0${1 + ((i * 7) % 9)}-1${(i * 3) % 10}`, place: pick(PLACES, i * 5), names,
      }, { user: 'clerk' });
    }
  }, 120_000);
  afterAll(async () => {
    await db?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const queries: EntrySearch[] = [
    { name: 'Krasniqi' }, { name: 'krasniqi', limit: 3 }, { name: 'Gashi', limit: 7 }, { name: 'jovanovic', limit: 5 },
    { name: 'Jovana', role: 'mother', limit: 4 }, { name: 'marko jovanovic' }, { name: 'marko jovanovic', limit: 2 },
    { name: 'Ana Gashi', place: 'Peje' }, { name: 'hoxha', dateFrom: '1953', dateTo: '1956', limit: 6 }, { name: 'marko krasniqi gashi' },
    { name: 'Arben', role: 'father' }, { name: 'nomatchatall' },
    // Several words within dates of every precision: read as a range of the date index (migration 028).
    { name: 'marko jovanovic', dateFrom: '1952-03', dateTo: '1957-05' }, { name: 'jovana gashi', dateFrom: '1951-04-15', dateTo: '1958' },
    { name: 'marko krasniqi', dateFrom: '1950', dateTo: '1955-06-30', limit: 4 },
    // Several words of one role: each word must be a word of a name of that role.
    { name: 'jovana gashi', role: 'mother' }, { name: 'drita krasniqi', role: 'subject', limit: 3 },
    // Several words in a place: read per place of the vocabulary like it (migration 030), typed
    // without diacritics, in the other script or misspelt.
    { name: 'marko jovanovic', place: 'Prizren' }, { name: 'jovana krasniqi', place: 'Pec', dateFrom: '1951', dateTo: '1958' },
    { name: 'ana gashi', place: 'Gjakova' }, { name: 'drita krasniqi', role: 'subject', place: 'Pejë', limit: 2 },
    { name: 'marko jovanovic', place: 'Призрен', dateFrom: '1950-06', dateTo: '1959' }, { name: 'jovan gashi', place: 'Nowhere' },
  ];
  for (const q of queries) {
    it(`answers as a scan of every name row: ${JSON.stringify(q)}`, async () => {
      const want = await reference(q);
      const got = await searchEntries(db, { ...q, bookId });
      expect(got.map((e) => e.id)).toEqual(want.map((e) => e.id));
      got.forEach((e, i) => expect(e.score).toBeCloseTo(want[i]!.score, 6));
      if (q.name !== 'nomatchatall' && q.place !== 'Nowhere') expect(want.length).toBeGreaterThan(0);
    });
  }

  it('keeps the date bounds of several words exact at each precision', async () => {
    const e = await createEntry(db, pageId, { box: { x0: 10, y0: 2600, x1: 1900, y1: 2640 }, eventType: 'birth', eventDate: '1957-01-20', names: [{ role: 'subject', name: 'Besnik Xhaferi' }] }, { user: 'clerk' });
    const found = async (dateFrom?: string, dateTo?: string) => (await searchEntries(db, { name: 'besnik xhaferi', dateFrom, dateTo, bookId })).map((x) => x.id);
    for (const [from, to] of [['1957', '1957'], ['1957-01', '1957-01'], ['1957-01-20', '1957-01-20'], [undefined, '1957-01-20'], ['1956-12-31', undefined], ['1950', '1960']] as const) {
      expect(await found(from, to), `${from}..${to}`).toEqual([e.id]);
    }
    for (const [from, to] of [['1957-01-21', '1957'], ['1957', '1957-01-19'], [undefined, '1956'], ['1957-02', undefined], ['1958', '1959']] as const) {
      expect(await found(from, to), `${from}..${to}`).toEqual([]);
    }
    await db.query('DELETE FROM entries WHERE id = $1', [e.id]);
  });

  it('follows renamed, retired and deleted entries', async () => {
    const e = await createEntry(db, pageId, { box: { x0: 10, y0: 2500, x1: 1900, y1: 2540 }, eventType: 'birth', eventDate: '1955-04-02', names: [{ role: 'subject', name: 'Zenel Qerimi' }] }, { user: 'clerk' });
    expect((await searchEntries(db, { name: 'qerimi', bookId })).map((x) => x.id)).toEqual([e.id]);
    expect((await searchEntries(db, { name: 'qerimi', dateFrom: '1955', dateTo: '1955', bookId })).map((x) => x.id)).toEqual([e.id]);
    await updateEntry(db, e.id, { eventDate: '1957-01-20' }, { user: 'clerk' });
    expect(await searchEntries(db, { name: 'qerimi', dateFrom: '1955', dateTo: '1955', bookId })).toEqual([]);
    expect((await searchEntries(db, { name: 'zenel qerimi', dateFrom: '1957-01', dateTo: '1957', bookId })).map((x) => x.id)).toEqual([e.id]);
    // A place corrected, to one no entry held before: found there, no longer under the old one.
    await updateEntry(db, e.id, { place: 'Pejë' }, { user: 'clerk' });
    expect((await searchEntries(db, { name: 'zenel qerimi', place: 'Peje', bookId })).map((x) => x.id)).toEqual([e.id]);
    await updateEntry(db, e.id, { place: 'Istog' }, { user: 'clerk' });
    expect(await searchEntries(db, { name: 'zenel qerimi', place: 'Peje', bookId })).toEqual([]);
    expect((await searchEntries(db, { name: 'zenel qerimi', place: 'Istogu', bookId })).map((x) => x.id)).toEqual([e.id]);
    await updateEntry(db, e.id, { names: [{ role: 'subject', name: 'Zenel Sopi' }, { role: 'father', name: 'Qerim' }] }, { user: 'clerk' });
    expect((await searchEntries(db, { name: 'zenel sopi', place: 'Istog', bookId })).map((x) => x.id)).toEqual([e.id]);
    expect(await searchEntries(db, { name: 'qerimi', role: 'subject', bookId })).toEqual([]);
    expect((await searchEntries(db, { name: 'sopi', bookId })).map((x) => x.id)).toEqual([e.id]);
    expect((await searchEntries(db, { name: 'zenel sopi', role: 'subject', bookId })).map((x) => x.id)).toEqual([e.id]);
    await deleteEntry(db, e.id, { user: 'clerk' });
    expect(await searchEntries(db, { name: 'sopi', bookId })).toEqual([]);
    await db.query('DELETE FROM entries WHERE id = $1', [e.id]);
    expect((await db.query('SELECT 1 FROM entry_name_postings WHERE entry_id = $1', [e.id])).rows).toEqual([]);
  });
});
