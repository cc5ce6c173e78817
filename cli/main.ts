import { loadConfig, ConfigError, type Config } from '../config/index.ts';
import { AppError, createLogger } from '../common/index.ts';
import { UsageError, type CommandContext } from './command.ts';
import { askSignInPassword } from './prompt.ts';
import { commandHelp, didYouMean, SIGN_IN_NOTES, subcommandsOf, unknownHelpTopic, wantsHelp } from './help.ts';

export { UsageError, parseCommandArgs, type CommandContext } from './command.ts';

type Command = { summary: string; usage: string; run: (ctx: CommandContext) => Promise<number> };

// Each command's module is imported when the command runs: every process of the CLI runs one
// command, and importing them all (with the SDKs, PDF, image and HTTP libraries they bring) took
// most of a second of each start.
/** Every command by name, with its summary and usage (the help is made from these). */
export const COMMANDS: Readonly<Record<string, Command>> = {
  demo: { summary: 'generate a register book and run the whole pipeline embedded (no services)', usage: 'arkiva demo [--pages N] [--keep] [--json]', run: async (ctx) => (await import('./demo.ts')).runDemo(ctx) },
  ingest: {
    summary: 'archive a scanned book and queue its pages',
    usage: 'arkiva ingest <file|folder> --type birth|marriage|death|other --municipality NAME --year YYYY[-YYYY] [--volume V] [--lang sqi+srp_latn+srp] [--profile printed|typewriter|mixed|handwritten] [--wait] [--json]',
    run: async (ctx) => (await import('./books.command.ts')).runIngest(ctx),
  },
  status: { summary: "a book's status, pages and failures", usage: 'arkiva status <book-id> [--json]', run: async (ctx) => (await import('./books.command.ts')).runStatus(ctx) },
  search: {
    summary: 'find pages by words read on them (accents, Cyrillic/Latin and OCR errors tolerated)',
    usage: 'arkiva search <words> [--mode words|phrase|prefix] [--exact] [--type T] [--municipality M] [--years YYYY[-YYYY]] [--book ID] [--limit N] [--cursor C] [--purpose TEXT] [--json]',
    run: async (ctx) => (await import('./search.command.ts')).runSearchCommand(ctx),
  },
  link: { summary: 'bulk links and registry records as CSV', usage: 'arkiva link import <links.csv> | export [--book ID] [--history] | records <records.csv> [--json]', run: async (ctx) => (await import('./link.command.ts')).runLinkCommand(ctx) },
  retry: { summary: "send a book's failed pages through the stages again", usage: 'arkiva retry <book-id> [--pages 3,7] [--wait] [--json]', run: async (ctx) => (await import('./books.command.ts')).runRetry(ctx) },
  replace: { summary: "replace a page's image with a rescan", usage: 'arkiva replace <book-id> <page-number> <image> [--wait] [--json]', run: async (ctx) => (await import('./books.command.ts')).runReplace(ctx) },
  worker: { summary: 'run the pipeline stage workers until SIGTERM', usage: 'arkiva worker', run: async (ctx) => (await import('./processes.command.ts')).runWorker(ctx) },
  serve: { summary: 'run the HTTP API (and, embedded, the workers)', usage: 'arkiva serve [--port N]', run: async (ctx) => (await import('./processes.command.ts')).runServe(ctx) },
  resume: { summary: 'queue again the work of unfinished books', usage: 'arkiva resume [--json]', run: async (ctx) => (await import('./processes.command.ts')).runResume(ctx) },
  check: { summary: 'exit 0 when the database, object store and queue answer (a worker\'s healthcheck)', usage: 'arkiva check [--json]', run: async (ctx) => (await import('./check.command.ts')).runCheck(ctx) },
  export: { summary: "write a book's archival package (BagIt) unpacked to a folder", usage: 'arkiva export <book-id> <dir> [--generation N] [--purpose TEXT (closed books)] [--json]', run: async (ctx) => (await import('./package.command.ts')).runExport(ctx) },
  'verify-package': { summary: 'check a BagIt package (folder or stored package of a book); exit 1 when invalid', usage: 'arkiva verify-package <dir|book-id> [--generation N] [--json]', run: async (ctx) => (await import('./package.command.ts')).runVerifyPackage(ctx) },
  retention: { summary: 'recompute retention and extend locks, list due items, or reconcile Object Lock drift', usage: 'arkiva retention run|stale|due|rules|holds [--all] | reconcile [--repair] | rule <key> --file RULE.json --reason R | hold --name N --reason R --authority A (--book ID [--page ID]... | --search Q [--scope pages|books]) | release <hold-id> --reason R [--json]', run: async (ctx) => (await import('./retention.command.ts')).runRetention(ctx) },
  disposal: { summary: 'propose, approve (four eyes), reject or execute a disposal batch; show a certificate', usage: 'arkiva disposal propose <book-id>... [--note T] | approve|reject <batch-id> [--note T] | execute <batch-id> [--bypass-governance --reason R (admins)] | certificate <book-id> [--pdf FILE] [--json]', run: async (ctx) => (await import('./retention.command.ts')).runDisposal(ctx) },
  fixity: { summary: 're-read stored objects at their recorded versions and check their SHA-256; exit 1 on damage or an intrusion', usage: 'arkiva fixity [--book id] [--all] [--repair] [--json]', run: async (ctx) => (await import('./retention.command.ts')).runFixity(ctx) },
  user: { summary: 'users and roles (admins; the first admin needs none)', usage: 'arkiva user add <name> --role R [--role R] [--no-password] [--first-admin] | list | disable <name> | grant|revoke <name> --role R [--json]', run: async (ctx) => (await import('./user.command.ts')).runUserCommand(ctx) },
  token: { summary: "API tokens: your own, or (admins) one made on a user's behalf; shown once, stored hashed", usage: 'arkiva token create <name> [--label L] [--days N] | revoke <token-id> | list <name> [--json]', run: async (ctx) => (await import('./user.command.ts')).runTokenCommand(ctx) },
  keying: { summary: 'keying of handwritten registers: progress per book and agreement per keyer, or a book\'s verified keyed entries', usage: 'arkiva keying stats [--book ID] | export --book ID [--format csv|json] [--purpose TEXT (closed books)] [--json]', run: async (ctx) => (await import('./keying.command.ts')).runKeyingCommand(ctx) },
  events: {
    summary: 'events for other state systems: the outbox, dead letters, replays, subscriptions (admins; listing also auditors)',
    usage: 'arkiva events list [--type T] [--book ID] [--before SEQ] [--limit N] | list --dead [--subscription ID] | list --subscriptions | replay <event-id> [--subscription ID] | replay --dead [--subscription ID] | subscribe --name N --url URL --type T [--type T]... [--secret S] [--grant-purpose TEXT] | unsubscribe <subscription-id> [--json]',
    run: async (ctx) => (await import('./events.command.ts')).runEventsCommand(ctx),
  },
  extract: {
    summary: 'signed electronic extracts: issue one from a verified entry (clerks), revoke (records managers), list the register, verify (anyone)',
    usage: 'arkiva extract issue <entry-id> --request REF [--out FILE] [--purpose TEXT (closed books)] | revoke <serial> --reason TEXT | list [--entry ID] [--status valid|revoked|superseded] [--limit N] | verify <serial>|<file.pdf> [--json]',
    run: async (ctx) => (await import('./extract.command.ts')).runExtractCommand(ctx),
  },
  audit: { summary: 'the audit trail (auditors): verify the hash chain against every anchor, anchor the head, list events', usage: 'arkiva audit verify | anchor | list [--after SEQ] [--actor NAME] [--action A] [--limit N] [--json]', run: async (ctx) => (await import('./audit.command.ts')).runAuditCommand(ctx) },
  catalogue: {
    summary: 'the catalogue in the object store (docs/catalogue-format.md): write out what changed, list every difference with the database (exit 1), or rebuild an empty database from it',
    usage: 'arkiva catalogue write [--all] | check [--skip-objects] | rebuild [--empty-queue] [--admin NAME] [--json]',
    run: async (ctx) => (await import('./catalogue.command.ts')).runCatalogueCommand(ctx),
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
  // Sign-in and the ports are loaded past help and the usage checks above, which need neither.
  const { attributedOpen, cliPolicy, takeGlobalOptions } = await import('./attribution.ts');
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
    open: ({ allowBootstrap = false, ...note } = {}) => attributedOpen(async () => (await import('../app/deps.ts')).openAppDeps(config, log), {
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
