import type { Queryable } from '../db/index.ts';

/** Stores a new session by the SHA-256 of its id. */
export async function insertSession(db: Queryable, row: { idSha256: string; userId: string; csrfToken: string; expiresAt: string; ip: string | null }): Promise<void> {
  await db.query('INSERT INTO sessions (id_sha256, user_id, csrf_token, expires_at, ip) VALUES ($1, $2, $3, $4, $5)', [row.idSha256, row.userId, row.csrfToken, row.expiresAt, row.ip]);
}

/** The live (not expired, not revoked) session with that id hash. */
export async function liveSession(db: Queryable, idSha256: string): Promise<{ userId: string; csrfToken: string; expiresAt: Date } | undefined> {
  const r = await db.query<{ user_id: string; csrf_token: string; expires_at: Date }>(
    'SELECT user_id, csrf_token, expires_at FROM sessions WHERE id_sha256 = $1 AND revoked_at IS NULL AND expires_at > now()',
    [idSha256],
  );
  const row = r.rows[0];
  return row ? { userId: row.user_id, csrfToken: row.csrf_token, expiresAt: row.expires_at } : undefined;
}

/** Marks the session with that id hash revoked, unless it already is. */
export async function markSessionRevoked(db: Queryable, idSha256: string): Promise<void> {
  await db.query('UPDATE sessions SET revoked_at = now() WHERE id_sha256 = $1 AND revoked_at IS NULL', [idSha256]);
}
