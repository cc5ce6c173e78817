import { AsyncLocalStorage } from 'node:async_hooks';
import fs from 'node:fs/promises';
import path from 'node:path';
import { PGlite, TransactionAbortedError, types, type Results, type Transaction } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import { AppError } from '../common/errors.ts';
import type { Logger } from '../common/logger.ts';
import type { QueryResult } from './db.ts';
import { acquireDirLock } from './dir-lock.ts';
import { abortedError, toDbError } from './errors.ts';
import type { MigratableDb, ScriptQueryable } from './migrate.ts';
import { Mutex } from './mutex.ts';
import { OID, asText, parseByteaHex, parseInt8 } from './type-parsers.ts';

/** Where a PgliteDb keeps its data. */
export interface PgliteDbOptions {
  /** Data folder. Undefined, or a `memory://` URL, keeps the database in memory (tests, demos). */
  dir?: string | undefined;
}

// Array types reuse these element parsers (PGlite looks them up per call), so int8[] and
// date[] follow without entries of their own.
const parsers = {
  [OID.int8]: parseInt8,
  [OID.date]: asText,
  [OID.bytea]: (text: string) => parseByteaHex(text, (t) => types.parsers[OID.bytea]!(t) as Uint8Array),
};

// After this long waiting for the transaction that the caller itself is running inside, the
// wait is almost certainly a deadlock: db.query was used where the tx handle was meant.
const SELF_WAIT_WARN_MS = 5_000;

function result<R>(r: Results<unknown>): QueryResult<R> {
  // rowCount is the command tag's count (rows returned or changed), as in pg; DDL has none.
  return { rows: r.rows as R[], rowCount: r.rowCount ?? r.affectedRows ?? 0 };
}

class PgliteTransaction implements ScriptQueryable {
  #open = true;
  constructor(private readonly raw: Transaction) {}

  async query<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>> {
    if (!this.#open) throw new AppError('ERR_INTERNAL', 'query on a transaction that has already ended');
    try {
      return result<R>(await this.raw.query(sql, params ? [...params] : []));
    } catch (e) {
      throw toDbError(e, sql);
    }
  }

  async runScript(sql: string): Promise<void> {
    if (!this.#open) throw new AppError('ERR_INTERNAL', 'query on a transaction that has already ended');
    try {
      await this.raw.exec(sql);
    } catch (e) {
      throw toDbError(e, sql);
    }
  }

  end(): void {
    this.#open = false;
  }
}

/**
 * The archive's database embedded in the process (PGlite: PostgreSQL compiled to WASM), with
 * pg_trgm loaded. PGlite has a single connection, so statements and transactions run one at a
 * time: a query issued while a transaction is open waits until it has committed or rolled back.
 */
export class PgliteDb implements MigratableDb {
  readonly kind = 'pglite' as const;
  readonly #mutex = new Mutex();
  readonly #txScope = new AsyncLocalStorage<{ open: boolean }>();
  #closed = false;

  private constructor(
    private readonly pg: PGlite,
    private readonly log: Logger,
    private readonly unlock: (() => Promise<void>) | undefined,
  ) {}

  /**
   * Opens (creating on first use, which takes a few seconds) the database in `dir`, holding a
   * lock file `<dir>.lock` so a second process cannot open the same folder.
   */
  static async open(options: PgliteDbOptions, log: Logger): Promise<PgliteDb> {
    const inMemory = options.dir === undefined || options.dir.startsWith('memory://');
    const dir = inMemory ? undefined : path.resolve(options.dir!);
    let unlock: (() => Promise<void>) | undefined;
    if (dir !== undefined) {
      await fs.mkdir(path.dirname(dir), { recursive: true });
      unlock = await acquireDirLock(`${dir}.lock`);
    }
    try {
      const started = Date.now();
      const pg = await PGlite.create({ ...(dir !== undefined ? { dataDir: dir } : {}), extensions: { pg_trgm }, parsers });
      log.debug({ inMemory, ms: Date.now() - started }, 'embedded database open');
      return new PgliteDb(pg, log, unlock);
    } catch (e) {
      await unlock?.();
      throw new AppError('ERR_UNAVAILABLE', 'cannot open the embedded database', { inMemory }, { cause: e });
    }
  }

  #serialised<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#mutex.run(fn);
    if (this.#txScope.getStore()?.open !== true) return run;
    const calledFrom = new Error('database call made inside its own transaction').stack;
    const timer = setTimeout(() => {
      this.log.warn({ stack: calledFrom }, 'db.query/db.transaction is waiting for the transaction it was called from: use the tx handle (deadlock)');
    }, SELF_WAIT_WARN_MS);
    timer.unref();
    return run.finally(() => clearTimeout(timer));
  }

  /** Runs one parameterised statement once no transaction is open. */
  query<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>> {
    return this.#serialised(async () => {
      try {
        return result<R>(await this.pg.query(sql, params ? [...params] : []));
      } catch (e) {
        throw toDbError(e, sql);
      }
    });
  }

  /** Runs `fn` in one transaction with the database to itself; commits when it resolves, rolls back when it throws. */
  transaction<T>(fn: (tx: ScriptQueryable) => Promise<T>): Promise<T> {
    return this.#serialised(async () => {
      const scope = { open: true };
      try {
        return await this.pg.transaction(async (raw) => {
          const tx = new PgliteTransaction(raw);
          try {
            return await this.#txScope.run(scope, () => fn(tx));
          } finally {
            tx.end();
            scope.open = false;
          }
        });
      } catch (e) {
        if (e instanceof TransactionAbortedError) throw abortedError();
        throw toDbError(e);
      }
    });
  }

  /** Waits for running statements, closes the database and releases the folder lock; later calls do nothing. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      await this.#mutex.run(() => this.pg.close());
    } finally {
      await this.unlock?.();
    }
  }
}
