import type { Queryable } from '../db/index.ts';

/** Takes `keyHash` until `expiresAt` unless it is held and unexpired; true when taken (the caller then writes the event). */
export async function claimOnceKey(tx: Queryable, keyHash: string, expiresAt: Date): Promise<boolean> {
  const claimed = await tx.query(
    `INSERT INTO audit_once (key_hash, expires_at) VALUES ($1, $2)
     ON CONFLICT (key_hash) DO UPDATE SET expires_at = EXCLUDED.expires_at WHERE audit_once.expires_at <= now()
     RETURNING key_hash`,
    [keyHash, expiresAt.toISOString()],
  );
  return claimed.rows.length > 0;
}

/** Removes up to a hundred expired keys (the table stays as small as the sessions alive). */
export async function pruneOnceKeys(tx: Queryable): Promise<void> {
  await tx.query('DELETE FROM audit_once WHERE key_hash IN (SELECT key_hash FROM audit_once WHERE expires_at <= now() LIMIT 100)');
}
