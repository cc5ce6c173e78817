import {
  ROLES, bootstrapFirstAdmin, countAdmins, createApiToken, createUser, delegationDetail, disableUser, grantRoles, listApiTokens, listUsers, revokeApiToken, revokeRoles, isRole,
} from '../auth/index.ts';
import { appendAuditEvent, appendInTransaction } from '../audit/index.ts';
import { isAppError } from '../common/index.ts';
import { actorOf, bootstrapAuditEvent, CLI_POLICIES, type AttributedDeps } from './attribution.ts';
import { parseCommandArgs, UsageError, type CommandContext } from './command.ts';
import { readPassword } from './prompt.ts';

function rolesArg(v: string[] | undefined, required: boolean): string[] {
  const roles = v ?? [];
  if (required && roles.length === 0) throw new UsageError(`--role is required (${ROLES.join(', ')})`);
  for (const r of roles) if (!isRole(r)) throw new UsageError(`unknown role ${r}; roles are ${ROLES.join(', ')}`);
  return roles;
}

/**
 * `user add` on an archive that had no admin when the command opened: the first-admin bootstrap,
 * audited in its own transaction; when another bootstrap won meanwhile, the refusal is audited.
 */
async function bootstrapAdmin(deps: AttributedDeps, input: { username: string; password?: string; roles: string[] }) {
  const policy = CLI_POLICIES.user!;
  try {
    return await bootstrapFirstAdmin(deps.db, input, async (tx) => void (await appendInTransaction(tx, bootstrapAuditEvent('user', policy, 'ok'))));
  } catch (e) {
    if (isAppError(e, 'ERR_CONFLICT') && (await countAdmins(deps.db)) > 0) await appendAuditEvent(deps.db, bootstrapAuditEvent('user', policy, 'denied'));
    throw e;
  }
}

/** `arkiva user add|list|disable|grant|revoke` */
export async function runUserCommand(ctx: CommandContext): Promise<number> {
  const { values, positionals } = parseCommandArgs(ctx.args, { role: { type: 'string', multiple: true }, 'no-password': { type: 'boolean' }, 'first-admin': { type: 'boolean' } });
  const [sub, username] = positionals;
  const needName = () => {
    if (!username) throw new UsageError('a username is required');
    return username;
  };
  if (sub === 'add') {
    const name = needName();
    const roles = rolesArg(values.role, true);
    // The very first admin can be created with no one signed in. Signing in comes first, so that a
    // password asked on the terminal is the signed-in user's, then the new user's. With
    // --first-admin the command is that bootstrap alone: when an admin exists it does nothing
    // (exit 0), so a setup job (compose's admin-init) can run it at every start without a sign-in.
    const firstAdminOnly = values['first-admin'] ?? false;
    const deps = await ctx.open({ allowBootstrap: firstAdminOnly ? 'only' : true, subcommand: 'add', target: { type: 'user', id: name } });
    try {
      if (firstAdminOnly && (await countAdmins(deps.db)) > 0) {
        ctx.out(ctx.json ? JSON.stringify({ user: null, reason: 'an admin already exists' }) : 'an admin already exists: --first-admin created no one');
        return 0;
      }
      const password = values['no-password'] ? undefined : (ctx.config.cli.password ?? (await readPassword(`password for the new user ${name}: `)));
      if (password !== undefined && !password) throw new UsageError('give a password on stdin or in ARKIVA_PASSWORD, or --no-password for a token-only user');
      const input = { username: name, roles, ...(password !== undefined ? { password } : {}) };
      const user = deps.bootstrap ? await bootstrapAdmin(deps, input) : await createUser(deps.db, { ...input, createdBy: actorOf(deps).username });
      ctx.out(ctx.json ? JSON.stringify({ user }) : `user ${user.username} created with roles ${user.roles.join(', ')}`);
      return 0;
    } finally {
      await deps.close();
    }
  }
  if (!['list', 'disable', 'grant', 'revoke'].includes(sub ?? '')) throw new UsageError('a subcommand is required: add, list, disable, grant or revoke');
  const deps = await ctx.open({ subcommand: sub, ...(username ? { target: { type: 'user', id: username } } : {}) });
  try {
    if (sub === 'list') {
      const users = await listUsers(deps.db);
      if (ctx.json) ctx.out(JSON.stringify({ users }));
      else for (const u of users) ctx.out(`${u.username.padEnd(24)} ${u.roles.join(',') || '-'}${u.disabledAt ? ` (disabled ${u.disabledAt})` : ''}`);
    } else if (sub === 'disable') {
      await disableUser(deps.db, needName());
      ctx.out(ctx.json ? JSON.stringify({ disabled: username }) : `user ${username} disabled; its sessions and tokens no longer work`);
    } else {
      const roles = rolesArg(values.role, true);
      const now = sub === 'grant' ? await grantRoles(deps.db, needName(), roles, actorOf(deps)) : await revokeRoles(deps.db, needName(), roles);
      ctx.out(ctx.json ? JSON.stringify({ username, roles: now }) : `user ${username} now has roles ${now.join(', ') || '(none)'}`);
    }
    return 0;
  } finally {
    await deps.close();
  }
}

/** `arkiva token create|revoke|list` */
export async function runTokenCommand(ctx: CommandContext): Promise<number> {
  const { values, positionals } = parseCommandArgs(ctx.args, { label: { type: 'string' }, days: { type: 'string' } });
  const [sub, arg] = positionals;
  if (!['create', 'revoke', 'list'].includes(sub ?? '')) throw new UsageError('a subcommand is required: create, revoke or list');
  if (!arg) throw new UsageError(sub === 'revoke' ? 'a token id is required' : 'a username is required');
  const days = values.days ? Number(values.days) : undefined;
  if (days !== undefined && (!Number.isInteger(days) || days < 1 || days > 3650)) throw new UsageError('--days must be 1..3650');
  const deps = await ctx.open({ subcommand: sub, target: sub === 'revoke' ? { type: 'token', id: arg } : { type: 'user', id: arg } });
  try {
    if (sub === 'create') {
      // Made by the signed-in user: their own, or (admins) on another user's behalf, which the token
      // then carries. The token and its event (naming issuer and user) commit together, as the API's.
      const me = actorOf(deps);
      const t = await deps.db.transaction(async (tx) => {
        const made = await createApiToken(tx, { username: arg, issuedBy: me, ...(values.label ? { name: values.label } : {}), ...(days ? { days } : {}) });
        await appendInTransaction(tx, {
          actorId: me.id, actor: me.username, action: 'token.create', targetType: 'user', targetId: made.username, from: 'cli', outcome: 'ok',
          detail: { tokenId: made.id, expiresAt: made.expiresAt, ...delegationDetail(me), ...(made.issuedBy ? { issuedBy: made.issuedBy, onBehalfOf: made.username } : {}) },
        });
        return made;
      });
      if (ctx.json) ctx.out(JSON.stringify(t));
      else {
        ctx.out(`token ${t.id} for ${t.username}${t.issuedBy ? `, made by ${t.issuedBy} on ${t.username}'s behalf` : ''}, expires ${t.expiresAt}; it is shown only now:`);
        ctx.out(t.token);
      }
    } else if (sub === 'revoke') {
      await revokeApiToken(deps.db, arg);
      ctx.out(ctx.json ? JSON.stringify({ revoked: arg }) : `token ${arg} revoked`);
    } else {
      const tokens = await listApiTokens(deps.db, arg);
      if (ctx.json) ctx.out(JSON.stringify({ tokens }));
      else for (const t of tokens) ctx.out(`${t.id} ${t.name} expires ${t.expiresAt}${t.revokedAt ? ` revoked ${t.revokedAt}` : ''}`);
    }
    return 0;
  } finally {
    await deps.close();
  }
}
