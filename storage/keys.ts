import { AppError } from '../common/errors.ts';

/** Folder name under which the S3 adapter stages writes whose final key is known only at the end. */
export const STAGING_SEGMENT = '.staging';

/** File-name prefix of the filesystem adapter's temporary files. */
export const TEMP_PREFIX = '.tmp-';

/** File-name suffix of the filesystem adapter's metadata sidecars. */
export const SIDECAR_SUFFIX = '.meta.json';

// S3 caps keys at 1024 bytes of UTF-8.
const MAX_KEY_BYTES = 1024;

/**
 * Refuses a key both adapters could not store the same way: keys are chosen by the archive, so a
 * bad one is a bug, and the filesystem adapter must never let one escape its root folder. The
 * names the adapters use for their own bookkeeping are reserved.
 */
export function assertValidKey(key: string): void {
  const problem = keyProblem(key);
  if (problem) throw new AppError('ERR_VALIDATION', `invalid object key ${JSON.stringify(key)}: ${problem}`);
}

/**
 * Refuses a listing or content-address prefix that could name a path outside the store. Unlike a
 * key it may be empty and may end with `/` (and then names a folder).
 */
export function assertValidPrefix(prefix: string): void {
  if (prefix === '') return;
  const problem = keyProblem(prefix.endsWith('/') ? prefix.slice(0, -1) : prefix);
  if (problem) throw new AppError('ERR_VALIDATION', `invalid object key prefix ${JSON.stringify(prefix)}: ${problem}`);
}

/** True for the S3 adapter's staging objects, which list() hides. */
export function isStagingKey(key: string): boolean {
  return key.startsWith(`${STAGING_SEGMENT}/`) || key.includes(`/${STAGING_SEGMENT}/`);
}

function keyProblem(key: string): string | undefined {
  if (key === '') return 'empty';
  if (Buffer.byteLength(key, 'utf8') > MAX_KEY_BYTES) return `longer than ${MAX_KEY_BYTES} bytes`;
  // Control characters include NUL, which would truncate a path in the C library.
  if (/[\u0000-\u001f\u007f]/.test(key)) return 'contains a control character';
  if (key.includes('\\')) return 'contains a backslash';
  if (key.startsWith('/')) return 'is absolute';
  for (const segment of key.split('/')) {
    if (segment === '') return 'has an empty segment';
    if (segment === '.' || segment === '..') return `has a "${segment}" segment`;
    if (segment === STAGING_SEGMENT || segment.startsWith(TEMP_PREFIX)) return `uses the reserved name ${segment}`;
  }
  if (key.endsWith(SIDECAR_SUFFIX)) return `ends with the reserved suffix ${SIDECAR_SUFFIX}`;
  return undefined;
}

/** Lower-cases and checks a caller's expected SHA-256, so a typo is not reported as corruption. */
export function normaliseSha256(sha256: string | undefined): string | undefined {
  if (sha256 === undefined) return undefined;
  const s = sha256.toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(s)) throw new AppError('ERR_VALIDATION', `expectedSha256 is not a SHA-256 hex digest: ${JSON.stringify(sha256)}`);
  return s;
}

/** Checks a byte range before it reaches a store, so both adapters refuse the same ranges. */
export function assertValidRange(range: { start: number; end?: number }): void {
  const { start, end } = range;
  if (!Number.isSafeInteger(start) || start < 0 || (end !== undefined && (!Number.isSafeInteger(end) || end < start))) {
    throw new AppError('ERR_VALIDATION', `invalid byte range ${JSON.stringify(range)}`);
  }
}
