import { parseArgs, type ParseArgsConfig } from 'node:util';
import { loadConfig, ConfigError, type Config } from '../config/index.ts';
import { AppError, createLogger, type Logger } from '../common/index.ts';
import { openAppDeps } from '../app/deps.ts';
import { runDemo } from './demo.ts';
import { runSearchCommand } from './search.command.ts';
import { runLinkCommand } from './link.command.ts';
import { runIngest, runStatus, runRetry, runReplace } from './books.command.ts';
import { runWorker, runServe, runResume } from './processes.command.ts';
import { runExport, runVerifyPackage } from './package.command.ts';
import { runRetention, runDisposal, runFixity } from './retention.command.ts';
import { runUserCommand, runTokenCommand } from './user.command.ts';
import { runAuditCommand } from './audit.command.ts';
import { runCatalogueCommand } from './catalogue.command.ts';
import { runCheck } from './check.command.ts';
import { runKeyingCommand } from './keying.command.ts';
import { runExtractCommand } from './extract.command.ts';
import { runEventsCommand } from './events.command.ts';
import { attributedOpen, cliPolicy, takeGlobalOptions, type AttributedDeps, type CommandNote } from './attribution.ts';
import { askSignInPassword } from './prompt.ts';
import { commandHelp, didYouMean, SIGN_IN_NOTES, subcommandsOf, unknownHelpTopic, wantsHelp } from './help.ts';

/** What every command receives. */
export interface CommandContext {
  args: string[];
  json: boolean;
  config: Readonly<Config>;
  log: Logger;
  /**
   * Opens the ports the configuration names; the caller closes them. For commands with a policy it
   * first signs the user in (ARKIVA_TOKEN; or `--as NAME` / ARKIVA_USER, with its password unless
   * the archive is embedded), checks the policy of the command (or of `subcommand`) and, for a
   * restricted command on a `target` book, its closure and the stated purpose, and records the
   * command in the audit trail with the target, the purpose and `detail`. The signed-in user is
   * `actor` of what it returns. `allowBootstrap` lets `user add` create the first admin when there
   * is none (`'only'`: the command is the bootstrap alone, and signs nobody in).
   */
  open: (opts?: CommandNote & { allowBootstrap?: boolean | 'only' }) => Promise<AttributedDeps>;
  out: (line: string) => void;
}

type Command = { summary: string; usage: string; run: (ctx: CommandContext) => Promise<number> };

/** Every command by name, with its summary and usage (the help is made from these). */
export const COMMANDS: Readonly<Record<string, Command>> = {
  demo: { summary: 'generate a register book and run the whole pipeline embedded (no services)', usage: 'arkiva demo [--pages N] [--keep] [--json]', run: runDemo },
  ingest: {
    summary: 'archive a scanned book and queue its pages',
    usage: 'arkiva ingest <file|folder> --type birth|marriage|death|other --municipality NAME --year YYYY[-YYYY] [--volume V] [--lang sqi+srp_latn+srp] [--profile printed|typewriter|mixed|handwritten] [--wait] [--json]',
    run: runIngest,
  },
  status: { summary: "a book's status, pages and failures", usage: 'arkiva status <book-id> [--json]', run: runStatus },
  search: {
    summary: 'find pages by words read on them (accents, Cyrillic/Latin and OCR errors tolerated)',
    usage: 'arkiva search <words> [--mode words|phrase|prefix] [--exact] [--type T] [--municipality M] [--years YYYY[-YYYY]] [--book ID] [--limit N] [--cursor C] [--purpose TEXT] [--json]',
    run: runSearchCommand,
  },
  link: { summary: 'bulk links and registry records as CSV', usage: 'arkiva link import <links.csv> | export [--book ID] [--history] | records <records.csv> [--json]', run: runLinkCommand },
  retry: { summary: "send a book's failed pages through the stages again", usage: 'arkiva retry <book-id> [--pages 3,7] [--wait] [--json]', run: runRetry },
  replace: { summary: "replace a page's image with a rescan", usage: 'arkiva replace <book-id> <page-number> <image> [--wait] [--json]', run: runReplace },
  worker: { summary: 'run the pipeline stage workers until SIGTERM', usage: 'arkiva worker', run: runWorker },
  serve: { summary: 'run the HTTP API (and, embedded, the workers)', usage: 'arkiva serve [--port N]', run: runServe },
  resume: { summary: 'queue again the work of unfinished books', usage: 'arkiva resume [--json]', run: runResume },
  check: { summary: 'exit 0 when the database, object store and queue answer (a worker\'s healthcheck)', usage: 'arkiva check [--json]', run: runCheck },
  export: { summary: "write a book's archival package (BagIt) unpacked to a folder", usage: 'arkiva export <book-id> <dir> [--generation N] [--purpose TEXT (closed books)] [--json]', run: runExport },
  'verify-package': { summary: 'check a BagIt package (folder or stored package of a book); exit 1 when invalid', usage: 'arkiva verify-package <dir|book-id> [--generation N] [--json]', run: runVerifyPackage },
  retention: { summary: 'recompute retention and extend locks, list due items, or reconcile Object Lock drift', usage: 'arkiva retention run|stale|due|rules|holds [--all] | reconcile [--repair] | rule <key> --file RULE.json --reason R | hold --name N --reason R --authority A (--book ID [--page ID]... | --search Q [--scope pages|books]) | release <hold-id> --reason R [--json]', run: runRetention },
  disposal: { summary: 'propose, approve (four eyes), reject or execute a disposal batch; show a certificate', usage: 'arkiva disposal propose <book-id>... [--note T] | approve|reject <batch-id> [--note T] | execute <batch-id> [--bypass-governance --reason R (admins)] | certificate <book-id> [--pdf FILE] [--json]', run: runDisposal },
  fixity: { summary: 're-read stored objects at their recorded versions and check their SHA-256; exit 1 on damage or an intrusion', usage: 'arkiva fixity [--book id] [--all] [--repair] [--json]', run: runFixity },
  user: { summary: 'users and roles (admins; the first admin needs none)', usage: 'arkiva user add <name> --role R [--role R] [--no-password] [--first-admin] | list | disable <name> | grant|revoke <name> --role R [--json]', run: runUserCommand },
  token: { summary: "API tokens: your own, or (admins) one made on a user's behalf; shown once, stored hashed", usage: 'arkiva token create <name> [--label L] [--days N] | revoke <token-id> | list <name> [--json]', run: runTokenCommand },
  keying: { summary: 'keying of handwritten registers: progress per book and agreement per keyer, or a book\'s verified keyed entries', usage: 'arkiva keying stats [--book ID] | export --book ID [--format csv|json] [--purpose TEXT (closed books)] [--json]', run: runKeyingCommand },
  events: {
    summary: 'events for other state systems: the outbox, dead letters, replays, subscriptions (admins; listing also auditors)',
    usage: 'arkiva events list [--type T] [--book ID] [--before SEQ] [--limit N] | list --dead [--subscription ID] | list --subscriptions | replay <event-id> [--subscription ID] | replay --dead [--subscription ID] | subscribe --name N --url URL --type T [--type T]... [--secret S] [--grant-purpose TEXT] | unsubscribe <subscription-id> [--json]',
    run: runEventsCommand,
  },
  extract: {
    summary: 'signed electronic extracts: issue one from a verified entry (clerks), revoke (records managers), list the register, verify (anyone)',
    usage: 'arkiva extract issue <entry-id> --request REF [--out FILE] [--purpose TEXT (closed books)] | revoke <serial> --reason TEXT | list [--entry ID] [--status valid|revoked|superseded] [--limit N] | verify <serial>|<file.pdf> [--json]',
    run: runExtractCommand,
  },
  audit: { summary: 'the audit trail (auditors): verify the hash chain against every anchor, anchor the head, list events', usage: 'arkiva audit verify | anchor | list [--after SEQ] [--actor NAME] [--action A] [--limit N] [--json]', run: runAuditCommand },
  catalogue: {
    summary: 'the catalogue in the object store (docs/catalogue-format.md): write out what changed, list every difference with the database (exit 1), or rebuild an empty database from it',
    usage: 'arkiva catalogue write [--all] | check [--skip-objects] | rebuild [--empty-queue] [--admin NAME] [--json]',
    run: runCatalogueCommand,
  },
};

function usage(): string {
  const lines = ['usage: arkiva <command> [options]', '', 'commands:'];
  for (const [name, c] of Object.entries(COMMANDS)) lines.push(`  ${name.padEnd(8)} ${c.summary}`, `           ${c.usage}`);
  lines.push(
    '',
    'arkiva <command> --help (or -h) shows one command; arkiva <command> <subcommand> --help one subcommand.',
    ...SIGN_IN_NOTES,
    'Configuration comes from the environment: see the README.',
  );
  return lines.join('\n');
}

/** Runs the CLI; returns the exit code (0 ok, 1 failure, 2 bad usage). */
export async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  // `arkiva help search [sub]` is `arkiva search [sub] --help`.
  if (name === 'help' && args[0] && COMMANDS[args[0]]) return main([args[0], ...args.slice(1), '--help']);
  if (name === 'help' && args[0] && !args[0].startsWith('-')) {
    process.stderr.write(`${unknownHelpTopic(args[0], Object.keys(COMMANDS))}\n`);
    return 2;
  }
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${usage()}\n`);
    return name ? 0 : 2;
  }
  const command = COMMANDS[name];
  if (!command) {
    const hint = didYouMean(name, Object.keys(COMMANDS), 'arkiva ');
    process.stderr.write(`arkiva: unknown command "${name}"${hint}\n\n${hint ? 'arkiva --help lists the commands.' : usage()}\n`);
    return 2;
  }
  // Help is answered before sign-in and configuration, so it works anywhere and always exits 0.
  const sub = args[0] !== undefined && !args[0].startsWith('-') ? args[0] : undefined;
  if (wantsHelp(args)) {
    process.stdout.write(`${commandHelp(name, command, sub)}\n`);
    return 0;
  }
  const subcommands = subcommandsOf(name, command);
  if (sub !== undefined && subcommands.length > 0 && !subcommands.includes(sub)) {
    process.stderr.write(`arkiva ${name}: unknown subcommand "${sub}"${didYouMean(sub, subcommands)} (one of ${subcommands.join(', ')})\nusage: ${command.usage}\n`);
    return 2;
  }
  let as: string | undefined;
  let purpose: string | undefined;
  let rest: string[];
  try {
    ({ as, purpose, rest } = takeGlobalOptions(args));
  } catch (e) {
    process.stderr.write(`arkiva ${name}: ${(e as Error).message}\nusage: ${command.usage}\n`);
    return 2;
  }
  const json = rest.includes('--json');
  let config: Readonly<Config>;
  try {
    config = loadConfig();
  } catch (e) {
    process.stderr.write(`arkiva: ${(e as Error).message}\n`);
    return 2;
  }
  const log = createLogger(json ? 'warn' : config.logLevel === 'info' ? 'warn' : config.logLevel, { cmd: name });
  const ctx: CommandContext = {
    args: rest,
    json,
    config,
    log,
    open: ({ allowBootstrap = false, ...note } = {}) => attributedOpen(() => openAppDeps(config, log), {
      command: name, policy: cliPolicy(name, note.subcommand), allowBootstrap, ...note,
      token: config.cli.token, as: as ?? config.cli.user, askPassword: askSignInPassword, embedded: config.database.kind === 'pglite',
      purpose: purpose ?? config.cli.purpose,
    }),
    out: (line) => process.stdout.write(`${line}\n`),
  };
  try {
    return await command.run(ctx);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`arkiva ${name}: ${e.message}\nusage: ${command.usage}\n`);
      return 2;
    }
    if (e instanceof AppError || e instanceof ConfigError) {
      if (json) process.stdout.write(`${JSON.stringify({ error: { code: e instanceof AppError ? e.code : 'ERR_CONFIG', message: e.message } })}\n`);
      process.stderr.write(`arkiva ${name}: ${e.message}\n`);
      return 1;
    }
    log.error({ err: e }, 'command failed');
    process.stderr.write(`arkiva ${name}: ${(e as Error).message ?? String(e)}\n`);
    return 1;
  }
}

/** Wrong arguments: the CLI prints the command's usage and exits 2. */
export class UsageError extends Error {}

/** Parses a command's options; unknown options are a usage error, with the nearest known one. */
export function parseCommandArgs<T extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: T) {
  try {
    return parseArgs({ args, options: { ...options, json: { type: 'boolean' } }, allowPositionals: true, strict: true });
  } catch (e) {
    const unknown = /^Unknown option '(--?[^'=]+)/.exec((e as Error).message)?.[1];
    const hint = unknown ? didYouMean(unknown.replace(/^--?/, ''), [...Object.keys(options), 'json', 'as', 'purpose', 'help'], '--') : '';
    throw new UsageError(hint ? `Unknown option '${unknown}'${hint}` : (e as Error).message);
  }
}
