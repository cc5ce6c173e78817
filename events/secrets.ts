import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { AppError } from '../common/index.ts';
import type { Queryable } from '../db/index.ts';
import { eventsServerKey } from './outbox.store.ts';

/** The `server_keys` entry subscription secrets are sealed with. */
export const SECRET_KEY_NAME = 'events-secret';
const AAD = Buffer.from('arkiva event subscription secret v1');

/**
 * Seals a subscription's signing secret with AES-256-GCM (iv ‖ tag ‖ ciphertext). The secret has
 * to be usable by the server to sign, so it cannot be hashed; sealing keeps it out of anything that
 * copies the subscriptions table alone (exports, listings, a leaked row), though not out of a copy
 * of the whole database, which holds the key too.
 */
export function sealSecret(key: Buffer, secret: string): Buffer {
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', key, iv);
  c.setAAD(AAD);
  const body = Buffer.concat([c.update(secret, 'utf8'), c.final()]);
  return Buffer.concat([iv, c.getAuthTag(), body]);
}

/** Opens a sealed secret; a sealed value that was altered, or sealed under another key, is refused. */
export function openSecret(key: Buffer, sealed: Buffer): string {
  if (sealed.length < 29) throw new AppError('ERR_INTEGRITY', 'a sealed subscription secret is too short');
  const d = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, 12));
  d.setAAD(AAD);
  d.setAuthTag(sealed.subarray(12, 28));
  try {
    return Buffer.concat([d.update(sealed.subarray(28)), d.final()]).toString('utf8');
  } catch (e) {
    throw new AppError('ERR_INTEGRITY', 'a subscription secret cannot be opened (altered, or sealed under another key)', undefined, { cause: e });
  }
}

/** The key subscription secrets are sealed with in this database (made at first use). */
export function secretKey(q: Queryable): Promise<Buffer> {
  return eventsServerKey(q, SECRET_KEY_NAME);
}

/** A new random signing secret: 32 bytes, base64url. */
export function newSecret(): string {
  return randomBytes(32).toString('base64url');
}
