/**
 * What a CLI command module depends on of the CLI: its context, its usage error and its option
 * parser. Kept apart from main.ts so a command module does not import the dispatch (and with it,
 * through the table of commands, every other command).
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { Config } from '../config/index.ts';
import type { Logger } from '../common/index.ts';
import type { AttributedDeps, CommandNote } from './attribution.ts';
import { didYouMean } from './help.ts';

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
