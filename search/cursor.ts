import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { AppError } from '../common/index.ts';
import type { Db } from '../db/index.ts';
import { serverKey } from './cursor-key.store.ts';

/** Where a page of search results ends: the last hit's exact score (numeric as text) and page id. */
export interface CursorPosition {
  score: string;
  pageId: string;
}

const VERSION = 1;
const PREFIX = `c${VERSION}.`;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_NAME = 'search-cursor';

const keys = new WeakMap<Db, Promise<Buffer>>();

/**
 * The key search cursors are sealed with: one per database (`server_keys`), shared by every process
 * of the deployment, read once per database handle.
 */
export function cursorKey(db: Db): Promise<Buffer> {
  let key = keys.get(db);
  if (!key) {
    key = serverKey(db, KEY_NAME);
    // A database that failed once is asked again next time, not remembered as failed.
    key.catch(() => keys.delete(db));
    keys.set(db, key);
  }
  return key;
}

/**
 * Seals a cursor position with AES-256-GCM: the caller sees random-looking bytes (a cursor names
 * no page, no book, no score), and any change to them, a cursor sealed with another server's key, or
 * one made for another search (`binding`) fails to open.
 */
export function sealCursor(key: Buffer, position: CursorPosition, binding: string): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(aad(binding));
  const body = Buffer.concat([cipher.update(JSON.stringify([position.score, position.pageId]), 'utf8'), cipher.final()]);
  // base64url may begin with '-', which a command line takes for an option (`--cursor -x…`): the
  // prefix keeps every cursor a plain word there.
  return `${PREFIX}${Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url')}`;
}

/** Opens a sealed cursor; 400 naming `cursor` for anything this server did not issue for this search. */
export function openCursor(key: Buffer, raw: string, binding: string): CursorPosition {
  const refused = () => new AppError('ERR_VALIDATION', 'cursor is not one this server issued for this search; start the search again without it', { field: 'cursor' });
  const sealed = raw.startsWith(PREFIX) ? raw.slice(PREFIX.length) : '';
  const bytes = /^[A-Za-z0-9_-]+$/.test(sealed) ? Buffer.from(sealed, 'base64url') : Buffer.alloc(0);
  if (bytes.length <= IV_BYTES + TAG_BYTES) throw refused();
  let plain: string;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(0, IV_BYTES));
    decipher.setAAD(aad(binding));
    decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
    plain = Buffer.concat([decipher.update(bytes.subarray(IV_BYTES, bytes.length - TAG_BYTES)), decipher.final()]).toString('utf8');
  } catch {
    throw refused();
  }
  // Authentic, so written by sealCursor; the shape is checked all the same before it reaches SQL.
  const parsed = JSON.parse(plain) as unknown;
  if (!Array.isArray(parsed) || typeof parsed[0] !== 'string' || !/^\d+(\.\d+)?$/.test(parsed[0]) || typeof parsed[1] !== 'string' || !/^[0-9a-f-]{36}$/.test(parsed[1])) {
    throw refused();
  }
  return { score: parsed[0], pageId: parsed[1] };
}

function aad(binding: string): Buffer {
  return Buffer.from(`arkiva search cursor v${VERSION}\u0000${binding}`, 'utf8');
}
