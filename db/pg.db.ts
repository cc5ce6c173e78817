import pg from 'pg';
import { AppError } from '../common/errors.ts';
import type { Logger } from '../common/logger.ts';
import type { QueryResult } from './db.ts';
import { SQLSTATE, abortedError, isDbError, toDbError } from './errors.ts';
import type { MigratableDb, ScriptQueryable } from './migrate.ts';
import { quoteIdent } from './sql.ts';
import { OID, asText, mapArray, parseInt8 } from './type-parsers.ts';

/** Connection settings of a PgDb. */
export interface PgDbOptions {
  /** PostgreSQL connection string. */
  url: string;
  /** Schema holding the archive's tables; created when missing. */
  schema: string;
  /** Most connections the pool opens. Default 10. */
  poolSize?: number;
  /** Shown in pg_stat_activity. Default 'arkiva'. */
  applicationName?: string;
}

type TextParser = (text: string) => unknown;

// Installed on this pool's clients only: pg.types.setTypeParser is process-wide and would
// change what every other pg user in the process gets back.
const builtin = pg.types.getTypeParser as (oid: number, format?: 'text' | 'binary') => TextParser;
const parseTextArray = builtin(OID.textArray);

const overrides = new Map<number, TextParser>([
  [OID.int8, parseInt8],
  [OID.int8Array, (t) => mapArray(parseTextArray(t), parseInt8)],
  [OID.date, asText],
  [OID.dateArray, parseTextArray],
  [OID.interval, asText],
  [OID.intervalArray, parseTextArray],
]);

const typeParsers = {
  getTypeParser: (oid: number, format?: 'text' | 'binary') => (format !== 'binary' && overrides.get(oid)) || builtin(oid, format ?? 'text'),
} as pg.CustomTypesConfig;

// Backslash-escapes what libpq's `options` splitting treats specially.
function startupOption(name: string, value: string): string {
  return `-c ${name}=${value.replaceAll('\\', '\\\\').replaceAll(' ', '\\ ')}`;
}

// pg lets an `options` parameter in the URL replace the `options` setting wholesale, which would
// silently drop search_path (tables landing in public): move it out of the URL and keep both.
function withStartupOptions(url: string, ours: string): { connectionString: string; options: string } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { connectionString: url, options: ours };
  }
  const theirs = parsed.searchParams.get('options');
  if (theirs === null) return { connectionString: url, options: ours };
  parsed.searchParams.delete('options');
  return { connectionString: parsed.toString(), options: `${theirs} ${ours}` };
}

// Forces the extended protocol even without parameters: one statement per call, exactly like
// PGlite's query(), so a stacked `; DROP …` can never run. (queryMode is missing from @types/pg.)
function statement(text: string, values: readonly unknown[] | undefined): pg.QueryConfig {
  return { text, values: values ? [...values] : [], queryMode: 'extended' } as pg.QueryConfig;
}

function result<R>(r: pg.QueryResult): QueryResult<R> {
  return { rows: r.rows as R[], rowCount: r.rowCount ?? 0 };
}

class PgTransaction implements ScriptQueryable {
  #open = true;
  constructor(private readonly client: pg.PoolClient) {}

  async query<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>> {
    // The client goes back to the pool afterwards; a late query would run in someone else's session.
    if (!this.#open) throw new AppError('ERR_INTERNAL', 'query on a transaction that has already ended');
    try {
      return result<R>(await this.client.query(statement(sql, params)));
    } catch (e) {
      throw toDbError(e, sql);
    }
  }

  async runScript(sql: string): Promise<void> {
    if (!this.#open) throw new AppError('ERR_INTERNAL', 'query on a transaction that has already ended');
    try {
      await this.client.query(sql);
    } catch (e) {
      throw toDbError(e, sql);
    }
  }

  end(): void {
    this.#open = false;
  }
}

/** The archive's database on PostgreSQL, through a pg connection pool. */
export class PgDb implements MigratableDb {
  readonly kind = 'pg' as const;
  #closed = false;

  private constructor(
    private readonly pool: pg.Pool,
    private readonly log: Logger,
    /** The schema every connection works in. */
    readonly schema: string,
  ) {}

  /**
   * Opens the pool, checks the server answers, and creates the schema when it is missing.
   * Every connection gets `search_path = <schema>, public` (public for the shared pg_trgm
   * functions) and `TimeZone = UTC`, PGlite's zone, so date arithmetic matches on both.
   */
  static async open(options: PgDbOptions, log: Logger): Promise<PgDb> {
    const { url, schema } = options;
    const searchPath = schema === 'public' ? 'public' : `${quoteIdent(schema)}, public`;
    const pool = new pg.Pool({
      ...withStartupOptions(url, `${startupOption('search_path', searchPath)} ${startupOption('TimeZone', 'UTC')}`),
      types: typeParsers,
      application_name: options.applicationName ?? 'arkiva',
      max: options.poolSize ?? 10,
      connectionTimeoutMillis: 10_000,
      idleTimeoutMillis: 30_000,
    });
    // An idle connection dropped by the server (restart, failover) must not crash the process;
    // the pool replaces it on the next checkout.
    pool.on('error', (err) => log.error({ err }, 'idle PostgreSQL connection failed'));
    const db = new PgDb(pool, log, schema);
    try {
      if (schema !== 'public') await db.#createSchema();
      else await db.query('SELECT 1');
    } catch (e) {
      await pool.end().catch(() => undefined);
      if (isDbError(e)) throw e;
      throw new AppError('ERR_UNAVAILABLE', 'cannot connect to PostgreSQL', undefined, { cause: e });
    }
    return db;
  }

  async #createSchema(): Promise<void> {
    try {
      await this.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(this.schema)}`);
    } catch (e) {
      // Two processes creating it at once: the loser gets a catalogue unique violation.
      if (!isDbError(e, SQLSTATE.uniqueViolation) && !isDbError(e, '42P06')) throw e;
    }
  }

  /** Runs one parameterised statement on any pooled connection. */
  async query<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>> {
    try {
      return result<R>(await this.pool.query(statement(sql, params)));
    } catch (e) {
      throw toDbError(e, sql);
    }
  }

  /**
   * Runs `fn` on one checked-out connection between BEGIN and COMMIT; rolls back when `fn`
   * throws. The connection always goes back to the pool, and is discarded instead when BEGIN,
   * COMMIT or ROLLBACK failed (its session state is then unknown).
   */
  async transaction<T>(fn: (tx: ScriptQueryable) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    // While checked out the pool does not listen for errors on the client; a server-side
    // disconnect between two statements would otherwise be an unhandled 'error' event.
    const onError = (err: Error) => this.log.warn({ err }, 'PostgreSQL connection failed during a transaction');
    client.on('error', onError);
    const tx = new PgTransaction(client);
    let broken: Error | undefined;
    try {
      await client.query('BEGIN').catch((e: Error) => {
        broken = e;
        throw toDbError(e, 'BEGIN');
      });
      let value: T;
      try {
        value = await fn(tx);
      } catch (e) {
        tx.end();
        await client.query('ROLLBACK').catch((rollbackError: Error) => {
          broken = rollbackError;
          this.log.warn({ err: rollbackError }, 'ROLLBACK failed; discarding the connection');
        });
        throw e;
      }
      tx.end();
      const commit = await client.query('COMMIT').catch((e: Error) => {
        broken = e;
        throw toDbError(e, 'COMMIT');
      });
      // PostgreSQL answers COMMIT of an aborted transaction (fn swallowed a failed statement)
      // with ROLLBACK and no error; PGlite throws. Both become the same DbError.
      if (commit.command === 'ROLLBACK') throw abortedError();
      return value;
    } finally {
      tx.end();
      client.off('error', onError);
      client.release(broken);
    }
  }

  /** Closes every connection; later calls do nothing. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.pool.end();
  }
}
