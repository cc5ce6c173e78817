import { randomBytes } from 'node:crypto';
import { AppError, sha256Hex } from '../common/index.ts';
import type { Queryable } from '../db/index.ts';
import { findActiveUser } from './users.ts';
import { activeUserById } from './users.store.ts';
import { apiTokensOfUser, insertApiToken, liveApiToken, markApiTokenRevoked, touchApiToken, type ApiTokenInfo } from './tokens.store.ts';
import type { AuthUser } from './roles.ts';

/** Prefix of every API token, so a leaked one is recognisable (secret scanners). */
export const TOKEN_PREFIX = 'ark_';

/** Days a token lives when no expiry is given. */
export const DEFAULT_TOKEN_DAYS = 90;

/** A token just created: `token` is shown this once and never stored. */
export interface CreatedToken {
  id: string;
  token: string;
  name: string;
  username: string;
  expiresAt: string;
  /** Set when someone else (an admin) made it on the user's behalf: who. */
  issuedBy?: string;
}

/**
 * Who a new token is issued by, in the database: the person behind `by`. A token made through a
 * token an admin made for someone stays the admin's, so a second token cannot wash the first clean.
 */
function issuerOf(by: AuthUser): string | null {
  return by.issuedBy ? by.issuedBy.id : by.id;
}

/**
 * Creates an API token for a user: 32 random bytes, stored as SHA-256, expiring. `issuedBy` is who
 * asks for it: the user themself, or an admin (then the token is the admin's on the user's behalf:
 * every action through it is audited with both names, and it may not approve or execute disposals
 * nor read closed books). Without `issuedBy` the token is the user's own: for operators' code
 * (tests, benchmarks) that holds the database, never for a request or a command.
 */
export async function createApiToken(db: Queryable, input: { username: string; name?: string; days?: number; expiresAt?: Date; issuedBy?: AuthUser }): Promise<CreatedToken> {
  const user = await findActiveUser(db, input.username);
  if (!user) throw new AppError('ERR_NOT_FOUND', `no enabled user ${input.username}`);
  const by = input.issuedBy;
  if (by && by.id !== user.id && !by.roles.includes('admin')) throw new AppError('ERR_FORBIDDEN', `only ${user.username} or an admin may make a token for ${user.username}`);
  const days = input.days ?? DEFAULT_TOKEN_DAYS;
  if (!input.expiresAt && (!Number.isFinite(days) || days <= 0 || days > 3650)) throw new AppError('ERR_VALIDATION', 'a token lives 1 to 3650 days', { field: 'days' });
  const expiresAt = input.expiresAt ?? new Date(Date.now() + days * 86_400_000);
  const token = TOKEN_PREFIX + randomBytes(32).toString('base64url');
  const name = (input.name ?? 'token').slice(0, 100);
  const issuedBy = by ? issuerOf(by) : user.id;
  const id = await insertApiToken(db, { userId: user.id, issuedBy, name, tokenSha256: sha256Hex(token), expiresAt: expiresAt.toISOString() });
  const issuer = issuedBy === user.id ? undefined : (by?.issuedBy?.username ?? by?.username);
  return { id, token, name, username: user.username, expiresAt: expiresAt.toISOString(), ...(issuer ? { issuedBy: issuer } : {}) };
}

/** Revokes a token by id; refused from the next request on. */
export async function revokeApiToken(db: Queryable, id: string): Promise<void> {
  if (!/^[0-9a-f-]{36}$/i.test(id)) throw new AppError('ERR_VALIDATION', 'a token id is a uuid', { field: 'id' });
  if (!(await markApiTokenRevoked(db, id))) throw new AppError('ERR_NOT_FOUND', `no token ${id}`);
}

/** The tokens of a user (never the token itself). */
export async function listApiTokens(db: Queryable, username: string): Promise<ApiTokenInfo[]> {
  return apiTokensOfUser(db, username.trim().toLowerCase());
}

/**
 * The user a bearer token authenticates: looked up by its SHA-256 on every request, so a revoked
 * or expired token (or a disabled user) is refused at once.
 */
export async function userForToken(db: Queryable, token: string): Promise<AuthUser | undefined> {
  if (!token.startsWith(TOKEN_PREFIX) || token.length > 200) return undefined;
  const row = await liveApiToken(db, sha256Hex(token));
  if (!row) return undefined;
  // Last use at minute resolution: enough to spot stale tokens without a write per request.
  if (!row.lastUsedAt || Date.now() - new Date(row.lastUsedAt).getTime() > 60_000) await touchApiToken(db, row.id);
  const user = await activeUserById(db, row.userId);
  return user && row.issuedBy ? { ...user, issuedBy: row.issuedBy } : user;
}
