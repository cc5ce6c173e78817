/** The archive rows a page stage reads and writes in one statement each, on PostgreSQL. */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDb, type Db } from '../db/index.ts';
import { silentLogger } from '../common/index.ts';
import { requireService, testServices } from '../test-support/services.ts';
import { claimPageForStage, createBook, findPageObjects, markPageDone, markPageFailed, recordObject, recordObjects, resetPage, upsertPage } from './index.ts';

const run = requireService('databaseUrl');
const put = (n: number) => ({ key: `masters/sha256/${String(n).padStart(64, '0')}`, size: n, sha256: String(n).padStart(64, '0'), md5: String(n).padStart(32, '0') });

describe.skipIf(!run)('page stage rows on PostgreSQL', () => {
  const schema = `test_${randomBytes(6).toString('hex')}`;
  let db: Db;
  let bookId: string;

  beforeAll(async () => {
    db = await openDb({ kind: 'pg', url: testServices().databaseUrl!, schema }, silentLogger());
    ({ book: { id: bookId } } = await createBook(db, { registerType: 'death', municipality: 'Gjakovë', yearFrom: 1931, yearTo: 1931, languages: 'sqi', sourceFormat: 'tiff', sourceSha256: randomBytes(32).toString('hex'), sourceSize: 1 }));
  });
  afterAll(async () => {
    if (!db) return;
    await db.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await db.close();
  });

  it('records several objects once, in the order given, and finds them by role and variant', async () => {
    const page = await upsertPage(db, bookId, 1);
    const place = { bookId, pageId: page.id, revision: 1 };
    const { object: earlier } = await recordObject(db, { ...place, role: 'master' }, put(1), 'image/tiff');
    const entries = [
      { place: { ...place, role: 'master' as const }, put: put(2), mediaType: 'image/tiff' },
      { place: { ...place, role: 'derivative' as const, variant: 'view-jpeg' }, put: put(3), mediaType: 'image/jpeg' },
      { place: { ...place, role: 'derivative' as const, variant: 'thumb-jpeg' }, put: put(4), mediaType: 'image/jpeg' },
    ];
    const first = await recordObjects(db, entries);
    // The master was recorded before: the first record stands (a re-run changes nothing).
    expect(first.map((o) => [o.role, o.variant, o.sha256])).toEqual([['master', '', put(1).sha256], ['derivative', 'view-jpeg', put(3).sha256], ['derivative', 'thumb-jpeg', put(4).sha256]]);
    expect(first[0]!.id).toBe(earlier.id);
    const again = await recordObjects(db, entries);
    expect(again.map((o) => o.id)).toEqual(first.map((o) => o.id));
    expect((await db.query<{ n: number }>('SELECT count(*)::int AS n FROM stored_objects WHERE page_id = $1', [page.id])).rows[0]!.n).toBe(3);

    const found = await findPageObjects(db, place);
    expect([...found.keys()].sort()).toEqual(['derivative/thumb-jpeg', 'derivative/view-jpeg', 'master']);
    expect(found.get('master')!.id).toBe(earlier.id);
    expect((await findPageObjects(db, { ...place, revision: 2 })).size).toBe(0);
  });

  it('claims a page for a stage only while it is pending or processing at that revision', async () => {
    const page = await upsertPage(db, bookId, 2);
    const claimed = await claimPageForStage(db, page, 'page.master');
    expect(claimed).toMatchObject({ id: page.id, status: 'processing', stage: 'page.master', attempts: 1 });
    expect(await claimPageForStage(db, page, 'page.ocr')).toMatchObject({ stage: 'page.ocr', attempts: 2 });
    expect(await claimPageForStage(db, { ...page, revision: 2 }, 'page.ocr')).toBeUndefined();
    expect(await claimPageForStage(db, { ...page, bookId: page.id }, 'page.ocr')).toBeUndefined();

    await markPageDone(db, page.id, 1);
    expect(await claimPageForStage(db, page, 'page.index')).toBeUndefined();
    await resetPage(db, page.id, { newRevision: true });
    expect(await claimPageForStage(db, { ...page, revision: 2 }, 'page.master')).toMatchObject({ revision: 2, status: 'processing' });
    await markPageFailed(db, page.id, 'page.master', 'unreadable');
    expect(await claimPageForStage(db, { ...page, revision: 2 }, 'page.ocr')).toBeUndefined();
  });
});
