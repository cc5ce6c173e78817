import { randomBytes } from 'node:crypto';
import type { Queryable } from '../db/index.ts';

/**
 * The 32-byte key named `name` in `server_keys`, made at first use. Concurrent first uses (two API
 * processes starting together) insert one key each; only the first insert lands and every caller
 * reads that one back, so all processes on the database seal with the same key.
 */
export async function serverKey(db: Queryable, name: string): Promise<Buffer> {
  await db.query('INSERT INTO server_keys (name, key) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING', [name, randomBytes(32)]);
  const r = await db.query<{ key: Uint8Array }>('SELECT key FROM server_keys WHERE name = $1', [name]);
  return Buffer.from(r.rows[0]!.key);
}
