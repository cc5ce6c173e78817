/**
 * The one registry of application error codes. Business code throws `AppError`s with these
 * codes; only the HTTP error handler and the CLI map them to status codes and exit codes.
 */
export const ERROR_CODES = {
  ERR_VALIDATION: 400,
  ERR_UNSUPPORTED_MEDIA: 415,
  ERR_PAYLOAD_TOO_LARGE: 413,
  ERR_BAD_INPUT_FILE: 422,
  ERR_BOOK_NOT_FOUND: 404,
  ERR_PAGE_NOT_FOUND: 404,
  ERR_OBJECT_NOT_FOUND: 404,
  ERR_NOT_FOUND: 404,
  ERR_CONFLICT: 409,
  ERR_UNAUTHENTICATED: 401,
  ERR_FORBIDDEN: 403,
  ERR_RATE_LIMITED: 429,
  ERR_INTEGRITY: 500,
  ERR_STORAGE: 503,
  ERR_UNAVAILABLE: 503,
  ERR_INTERNAL: 500,
  /** A valid request for a feature this server does not offer (IIIF: arbitrary rotation, upscaling, other formats). */
  ERR_NOT_IMPLEMENTED: 501,
  /** The services it was pointed at cannot serve the archive as configured (e.g. a bucket without Object Lock). */
  ERR_CONFIG: 500,
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/** An error whose code the caller can act on; its message is safe to show (no personal data). */
export class AppError extends Error {
  override readonly name = 'AppError';
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.status = ERROR_CODES[code];
  }
}

/** Thrown by a job handler for what retrying cannot fix; queue adapters skip the remaining attempts. */
export class PermanentError extends Error {
  override readonly name = 'PermanentError';
}

/** True when `e` is an AppError with the given code. */
export function isAppError(e: unknown, code?: ErrorCode): e is AppError {
  return e instanceof AppError && (code === undefined || e.code === code);
}
