import { randomBytes } from 'node:crypto';
import { AppError, sha256Hex } from '../common/index.ts';
import type { Queryable } from '../db/index.ts';
import { activeUserById, findActiveUser } from './users.ts';
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
}

/** Creates an API token for a user: 32 random bytes, stored as SHA-256, expiring. */
export async function createApiToken(db: Queryable, input: { username: string; name?: string; days?: number; expiresAt?: Date }): Promise<CreatedToken> {
  const user = await findActiveUser(db, input.username);
  if (!user) throw new AppError('ERR_NOT_FOUND', `no enabled user ${input.username}`);
  const days = input.days ?? DEFAULT_TOKEN_DAYS;
  if (!input.expiresAt && (!Number.isFinite(days) || days <= 0 || days > 3650)) throw new AppError('ERR_VALIDATION', 'a token lives 1 to 3650 days', { field: 'days' });
  const expiresAt = input.expiresAt ?? new Date(Date.now() + days * 86_400_000);
  const token = TOKEN_PREFIX + randomBytes(32).toString('base64url');
  const name = (input.name ?? 'token').slice(0, 100);
  const r = await db.query<{ id: string }>(
    'INSERT INTO api_tokens (user_id, name, token_sha256, expires_at) VALUES ($1, $2, $3, $4) RETURNING id',
    [user.id, name, sha256Hex(token), expiresAt.toISOString()],
  );
  return { id: r.rows[0]!.id, token, name, username: user.username, expiresAt: expiresAt.toISOString() };
}

/** Revokes a token by id; refused from the next request on. */
export async function revokeApiToken(db: Queryable, id: string): Promise<void> {
  if (!/^[0-9a-f-]{36}$/i.test(id)) throw new AppError('ERR_VALIDATION', 'a token id is a uuid', { field: 'id' });
  const r = await db.query('UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, now()) WHERE id = $1', [id]);
  if (r.rowCount === 0) throw new AppError('ERR_NOT_FOUND', `no token ${id}`);
}

/** The tokens of a user (never the token itself). */
export async function listApiTokens(db: Queryable, username: string) {
  const r = await db.query<{ id: string; name: string; created_at: Date; expires_at: Date; revoked_at: Date | null; last_used_at: Date | null }>(
    `SELECT t.id, t.name, t.created_at, t.expires_at, t.revoked_at, t.last_used_at FROM api_tokens t JOIN users u ON u.id = t.user_id
      WHERE u.username = $1 ORDER BY t.created_at`,
    [username.trim().toLowerCase()],
  );
  const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);
  return r.rows.map((t) => ({ id: t.id, name: t.name, createdAt: iso(t.created_at), expiresAt: iso(t.expires_at), revokedAt: iso(t.revoked_at), lastUsedAt: iso(t.last_used_at) }));
}

/**
 * The user a bearer token authenticates: looked up by its SHA-256 on every request, so a revoked
 * or expired token (or a disabled user) is refused at once.
 */
export async function userForToken(db: Queryable, token: string): Promise<AuthUser | undefined> {
  if (!token.startsWith(TOKEN_PREFIX) || token.length > 200) return undefined;
  const r = await db.query<{ id: string; user_id: string; last_used_at: Date | null }>(
    'SELECT id, user_id, last_used_at FROM api_tokens WHERE token_sha256 = $1 AND revoked_at IS NULL AND expires_at > now()',
    [sha256Hex(token)],
  );
  const row = r.rows[0];
  if (!row) return undefined;
  // Last use at minute resolution: enough to spot stale tokens without a write per request.
  if (!row.last_used_at || Date.now() - new Date(row.last_used_at).getTime() > 60_000) {
    await db.query('UPDATE api_tokens SET last_used_at = now() WHERE id = $1', [row.id]);
  }
  return activeUserById(db, row.user_id);
}
