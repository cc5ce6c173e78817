import { AppError } from '../common/index.ts';
import type { AppDeps } from '../app/deps.ts';
import type { Db } from '../db/index.ts';
import {
  authorize, bookClosure, BOOTSTRAP_ACTOR, checkCredentials, cleanPurpose, countAdmins, delegationDetail, findActiveUser, userForToken,
  type AuthUser, type ListingReader, type Policy, type Role,
} from '../auth/index.ts';
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
  // As GET /books/{id}/package: a closed book's package only with a purpose, to those who may read it.
  export: { roles: PERSONAL_READERS, audit: 'book.package.read', restricted: true },
  'verify-package': { roles: ['records_manager'], audit: 'package.verify' },
  retention: { roles: ['records_manager'], audit: 'retention.cli' },
  disposal: { roles: ['records_manager'], audit: 'disposal.cli' },
  fixity: { roles: ['records_manager'], audit: 'fixity.run' },
  user: { roles: ['admin'], audit: 'user.cli' },
  token: { roles: ['admin'], audit: 'token.cli' },
  audit: { roles: ['auditor', 'admin'], audit: 'audit.cli' },
  // Counts and usernames only; the export (below) carries entries.
  keying: { roles: ['clerk', 'reviewer', 'records_manager', 'admin'], audit: 'keying.stats.read' },
  // As GET /events: identifiers only; the changes (replay, subscribe, unsubscribe) are admins' (below).
  events: { roles: ['admin', 'auditor'], audit: 'events.cli' },
};

// A disposal decision, like its routes, needs the records manager's own credentials: through a
// token an admin made for them, four eyes would be the admin's two.
const DISPOSAL_DECISION: Policy = { roles: ['records_manager'], audit: 'disposal.cli', ownCredentials: true };

/**
 * Subcommands whose policy differs from their command's (looked up as `"<command> <subcommand>"`
 * before the command's own): disposal decisions need the user's own credentials, so do role grants
 * (whoever grants must be one person), and anyone signed in may make a token for themselves
 * (`createApiToken` lets only an admin make one for someone else).
 */
export const CLI_SUBCOMMAND_POLICIES: Record<string, Policy> = {
  'disposal propose': DISPOSAL_DECISION,
  'disposal approve': DISPOSAL_DECISION,
  'disposal reject': DISPOSAL_DECISION,
  'disposal execute': DISPOSAL_DECISION,
  'user grant': { roles: ['admin'], audit: 'user.cli', ownCredentials: true },
  'token create': { roles: 'authenticated', audit: 'token.cli' },
  // As GET /books/{id}/keyed-entries: personal data, and a closed book's only with a purpose.
  'keying export': { roles: [...PERSONAL_READERS, 'reviewer'], audit: 'keying.export', restricted: true },
  // As the routes: clerks issue (the closure of the entry's book is applied by the issue itself),
  // records managers revoke, they and auditors list the register; `extract verify` is public and has none.
  'extract issue': { roles: ['clerk'], audit: 'extract.cli' },
  'extract revoke': { roles: ['records_manager'], audit: 'extract.cli' },
  'extract list': { roles: ['records_manager', 'auditor'], audit: 'extract.list' },
  'events replay': { roles: ['admin'], audit: 'events.cli' },
  // Granting another system personal data is one person's act, as on POST /event-subscriptions.
  'events subscribe': { roles: ['admin'], audit: 'events.cli', ownCredentials: true },
  'events unsubscribe': { roles: ['admin'], audit: 'events.cli' },
};

/** The policy of a command, or of one of its subcommands. */
export function cliPolicy(command: string, subcommand?: string): Policy | undefined {
  return (subcommand !== undefined ? CLI_SUBCOMMAND_POLICIES[`${command} ${subcommand}`] : undefined) ?? CLI_POLICIES[command];
}

/** What every command accepts besides its own options: who it signs in as, and why it reads closed books. */
export interface GlobalOptions {
  /** `--as NAME`. */
  as: string | undefined;
  /** `--purpose TEXT`. */
  purpose: string | undefined;
  rest: string[];
}

/** Takes `--as NAME` and `--purpose TEXT` (or `--as=NAME`, `--purpose=TEXT`) out of a command's arguments. */
export function takeGlobalOptions(args: string[]): GlobalOptions {
  const found: { as?: string; purpose?: string } = {};
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const name = (['as', 'purpose'] as const).find((n) => a === `--${n}` || a.startsWith(`--${n}=`));
    if (!name) {
      rest.push(a);
      continue;
    }
    const v = a.includes('=') ? a.slice(a.indexOf('=') + 1) : args[++i];
    if (!v || (!a.includes('=') && v.startsWith('--'))) throw new Error(name === 'as' ? '--as needs a username' : '--purpose needs the reason for the read');
    found[name] = v;
  }
  return { as: found.as, purpose: found.purpose, rest };
}

/** How a command is asked to sign in. */
export interface CliCredentials {
  /** ARKIVA_TOKEN: an API token, checked as the API checks a Bearer token. */
  token?: string | undefined;
  /** `--as NAME` or ARKIVA_USER. */
  as: string | undefined;
  /** Asks the user's password on the terminal; undefined when there is none to ask on. */
  askPassword?: ((username: string) => Promise<string | undefined>) | undefined;
  /**
   * True on an embedded archive (no DATABASE_URL: one person's PGlite folder), where a name alone
   * is the local single-user shortcut. Against PostgreSQL a name needs its password.
   */
  embedded?: boolean | undefined;
}

/**
 * Who runs a command. A token is looked up by `userForToken`, exactly as the API looks up a Bearer
 * token (revoked, expired, a disabled user: refused; a token an admin made for someone acts on
 * their behalf). Without one, a name is enough only on an embedded archive; against PostgreSQL the
 * name's password is asked on the terminal, and with no terminal the command is refused: whoever
 * can type `--as rm2` is not thereby rm2.
 */
export async function signIn(db: Db, command: string, creds: CliCredentials): Promise<AuthUser> {
  if (creds.token) {
    const user = await userForToken(db, creds.token);
    if (!user) throw new AppError('ERR_UNAUTHENTICATED', 'ARKIVA_TOKEN is unknown, expired or revoked');
    if (creds.as !== undefined && creds.as.trim().toLowerCase() !== user.username) {
      throw new AppError('ERR_UNAUTHENTICATED', `ARKIVA_TOKEN signs in ${user.username}, not ${creds.as}: leave out --as (and ARKIVA_USER)`);
    }
    return user;
  }
  if (!creds.as) {
    throw new AppError('ERR_UNAUTHENTICATED', creds.embedded
      ? `arkiva ${command} runs as a user: give --as NAME or set ARKIVA_USER (or ARKIVA_TOKEN)`
      : `arkiva ${command} runs as a signed-in user: set ARKIVA_TOKEN to an API token of yours, or, on a terminal, give --as NAME or set ARKIVA_USER and type its password`);
  }
  if (creds.embedded) {
    const user = await findActiveUser(db, creds.as);
    if (!user) throw new AppError('ERR_UNAUTHENTICATED', `no enabled user ${creds.as}`);
    return user;
  }
  const password = await creds.askPassword?.(creds.as);
  if (password === undefined) {
    throw new AppError('ERR_UNAUTHENTICATED', `--as ${creds.as} alone does not sign in to an archive on PostgreSQL (DATABASE_URL is set): set ARKIVA_TOKEN to an API token of ${creds.as}, or run the command on a terminal to type the password`);
  }
  const user = await checkCredentials(db, creds.as, password);
  if (!user) {
    // Recorded as the API records a failed sign-in.
    await appendAuditEvent(db, { actor: 'anonymous', action: 'auth.login', targetType: 'user', targetId: creds.as.trim().toLowerCase(), from: 'cli', outcome: 'denied', detail: { command } });
    throw new AppError('ERR_UNAUTHENTICATED', 'wrong username or password');
  }
  return user;
}

type Opened = AppDeps & { close(): Promise<void> };

/** What a command opens: the deps, who is signed in, and whether it runs as the first-admin bootstrap. */
export type AttributedDeps = Opened & {
  /**
   * True when no admin existed and the command was allowed to bootstrap the first one: it runs as
   * no user, and must create that admin through `bootstrapFirstAdmin` (which checks again under a
   * lock and records the audit event).
   */
  bootstrap?: boolean;
  /** The signed-in user (commands with a policy, but the bootstrap): who acts, never a name given in an option. */
  actor?: AuthUser;
  /** The purpose stated for the command (`--purpose` or ARKIVA_PURPOSE), recorded with it. */
  purpose?: string;
};

/** The signed-in user of a command that has a policy; refuses when there is none (a bootstrap, or a command without a policy). */
export function actorOf(deps: AttributedDeps): AuthUser {
  if (!deps.actor) throw new AppError('ERR_UNAUTHENTICATED', 'this needs a signed-in user');
  return deps.actor;
}

/** Who reads a listing in a command (search, link export): the signed-in user and the stated purpose, for auth's `booksWithheld`. */
export function listingReader(deps: AttributedDeps): ListingReader {
  return { user: actorOf(deps), purpose: deps.purpose };
}

/** What a command tells its audit event: its subcommand, what it reads or changes, and facts such as a search's words. */
export interface CommandNote {
  subcommand?: string | undefined;
  /** A `book` target of a command whose policy is `restricted` is checked for closure first. */
  target?: { type: string; id?: string | undefined } | undefined;
  detail?: Record<string, unknown> | undefined;
}

/** The audit event of a first-admin bootstrap: `ok` for the one that made the admin, `denied` for one refused because an admin exists by then. */
export function bootstrapAuditEvent(command: string, policy: Policy, outcome: 'ok' | 'denied'): AuditInput {
  return outcome === 'ok'
    ? { actor: BOOTSTRAP_ACTOR, action: policy.audit ?? `cli.${command}`, from: 'cli', outcome, detail: { command, bootstrap: true } }
    : { actor: BOOTSTRAP_ACTOR, action: 'access.denied', from: 'cli', outcome, detail: { command, bootstrap: true, reason: 'an admin already exists' } };
}

/**
 * Opens the deps, then, for a command with a policy, signs the user in (`signIn`), checks the
 * policy with the API's `authorize` and, for a restricted command on a book, the API's closure
 * decision (`bookClosure`: a closed book needs a purpose and a role that may read it), and appends
 * the command's audit event (user, target, purpose, detail; `access.denied` when refused) before
 * the command sees any data. Other arguments are not recorded.
 */
export async function attributedOpen(
  open: () => Promise<Opened>,
  opts: CliCredentials & CommandNote & { command: string; policy: Policy | undefined; allowBootstrap: boolean | 'only'; purpose?: string | undefined },
): Promise<AttributedDeps> {
  const deps = await open();
  if (!opts.policy) return deps;
  try {
    // Only a hint: the bootstrap itself checks again under a lock, and records its audit event then.
    // 'only': the command does nothing but the bootstrap, so it needs no sign-in whatever the count.
    if (opts.allowBootstrap === 'only' || (opts.allowBootstrap && (await countAdmins(deps.db)) === 0)) return Object.assign(deps, { bootstrap: true });
    const user = await signIn(deps.db, opts.command, opts);
    const purpose = cleanPurpose(opts.purpose);
    const event = (outcome: 'ok' | 'denied', restricted: boolean): AuditInput => ({
      actorId: user.id, actor: user.username, action: outcome === 'ok' ? (opts.policy!.audit ?? `cli.${opts.command}`) : 'access.denied',
      targetType: opts.target?.type ?? null, targetId: opts.target?.id ?? null, from: 'cli', purpose: purpose ?? null, outcome,
      detail: { command: opts.command, ...(opts.subcommand ? { subcommand: opts.subcommand } : {}), ...delegationDetail(user), ...opts.detail, ...(restricted ? { restricted: true } : {}) },
    });
    let restricted = false;
    try {
      authorize(user, opts.policy, `arkiva ${opts.command}${opts.subcommand ? ` ${opts.subcommand}` : ''}`);
      if (opts.policy.restricted && opts.target?.type === 'book' && opts.target.id) {
        const closure = await bookClosure(deps.db, user, opts.target.id, purpose, '--purpose TEXT or ARKIVA_PURPOSE');
        restricted = closure.closed;
        if (closure.refused) throw closure.refused;
      }
    } catch (e) {
      await appendAuditEvent(deps.db, event('denied', restricted));
      throw e;
    }
    await appendAuditEvent(deps.db, event('ok', restricted));
    return Object.assign(deps, { actor: user, ...(purpose ? { purpose } : {}) });
  } catch (e) {
    await deps.close();
    throw e;
  }
}
