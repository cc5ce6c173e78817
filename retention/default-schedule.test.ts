/**
 * The default disclosure schedule on an archive that already holds books (issue 18, point 1): the
 * upgrade to migration 013 closes every book until its closure is computed under the schedule.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { createBook } from '../archive/index.ts';
import { isRestricted } from '../auth/index.ts';
import { silentLogger } from '../common/index.ts';
import { migrate, openDb, readMigrations, type Db } from '../db/index.ts';
import type { MigratableDb } from '../db/migrate.ts';
import { createBookWithRetention, recomputeStale } from './rules.ts';
import { getItemRetention } from './rules.store.ts';

describe('default disclosure schedule on an upgraded archive', () => {
  let db: Db | undefined;
  let dir: string | undefined;
  afterEach(async () => {
    await db?.close();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  it('closes every book archived before it until the stale job computes its closure under the schedule, then opens the ones whose period has ended', async () => {
    // The archive as it was before migration 013: books and no computed retention.
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'arkiva-before-013-'));
    for (const m of (await readMigrations()).filter((f) => f.version < 13)) await fs.writeFile(path.join(dir, m.file), m.sql);
    db = await openDb({ kind: 'pglite', dir: 'memory://' }, silentLogger(), { migrate: false });
    await migrate(db as MigratableDb, silentLogger(), { dir });
    const input = (registerType: 'birth' | 'death', year: number) => ({
      registerType, municipality: 'Prizren', yearFrom: year, yearTo: year, languages: 'sqi', sourceFormat: 'tiff' as const, sourceSha256: randomBytes(32).toString('hex'), sourceSize: 1,
    });
    const deaths1900 = (await createBook(db, input('death', 1900))).book.id;
    const birthsIn2000 = input('birth', 2000);
    const births2000 = (await createBook(db, birthsIn2000)).book.id;

    await migrate(db as MigratableDb, silentLogger());
    const marks = await db.query<{ book_id: string; reason: string }>('SELECT book_id, reason FROM retention_stale ORDER BY book_id');
    expect(marks.rows).toEqual([deaths1900, births2000].sort().map((id) => ({ book_id: id, reason: 'default disclosure schedule installed (migration 013)' })));
    expect(await isRestricted(db, deaths1900)).toBe(true);
    expect(await isRestricted(db, births2000)).toBe(true);
    // The same bytes uploaded again: the existing book, its closure computed now that it has none.
    expect(await createBookWithRetention(db, birthsIn2000)).toMatchObject({ created: false, book: { id: births2000 } });
    expect(await getItemRetention(db, births2000)).toMatchObject({ closedUntil: '2100-12-31', computedReason: 'book archived: retention and closure computed from the rules in force' });

    expect((await recomputeStale(db)).sort()).toEqual([deaths1900, births2000].sort());
    expect(await getItemRetention(db, deaths1900)).toMatchObject({ closedUntil: '1950-12-31', computedReason: 'default disclosure schedule installed (migration 013)' });
    expect(await getItemRetention(db, births2000)).toMatchObject({ closedUntil: '2100-12-31' });
    expect(await isRestricted(db, deaths1900)).toBe(false);
    expect(await isRestricted(db, births2000)).toBe(true);
  });
});
