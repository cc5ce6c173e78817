import type { Queryable } from '../db/index.ts';
import type { AuthUser, Role } from './roles.ts';

/** A user as listed (never with the password hash). */
export interface UserInfo extends AuthUser {
  createdAt: string;
  createdBy: string;
  disabledAt: string | null;
}

/** Adds a user row; undefined when the name is taken (the caller reports the conflict). */
export async function insertUser(db: Queryable, row: { username: string; passwordHash: string | null; createdBy: string }): Promise<string | undefined> {
  const r = await db.query<{ id: string }>(
    `INSERT INTO users (username, password_hash, created_by) VALUES ($1, $2, $3) ON CONFLICT (username) DO NOTHING RETURNING id`,
    [row.username, row.passwordHash, row.createdBy],
  );
  return r.rows[0]?.id;
}

/** Gives a new user a role (a new user holds none yet, so no conflict is expected). */
export async function insertUserRole(db: Queryable, userId: string, role: Role, grantedBy: string): Promise<void> {
  await db.query('INSERT INTO user_roles (user_id, role, granted_by) VALUES ($1, $2, $3)', [userId, role, grantedBy]);
}

/** Grants a role to an existing user; a role already held is kept as it was. */
export async function grantUserRole(db: Queryable, userId: string, role: Role, grantedBy: string): Promise<void> {
  await db.query('INSERT INTO user_roles (user_id, role, granted_by) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [userId, role, grantedBy]);
}

/** Takes roles away from a user. */
export async function deleteUserRoles(db: Queryable, userId: string, roles: readonly Role[]): Promise<void> {
  await db.query('DELETE FROM user_roles WHERE user_id = $1 AND role = ANY($2::text[])', [userId, roles]);
}

/** The roles a user holds, by name. */
export async function userRoles(db: Queryable, userId: string): Promise<Role[]> {
  const r = await db.query<{ role: Role }>('SELECT role FROM user_roles WHERE user_id = $1 ORDER BY role', [userId]);
  return r.rows.map((x) => x.role);
}

/** The enabled user of a (normalised) name, with roles. */
export async function activeUserByName(db: Queryable, username: string): Promise<AuthUser | undefined> {
  const r = await db.query<{ id: string; username: string }>('SELECT id, username FROM users WHERE username = $1 AND disabled_at IS NULL', [username]);
  const row = r.rows[0];
  return row ? { id: row.id, username: row.username, roles: await userRoles(db, row.id) } : undefined;
}

/** The enabled user with that id, with roles. */
export async function activeUserById(db: Queryable, id: string): Promise<AuthUser | undefined> {
  const r = await db.query<{ id: string; username: string }>('SELECT id, username FROM users WHERE id = $1 AND disabled_at IS NULL', [id]);
  const row = r.rows[0];
  return row ? { id: row.id, username: row.username, roles: await userRoles(db, row.id) } : undefined;
}

/** The enabled user of a (normalised) name with its password hash, for a login check only. */
export async function userCredentials(db: Queryable, username: string): Promise<{ id: string; username: string; passwordHash: string | null } | undefined> {
  const r = await db.query<{ id: string; username: string; password_hash: string | null }>(
    'SELECT id, username, password_hash FROM users WHERE username = $1 AND disabled_at IS NULL',
    [username],
  );
  const row = r.rows[0];
  return row ? { id: row.id, username: row.username, passwordHash: row.password_hash } : undefined;
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

/** The id of a user of that (checked) name, enabled or not. */
export async function userIdByName(db: Queryable, username: string): Promise<string | undefined> {
  const r = await db.query<{ id: string }>('SELECT id FROM users WHERE username = $1', [username]);
  return r.rows[0]?.id;
}

/** Marks a user disabled (keeping the first time) and ends its open sessions. */
export async function disableUserById(db: Queryable, id: string): Promise<void> {
  await db.query('UPDATE users SET disabled_at = COALESCE(disabled_at, now()) WHERE id = $1', [id]);
  await db.query('UPDATE sessions SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL', [id]);
}

/** How many users could sign in now: an enabled account with a password or a live API token. */
export async function countUsersWithCredentials(db: Queryable): Promise<number> {
  const r = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM users u
      WHERE u.disabled_at IS NULL
        AND (u.password_hash IS NOT NULL
             OR EXISTS (SELECT 1 FROM api_tokens t WHERE t.user_id = u.id AND t.revoked_at IS NULL AND t.expires_at > now()))`,
  );
  return r.rows[0]?.n ?? 0;
}

/** Sets a user's password hash. */
export async function setPasswordHash(db: Queryable, userId: string, passwordHash: string): Promise<void> {
  await db.query('UPDATE users SET password_hash = $2 WHERE id = $1', [userId, passwordHash]);
}

/** How many enabled admins exist (the CLI lets the first one be created without one). */
export async function countAdmins(db: Queryable): Promise<number> {
  const r = await db.query<{ n: number }>(
    "SELECT count(*)::int AS n FROM users u JOIN user_roles r ON r.user_id = u.id AND r.role = 'admin' WHERE u.disabled_at IS NULL",
  );
  return r.rows[0]?.n ?? 0;
}

/**
 * Serialises first-admin bootstraps of this schema until the caller's transaction ends: without it
 * several `arkiva user add … --role admin` on an empty archive each saw no admin and each made one.
 */
export async function lockFirstAdminBootstrap(tx: Queryable): Promise<void> {
  await tx.query(`SELECT pg_advisory_xact_lock(hashtext('arkiva.first-admin:' || current_schema()))`);
}
