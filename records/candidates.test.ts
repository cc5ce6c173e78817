import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../common/index.ts';
import { openDb, type Db } from '../db/index.ts';
import { candidatesForEntry } from './candidates.ts';
import { upsertRecord } from './records.ts';

describe('registry candidates for an entry (PGlite, pg_trgm)', () => {
  let db: Db;
  let dir: string;
  const ids: Record<string, string> = {};
  const add = async (key: string, personNames: string[], eventDate: string | null, municipality: string | null, recordType = 'birth') => {
    ids[key] = (await upsertRecord(db, { system: 'civil', recordType, recordId: key, personNames, eventDate, municipality }, { user: 'clerk' })).record.id;
  };

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'arkiva-candidates-'));
    db = await openDb({ kind: 'pglite', dir }, silentLogger());
    await add('right', ['Marko Đorđević', 'Dragan Đorđević'], '1958-03-04', 'Peć');
    await add('namesake-later', ['Marko Đorđević'], '1971-05-01', 'Peć');
    await add('namesake-elsewhere', ['Marko Đorđević', 'Dragan Đorđević'], '1958-03-04', 'Prizren');
    await add('same-family', ['Milan Đorđević', 'Dragan Đorđević'], '1958-07-12', 'Pejë');
    await add('death', ['Marko Đorđević'], '1958-03-04', 'Peć', 'death');
    await add('albanian', ['Arbën Krasniqi', 'Gëzim Krasniqi'], '1959-11-02', 'Pejë');
    await add('albanian-other', ['Arben Krasniqi'], '1959', 'Pejë');
    await add('undated', ['Zoran Jovanović'], null, null);
  }, 60_000);
  afterAll(async () => {
    await db?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const entry = { municipality: 'Pejë', yearFrom: 1958, yearTo: 1960, eventType: 'birth' as const };

  it('puts the right record first for a surname typed without diacritics, in ASCII digraphs or in Cyrillic', async () => {
    for (const surname of ['Djordjevic', 'Dordevic', 'Ђорђевић', 'Đorđević']) {
      const c = await candidatesForEntry(db, { ...entry, surname, givenName: 'Marko', father: 'Dragan', eventDate: '1958-03-04' });
      expect(c[0]?.record.id, `${surname}: ${JSON.stringify(c.map((x) => [Object.keys(ids).find((k) => ids[k] === x.record.id), x.score, x.reasons]))}`).toBe(ids.right);
      expect(c[0]!.reasons.join('; ')).toMatch(/surname "[a-z]+" 0\.\d\d|surname "[a-z]+" 1\.00/);
      expect(c[0]!.reasons).toContain('same municipality Peć (+0.1)');
      expect(c[0]!.reasons).toContain('same date 1958-03-04 (0.10)');
    }
    const sq = await candidatesForEntry(db, { ...entry, surname: 'krasniqi', givenName: 'Arben', father: 'Gezim', eventDate: '1959-11-02' });
    expect(sq.map((c) => c.record.id).slice(0, 2)).toEqual([ids.albanian, ids['albanian-other']]);
    expect(sq[0]!.score).toBeGreaterThan(0.9);
  });

  it('leaves out records dated outside the years or of another event type, and ranks another municipality below', async () => {
    const c = await candidatesForEntry(db, { ...entry, surname: 'Đorđević', givenName: 'Marko', father: 'Dragan', eventDate: '1958-03-04' });
    const order = c.map((x) => Object.keys(ids).find((k) => ids[k] === x.record.id));
    expect(order).not.toContain('namesake-later');
    expect(order).not.toContain('death');
    expect(order.indexOf('namesake-elsewhere')).toBeGreaterThan(order.indexOf('same-family'));
    expect(c.find((x) => x.record.id === ids['namesake-elsewhere'])!.reasons).toContain('other municipality Prizren (-0.2)');
    // Scores fall along the list.
    expect(c.map((x) => x.score)).toEqual([...c.map((x) => x.score)].sort((a, b) => b - a));
  });

  it('keeps undated records and those naming no municipality, without a bonus; refuses an empty query', async () => {
    const c = await candidatesForEntry(db, { ...entry, surname: 'Jovanovic', givenName: 'Zoran' });
    expect(c.map((x) => x.record.id)).toEqual([ids.undated]);
    expect(c[0]!.score).toBeCloseTo(0.7, 2);
    await expect(candidatesForEntry(db, { ...entry, surname: ' ', givenName: '' })).rejects.toThrow(/surname or a given name/);
    expect(await candidatesForEntry(db, { ...entry, surname: 'Qwxyzt', givenName: 'Vbnmkl' })).toEqual([]);
  });
});
