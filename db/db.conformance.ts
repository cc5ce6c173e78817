import { randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isAppError } from '../common/errors.ts';
import { silentLogger } from '../common/logger.ts';
import { DbError, isDbError, isUniqueViolation } from './errors.ts';
import { migrate, readMigrations, MIGRATIONS_DIR, type MigratableDb } from './migrate.ts';

/** How the conformance suite gets databases from one adapter. */
export interface DbHarness {
  readonly kind: 'pg' | 'pglite';
  /**
   * A migrated database for one test. pg gives each call a schema of its own; PGlite may share
   * one instance between tests (a new one costs seconds), so tests only ever use unique keys.
   */
  acquire(): Promise<MigratableDb>;
  /** Gives back what `acquire` returned (pg drops the schema). */
  release(db: MigratableDb): Promise<void>;
  /** `handles` handles on one new, empty, unmigrated database (pg: separate pools on one schema). */
  openEmpty(handles: number): Promise<MigratableDb[]>;
  /** Closes the handles from `openEmpty` and removes their database. */
  disposeEmpty(dbs: MigratableDb[]): Promise<void>;
  /** Closes whatever the harness still holds. */
  close(): Promise<void>;
}

const log = silentLogger();
const hex = (bytes: number) => randomBytes(bytes).toString('hex');

interface BookFields {
  sha?: string;
  municipality?: string;
  yearFrom?: number;
  yearTo?: number;
  size?: number;
}

async function insertBook(db: { query: MigratableDb['query'] }, f: BookFields = {}): Promise<string> {
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO books (register_type, municipality, year_from, year_to, source_format, source_sha256, source_size)
     VALUES ('birth', $1, $2, $3, 'pdf', $4, $5) RETURNING id`,
    [f.municipality ?? 'Tiranë', f.yearFrom ?? 1950, f.yearTo ?? 1955, f.sha ?? hex(32), f.size ?? 1234],
  );
  return rows[0]!.id;
}

async function caught(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('expected a rejection');
}

/**
 * Defines the Db conformance tests for one adapter: every adapter must pass all of them with the
 * same expected values, which is what makes the adapters interchangeable.
 */
export function describeDbConformance(name: string, makeHarness: () => DbHarness): void {
  describe(name, () => {
    const harness = makeHarness();
    let db: MigratableDb;
    beforeEach(async () => {
      db = await harness.acquire();
    });
    afterEach(async () => {
      await harness.release(db);
    });
    afterAll(async () => {
      await harness.close();
    });

    describe('migrations', () => {
      it('records every migration once, with its checksum, and re-applying is a no-op', async () => {
        const files = await readMigrations();
        const { rows } = await db.query<{ version: number; name: string; sha256: string; applied_at: Date }>(
          'SELECT version, name, sha256, applied_at FROM schema_migrations ORDER BY version',
        );
        expect(rows.map((r) => [r.version, r.name, r.sha256])).toEqual(files.map((f) => [f.version, f.name, f.sha256]));
        expect(rows.every((r) => r.applied_at instanceof Date)).toBe(true);

        const again = await migrate(db, log);
        expect(again).toEqual({ applied: [], current: files.length });
        const { rows: count } = await db.query<{ n: number }>('SELECT count(*) AS n FROM schema_migrations');
        expect(count[0]!.n).toBe(files.length);
        for (const table of ['books', 'pages', 'stored_objects', 'processing_events']) {
          const { rows: found } = await db.query<{ t: string | null }>('SELECT to_regclass($1)::text AS t', [table]);
          expect(found[0]!.t).not.toBeNull();
        }
      });

      it('applies each migration exactly once when several callers migrate an empty database at once', async () => {
        const handles = await harness.openEmpty(2);
        try {
          const reports = await Promise.all([...handles, ...handles].map((h) => migrate(h, log)));
          const files = await readMigrations();
          const applied = reports.flatMap((r) => r.applied).sort((a, b) => a - b);
          expect(applied).toEqual(files.map((f) => f.version));
          const { rows } = await handles[0]!.query<{ n: number }>('SELECT count(*) AS n FROM schema_migrations');
          expect(rows[0]!.n).toBe(files.length);
        } finally {
          await harness.disposeEmpty(handles);
        }
      });

      it('refuses to run when an applied migration file changed, and changes nothing', async () => {
        const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'arkiva-migrations-'));
        try {
          for (const f of await fs.readdir(MIGRATIONS_DIR)) await fs.copyFile(path.join(MIGRATIONS_DIR, f), path.join(dir, f));
          const first = (await readMigrations(dir))[0]!;
          await fs.appendFile(path.join(dir, first.file), '\n-- edited after release\n');
          await fs.writeFile(path.join(dir, `${String((await readMigrations(MIGRATIONS_DIR)).length + 1).padStart(3, '0')}_later.sql`), 'CREATE TABLE should_not_exist (x int);\n');

          const e = await caught(migrate(db, log, { dir }));
          expect(isAppError(e, 'ERR_INTEGRITY')).toBe(true);
          expect((e as Error).message).toContain(first.file);
          const { rows } = await db.query<{ t: string | null }>("SELECT to_regclass('should_not_exist')::text AS t");
          expect(rows[0]!.t).toBeNull();
        } finally {
          await fs.rm(dir, { recursive: true, force: true });
        }
      });

      it('rolls a failing migration back completely and records nothing', async () => {
        const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'arkiva-migrations-'));
        try {
          for (const f of await fs.readdir(MIGRATIONS_DIR)) await fs.copyFile(path.join(MIGRATIONS_DIR, f), path.join(dir, f));
          const next = (await readMigrations(MIGRATIONS_DIR)).length + 1;
          await fs.writeFile(
            path.join(dir, `${String(next).padStart(3, '0')}_broken.sql`),
            'CREATE TABLE half_done (x int);\nALTER TABLE books ADD COLUMN half_done int;\nSELECT no_such_function();\n',
          );
          const e = await caught(migrate(db, log, { dir }));
          expect(isDbError(e, '42883')).toBe(true);
          const { rows } = await db.query<{ t: string | null; col: number; recorded: number }>(
            `SELECT to_regclass('half_done')::text AS t,
                    (SELECT count(*) FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = 'books' AND column_name = 'half_done') AS col,
                    (SELECT count(*) FROM schema_migrations WHERE version = $1) AS recorded`,
            [next],
          );
          expect(rows[0]).toEqual({ t: null, col: 0, recorded: 0 });
        } finally {
          await fs.rm(dir, { recursive: true, force: true });
        }
      });

      it('refuses to run when the database has a migration this code does not know', async () => {
        await db.query("INSERT INTO schema_migrations (version, name, sha256) VALUES (9999, 'from_the_future', $1)", ['0'.repeat(64)]);
        try {
          const e = await caught(migrate(db, log));
          expect(isAppError(e, 'ERR_INTEGRITY')).toBe(true);
          expect((e as Error).message).toContain('9999');
        } finally {
          await db.query('DELETE FROM schema_migrations WHERE version = 9999');
        }
      });
    });

    describe('transactions', () => {
      it('commits what the function did and returns its value', async () => {
        const sha = hex(32);
        const id = await db.transaction(async (tx) => {
          const bookId = await insertBook(tx, { sha });
          await tx.query("UPDATE books SET status = 'splitting' WHERE id = $1", [bookId]);
          return bookId;
        });
        const { rows } = await db.query<{ id: string; status: string }>('SELECT id, status FROM books WHERE source_sha256 = $1', [sha]);
        expect(rows).toEqual([{ id, status: 'splitting' }]);
      });

      it('rolls back when the function throws, and rethrows the same error', async () => {
        const sha = hex(32);
        const boom = new Error('boom');
        const e = await caught(
          db.transaction(async (tx) => {
            await insertBook(tx, { sha });
            throw boom;
          }),
        );
        expect(e).toBe(boom);
        const { rowCount } = await db.query('SELECT 1 FROM books WHERE source_sha256 = $1', [sha]);
        expect(rowCount).toBe(0);
      });

      it('refuses to commit after a statement inside failed, even when the function swallowed it', async () => {
        const sha = hex(32);
        await insertBook(db, { sha });
        const other = hex(32);
        const e = await caught(
          db.transaction(async (tx) => {
            await insertBook(tx, { sha: other });
            await insertBook(tx, { sha }).catch(() => undefined);
            return 'returned normally';
          }),
        );
        expect(e).toBeInstanceOf(DbError);
        expect((e as DbError).code).toBe('25P02');
        const { rowCount } = await db.query('SELECT 1 FROM books WHERE source_sha256 = $1', [other]);
        expect(rowCount).toBe(0);
      });

      it('rejects use of a transaction handle after the transaction ended', async () => {
        let leaked: Parameters<Parameters<MigratableDb['transaction']>[0]>[0] | undefined;
        await db.transaction(async (tx) => {
          leaked = tx;
        });
        const e = await caught(leaked!.query('SELECT 1'));
        expect(isAppError(e, 'ERR_INTERNAL')).toBe(true);
      });

      // PGlite has one connection and serialises; PostgreSQL runs concurrently and isolates.
      if (harness.kind === 'pglite') it('runs a transaction alone: queries from other callers wait until it commits', async () => {
        const agent = `order-${hex(6)}`;
        const record = (q: { query: MigratableDb['query'] }, step: string) =>
          q.query("INSERT INTO processing_events (event_type, agent, outcome) VALUES ($1, $2, 'success')", [step, agent]);
        const tx = db.transaction(async (t) => {
          await record(t, 'tx-1');
          await sleep(30);
          await record(t, 'tx-2');
          await sleep(30);
          await record(t, 'tx-3');
        });
        const seen = db.query<{ n: number }>('SELECT count(*) AS n FROM processing_events WHERE agent = $1', [agent]);
        const outside = record(db, 'outside');
        await Promise.all([tx, seen, outside]);
        expect((await seen).rows[0]!.n).toBe(3);
        const { rows } = await db.query<{ event_type: string }>('SELECT event_type FROM processing_events WHERE agent = $1 ORDER BY id', [agent]);
        expect(rows.map((r) => r.event_type)).toEqual(['tx-1', 'tx-2', 'tx-3', 'outside']);
      });

      if (harness.kind === 'pg') it('hides uncommitted rows from queries outside the transaction', async () => {
        const sha = hex(32);
        let release!: () => void;
        const gate = new Promise<void>((r) => (release = r));
        let inserted!: () => void;
        const insertedP = new Promise<void>((r) => (inserted = r));
        const tx = db.transaction(async (t) => {
          await insertBook(t, { sha });
          inserted();
          await gate;
        });
        await insertedP;
        const during = await db.query('SELECT 1 FROM books WHERE source_sha256 = $1', [sha]);
        release();
        await tx;
        const after = await db.query('SELECT 1 FROM books WHERE source_sha256 = $1', [sha]);
        expect([during.rowCount, after.rowCount]).toEqual([0, 1]);
      });
    });

    describe('values', () => {
      it('returns the same JavaScript values for each column type', async () => {
        const uuid = randomUUID();
        const { rows } = await db.query(
          `SELECT $1::int8 AS small8, count(*) AS n, $2::int8 AS big8, $3::timestamptz AS at,
                  (timestamptz '2024-05-06 23:30:00+00')::date AS utc_day,
                  $4::jsonb AS obj, $5::jsonb AS arr, $6::uuid AS id, $7::real AS r, $8::text[] AS tags,
                  date '2024-02-29' AS day, '{2024-02-29,NULL}'::date[] AS days,
                  '{1,NULL,9007199254740991}'::int8[] AS int8s, '\\x00ff41'::bytea AS bytes,
                  interval '1 day 2 hours' AS span, 1.50::numeric AS exact, true AS yes, NULL::text AS nothing,
                  $9::char(4) AS padded
             FROM (VALUES (1), (2)) AS v`,
          [42, 5_000_000_000, new Date('2024-05-06T07:08:09.123Z'), { a: [1, 'ë'], b: null }, JSON.stringify([1, 'two']), uuid, 0.9, ['a', 'b,c', '"q"', 'ë', null], 'ab'],
        );
        expect(rows).toStrictEqual([
          {
            small8: 42,
            n: 2,
            big8: 5_000_000_000,
            at: new Date('2024-05-06T07:08:09.123Z'),
            utc_day: '2024-05-06',
            obj: { a: [1, 'ë'], b: null },
            arr: [1, 'two'],
            id: uuid,
            r: 0.9,
            tags: ['a', 'b,c', '"q"', 'ë', null],
            day: '2024-02-29',
            days: ['2024-02-29', null],
            int8s: [1, null, 9007199254740991],
            bytes: Buffer.from([0x00, 0xff, 0x41]),
            span: '1 day 02:00:00',
            exact: '1.50',
            yes: true,
            nothing: null,
            padded: 'ab  ',
          },
        ]);
      });

      it('returns table columns (identity, timestamps, jsonb, real) the same way', async () => {
        const bookId = await insertBook(db, { size: 4 * 1024 ** 3 + 1 });
        await db.query('UPDATE books SET summary = $1 WHERE id = $2', [{ pages: 3, words: ['Gjergj'] }, bookId]);
        const { rows: books } = await db.query('SELECT source_size, summary, created_at FROM books WHERE id = $1', [bookId]);
        expect(books[0]).toMatchObject({ source_size: 4 * 1024 ** 3 + 1, summary: { pages: 3, words: ['Gjergj'] } });
        expect(books[0]!.created_at).toBeInstanceOf(Date);
        const { rows: pages } = await db.query(
          'INSERT INTO pages (book_id, sequence, dpi_x, ocr_confidence) VALUES ($1, 1, $2, $3) RETURNING id, dpi_x, ocr_confidence, revision',
          [bookId, 300, 87.25],
        );
        expect(pages[0]).toMatchObject({ dpi_x: 300, ocr_confidence: 87.25, revision: 1 });
        expect(pages[0]!.id).toMatch(/^[0-9a-f-]{36}$/);
        const { rows: events } = await db.query(
          "INSERT INTO processing_events (book_id, event_type, agent, outcome) VALUES ($1, 'ingest', 'test', 'success') RETURNING id",
          [bookId],
        );
        expect(typeof events[0]!.id).toBe('number');
      });

      it('throws instead of rounding an int8 beyond 2^53', async () => {
        await expect(db.query("SELECT '9007199254740993'::int8 AS x")).rejects.toThrow(RangeError);
        // The connection stays usable afterwards.
        expect((await db.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
      });

      it('round-trips quotes, SQL-looking text and Albanian, Serbian and other Unicode as parameters', async () => {
        const values = [
          "Gjon Marku i O'Brienit",
          'Gjirokastër, Çlirimi; ëÇ',
          'Скендербеу — Ђорђе Кастриотић',
          "'; DROP TABLE books; --",
          '$1 $$ \\ \\x00 %_ "quoted"',
          'emoji 📜 and combining e\u0301',
        ];
        for (const municipality of values) {
          const sha = hex(32);
          await insertBook(db, { sha, municipality });
          const { rows } = await db.query<{ municipality: string; chars: number }>(
            'SELECT municipality, char_length(municipality) AS chars FROM books WHERE source_sha256 = $1 AND municipality = $2',
            [sha, municipality],
          );
          expect(rows).toEqual([{ municipality, chars: [...municipality].length }]);
        }
      });

      it('reports rowCount as pg does: rows changed or returned, 0 for DDL', async () => {
        const a = hex(32);
        const b = hex(32);
        await insertBook(db, { sha: a });
        await insertBook(db, { sha: b });
        const shas = [a, b];
        expect((await db.query("UPDATE books SET status = 'processing' WHERE source_sha256 = ANY($1::text[])", [shas])).rowCount).toBe(2);
        expect((await db.query('SELECT id FROM books WHERE source_sha256 = ANY($1::text[])', [shas])).rowCount).toBe(2);
        expect((await db.query('DELETE FROM books WHERE source_sha256 = ANY($1::text[])', [shas])).rowCount).toBe(2);
        expect((await db.query('DELETE FROM books WHERE source_sha256 = ANY($1::text[])', [shas])).rowCount).toBe(0);
        expect((await db.query(`DROP TABLE IF EXISTS no_such_table_${hex(4)}`)).rowCount).toBe(0);
      });

      it('runs exactly one statement per query', async () => {
        const e = await caught(db.query('SELECT 1; SELECT 2'));
        expect(isDbError(e, '42601')).toBe(true);
      });
    });

    describe('core schema constraints', () => {
      it('refuses a second book with the same source checksum as a unique violation (23505)', async () => {
        const sha = hex(32);
        await insertBook(db, { sha, municipality: 'Shkodër' });
        const e = await caught(insertBook(db, { sha, municipality: 'Shkodër' }));
        expect(isUniqueViolation(e)).toBe(true);
        expect(e).toBeInstanceOf(DbError);
        expect(e).toMatchObject({ code: '23505', constraint: 'books_source_sha256_key', table: 'books' });
        // The error is safe to log: neither the values nor the row reach it.
        expect(JSON.stringify({ ...(e as object), message: (e as Error).message })).not.toContain(sha);
        expect(JSON.stringify({ ...(e as object) })).not.toContain('Shkodër');
      });

      it('surfaces foreign-key, check and not-null violations with their SQLSTATE', async () => {
        const fk = await caught(db.query('INSERT INTO pages (book_id, sequence) VALUES ($1, 1)', [randomUUID()]));
        expect(isDbError(fk, '23503')).toBe(true);
        const check = await caught(insertBook(db, { yearFrom: 1960, yearTo: 1950 }));
        expect(isDbError(check, '23514')).toBe(true);
        const notNull = await caught(db.query('INSERT INTO books (register_type) VALUES ($1)', ['birth']));
        expect(isDbError(notNull, '23502')).toBe(true);
        expect(isUniqueViolation(fk)).toBe(false);
      });

      it('keeps one current stored object per book, page, role, variant and revision', async () => {
        const bookId = await insertBook(db);
        const put = () =>
          db.query(
            `INSERT INTO stored_objects (book_id, role, store_key, sha256, md5, size, media_type)
             VALUES ($1, 'original', $2, $3, $4, 10, 'application/pdf') RETURNING id`,
            [bookId, `books/${bookId}/${hex(4)}`, hex(32), hex(16)],
          );
        const first = await put();
        expect(isUniqueViolation(await caught(put()))).toBe(true);
        await db.query('UPDATE stored_objects SET superseded_at = now() WHERE id = $1', [first.rows[0]!.id]);
        expect((await put()).rowCount).toBe(1);
      });

      it('refuses a second page with the same book and sequence', async () => {
        const bookId = await insertBook(db);
        await db.query('INSERT INTO pages (book_id, sequence) VALUES ($1, 1)', [bookId]);
        expect(isUniqueViolation(await caught(db.query('INSERT INTO pages (book_id, sequence) VALUES ($1, 1)', [bookId])))).toBe(true);
      });
    });

    describe('pg_trgm', () => {
      it('computes trigram similarity of names', async () => {
        const { rows } = await db.query<{ sim: number; close: boolean; far: boolean }>(
          "SELECT similarity($1, $2) AS sim, $1 % $2 AS close, $1 % 'Xhevdet' AS far",
          ['Gjergj', 'Gjergji'],
        );
        expect(rows[0]!.sim).toBeCloseTo(2 / 3, 5);
        expect(rows[0]!.close).toBe(true);
        expect(rows[0]!.far).toBe(false);
      });
    });
  });
}
