/**
 * The catalogue written to the object store, on PostgreSQL, Redis (BullMQ) and S3 (Ceph RGW): a
 * fixture book ingested through the pipeline is written out in the documented format; a change makes
 * a new version and leaves the old; `catalogue check` finds nothing, then finds a removed object and
 * a change not yet written out. Needs all three services.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateFixtureFiles } from '../fixtures/index.ts';
import { ingestBook } from '../ingest/index.ts';
import { getBook, isFinalBookStatus, updateBookMetadata } from '../archive/index.ts';
import { appendAuditEvent } from '../audit/index.ts';
import { placeHold } from '../retention/index.ts';
import { createLink, upsertRecord } from '../records/index.ts';
import { startWorkers } from '../workers/index.ts';
import { requireService } from '../test-support/services.ts';
import { openRealDeps, realServicesEnv, type RealDeps } from '../test-support/real-deps.ts';
import type { AppDeps } from '../app/deps.ts';
import {
  CATALOGUE_KINDS, CATALOGUE_PREFIX, CATALOGUE_TABLES, NOT_WRITTEN_TABLES, OMITTED_COLUMNS, catalogueFolder, checkCatalogue, latestObjects,
  listDisposedBooks, parseCatalogueKey, parseCatalogueObject, readAuditSegments, readCatalogueObject, writeCatalogue, type CatalogueTable, type KindSpec,
} from './index.ts';
import { readObject } from '../storage/index.ts';

const ready = requireService('databaseUrl') && requireService('redisUrl') && requireService('s3');
const bin = path.resolve('bin/arkiva.mjs');

function arkiva(args: string[], env: Record<string, string>): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], { env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', (code) => resolve({ code, out, err }));
  });
}

async function waitDone(deps: AppDeps, bookId: string, timeoutMs: number) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const b = await getBook(deps.db, bookId);
    if (b && isFinalBookStatus(b.status)) return b;
    if (Date.now() > until) throw new Error(`book ${bookId} still ${b?.status} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

/** Every key under the catalogue prefix. */
async function storeKeys(deps: AppDeps): Promise<string[]> {
  return storeKeysUnder(deps, CATALOGUE_PREFIX);
}

async function storeKeysUnder(deps: AppDeps, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const o of deps.store.list(prefix)) keys.push(o.key);
  return keys;
}

describe.skipIf(!ready)('catalogue in the object store (PostgreSQL + Redis + RGW)', () => {
  let dir: string;
  let env: Record<string, string>;
  let real: RealDeps;
  let bookId: string;

  beforeAll(async () => {
    dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'arkiva-catalogue-'));
    const files = await generateFixtureFiles({ outDir: dir, pages: 3, seed: 25, formats: ['tiff'], scale: 0.5, style: 'printed' });
    // No periodic jobs: the test decides when the catalogue is written.
    env = realServicesEnv({ OCR_POOL_SIZE: '1', SCHEDULES: 'false' });
    real = await openRealDeps(env);
    const { deps } = real;
    const workers = await startWorkers(deps);
    try {
      const b = await ingestBook(deps, { kind: 'file', path: files.tiff!.path }, {
        registerType: 'birth', municipality: files.truth.book.municipality, yearFrom: files.truth.book.yearFrom, yearTo: files.truth.book.yearTo, languages: 'sqi',
      });
      bookId = b.book.id;
      await waitDone(deps, bookId, 300_000);
      await deps.queue.drained({ timeoutMs: 180_000 });
    } finally {
      await workers.close();
    }
    await appendAuditEvent(deps.db, { actor: 'system', action: 'test.catalogue', outcome: 'ok', targetType: 'book', targetId: bookId });
    // A user with a password: its hash must never reach the store.
    const u = await deps.db.query<{ id: string }>(`INSERT INTO users (username, password_hash, created_by) VALUES ('rm', 'scrypt$16384$8$1$c2FsdA$aGFzaA', 'test') RETURNING id`);
    await deps.db.query(`INSERT INTO user_roles (user_id, role, granted_by) VALUES ($1, 'records_manager', 'test')`, [u.rows[0]!.id]);
  }, 600_000);

  afterAll(async () => {
    await real?.cleanup();
    if (dir) await fs.promises.rm(dir, { recursive: true, force: true });
  });

  it('names every table of the migrated schema as written, derived or not kept, with exactly its columns', async () => {
    const schema = real.config.database.kind === 'pg' ? real.config.database.schema : 'public';
    const cols = await real.deps.db.query<{ table_name: string; column_name: string }>(
      `SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = $1 ORDER BY table_name, ordinal_position`, [schema]);
    const byTable = new Map<string, string[]>();
    for (const c of cols.rows) byTable.set(c.table_name, [...(byTable.get(c.table_name) ?? []), c.column_name]);
    const undecided = [...byTable.keys()].filter((t) => !(t in CATALOGUE_TABLES) && !(t in NOT_WRITTEN_TABLES));
    expect(undecided, 'tables with no catalogue decision (catalogue/format.ts)').toEqual([]);
    for (const [table, spec] of Object.entries(CATALOGUE_TABLES)) {
      const expected = (byTable.get(table) ?? []).filter((c) => !(OMITTED_COLUMNS[table as CatalogueTable] ?? []).includes(c));
      expect(Object.keys(spec.columns), `columns of ${table}`).toEqual(expected);
    }
  });

  it('writes the book, its events, the globals and the audit chain in the documented format', async () => {
    const { deps } = real;
    await writeCatalogue(deps, { flushAudit: true });
    const keys = await storeKeys(deps);
    expect(keys).toContain(`${CATALOGUE_PREFIX}format/catalogue-format-1.md`);
    const latest = new Map<string, string>();
    for await (const o of latestObjects(deps.store)) latest.set(`${o.ref.kind}/${o.ref.scope}`, o.key);
    for (const want of [`book/${bookId}`, `events/${bookId}`, 'rules/', 'layouts/', 'users/']) expect([...latest.keys()]).toContain(want);

    // Every object parses, hashes to its key, and each row has exactly its table's documented columns.
    for (const key of keys.filter((k) => parseCatalogueKey(k))) {
      const obj = parseCatalogueObject(key, await readObject(deps.store, key));
      const spec: KindSpec = CATALOGUE_KINDS[obj.header.kind];
      for (const [table, rows] of Object.entries(obj.data)) {
        expect(spec.tables).toContain(table);
        for (const row of rows ?? []) expect(Object.keys(row).sort()).toEqual(Object.keys(CATALOGUE_TABLES[table as CatalogueTable].columns).sort());
      }
    }

    const book = await readCatalogueObject(deps.store, latest.get(`book/${bookId}`)!);
    expect(book.header).toMatchObject({ format: 'arkiva-catalogue', formatVersion: 1, kind: 'book', scope: bookId, previous: null });
    expect(book.data.books).toHaveLength(1);
    expect(book.data.pages!.map((p) => p.sequence)).toEqual([1, 2, 3]);
    const dbObjects = await deps.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM stored_objects WHERE book_id = $1`, [bookId]);
    expect(book.data.stored_objects).toHaveLength(dbObjects.rows[0]!.n);
    // Timestamps keep PostgreSQL's microseconds, in UTC.
    expect(book.data.books![0]!.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    const exact = await deps.db.query<{ t: string }>(`SELECT to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS t FROM books WHERE id = $1`, [bookId]);
    expect(book.data.books![0]!.created_at).toBe(exact.rows[0]!.t);
    // A person can read it: plain JSON with the table's column names.
    const text = (await readObject(deps.store, latest.get(`book/${bookId}`)!)).toString('utf8');
    expect(JSON.parse(text).data.pages[0]).toHaveProperty('book_id', bookId);

    const users = await readCatalogueObject(deps.store, latest.get('users/')!);
    expect(users.data.users).toMatchObject([{ username: 'rm' }]);
    expect(users.data.user_roles).toMatchObject([{ role: 'records_manager' }]);
    expect(JSON.stringify(users.data)).not.toContain('scrypt');

    const segments = [];
    for await (const s of readAuditSegments(deps.store)) segments.push(s);
    const head = await deps.db.query<{ seq: string; hash: string }>(`SELECT seq::text, hash FROM audit_events ORDER BY seq DESC LIMIT 1`);
    expect(segments.at(-1)!.header.lastSeq).toBe(Number(head.rows[0]!.seq));
    expect(segments.at(-1)!.header.lastHash).toBe(head.rows[0]!.hash);

    // Nothing changed: a second run, even a full one, writes no new version.
    const again = await writeCatalogue(deps, { all: true, flushAudit: true });
    expect(again.written).toEqual([]);
    expect(again.failed).toEqual([]);
    expect(await storeKeys(deps)).toEqual(keys);
  });

  it('writes a new version for a metadata change, a hold and a link, and leaves the old one', async () => {
    const { deps } = real;
    await writeCatalogue(deps, { flushAudit: true });
    const before = await storeKeys(deps);
    const v1Key = before.find((k) => k.startsWith(catalogueFolder({ kind: 'book', scope: bookId })))!;
    const v1Bytes = await readObject(deps.store, v1Key);

    await updateBookMetadata(deps.db, bookId, { volume: 'II' });
    await placeHold(deps, { name: `catalogue-test-${bookId.slice(0, 8)}`, reason: 'litigation', authority: 'court', by: 'rm', items: [{ bookId }] });
    const { record } = await upsertRecord(deps.db, { system: 'CRS', recordType: 'birth', recordId: `R-${bookId.slice(0, 8)}`, personNames: ['Arta Krasniqi'], eventDate: '1961' }, { user: 'clerk' });
    await createLink(deps.db, { recordId: record.id, target: { kind: 'book', bookId }, linkType: 'original-entry' }, { user: 'clerk' });

    const r = await writeCatalogue(deps, { flushAudit: true });
    expect(r.failed).toEqual([]);
    const written = new Map(r.written.map((w) => [`${w.kind}/${w.scope}`, w]));
    expect(written.get(`book/${bookId}`)?.version).toBe(2);
    expect(written.get('holds/')).toBeDefined();
    expect(written.get(`links/${bookId}`)?.version).toBe(1);
    expect(written.get(`registry-records/${record.id.slice(0, 2)}`)).toBeDefined();

    const after = await storeKeys(deps);
    for (const k of before) expect(after).toContain(k);
    expect((await readObject(deps.store, v1Key)).equals(v1Bytes)).toBe(true);
    const v2 = await readCatalogueObject(deps.store, written.get(`book/${bookId}`)!.key);
    expect(v2.header.previous?.key).toBe(v1Key);
    expect(v2.data.books![0]!.volume).toBe('II');
    const holds = await readCatalogueObject(deps.store, written.get('holds/')!.key);
    expect(holds.data.legal_hold_items!.map((i) => i.book_id)).toContain(bookId);
    const links = await readCatalogueObject(deps.store, written.get(`links/${bookId}`)!.key);
    expect(links.data.record_links).toMatchObject([{ record_id: record.id, book_id: bookId, link_type: 'original-entry', unlinked_at: null }]);
  });

  it('catalogue check: nothing after a write; then an unwritten change and a removed object, by CLI with exit codes', async () => {
    const { deps } = real;
    await writeCatalogue(deps, { flushAudit: true });
    const clean = await checkCatalogue(deps);
    expect(clean.differences).toEqual([]);
    expect(clean.equal).toBe(true);
    expect(clean.storedObjectsChecked).toBeGreaterThan(0);
    const cli = await arkiva(['catalogue', 'check', '--json'], env);
    expect(cli.code, cli.err).toBe(0);
    expect(JSON.parse(cli.out)).toMatchObject({ equal: true, differences: [] });

    // A change not written out yet.
    await updateBookMetadata(deps.db, bookId, { volume: 'III' });
    const behind = await checkCatalogue(deps, { skipObjects: true });
    expect(behind.differences).toEqual([expect.objectContaining({ type: 'behind', kind: 'book', scope: bookId })]);

    // A page master gone from the store (every version).
    const master = await deps.db.query<{ store_key: string }>(
      `SELECT store_key FROM stored_objects WHERE book_id = $1 AND role = 'master' AND superseded_at IS NULL ORDER BY store_key LIMIT 1`, [bookId]);
    const masterKey = master.rows[0]!.store_key;
    for await (const v of deps.store.listVersions(masterKey)) {
      if (v.key !== masterKey) continue;
      // The book is under the legal hold placed above: lifted in the store alone, as a careless operator could.
      await deps.store.setLegalHold(v.key, false, v.versionId ? { versionId: v.versionId } : {});
      await deps.store.delete(v.key, { ...(v.versionId ? { versionId: v.versionId } : {}), bypassGovernance: true });
    }
    const r = await arkiva(['catalogue', 'check', '--json'], env);
    expect(r.code, r.err).toBe(1);
    const report = JSON.parse(r.out) as Awaited<ReturnType<typeof checkCatalogue>>;
    expect(report.equal).toBe(false);
    expect(report.differences.map((d) => d.type).sort()).toEqual(['behind', 'object-missing']);
    expect(report.differences.find((d) => d.type === 'object-missing')).toMatchObject({ key: masterKey, scope: bookId });

    // The unwritten change is written by `catalogue write`; the missing object stays reported.
    const w = await arkiva(['catalogue', 'write'], env);
    expect(w.code, w.err).toBe(0);
    expect(w.out).toMatch(/1 new version/);
    const last = await checkCatalogue(deps);
    expect(last.differences.map((d) => d.type)).toEqual(['object-missing']);
  });

  it('catalogue check reports a book whose catalogue object was removed from the store', async () => {
    const { deps } = real;
    for await (const v of deps.store.listVersions(catalogueFolder({ kind: 'book', scope: bookId }))) {
      await deps.store.delete(v.key, { ...(v.versionId ? { versionId: v.versionId } : {}), bypassGovernance: true });
    }
    const r = await checkCatalogue(deps, { skipObjects: true });
    expect(r.differences).toEqual([expect.objectContaining({ type: 'book-missing-in-store', scope: bookId })]);
    // `write --all` puts it back (as version 1 of a folder that is empty now).
    const w = await writeCatalogue(deps, { all: true });
    expect(w.written.map((x) => `${x.kind}/${x.scope}`)).toEqual([`book/${bookId}`]);
    expect((await checkCatalogue(deps, { skipObjects: true })).equal).toBe(true);
  });
  it('after a disposal writes the tombstone and certificate, removes the book folder, and check agrees', async () => {
    const { deps } = real;
    // A small book of its own, disposed of the way disposal leaves things: rows gone, tombstone, certificate.
    const sha = 'c'.repeat(64);
    const put = await deps.store.put(`originals/catalogue-test-${bookId.slice(0, 8)}`, Buffer.from('original bytes'));
    const b = await deps.db.query<{ id: string }>(
      `INSERT INTO books (register_type, municipality, year_from, year_to, source_format, source_sha256, source_size) VALUES ('death', 'Peja', 1950, 1951, 'pdf', $1, 14) RETURNING id::text`, [sha]);
    const gone = b.rows[0]!.id;
    await deps.db.query(`INSERT INTO stored_objects (book_id, role, store_key, version_id, sha256, md5, size, media_type) VALUES ($1, 'original', $2, $3, $4, $5, $6, 'application/pdf')`,
      [gone, put.key, put.versionId ?? null, put.sha256, put.md5, put.size]);
    await writeCatalogue(deps);
    expect(await storeKeysUnder(deps, `${CATALOGUE_PREFIX}books/${gone}/`)).toHaveLength(1);

    const batch = await deps.db.query<{ id: string }>(`INSERT INTO disposal_batches (status, proposed_by, decided_by, decided_at, executed_at) VALUES ('executed', 'rm-one', 'rm-two', now(), now()) RETURNING id::text`);
    await deps.db.transaction(async (tx) => {
      await tx.query(`INSERT INTO disposal_batch_items (batch_id, book_id, outcome) VALUES ($1, $2, 'disposed')`, [batch.rows[0]!.id, gone]);
      await tx.query(`INSERT INTO disposal_tombstones (book_id, batch_id, status, tombstone, disposed_at) VALUES ($1, $2, 'disposed', $3, now())`, [gone, batch.rows[0]!.id, JSON.stringify({ bookId: gone })]);
      await tx.query(`INSERT INTO disposal_certificates (book_id, certificate, sha256) VALUES ($1, $2, $3)`, [gone, JSON.stringify({ bookId: gone }), 'd'.repeat(64)]);
      await tx.query(`DELETE FROM stored_objects WHERE book_id = $1`, [gone]);
      await tx.query(`DELETE FROM books WHERE id = $1`, [gone]);
    });
    const r = await writeCatalogue(deps);
    expect(r.failed).toEqual([]);
    expect(r.removed).toEqual([gone]);
    expect(await storeKeysUnder(deps, `${CATALOGUE_PREFIX}books/${gone}/`)).toEqual([]);
    const disposed = [];
    for await (const id of listDisposedBooks(deps.store)) disposed.push(id);
    expect(disposed).toEqual([gone]);
    const written = new Map(r.written.map((w) => [`${w.kind}/${w.scope}`, w.key]));
    const disposal = await readCatalogueObject(deps.store, written.get(`disposal/${gone}`)!);
    expect(disposal.data.disposal_tombstones).toMatchObject([{ book_id: gone, status: 'disposed' }]);
    expect(disposal.data.disposal_certificates).toMatchObject([{ book_id: gone, sha256: 'd'.repeat(64) }]);
    const batches = await readCatalogueObject(deps.store, written.get('disposal-batches/')!);
    expect(batches.data.disposal_batch_items).toContainEqual(expect.objectContaining({ book_id: gone, outcome: 'disposed' }));
    const check = await checkCatalogue(deps, { skipObjects: true });
    expect(check.differences).toEqual([]);
  });
});

