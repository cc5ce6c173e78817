export { AppError, PermanentError, ERROR_CODES, isAppError, type ErrorCode } from './errors.ts';
export { createLogger, silentLogger, REDACTED_PATHS, type Logger } from './logger.ts';
export { sha256Hex } from './hash.ts';
