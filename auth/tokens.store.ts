import type { Queryable } from '../db/index.ts';

/** A user's API token as listed: never the token itself. */
export interface ApiTokenInfo {
  id: string;
  name: string;
  createdAt: string | null;
  expiresAt: string | null;
  revokedAt: string | null;
  lastUsedAt: string | null;
  /** Who made it, when not its user (an admin, on the user's behalf; `UNRECORDED_ISSUER` for tokens made before issuers were recorded); null for the user's own. */
  issuedBy: string | null;
}

/** What the issuer of a token made before issuers were recorded is called. */
export const UNRECORDED_ISSUER = '(issuer not recorded)';

/** Stores a new token by its SHA-256, with who made it (`issuedBy`: the user's own id, or an admin's); returns the token's id. */
export async function insertApiToken(db: Queryable, row: { userId: string; issuedBy: string | null; name: string; tokenSha256: string; expiresAt: string }): Promise<string> {
  const r = await db.query<{ id: string }>(
    'INSERT INTO api_tokens (user_id, issued_by, name, token_sha256, expires_at) VALUES ($1, $2, $3, $4, $5) RETURNING id',
    [row.userId, row.issuedBy, row.name, row.tokenSha256, row.expiresAt],
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
  const r = await db.query<{ id: string; name: string; created_at: Date; expires_at: Date; revoked_at: Date | null; last_used_at: Date | null; issued_by: string | null }>(
    `SELECT t.id, t.name, t.created_at, t.expires_at, t.revoked_at, t.last_used_at,
            CASE WHEN t.issued_by = t.user_id THEN NULL ELSE COALESCE(i.username, $2) END AS issued_by
       FROM api_tokens t JOIN users u ON u.id = t.user_id LEFT JOIN users i ON i.id = t.issued_by
      WHERE u.username = $1 ORDER BY t.created_at`,
    [username, UNRECORDED_ISSUER],
  );
  const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);
  return r.rows.map((t) => ({
    id: t.id, name: t.name, createdAt: iso(t.created_at), expiresAt: iso(t.expires_at), revokedAt: iso(t.revoked_at), lastUsedAt: iso(t.last_used_at), issuedBy: t.issued_by,
  }));
}

/**
 * The live (not revoked, not expired) token with that SHA-256, and who made it when that was not
 * its user (`issuedBy`; the issuer's id is null for tokens made before issuers were recorded).
 */
export async function liveApiToken(db: Queryable, tokenSha256: string): Promise<{ id: string; userId: string; lastUsedAt: Date | null; issuedBy?: { id: string | null; username: string } } | undefined> {
  const r = await db.query<{ id: string; user_id: string; last_used_at: Date | null; issued_by: string | null; issuer_name: string | null }>(
    `SELECT t.id, t.user_id, t.last_used_at, t.issued_by, i.username AS issuer_name
       FROM api_tokens t LEFT JOIN users i ON i.id = t.issued_by
      WHERE t.token_sha256 = $1 AND t.revoked_at IS NULL AND t.expires_at > now()`,
    [tokenSha256],
  );
  const row = r.rows[0];
  if (!row) return undefined;
  const own = row.issued_by === row.user_id;
  return { id: row.id, userId: row.user_id, lastUsedAt: row.last_used_at, ...(own ? {} : { issuedBy: { id: row.issued_by, username: row.issuer_name ?? UNRECORDED_ISSUER } }) };
}

/** Notes that a token was used now. */
export async function touchApiToken(db: Queryable, id: string): Promise<void> {
  await db.query('UPDATE api_tokens SET last_used_at = now() WHERE id = $1', [id]);
}
