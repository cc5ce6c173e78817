/**
 * Tells an outage of a service the pipeline depends on (PostgreSQL restarting, Redis reconnecting,
 * the object store not answering) from a failure of the work itself. An outage says nothing about
 * the page: the job waits for the service instead of using up its attempts, and a page is never
 * recorded as failed because a server was down. Duck-typed on purpose (error codes, SQLSTATEs,
 * HTTP statuses along the `cause` chain) so the queue needs neither pg, ioredis nor the AWS SDK.
 */

// Node's network errors: the peer is gone or not there yet.
const NETWORK_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENETDOWN', 'EAI_AGAIN',
  'ERR_SOCKET_CONNECTION_TIMEOUT', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT',
]);

// SQLSTATEs of a server that is shutting down, starting, or out of connections.
const SERVER_UNAVAILABLE = new Set(['57P01', '57P02', '57P03', '53300']);

// What pg and ioredis say when a connection died under a query (no code on these).
const CONNECTION_MESSAGES = [
  /connection terminated/i,
  /timeout exceeded when trying to connect/i,
  /client has encountered a connection error/i,
  /connection is closed/i,
  /the database system is (starting up|shutting down|in recovery mode)/i,
  /socket hang up/i,
];

// S3 error names that mean "try again later".
const S3_TRANSIENT = new Set(['ServiceUnavailable', 'SlowDown', 'InternalError', 'RequestTimeout', 'TimeoutError', 'RequestTimeTooSkewed']);

function oneIsOutage(e: object): boolean {
  const { code, name, message } = e as { code?: unknown; name?: unknown; message?: unknown };
  if (typeof code === 'string') {
    if (NETWORK_CODES.has(code) || SERVER_UNAVAILABLE.has(code)) return true;
    // class 08: connection exception (only a SQLSTATE-shaped code, not Node's E… codes)
    if (/^08[0-9A-Z]{3}$/.test(code)) return true;
    if (code === 'ERR_UNAVAILABLE') return true;
  }
  if (typeof name === 'string' && S3_TRANSIENT.has(name)) return true;
  const status = (e as { $metadata?: { httpStatusCode?: unknown } }).$metadata?.httpStatusCode
    ?? (e as { details?: { httpStatus?: unknown } }).details?.httpStatus;
  if (typeof status === 'number' && (status === 502 || status === 503 || status === 504)) return true;
  if (typeof message === 'string' && CONNECTION_MESSAGES.some((re) => re.test(message))) return true;
  return false;
}

/** True when `e`, or an error it was caused by, is a dependency being unreachable rather than the job failing. */
export function isOutage(e: unknown): boolean {
  const seen = new Set<unknown>();
  const todo: unknown[] = [e];
  while (todo.length > 0 && seen.size < 16) {
    const cur = todo.shift();
    if (cur === null || typeof cur !== 'object' || seen.has(cur)) continue;
    seen.add(cur);
    if (oneIsOutage(cur)) return true;
    todo.push((cur as { cause?: unknown }).cause);
    const errors = (cur as { errors?: unknown }).errors;
    if (Array.isArray(errors)) todo.push(...errors);
  }
  return false;
}

/** Wait before the next try of a job held up by an outage: 1 s doubling to 30 s, with jitter so workers do not stampede. */
export function outageDelayMs(deferrals: number, random: () => number = Math.random): number {
  const base = Math.min(30_000, 1000 * 2 ** Math.max(0, deferrals));
  return Math.round(base * (0.75 + random() * 0.5));
}

/** How many times one job may wait for an outage before its attempts count again (about an hour at 30 s). */
export const MAX_OUTAGE_DEFERRALS = 120;
