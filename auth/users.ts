import { AppError } from '../common/index.ts';
import type { Queryable } from '../db/index.ts';
import { dummyVerify, hashPassword, verifyPassword } from './passwords.ts';
import { ROLES, isRole, type AuthUser, type Role } from './roles.ts';

/** A user as listed (never with the password hash). */
export interface UserInfo extends AuthUser {
  createdAt: string;
  createdBy: string;
  disabledAt: string | null;
}

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
  const r = await db.query<{ id: string }>(
    `INSERT INTO users (username, password_hash, created_by) VALUES ($1, $2, $3) ON CONFLICT (username) DO NOTHING RETURNING id`,
    [username, hash, by],
  );
  const id = r.rows[0]?.id;
  if (!id) throw new AppError('ERR_CONFLICT', `user ${username} already exists`);
  for (const role of roles) await db.query('INSERT INTO user_roles (user_id, role, granted_by) VALUES ($1, $2, $3)', [id, role, by]);
  return { id, username, roles };
}

/** Sets a new password. */
export async function setPassword(db: Queryable, username: string, password: string): Promise<void> {
  checkPassword(password);
  const r = await db.query('UPDATE users SET password_hash = $2 WHERE username = $1', [checkUsername(username), await hashPassword(password)]);
  if (r.rowCount === 0) throw new AppError('ERR_NOT_FOUND', `no user ${username}`);
}

async function rolesOf(db: Queryable, userId: string): Promise<Role[]> {
  const r = await db.query<{ role: Role }>('SELECT role FROM user_roles WHERE user_id = $1 ORDER BY role', [userId]);
  return r.rows.map((x) => x.role);
}

/** The enabled user of that name, with roles; undefined when unknown or disabled. */
export async function findActiveUser(db: Queryable, username: string): Promise<AuthUser | undefined> {
  const r = await db.query<{ id: string; username: string }>('SELECT id, username FROM users WHERE username = $1 AND disabled_at IS NULL', [username.trim().toLowerCase()]);
  const row = r.rows[0];
  return row ? { id: row.id, username: row.username, roles: await rolesOf(db, row.id) } : undefined;
}

/** The enabled user with that id, with roles. */
export async function activeUserById(db: Queryable, id: string): Promise<AuthUser | undefined> {
  const r = await db.query<{ id: string; username: string }>('SELECT id, username FROM users WHERE id = $1 AND disabled_at IS NULL', [id]);
  const row = r.rows[0];
  return row ? { id: row.id, username: row.username, roles: await rolesOf(db, row.id) } : undefined;
}

/** Checks a username and password; undefined (after the same work) when either is wrong or the user is disabled. */
export async function checkCredentials(db: Queryable, username: string, password: string): Promise<AuthUser | undefined> {
  const r = await db.query<{ id: string; username: string; password_hash: string | null }>(
    'SELECT id, username, password_hash FROM users WHERE username = $1 AND disabled_at IS NULL',
    [username.trim().toLowerCase()],
  );
  const row = r.rows[0];
  if (!row?.password_hash) {
    await dummyVerify(password);
    return undefined;
  }
  if (!(await verifyPassword(password, row.password_hash))) return undefined;
  return { id: row.id, username: row.username, roles: await rolesOf(db, row.id) };
}

/** Every user with roles, by name. */
export async function listUsers(db: Queryable): Promise<UserInfo[]> {
  const r = await db.query<{ id: string; username: string; created_at: Date; created_by: string; disabled_at: Date | null; roles: Role[] | null }>(
    `SELECT u.id, u.username, u.created_at, u.created_by, u.disabled_at,
            array_remove(array_agg(r.role ORDER BY r.role), NULL) AS roles
       FROM users u LEFT JOIN user_roles r ON r.user_id = u.id
      GROUP BY u.id ORDER BY u.username`,
  );
  return r.rows.map((x) => ({
    id: x.id, username: x.username, roles: x.roles ?? [], createdAt: new Date(x.created_at).toISOString(), createdBy: x.created_by,
    disabledAt: x.disabled_at ? new Date(x.disabled_at).toISOString() : null,
  }));
}

async function requireUserId(db: Queryable, username: string): Promise<string> {
  const r = await db.query<{ id: string }>('SELECT id FROM users WHERE username = $1', [checkUsername(username)]);
  const id = r.rows[0]?.id;
  if (!id) throw new AppError('ERR_NOT_FOUND', `no user ${username}`);
  return id;
}

/** Disables a user: its sessions and tokens stop working at once (they are checked against the user on every request). */
export async function disableUser(db: Queryable, username: string): Promise<void> {
  const id = await requireUserId(db, username);
  await db.query('UPDATE users SET disabled_at = COALESCE(disabled_at, now()) WHERE id = $1', [id]);
  await db.query('UPDATE sessions SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL', [id]);
}

/** Grants roles (already held ones are kept). */
export async function grantRoles(db: Queryable, username: string, roles: readonly string[], by: string): Promise<Role[]> {
  const id = await requireUserId(db, username);
  for (const role of checkRoles(roles)) {
    await db.query('INSERT INTO user_roles (user_id, role, granted_by) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [id, role, by]);
  }
  return rolesOf(db, id);
}

/** Revokes roles; takes effect on the user's next request. */
export async function revokeRoles(db: Queryable, username: string, roles: readonly string[]): Promise<Role[]> {
  const id = await requireUserId(db, username);
  await db.query('DELETE FROM user_roles WHERE user_id = $1 AND role = ANY($2::text[])', [id, checkRoles(roles)]);
  return rolesOf(db, id);
}

/** How many enabled admins exist (the CLI lets the first one be created without one). */
export async function countAdmins(db: Queryable): Promise<number> {
  const r = await db.query<{ n: number }>(
    "SELECT count(*)::int AS n FROM users u JOIN user_roles r ON r.user_id = u.id AND r.role = 'admin' WHERE u.disabled_at IS NULL",
  );
  return r.rows[0]?.n ?? 0;
}
