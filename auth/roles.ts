import { ROLES, type Role } from '../common/vocabulary.ts';

// Every role a user can hold (a user may hold several) is the vocabulary's: the schema's CHECK and the API share it.
export { ROLES, type Role } from '../common/vocabulary.ts';

/** Roles that may read a restricted (closed) book, with a stated purpose. */
export const RESTRICTED_READERS: readonly Role[] = ['clerk', 'records_manager'];

/**
 * Who may use a route or command: `'public'` (health, docs, login), `'authenticated'` (any user), or
 * a list of roles (holding any one is enough). `audit` names the audit event written for every call;
 * `restricted` marks reads of a book's content (pages, images, OCR, entries) and changes to it
 * (entries, corrections, review, page types, re-OCR), which closed books refuse unless the caller
 * states a purpose (header `x-access-purpose`) and holds a role in `RESTRICTED_READERS`.
 */
export interface Policy {
  roles: 'public' | 'authenticated' | readonly Role[];
  audit?: string;
  restricted?: boolean;
  /** At most this many calls a minute per user (429 above). */
  rateLimit?: number;
  /**
   * Needs the user's own credentials (password, session, or a token the user made): refused
   * through a token an admin made for them, so that an admin cannot approve or execute a disposal
   * in another records manager's name (four eyes that are two people).
   */
  ownCredentials?: boolean;
}

/** The authenticated user of a request or command. */
export interface AuthUser {
  id: string;
  username: string;
  roles: Role[];
  /**
   * Set when the user acts through an API token someone else (an admin) made for them: who made
   * it (`id` null for tokens made before issuers were recorded). Every action is audited with both
   * names; approvals, disposals and reads of closed books are refused.
   */
  issuedBy?: { id: string | null; username: string };
}

/** True when `r` is a known role. */
export function isRole(r: string): r is Role {
  return (ROLES as readonly string[]).includes(r);
}
