import { AppError } from '../common/index.ts';
import type { Queryable } from '../db/index.ts';
import { dummyVerify, hashPassword, verifyPassword } from './passwords.ts';
import { ROLES, isRole, type AuthUser, type Role } from './roles.ts';
import {
  activeUserByName, deleteUserRoles, disableUserById, grantUserRole, insertUser, insertUserRole, userCredentials, userIdByName, userRoles,
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
  const username = checkUsername(input.username);
  const roles = checkRoles(input.roles);
  if (input.password !== undefined) checkPassword(input.password);
  const hash = input.password !== undefined ? await hashPassword(input.password) : null;
  const by = input.createdBy ?? 'system';
  const id = await insertUser(db, { username, passwordHash: hash, createdBy: by });
  if (!id) throw new AppError('ERR_CONFLICT', `user ${username} already exists`);
  for (const role of roles) await insertUserRole(db, id, role, by);
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

/** Grants roles (already held ones are kept). */
export async function grantRoles(db: Queryable, username: string, roles: readonly string[], by: string): Promise<Role[]> {
  const id = await requireUserId(db, username);
  for (const role of checkRoles(roles)) await grantUserRole(db, id, role, by);
  return userRoles(db, id);
}

/** Revokes roles; takes effect on the user's next request. */
export async function revokeRoles(db: Queryable, username: string, roles: readonly string[]): Promise<Role[]> {
  const id = await requireUserId(db, username);
  await deleteUserRoles(db, id, checkRoles(roles));
  return userRoles(db, id);
}
