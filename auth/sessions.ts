import { randomBytes, timingSafeEqual } from 'node:crypto';
import { sha256Hex } from '../common/index.ts';
import type { Queryable } from '../db/index.ts';
import { activeUserById } from './users.store.ts';
import { insertSession, liveSession, markSessionRevoked } from './sessions.store.ts';
import type { AuthUser } from './roles.ts';

/** Name of the session cookie. */
export const SESSION_COOKIE = 'arkiva_session';

/** How long a session lasts after login. */
export const SESSION_TTL_MS = 8 * 3600_000;

/** A session of the web UI. */
export interface Session {
  user: AuthUser;
  csrfToken: string;
  expiresAt: string;
}

/** Starts a session: the random id goes in the cookie, its SHA-256 in the table. */
export async function createSession(db: Queryable, user: AuthUser, opts: { ip?: string; ttlMs?: number } = {}): Promise<Session & { id: string }> {
  const id = randomBytes(32).toString('base64url');
  const csrfToken = randomBytes(32).toString('base64url');
  const expiresAt = new Date(Date.now() + (opts.ttlMs ?? SESSION_TTL_MS)).toISOString();
  await insertSession(db, { idSha256: sha256Hex(id), userId: user.id, csrfToken, expiresAt, ip: opts.ip ?? null });
  return { id, user, csrfToken, expiresAt };
}

/** The live session of a cookie value: not expired, not revoked, user enabled. */
export async function findSession(db: Queryable, id: string): Promise<Session | undefined> {
  if (id.length > 100) return undefined;
  const row = await liveSession(db, sha256Hex(id));
  if (!row) return undefined;
  const user = await activeUserById(db, row.userId);
  return user ? { user, csrfToken: row.csrfToken, expiresAt: new Date(row.expiresAt).toISOString() } : undefined;
}

/** Ends a session on the server (logout): the cookie stops working even if kept. */
export async function revokeSession(db: Queryable, id: string): Promise<void> {
  await markSessionRevoked(db, sha256Hex(id));
}

/** Constant-time comparison of a CSRF header with the session's token. */
export function csrfMatches(sent: string | undefined, expected: string): boolean {
  if (!sent) return false;
  const a = Buffer.from(sent);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
