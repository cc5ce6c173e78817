/**
 * The database: PostgreSQL (pg pool) or embedded PGlite behind one `Db` port, running the same
 * SQL and returning the same JavaScript values (see type-parsers.ts for the mapping: int8 as
 * number, timestamptz as Date, date as 'YYYY-MM-DD', jsonb parsed, bytea as Buffer).
 *
 * Passing values: always `$n` parameters. A JavaScript array is sent as a PostgreSQL array
 * (text[], int[]); for a jsonb parameter holding an array, pass `JSON.stringify(value)`
 * (objects work either way). `query` runs exactly one statement on both adapters.
 */
import type { ServiceConfig } from '../config/env.ts';
import type { Logger } from '../common/logger.ts';
import type { Db } from './db.ts';
import { migrate } from './migrate.ts';

export type { Db, Queryable, QueryResult } from './db.ts';
export { DbError, SQLSTATE, isDbError, isUniqueViolation } from './errors.ts';
export { migrate, readMigrations, MIGRATIONS_DIR, type MigrationReport, type MigrationFile } from './migrate.ts';

/**
 * Opens the configured database and, unless `opts.migrate` is false, brings its schema up to
 * date. For PGlite, `dir: 'memory://'` gives a throw-away in-memory database (tests).
 */
export async function openDb(config: ServiceConfig['database'], log: Logger, opts: { migrate?: boolean } = {}): Promise<Db> {
  // loaded on demand: a process on PostgreSQL never pays for loading PGlite, nor an embedded one for pg
  const db = config.kind === 'pg'
    ? await (await import('./pg.db.ts')).PgDb.open({ url: config.url, schema: config.schema }, log)
    : await (await import('./pglite.db.ts')).PgliteDb.open({ dir: config.dir }, log);
  if (opts.migrate !== false) {
    try {
      await migrate(db, log);
    } catch (e) {
      await db.close();
      throw e;
    }
  }
  return db;
}
export { pingDatabase, quoteIdent } from './sql.ts';
