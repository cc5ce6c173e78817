import { pino, type Logger as PinoLogger } from 'pino';

/** Structured logger. Never log personal data (names, record ids): log ids of books and pages only. */
export type Logger = Pick<PinoLogger, 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'child'>;

/** Personal-data fields removed from every log line, wherever they appear. */
export const REDACTED_PATHS = [
  'names', '*.names', 'personName', '*.personName', 'firstName', '*.firstName', 'lastName', '*.lastName',
  'recordId', '*.recordId', 'text', '*.text', 'password', '*.password', 'token', '*.token',
  'req.headers.authorization', 'req.headers.cookie',
  // Search terms, stated purposes of restricted reads and session secrets.
  'q', '*.q', 'purpose', '*.purpose', 'csrfToken', '*.csrfToken', 'req.headers["x-access-purpose"]', 'req.headers["x-csrf-token"]',
];

/** Creates the process logger (JSON to stderr so stdout stays free for `--json` command output). */
export function createLogger(level: string = 'info', bindings: Record<string, unknown> = {}): Logger {
  return pino({ level, base: { ...bindings }, redact: { paths: REDACTED_PATHS, censor: '[redacted]' } }, pino.destination(2));
}

/** A logger that drops everything (tests and library use). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
