import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../common/index.ts';
import { openDb, type Db } from '../db/index.ts';
import { keysSharedWithOtherBooks } from './disposal.store.ts';

// Cached views and IIIF tiles are content-addressed: a blank margin tile of one book is the same
// object as another's. Disposal must leave a key that another book's cache still names.
describe('keys another book still records (PGlite)', () => {
  let db: Db;
  let dir: string;
  const pageOf: Record<string, string> = {};
  const bookOf: Record<string, string> = {};

  const addBook = async (name: string): Promise<void> => {
    const sha = createHash('sha256').update(name).digest('hex');
    const book = await db.query<{ id: string }>(
      `INSERT INTO books (register_type, municipality, year_from, year_to, source_format, source_sha256, source_size)
       VALUES ('birth', 'Pejë', 1950, 1950, 'pdf', $1, 10) RETURNING id::text AS id`, [sha]);
    bookOf[name] = book.rows[0]!.id;
    const page = await db.query<{ id: string }>('INSERT INTO pages (book_id, sequence) VALUES ($1, 1) RETURNING id::text AS id', [bookOf[name]]);
    pageOf[name] = page.rows[0]!.id;
  };
  const cache = (name: string, spec: string, key: string) => db.query(
    `INSERT INTO page_image_cache (page_id, revision, spec, store_key, sha256, size, media_type) VALUES ($1, 1, $2, $3, $4, 1, 'image/jpeg')`,
    [pageOf[name], spec, key, 'a'.repeat(64)]);

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'arkiva-disposal-keys-'));
    db = await openDb({ kind: 'pglite', dir }, silentLogger());
    await addBook('disposed');
    await addBook('kept');
    await cache('disposed', 'iiif3:0,0,512,512', 'cache/blank-tile');
    await cache('kept', 'iiif3:512,0,512,512', 'cache/blank-tile');
    await cache('disposed', 'iiif3:0,512,512,512', 'cache/own-tile');
  }, 60_000);
  afterAll(async () => {
    await db?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('names a cached image key that another book\'s page also caches, and not one only the disposed book uses', async () => {
    const shared = await keysSharedWithOtherBooks(db, ['cache/blank-tile', 'cache/own-tile'], bookOf.disposed!);
    expect([...shared]).toEqual(['cache/blank-tile']);
  });

  it('answers for the book asked about: from the other side both keys belong to another book, a key nobody caches to none', async () => {
    const shared = await keysSharedWithOtherBooks(db, ['cache/blank-tile', 'cache/own-tile', 'cache/nobody'], bookOf.kept!);
    expect([...shared].sort()).toEqual(['cache/blank-tile', 'cache/own-tile']);
  });
});
