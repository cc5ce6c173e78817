/** A result of a query. */
export interface QueryResult<R> {
  rows: R[];
  rowCount: number;
}

/** Something SQL can be sent to: the database or one transaction on it. */
export interface Queryable {
  /** Parameterised query ($1, $2, …); never interpolate values into `sql`. */
  query<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>>;
}

/**
 * The archive's database handle: PostgreSQL through a pg pool, or PGlite embedded, running the
 * same SQL. No connection or client type leaks through it.
 */
export interface Db extends Queryable {
  readonly kind: 'pg' | 'pglite';
  /** Runs `fn` in one transaction; commits when it resolves, rolls back when it throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}
