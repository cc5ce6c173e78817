import { AppError } from '../common/index.ts';
import type { Queryable } from '../db/index.ts';
import { RESTRICTED_READERS, type AuthUser, type Policy } from './roles.ts';
import { isRestricted, restrictedBooks } from './policy.store.ts';

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
  if (policy.ownCredentials && user.issuedBy) {
    throw new AppError('ERR_FORBIDDEN', `${what} needs ${user.username}'s own credentials: the token in use was made by ${user.issuedBy.username} on ${user.username}'s behalf (sign in, or use a token ${user.username} made)`);
  }
}

/**
 * Who stands behind an action done through a token made for someone else, for its audit event
 * (`issuedBy`: the admin who made the token, `onBehalfOf`: its user); empty for own credentials.
 */
export function delegationDetail(user: AuthUser | undefined): { issuedBy?: string; onBehalfOf?: string } {
  return user?.issuedBy ? { issuedBy: user.issuedBy.username, onBehalfOf: user.username } : {};
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
export function checkRestrictedRead(user: AuthUser, purpose: string | undefined, purposeGoes = 'the x-access-purpose header'): string {
  // Refusals a purpose cannot lift come first, so nobody is asked for a purpose that would not help;
  // `reason` lets a client tell them apart (the web UI asks for the purpose only on the last).
  if (!RESTRICTED_READERS.some((r) => user.roles.includes(r))) {
    throw new AppError('ERR_FORBIDDEN', `this book is closed for privacy; only ${RESTRICTED_READERS.join(', ')} may read it`, { reason: 'closed-role' });
  }
  if (user.issuedBy) {
    throw new AppError('ERR_FORBIDDEN', `this book is closed for privacy; it is not read through a token ${user.issuedBy.username} made on ${user.username}'s behalf (sign in, or use a token ${user.username} made)`, { reason: 'closed-delegated' });
  }
  if (!purpose) throw new AppError('ERR_FORBIDDEN', `this book is closed for privacy; state why you need it in ${purposeGoes} (the read is recorded with it)`, { reason: 'closed-purpose-required' });
  return purpose;
}

/** True when the user may see closed books in a listing or search (no error: they are left out otherwise). */
export function mayReadClosed(user: AuthUser, purpose: string | undefined): boolean {
  return purpose !== undefined && RESTRICTED_READERS.some((r) => user.roles.includes(r)) && !user.issuedBy;
}

/**
 * The closure decision of a restricted route or command on one book, the same for the API hook and
 * the CLI: whether the book is closed (its audit event then says so, with the purpose) and, when
 * it is, the refusal `checkRestrictedRead` gives this user and purpose, if any (for the caller to
 * throw once it has noted the closure).
 */
export async function bookClosure(db: Queryable, user: AuthUser, bookId: string, purpose: string | undefined, purposeGoes?: string): Promise<{ closed: boolean; refused?: AppError }> {
  if (!(await isRestricted(db, bookId))) return { closed: false };
  try {
    checkRestrictedRead(user, purpose, purposeGoes);
    return { closed: true };
  } catch (e) {
    if (e instanceof AppError) return { closed: true, refused: e };
    throw e;
  }
}

/** Who reads a listing: the user (none on a public route) and the purpose they stated, if any. */
export interface ListingReader {
  user: AuthUser | undefined;
  purpose: string | undefined;
}

/**
 * The closure filter of every listing (page search, entry search, registry links, holds placed
 * from a search), the same for the API and the CLI: of the books a listing would show, those it
 * leaves out for this reader. Every closed book (`restrictedBooks`: under closure, or without a
 * computed one) unless the reader stated a purpose and may read closed books (`mayReadClosed`).
 */
export async function booksWithheld(db: Queryable, reader: ListingReader, bookIds: readonly string[]): Promise<Set<string>> {
  if (reader.user && mayReadClosed(reader.user, reader.purpose)) return new Set();
  return restrictedBooks(db, bookIds);
}
