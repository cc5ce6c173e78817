import type { Queryable } from '../db/index.ts';

/** A user's API token as listed: never the token itself. */
export interface ApiTokenInfo {
  id: string;
  name: string;
  createdAt: string | null;
  expiresAt: string | null;
  revokedAt: string | null;
  lastUsedAt: string | null;
}

/** Stores a new token by its SHA-256; returns the token's id. */
export async function insertApiToken(db: Queryable, row: { userId: string; name: string; tokenSha256: string; expiresAt: string }): Promise<string> {
  const r = await db.query<{ id: string }>(
    'INSERT INTO api_tokens (user_id, name, token_sha256, expires_at) VALUES ($1, $2, $3, $4) RETURNING id',
    [row.userId, row.name, row.tokenSha256, row.expiresAt],
  );
  return r.rows[0]!.id;
}

/** Marks a token revoked (keeping the first time); false when no token has that id. */
export async function markApiTokenRevoked(db: Queryable, id: string): Promise<boolean> {
  const r = await db.query('UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, now()) WHERE id = $1', [id]);
  return r.rowCount !== 0;
}

/** The tokens of the user of a (normalised) name, oldest first. */
export async function apiTokensOfUser(db: Queryable, username: string): Promise<ApiTokenInfo[]> {
  const r = await db.query<{ id: string; name: string; created_at: Date; expires_at: Date; revoked_at: Date | null; last_used_at: Date | null }>(
    `SELECT t.id, t.name, t.created_at, t.expires_at, t.revoked_at, t.last_used_at FROM api_tokens t JOIN users u ON u.id = t.user_id
      WHERE u.username = $1 ORDER BY t.created_at`,
    [username],
  );
  const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);
  return r.rows.map((t) => ({ id: t.id, name: t.name, createdAt: iso(t.created_at), expiresAt: iso(t.expires_at), revokedAt: iso(t.revoked_at), lastUsedAt: iso(t.last_used_at) }));
}

/** The live (not revoked, not expired) token with that SHA-256. */
export async function liveApiToken(db: Queryable, tokenSha256: string): Promise<{ id: string; userId: string; lastUsedAt: Date | null } | undefined> {
  const r = await db.query<{ id: string; user_id: string; last_used_at: Date | null }>(
    'SELECT id, user_id, last_used_at FROM api_tokens WHERE token_sha256 = $1 AND revoked_at IS NULL AND expires_at > now()',
    [tokenSha256],
  );
  const row = r.rows[0];
  return row ? { id: row.id, userId: row.user_id, lastUsedAt: row.last_used_at } : undefined;
}

/** Notes that a token was used now. */
export async function touchApiToken(db: Queryable, id: string): Promise<void> {
  await db.query('UPDATE api_tokens SET last_used_at = now() WHERE id = $1', [id]);
}
