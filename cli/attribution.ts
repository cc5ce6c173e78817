import { AppError } from '../common/index.ts';
import type { AppDeps } from '../app/deps.ts';
import { authorize, BOOTSTRAP_ACTOR, countAdmins, findActiveUser, type Policy, type Role } from '../auth/index.ts';
import { appendAuditEvent, type AuditInput } from '../audit/index.ts';

const BOOK_STAFF: readonly Role[] = ['digitiser', 'clerk', 'records_manager'];
const PERSONAL_READERS: readonly Role[] = ['clerk', 'records_manager'];

/**
 * Who may run each CLI command that touches the archive's data, checked by the same `authorize` as
 * the HTTP routes. Commands absent here touch no data as a person: `demo` works on its own
 * throw-away embedded archive; `worker`, `serve` and `resume` are processes of the system.
 */
export const CLI_POLICIES: Record<string, Policy> = {
  ingest: { roles: ['digitiser'], audit: 'book.upload' },
  status: { roles: BOOK_STAFF },
  retry: { roles: ['digitiser'], audit: 'book.retry' },
  replace: { roles: ['digitiser'], audit: 'page.replace' },
  search: { roles: PERSONAL_READERS, audit: 'search.results' },
  link: { roles: ['clerk', 'records_manager'], audit: 'link.cli' },
  export: { roles: PERSONAL_READERS, audit: 'book.package.read' },
  'verify-package': { roles: ['records_manager'], audit: 'package.verify' },
  retention: { roles: ['records_manager'], audit: 'retention.cli' },
  disposal: { roles: ['records_manager'], audit: 'disposal.cli' },
  fixity: { roles: ['records_manager'], audit: 'fixity.run' },
  user: { roles: ['admin'], audit: 'user.cli' },
  token: { roles: ['admin'], audit: 'token.cli' },
  audit: { roles: ['auditor', 'admin'], audit: 'audit.cli' },
};

/** Takes `--as NAME` / `--as=NAME` out of a command's arguments (every command accepts it). */
export function takeAsOption(args: string[]): { as: string | undefined; rest: string[] } {
  const rest: string[] = [];
  let as: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--as') {
      const v = args[++i];
      if (!v || v.startsWith('--')) throw new Error('--as needs a username');
      as = v;
    } else if (a.startsWith('--as=')) {
      as = a.slice(5);
    } else rest.push(a);
  }
  return { as, rest };
}

type Opened = AppDeps & { close(): Promise<void> };

/** What a command opens: the deps, and whether it runs as the first-admin bootstrap. */
export type AttributedDeps = Opened & {
  /**
   * True when no admin existed and the command was allowed to bootstrap the first one: it runs as
   * no user, and must create that admin through `bootstrapFirstAdmin` (which checks again under a
   * lock and records the audit event).
   */
  bootstrap?: boolean;
};

/** The audit event of a first-admin bootstrap: `ok` for the one that made the admin, `denied` for one refused because an admin exists by then. */
export function bootstrapAuditEvent(command: string, policy: Policy, outcome: 'ok' | 'denied'): AuditInput {
  return outcome === 'ok'
    ? { actor: BOOTSTRAP_ACTOR, action: policy.audit ?? `cli.${command}`, from: 'cli', outcome, detail: { command, bootstrap: true } }
    : { actor: BOOTSTRAP_ACTOR, action: 'access.denied', from: 'cli', outcome, detail: { command, bootstrap: true, reason: 'an admin already exists' } };
}

/**
 * Opens the deps, then, for a command with a policy, finds the acting user, checks the policy and
 * appends a `cli` audit event before the command sees any data. The arguments are not recorded
 * (they may hold names searched for); the action and the user are.
 */
export async function attributedOpen(
  open: () => Promise<Opened>,
  opts: { command: string; policy: Policy | undefined; as: string | undefined; allowBootstrap: boolean },
): Promise<AttributedDeps> {
  const deps = await open();
  if (!opts.policy) return deps;
  try {
    // Only a hint: the bootstrap itself checks again under a lock, and records its audit event then.
    if (opts.allowBootstrap && (await countAdmins(deps.db)) === 0) return Object.assign(deps, { bootstrap: true });
    if (!opts.as) throw new AppError('ERR_UNAUTHENTICATED', `arkiva ${opts.command} runs as a user: give --as NAME or set ARKIVA_USER`);
    const user = await findActiveUser(deps.db, opts.as);
    if (!user) throw new AppError('ERR_UNAUTHENTICATED', `no enabled user ${opts.as}`);
    try {
      authorize(user, opts.policy, `arkiva ${opts.command}`);
    } catch (e) {
      await appendAuditEvent(deps.db, { actorId: user.id, actor: user.username, action: 'access.denied', from: 'cli', outcome: 'denied', detail: { command: opts.command } });
      throw e;
    }
    await appendAuditEvent(deps.db, { actorId: user.id, actor: user.username, action: opts.policy.audit ?? `cli.${opts.command}`, from: 'cli', outcome: 'ok', detail: { command: opts.command } });
    return deps;
  } catch (e) {
    await deps.close();
    throw e;
  }
}
