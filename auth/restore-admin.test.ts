import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAppError, silentLogger } from '../common/index.ts';
import { openDb, type Db } from '../db/index.ts';
import { checkCredentials, createUser, restoreAdminPassword } from './users.ts';

// After `arkiva catalogue rebuild` users and roles are back without credentials (the store keeps
// none): one admin is given a password again, and only while no one at all can sign in.
describe('a rebuilt archive\'s admin gets a password back (PGlite)', () => {
  let db: Db;
  let dir: string;
  const password = 'correct horse battery';

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'arkiva-restore-admin-'));
    db = await openDb({ kind: 'pglite', dir }, silentLogger());
    // as the rebuild leaves them: accounts with roles, no password hash
    await createUser(db, { username: 'ana.admin', roles: ['admin'] });
    await createUser(db, { username: 'besa.clerk', roles: ['clerk'] });
  }, 60_000);
  afterAll(async () => {
    await db?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const code = async (p: Promise<unknown>) => p.then(() => 'ok', (e: unknown) => (isAppError(e) ? e.code : String(e)));

  it('refuses a user that is not an admin or does not exist, and a short password, changing nothing', async () => {
    expect(await code(restoreAdminPassword(db, { username: 'besa.clerk', password }))).toBe('ERR_VALIDATION');
    expect(await code(restoreAdminPassword(db, { username: 'nobody', password }))).toBe('ERR_NOT_FOUND');
    expect(await code(restoreAdminPassword(db, { username: 'ana.admin', password: 'short' }))).toBe('ERR_VALIDATION');
    expect(await checkCredentials(db, 'besa.clerk', password)).toBeUndefined();
  });

  it('sets the admin\'s password, records it in the caller\'s transaction, and the admin signs in', async () => {
    const recorded: string[] = [];
    const user = await restoreAdminPassword(db, { username: 'ana.admin', password }, async (_tx, u) => void recorded.push(u.username));
    expect(user.roles).toContain('admin');
    expect(recorded).toEqual(['ana.admin']);
    expect((await checkCredentials(db, 'ana.admin', password))?.username).toBe('ana.admin');
    expect(await checkCredentials(db, 'ana.admin', 'a wrong password!')).toBeUndefined();
  });

  it('is refused once someone can sign in: it is no way around an admin\'s own password', async () => {
    expect(await code(restoreAdminPassword(db, { username: 'ana.admin', password: 'another long password' }))).toBe('ERR_CONFLICT');
    expect((await checkCredentials(db, 'ana.admin', password))?.username).toBe('ana.admin');
  });
});
