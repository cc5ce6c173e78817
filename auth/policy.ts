import { AppError } from '../common/index.ts';
import { RESTRICTED_READERS, type AuthUser, type Policy } from './roles.ts';

/**
 * The one access decision, shared by the HTTP hook and the CLI: throws 401 without a user (unless
 * public) and 403 when the user holds none of the policy's roles.
 */
export function authorize(user: AuthUser | undefined, policy: Policy | undefined, what = 'this'): void {
  if (!policy) throw new AppError('ERR_FORBIDDEN', `${what} has no access policy and is refused`);
  if (policy.roles === 'public') return;
  if (!user) throw new AppError('ERR_UNAUTHENTICATED', 'sign in or send an API token (Authorization: Bearer ...)');
  if (policy.roles === 'authenticated') return;
  if (!policy.roles.some((r) => user.roles.includes(r))) {
    throw new AppError('ERR_FORBIDDEN', `${what} needs one of the roles ${policy.roles.join(', ')}`);
  }
}

/** Maximum length of a stated access purpose. */
export const MAX_PURPOSE_LENGTH = 500;

/** Cleans a stated purpose: trimmed, control characters removed; undefined when empty. */
export function cleanPurpose(raw: unknown): string | undefined {
  if (typeof raw !== 'string') return undefined;
  // eslint-disable-next-line no-control-regex
  const p = raw.replace(/[\u0000-\u001f\u007f]/g, ' ').trim();
  if (!p) return undefined;
  if (p.length > MAX_PURPOSE_LENGTH) throw new AppError('ERR_VALIDATION', `x-access-purpose is at most ${MAX_PURPOSE_LENGTH} characters`, { field: 'x-access-purpose' });
  return p;
}

/**
 * A read of a closed book's content: refused without a purpose, and refused to roles that may not
 * read closed items even with one. Returns the purpose to record.
 */
export function checkRestrictedRead(user: AuthUser, purpose: string | undefined): string {
  if (!purpose) throw new AppError('ERR_FORBIDDEN', 'this book is closed for privacy; state why you need it in the x-access-purpose header (the read is recorded with it)');
  if (!RESTRICTED_READERS.some((r) => user.roles.includes(r))) {
    throw new AppError('ERR_FORBIDDEN', `this book is closed for privacy; only ${RESTRICTED_READERS.join(', ')} may read it`);
  }
  return purpose;
}
