/** SQLSTATE codes the archive acts on (PostgreSQL appendix A). */
export const SQLSTATE = {
  uniqueViolation: '23505',
  foreignKeyViolation: '23503',
  checkViolation: '23514',
  notNullViolation: '23502',
  inFailedTransaction: '25P02',
  serializationFailure: '40001',
  deadlockDetected: '40P01',
  syntaxError: '42601',
} as const;

/** The fields both pg and PGlite put on a server error; all optional because neither library promises them. */
export interface ServerErrorFields {
  message: string;
  code?: string | undefined;
  severity?: string | undefined;
  schema?: string | undefined;
  table?: string | undefined;
  column?: string | undefined;
  constraint?: string | undefined;
  dataType?: string | undefined;
}

/**
 * An error reported by the database server, the same class on both adapters. `code` is the
 * SQLSTATE. It deliberately carries neither the query parameters nor the server's `detail`
 * (both can hold names from the registers) so that logging it is safe.
 */
export class DbError extends Error {
  override readonly name = 'DbError';
  readonly code: string;
  readonly severity: string | undefined;
  readonly schema: string | undefined;
  readonly table: string | undefined;
  readonly column: string | undefined;
  readonly constraint: string | undefined;
  readonly dataType: string | undefined;
  /** The statement text (never its values), shortened. */
  readonly query: string | undefined;

  constructor(fields: ServerErrorFields & { code: string }, query?: string) {
    super(fields.message);
    this.code = fields.code;
    this.severity = fields.severity;
    this.schema = fields.schema;
    this.table = fields.table;
    this.column = fields.column;
    this.constraint = fields.constraint;
    this.dataType = fields.dataType;
    this.query = query === undefined ? undefined : query.length > 500 ? `${query.slice(0, 500)}…` : query;
  }
}

const SQLSTATE_SHAPE = /^[0-9A-Z]{5}$/;

/**
 * True when `e` is a database server error, optionally with the given SQLSTATE. Accepts the
 * driver's own error objects too (anything with a SQLSTATE `code` and a `severity`), so a
 * caller is right even if an error reached it without passing through an adapter.
 */
export function isDbError(e: unknown, code?: string): e is DbError {
  const found =
    e instanceof DbError
      ? e.code
      : e instanceof Error && typeof (e as { code?: unknown }).code === 'string' && typeof (e as { severity?: unknown }).severity === 'string'
        ? (e as unknown as { code: string }).code
        : undefined;
  return found !== undefined && SQLSTATE_SHAPE.test(found) && (code === undefined || found === code);
}

/** True when `e` is a unique-constraint violation (SQLSTATE 23505), on either adapter. */
export function isUniqueViolation(e: unknown): e is DbError {
  return isDbError(e, SQLSTATE.uniqueViolation);
}

/**
 * Turns a driver's server error into a DbError (dropping parameters and detail) and leaves
 * anything else (connection failures, type-parser errors) as it is.
 */
export function toDbError(e: unknown, query?: string): unknown {
  if (e instanceof DbError) return e;
  if (!(e instanceof Error)) return e;
  const f = e as Error & Partial<Record<keyof ServerErrorFields, unknown>>;
  if (typeof f.code !== 'string' || !SQLSTATE_SHAPE.test(f.code) || typeof f.severity !== 'string') return e;
  const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
  return new DbError(
    {
      message: e.message,
      code: f.code,
      severity: f.severity,
      schema: str(f.schema),
      table: str(f.table),
      column: str(f.column),
      constraint: str(f.constraint),
      dataType: str(f.dataType),
    },
    query,
  );
}

/** What both adapters throw when COMMIT found the transaction aborted by an earlier failed statement. */
export function abortedError(): DbError {
  return new DbError(
    { code: SQLSTATE.inFailedTransaction, message: 'transaction was rolled back instead of committed: a statement in it failed', severity: 'ERROR' },
    'COMMIT',
  );
}
