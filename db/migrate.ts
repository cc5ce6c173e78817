import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { AppError } from '../common/errors.ts';
import { sha256Hex } from '../common/hash.ts';
import type { Logger } from '../common/logger.ts';
import type { Db, Queryable } from './db.ts';

/** A transaction handle that can also run a multi-statement script; only migrations use it. */
export interface ScriptQueryable extends Queryable {
  /** Runs several `;`-separated statements with no parameters (simple query protocol). */
  runScript(sql: string): Promise<void>;
}

/** A Db whose transactions can run migration scripts; both adapters are. */
export interface MigratableDb extends Db {
  transaction<T>(fn: (tx: ScriptQueryable) => Promise<T>): Promise<T>;
}

/** One `NNN_name.sql` file of the migrations folder. */
export interface MigrationFile {
  version: number;
  name: string;
  file: string;
  sql: string;
  sha256: string;
}

/** What `migrate` did. */
export interface MigrationReport {
  /** Versions this call applied, in order (others were already there). */
  applied: number[];
  /** Highest version now in the database. */
  current: number;
}

/** The folder holding the archive's migrations. */
export const MIGRATIONS_DIR = fileURLToPath(new URL('./migrations/', import.meta.url));

const FILE_PATTERN = /^(\d{3,})_([a-z0-9_]+)\.sql$/;

// Advisory-lock key space: first int = "Arkiva migrations"; second = 0 for the database-wide
// bootstrap (extensions are per database), hashtext(schema) for one installation's migrations.
const LOCK_CLASS = 0x41726b76; // 'Arkv'

/**
 * Reads and checks the migrations folder: every `.sql` file must be named `NNN_name.sql`, and
 * versions must run 1, 2, 3… without gaps or duplicates. The checksum is the SHA-256 of the
 * file with CRLF line ends read as LF, so a Windows checkout does not look like an edit.
 */
export async function readMigrations(dir: string = MIGRATIONS_DIR): Promise<MigrationFile[]> {
  const entries = (await fs.readdir(dir)).filter((f) => f.endsWith('.sql')).sort();
  const files: MigrationFile[] = [];
  for (const file of entries) {
    const m = FILE_PATTERN.exec(file);
    if (!m) throw new AppError('ERR_INTEGRITY', `migration file ${file} is not named NNN_name.sql`, { file });
    const sql = (await fs.readFile(path.join(dir, file), 'utf8')).replaceAll('\r\n', '\n');
    files.push({ version: Number(m[1]), name: m[2]!, file, sql, sha256: sha256Hex(sql) });
  }
  files.sort((a, b) => a.version - b.version);
  files.forEach((f, i) => {
    const prev = files[i - 1];
    if (prev && prev.version === f.version) {
      throw new AppError('ERR_INTEGRITY', `migrations ${prev.file} and ${f.file} share version ${f.version}`, { version: f.version });
    }
    if (f.version !== i + 1) {
      throw new AppError('ERR_INTEGRITY', `migration ${f.file} leaves a gap: expected version ${i + 1}`, { version: f.version, expected: i + 1 });
    }
  });
  return files;
}

interface AppliedRow {
  version: number;
  name: string;
  sha256: string;
}

function changedError(file: MigrationFile): AppError {
  return new AppError(
    'ERR_INTEGRITY',
    `migration ${file.file} was changed after it was applied (checksum differs): restore the original and put the change in a new migration`,
    { version: file.version },
  );
}

/**
 * Brings the database schema up to date: applies each pending migration in its own transaction
 * and records it in `schema_migrations`. Idempotent and safe to run from several processes at
 * once (an advisory lock serialises them). Refuses, before changing anything, when an applied
 * migration's file changed or the database has a migration this code does not know.
 * Statements that cannot run in a transaction (CREATE INDEX CONCURRENTLY) are not supported.
 */
export async function migrate(db: MigratableDb, log: Logger, opts: { dir?: string } = {}): Promise<MigrationReport> {
  const files = await readMigrations(opts.dir);
  await bootstrap(db, log);

  const { rows: appliedRows } = await db.query<AppliedRow>('SELECT version, name, sha256 FROM schema_migrations ORDER BY version');
  const byVersion = new Map(files.map((f) => [f.version, f]));
  for (const row of appliedRows) {
    const file = byVersion.get(row.version);
    if (!file) {
      throw new AppError(
        'ERR_INTEGRITY',
        `the database has migration ${row.version} (${row.name}) which this version of Arkiva does not know: a newer version ran against it`,
        { version: row.version },
      );
    }
    if (file.sha256 !== row.sha256) throw changedError(file);
    if (file.name !== row.name) log.warn({ version: row.version, recorded: row.name, file: file.name }, 'migration was renamed after it was applied');
  }

  const done = new Set(appliedRows.map((r) => r.version));
  const applied: number[] = [];
  for (const file of files) {
    if (done.has(file.version)) continue;
    const started = Date.now();
    const ran = await applyOne(db, file).catch((e: unknown) => {
      // The driver's error names the statement but not the file it came from.
      log.error({ err: e, version: file.version, migration: file.name }, 'migration failed and was rolled back');
      throw e;
    });
    if (ran) {
      applied.push(file.version);
      log.info({ version: file.version, migration: file.name, ms: Date.now() - started }, 'applied migration');
    }
  }
  const current = files.at(-1)?.version ?? 0;
  if (applied.length > 0) log.info({ applied, current }, 'database schema up to date');
  return { applied, current };
}

// Applies one migration in its own transaction; false when another process got there first.
function applyOne(db: MigratableDb, file: MigrationFile): Promise<boolean> {
  return db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1::int, hashtext(current_schema()))', [LOCK_CLASS]);
    // Another process may have applied it while we waited for the lock.
    const { rows } = await tx.query<{ sha256: string }>('SELECT sha256 FROM schema_migrations WHERE version = $1', [file.version]);
    if (rows[0]) {
      if (rows[0].sha256 !== file.sha256) throw changedError(file);
      return false;
    }
    await tx.runScript(file.sql);
    await tx.query('INSERT INTO schema_migrations (version, name, sha256) VALUES ($1, $2, $3)', [file.version, file.name, file.sha256]);
    return true;
  });
}

// Prerequisites of every migration: the pg_trgm extension (fuzzy search of names) and the
// bookkeeping table. Both are created under a lock so concurrent first starts do not collide.
async function bootstrap(db: MigratableDb, log: Logger): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1::int, 0)', [LOCK_CLASS]);
    const { rows: ext } = await tx.query<{ schema: string; visible: boolean }>(
      `SELECT n.nspname AS schema, n.nspname = ANY (current_schemas(false)) AS visible
         FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
        WHERE e.extname = 'pg_trgm'`,
    );
    if (!ext[0]) {
      try {
        // Extensions exist once per database, so one shared schema rather than each
        // installation's own: the adapters put public on every search_path.
        await tx.query('CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public');
      } catch (e) {
        throw new AppError(
          'ERR_UNAVAILABLE',
          'cannot create the pg_trgm extension: have a database administrator run CREATE EXTENSION pg_trgm SCHEMA public',
          undefined,
          { cause: e },
        );
      }
    } else if (!ext[0].visible) {
      log.warn({ schema: ext[0].schema }, 'pg_trgm is installed in a schema outside the search_path; fuzzy search will fail');
    }
    await tx.query('SELECT pg_advisory_xact_lock($1::int, hashtext(current_schema()))', [LOCK_CLASS]);
    await tx.query(
      `CREATE TABLE IF NOT EXISTS schema_migrations (
         version    integer PRIMARY KEY,
         name       text NOT NULL,
         sha256     char(64) NOT NULL,
         applied_at timestamptz NOT NULL DEFAULT now()
       )`,
    );
  });
}
