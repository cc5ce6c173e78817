import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it, vi } from 'vitest';
import { isAppError } from '../common/errors.ts';
import { silentLogger, type Logger } from '../common/logger.ts';
import { requireService, testServices } from '../test-support/services.ts';
import { describeDbConformance, type DbHarness } from './db.conformance.ts';
import { openDb } from './index.ts';
import { migrate, type MigratableDb } from './migrate.ts';
import { PgDb } from './pg.db.ts';
import { PgliteDb } from './pglite.db.ts';
import { quoteIdent } from './sql.ts';

const log = silentLogger();
const hex = (bytes: number) => randomBytes(bytes).toString('hex');

function pgliteHarness(): DbHarness {
  let shared: Promise<MigratableDb> | undefined;
  return {
    kind: 'pglite',
    // One in-memory instance for the whole suite, opened through openDb so its default
    // migration is what the tests see.
    acquire: () => (shared ??= openDb({ kind: 'pglite', dir: 'memory://' }, log) as Promise<MigratableDb>),
    release: async () => undefined,
    async openEmpty(handles) {
      const db = await PgliteDb.open({}, log);
      return Array.from({ length: handles }, () => db);
    },
    disposeEmpty: async (dbs) => dbs[0]?.close(),
    close: async () => (shared ? (await shared).close() : undefined),
  };
}

function pgHarness(url: string): DbHarness {
  const dropAndClose = async (dbs: MigratableDb[]) => {
    const first = dbs[0] as PgDb | undefined;
    if (first) await first.query(`DROP SCHEMA IF EXISTS ${quoteIdent(first.schema)} CASCADE`);
    await Promise.all(dbs.map((d) => d.close()));
  };
  return {
    kind: 'pg',
    async acquire() {
      const db = await PgDb.open({ url, schema: `test_${hex(6)}`, poolSize: 4 }, log);
      try {
        await migrate(db, log);
      } catch (e) {
        await dropAndClose([db]);
        throw e;
      }
      return db;
    },
    release: (db) => dropAndClose([db]),
    async openEmpty(handles) {
      const schema = `test_${hex(6)}`;
      const dbs: PgDb[] = [];
      for (let i = 0; i < handles; i++) dbs.push(await PgDb.open({ url, schema, poolSize: 4 }, log));
      return dbs;
    },
    disposeEmpty: dropAndClose,
    close: async () => undefined,
  };
}

function recordingLogger(): Logger & { calls: { level: string; obj: unknown; msg: unknown }[] } {
  const calls: { level: string; obj: unknown; msg: unknown }[] = [];
  const at = (level: string) => (obj: unknown, msg?: unknown) => void calls.push({ level, obj, msg });
  const logger = { fatal: at('fatal'), error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug'), trace: at('trace'), calls };
  return Object.assign(logger, { child: () => logger }) as unknown as Logger & { calls: typeof calls };
}

describeDbConformance('Db conformance: PGlite (in memory)', pgliteHarness);

const databaseUrl = requireService('databaseUrl') ? testServices().databaseUrl! : undefined;

describe.runIf(databaseUrl !== undefined)('PostgreSQL', () => {
  const url = databaseUrl!;
  describeDbConformance('Db conformance: PostgreSQL', () => pgHarness(url));

  describe('PgDb', () => {
    it('creates a schema whose name needs quoting and keeps every connection in it, in UTC', async () => {
      const schema = `Test-${hex(4)} x"y`;
      const db = await openDb({ kind: 'pg', url, schema }, log);
      try {
        const { rows } = await db.query<{ schema: string; zone: string; tables: number }>(
          `SELECT current_schema() AS schema, current_setting('TimeZone') AS zone,
                  (SELECT count(*) FROM pg_tables WHERE schemaname = current_schema() AND tablename IN ('books', 'schema_migrations')) AS tables`,
        );
        expect(rows[0]).toEqual({ schema, zone: 'UTC', tables: 2 });
        const inTx = await db.transaction((tx) => tx.query<{ schema: string }>('SELECT current_schema() AS schema'));
        expect(inTx.rows[0]!.schema).toBe(schema);
      } finally {
        await db.query(`DROP SCHEMA ${quoteIdent(schema)} CASCADE`);
        await db.close();
      }
    });

    it('keeps its search_path and time zone when the URL carries startup options of its own', async () => {
      const schema = `test_${hex(6)}`;
      const withOptions = `${url}${url.includes('?') ? '&' : '?'}options=${encodeURIComponent('-c statement_timeout=7s')}`;
      const db = await PgDb.open({ url: withOptions, schema, poolSize: 1 }, log);
      try {
        const { rows } = await db.query('SELECT current_schema() AS schema, current_setting($1) AS timeout, current_setting($2) AS zone', [
          'statement_timeout',
          'TimeZone',
        ]);
        expect(rows[0]).toEqual({ schema, timeout: '7s', zone: 'UTC' });
      } finally {
        await db.query(`DROP SCHEMA ${quoteIdent(schema)} CASCADE`);
        await db.close();
      }
    });

    it('opens without migrating when asked to', async () => {
      const schema = `test_${hex(6)}`;
      const db = await openDb({ kind: 'pg', url, schema }, log, { migrate: false });
      try {
        const { rows } = await db.query<{ t: string | null }>("SELECT to_regclass('schema_migrations')::text AS t");
        expect(rows[0]!.t).toBeNull();
      } finally {
        await db.query(`DROP SCHEMA ${quoteIdent(schema)} CASCADE`);
        await db.close();
      }
    });

    it('always returns connections to the pool, and discards one whose ROLLBACK failed', async () => {
      const recorder = recordingLogger();
      const db = await PgDb.open({ url, schema: 'public', poolSize: 2 }, recorder);
      try {
        for (let i = 0; i < 5; i++) {
          await expect(db.transaction(async () => Promise.reject(new Error('fails')))).rejects.toThrow('fails');
        }
        for (let i = 0; i < 3; i++) {
          // The server ends the session mid-transaction: the statement fails, then ROLLBACK does.
          await expect(db.transaction((tx) => tx.query('SELECT pg_terminate_backend(pg_backend_pid())'))).rejects.toThrow();
        }
        const ok = await Promise.race([
          db.transaction((tx) => tx.query('SELECT 1 AS one')).then((r) => r.rows),
          sleep(5_000).then(() => 'pool exhausted'),
        ]);
        expect(ok).toEqual([{ one: 1 }]);
        expect(recorder.calls.some((c) => c.level === 'warn' && String(c.msg).includes('ROLLBACK failed'))).toBe(true);
      } finally {
        await db.close();
      }
    });

    it('logs an idle connection killed by the server instead of crashing, and carries on', async () => {
      const recorder = recordingLogger();
      const applicationName = `arkiva-test-${hex(4)}`;
      const db = await PgDb.open({ url, schema: 'public', poolSize: 2, applicationName }, recorder);
      const killer = await PgDb.open({ url, schema: 'public', poolSize: 1 }, log);
      try {
        await db.query('SELECT 1');
        await killer.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [applicationName]);
        await vi.waitFor(() => expect(recorder.calls.some((c) => c.level === 'error')).toBe(true), { timeout: 5_000 });
        expect((await db.query('SELECT 2 AS two')).rows).toEqual([{ two: 2 }]);
      } finally {
        await Promise.all([db.close(), killer.close()]);
      }
    });
  });
});

describe('PgliteDb data folder', () => {
  it('refuses a folder that another live process holds, before starting PGlite', async () => {
    const base = await fs.mkdtemp(path.join(os.tmpdir(), 'arkiva-pglite-'));
    try {
      const dir = path.join(base, 'db');
      await fs.writeFile(`${dir}.lock`, `${process.ppid}\n`);
      const e = await PgliteDb.open({ dir }, log).catch((err: unknown) => err);
      expect(isAppError(e, 'ERR_UNAVAILABLE')).toBe(true);
      expect((e as Error).message).toContain(String(process.ppid));
      await expect(fs.access(dir)).rejects.toThrow();
    } finally {
      await fs.rm(base, { recursive: true, force: true });
    }
  });
});
