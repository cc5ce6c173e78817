import { AppError } from '../common/index.ts';
import type { Db, Queryable } from '../db/index.ts';
import { dummyVerify, hashPassword, verifyPassword } from './passwords.ts';
import { ROLES, isRole, type AuthUser, type Role } from './roles.ts';
import {
  activeUserByName, countAdmins, countUsersWithCredentials, deleteUserRoles, disableUserById, grantUserRole, insertUser, insertUserRole, lockFirstAdminBootstrap, userCredentials,
  setPasswordHash, userIdByName, userRoles,
} from './users.store.ts';

const USERNAME_RE = /^[a-z0-9][a-z0-9._-]{0,63}$/;

/** Shortest password accepted. */
export const MIN_PASSWORD_LENGTH = 12;

function checkUsername(username: string): string {
  const u = username.trim().toLowerCase();
  if (!USERNAME_RE.test(u)) throw new AppError('ERR_VALIDATION', 'a username is 1-64 of a-z, 0-9, dot, dash, underscore, starting with a letter or digit', { field: 'username' });
  return u;
}

function checkRoles(roles: readonly string[]): Role[] {
  for (const r of roles) if (!isRole(r)) throw new AppError('ERR_VALIDATION', `unknown role ${JSON.stringify(r)}; roles are ${ROLES.join(', ')}`, { field: 'roles' });
  return [...new Set(roles as Role[])];
}

function checkPassword(password: string): void {
  if (password.length < MIN_PASSWORD_LENGTH) throw new AppError('ERR_VALIDATION', `a password has at least ${MIN_PASSWORD_LENGTH} characters`, { field: 'password' });
  if (password.length > 1024) throw new AppError('ERR_VALIDATION', 'a password has at most 1024 characters', { field: 'password' });
}

/** Creates a user with roles. Without a password the user can only use API tokens. */
export async function createUser(db: Queryable, input: { username: string; password?: string; roles: readonly string[]; createdBy?: string }): Promise<AuthUser> {
  checkUsername(input.username);
  checkRoles(input.roles);
  if (input.password !== undefined) checkPassword(input.password);
  const hash = input.password !== undefined ? await hashPassword(input.password) : null;
  return insertWithRoles(db, { username: input.username, roles: input.roles, passwordHash: hash, createdBy: input.createdBy ?? 'system' });
}

/** Who created a user through the first-admin bootstrap (no one could act: there was no admin yet). */
export const BOOTSTRAP_ACTOR = 'bootstrap';

/**
 * Creates the first admin of an archive that has none: the one user made with no one to act as.
 * The check that no admin exists and the creation run in one transaction under a lock, so several
 * bootstraps at once make one admin and the others are refused (ERR_CONFLICT) rather than each
 * seeing an empty archive. `recordIn` runs in that transaction (the caller's audit event), so a
 * refused bootstrap records no success.
 */
export async function bootstrapFirstAdmin(
  db: Db,
  input: { username: string; password?: string; roles: readonly string[] },
  recordIn?: (tx: Queryable, user: AuthUser) => Promise<void>,
): Promise<AuthUser> {
  checkUsername(input.username);
  if (input.password !== undefined) checkPassword(input.password);
  // Hashing (scrypt, ~32 MiB) is done before the lock is taken, so concurrent callers wait only for the insert.
  const hash = input.password !== undefined ? await hashPassword(input.password) : null;
  return db.transaction(async (tx) => {
    await lockFirstAdminBootstrap(tx);
    if ((await countAdmins(tx)) > 0) {
      throw new AppError('ERR_CONFLICT', 'an admin already exists: the first-admin bootstrap only creates the first one; add users signed in as an admin (ARKIVA_TOKEN, or --as NAME and its password)');
    }
    if (!checkRoles(input.roles).includes('admin')) {
      throw new AppError('ERR_VALIDATION', 'no admin exists yet: the first user added must hold the admin role (--role admin)', { field: 'roles' });
    }
    const user = await insertWithRoles(tx, { username: input.username, roles: input.roles, passwordHash: hash, createdBy: BOOTSTRAP_ACTOR });
    await recordIn?.(tx, user);
    return user;
  });
}

/**
 * Gives a rebuilt archive's admin a password again. The catalogue in the object store keeps users and
 * roles but no credentials (docs/catalogue-format.md), so after `arkiva catalogue rebuild` no one
 * can sign in; like the first-admin bootstrap this is allowed only while that is so (no enabled
 * user has a password or a live token), under the same lock, and only for an enabled admin.
 */
export async function restoreAdminPassword(
  db: Db,
  input: { username: string; password: string },
  recordIn?: (tx: Queryable, user: AuthUser) => Promise<void>,
): Promise<AuthUser> {
  const username = checkUsername(input.username);
  checkPassword(input.password);
  const hash = await hashPassword(input.password);
  return db.transaction(async (tx) => {
    await lockFirstAdminBootstrap(tx);
    if ((await countUsersWithCredentials(tx)) > 0) {
      throw new AppError('ERR_CONFLICT', 'users can sign in: a password is given back only to a rebuilt archive where no one can; set passwords signed in as an admin');
    }
    const user = await activeUserByName(tx, username);
    if (!user) throw new AppError('ERR_NOT_FOUND', `no enabled user ${username} in the rebuilt catalogue`);
    if (!user.roles.includes('admin')) throw new AppError('ERR_VALIDATION', `${username} is not an admin: give the password back to an admin, who then re-secures the others`, { field: 'admin' });
    await setPasswordHash(tx, user.id, hash);
    await recordIn?.(tx, user);
    return user;
  });
}

/** Checks name and roles and inserts the user with them; ERR_CONFLICT when the name is taken. */
async function insertWithRoles(db: Queryable, input: { username: string; roles: readonly string[]; passwordHash: string | null; createdBy: string }): Promise<AuthUser> {
  const username = checkUsername(input.username);
  const roles = checkRoles(input.roles);
  const id = await insertUser(db, { username, passwordHash: input.passwordHash, createdBy: input.createdBy });
  if (!id) throw new AppError('ERR_CONFLICT', `user ${username} already exists`);
  for (const role of roles) await insertUserRole(db, id, role, input.createdBy);
  return { id, username, roles };
}

/** The enabled user of that name, with roles; undefined when unknown or disabled. */
export async function findActiveUser(db: Queryable, username: string): Promise<AuthUser | undefined> {
  return activeUserByName(db, username.trim().toLowerCase());
}

/** Checks a username and password; undefined (after the same work) when either is wrong or the user is disabled. */
export async function checkCredentials(db: Queryable, username: string, password: string): Promise<AuthUser | undefined> {
  const row = await userCredentials(db, username.trim().toLowerCase());
  if (!row?.passwordHash) {
    await dummyVerify(password);
    return undefined;
  }
  if (!(await verifyPassword(password, row.passwordHash))) return undefined;
  return { id: row.id, username: row.username, roles: await userRoles(db, row.id) };
}

async function requireUserId(db: Queryable, username: string): Promise<string> {
  const id = await userIdByName(db, checkUsername(username));
  if (!id) throw new AppError('ERR_NOT_FOUND', `no user ${username}`);
  return id;
}

/** Disables a user: its sessions and tokens stop working at once (they are checked against the user on every request). */
export async function disableUser(db: Queryable, username: string): Promise<void> {
  await disableUserById(db, await requireUserId(db, username));
}

/**
 * Grants roles (already held ones are kept). Nobody grants a role to themselves (nor through a
 * token made for someone else): another admin must, so that no one widens their own rights alone.
 */
export async function grantRoles(db: Queryable, username: string, roles: readonly string[], by: AuthUser): Promise<Role[]> {
  const target = checkUsername(username);
  if (target === by.username || target === by.issuedBy?.username) {
    throw new AppError('ERR_FORBIDDEN', `${target} may not grant roles to themselves: another admin must grant them`);
  }
  const id = await requireUserId(db, target);
  for (const role of checkRoles(roles)) await grantUserRole(db, id, role, by.username);
  return userRoles(db, id);
}

/** Revokes roles; takes effect on the user's next request. */
export async function revokeRoles(db: Queryable, username: string, roles: readonly string[]): Promise<Role[]> {
  const id = await requireUserId(db, username);
  await deleteUserRoles(db, id, checkRoles(roles));
  return userRoles(db, id);
}
