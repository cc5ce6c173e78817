/**
 * `--help`/`-h` on every command and subcommand (usage printed, exit 0, before any sign-in or
 * configuration), and the suggestions for a mistyped command, subcommand or option (issue 22).
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { commandHelp, editDistance, subcommandsOf, suggest, wantsHelp } from './help.ts';
import { COMMANDS, main, parseCommandArgs, UsageError } from './main.ts';

const run = promisify(execFile);

describe('help and suggestions', () => {
  let stdout: string;
  let stderr: string;
  beforeEach(() => {
    stdout = '';
    stderr = '';
    vi.spyOn(process.stdout, 'write').mockImplementation((s) => ((stdout += String(s)), true));
    vi.spyOn(process.stderr, 'write').mockImplementation((s) => ((stderr += String(s)), true));
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('prints the usage of every command for --help and -h and exits 0', async () => {
    expect(Object.keys(COMMANDS).length).toBeGreaterThan(20);
    for (const [name, c] of Object.entries(COMMANDS)) {
      for (const flag of ['--help', '-h']) {
        stdout = '';
        expect(await main([name, flag]), `${name} ${flag}: ${stderr}`).toBe(0);
        expect(stdout).toContain(`arkiva ${name}: ${c.summary}`);
        expect(stdout).toMatch(new RegExp(`usage:\\n  arkiva ${name}`));
      }
    }
    expect(stderr).toBe('');
  });

  it('prints only the lines of a subcommand for `<command> <subcommand> --help`, for every subcommand', async () => {
    let checked = 0;
    for (const [name, c] of Object.entries(COMMANDS)) {
      for (const sub of subcommandsOf(name, c)) {
        stdout = '';
        expect(await main([name, sub, '--help']), `${name} ${sub}`).toBe(0);
        const usage = stdout.split('\n').filter((l) => l.startsWith('  arkiva '));
        expect(usage.length, `${name} ${sub}`).toBeGreaterThan(0);
        for (const l of usage) expect(l).toMatch(new RegExp(`^  arkiva ${name} (\\S+\\|)?${sub}(\\|\\S+)?( |$)`));
        checked++;
      }
    }
    // retention, disposal, user, token, link, keying, events, extract, audit: their subcommands.
    expect(checked).toBeGreaterThan(35);
    expect(subcommandsOf('retention', COMMANDS.retention!)).toEqual(['run', 'stale', 'due', 'rules', 'holds', 'reconcile', 'rule', 'hold', 'release']);
    expect(subcommandsOf('search', COMMANDS.search!)).toEqual([]);
    expect(subcommandsOf('worker', COMMANDS.worker!)).toEqual([]);
  });

  it('answers --help anywhere among the options, but not after --, and `arkiva help <command>`', async () => {
    expect(await main(['ingest', 'scans/', '--type', 'birth', '--help'])).toBe(0);
    expect(stdout).toContain('usage:\n  arkiva ingest <file|folder>');
    expect(wantsHelp(['x', '--', '--help'])).toBe(false);
    stdout = '';
    expect(await main(['help', 'disposal', 'execute'])).toBe(0);
    expect(stdout).toContain('  arkiva disposal execute <batch-id>');
    expect(stdout).not.toContain('arkiva disposal propose');
  });

  it('suggests the nearest command for a typo, exit 2', async () => {
    expect(await main(['serach', 'Krasniqi'])).toBe(2);
    expect(stderr).toContain('unknown command "serach"; did you mean "arkiva search"?');
    stderr = '';
    // Nothing near: no suggestion, the list of commands instead.
    expect(await main(['frobnicate'])).toBe(2);
    expect(stderr).not.toContain('did you mean');
    expect(stderr).toContain('commands:');
  });

  it('answers `help <unknown>` like `<unknown>`: the nearest command, exit 2', async () => {
    expect(await main(['help', 'serach'])).toBe(2);
    expect(stderr).toContain('arkiva help: no command "serach"; did you mean "arkiva help search"?');
    expect(stdout).toBe('');
    stderr = '';
    expect(await main(['help', 'frobnicate'])).toBe(2);
    expect(stderr).not.toContain('did you mean');
    expect(stderr).toContain('arkiva --help lists the commands.');
  });

  it('refuses an unknown subcommand with the nearest one and the list, before signing in', async () => {
    expect(await main(['retention', 'stal'])).toBe(2);
    expect(stderr).toMatch(/arkiva retention: unknown subcommand "stal"; did you mean "stale"\? \(one of run, stale, due/);
    stderr = '';
    expect(await main(['disposal', 'excute', '0b7a4c1e-7d0a-4c55-9a63-5d0f1d7e1a11'])).toBe(2);
    expect(stderr).toContain('did you mean "execute"?');
  });

  it('names the nearest option for a mistyped one, including the global --purpose', () => {
    const opts = { mode: { type: 'string' }, municipality: { type: 'string' }, exact: { type: 'boolean' } } as const;
    expect(() => parseCommandArgs(['x', '--municipalty', 'Pejë'], opts)).toThrow(/Unknown option '--municipalty'; did you mean "--municipality"\?/);
    expect(() => parseCommandArgs(['x', '--purpse', 'req 1'], opts)).toThrow(/did you mean "--purpose"\?/);
    expect(() => parseCommandArgs(['x', '--zzz'], opts)).toThrow(UsageError);
    expect(() => parseCommandArgs(['x', '--zzz'], opts)).not.toThrow(/did you mean/);
  });

  it('suggests only what is near: one edit in four letters, a transposition counts as one, or a unique prefix', () => {
    expect(editDistance('serach', 'search')).toBe(1);
    expect(suggest('fixty', ['fixity', 'export'])).toBe('fixity');
    expect(suggest('verify-pakage', ['verify-package', 'retry'])).toBe('verify-package');
    expect(suggest('verif', ['verify-package', 'retry'])).toBe('verify-package');
    expect(suggest('ret', ['retention', 'retry'])).toBeUndefined();
    expect(suggest('x', ['demo', 'user'])).toBeUndefined();
    expect(suggest('status', ['stats', 'status'])).toBe('status');
  });

  it('the help of a command ends with how commands sign in and state a purpose', () => {
    const help = commandHelp('export', COMMANDS.export!);
    expect(help).toContain('--purpose TEXT (ARKIVA_PURPOSE)');
    expect(help).toContain('ARKIVA_TOKEN');
  });
});

describe('arkiva --help through the installed binary', () => {
  it('exits 0 with the usage on stdout, where it answered "Unknown option \'--help\'" with exit 2', async () => {
    const r = await run(process.execPath, [path.resolve('bin/arkiva.mjs'), 'search', '--help'], { env: { PATH: process.env.PATH ?? '' }, timeout: 60_000 });
    expect(r.stdout).toContain('usage:\n  arkiva search <words>');
    expect(r.stderr).toBe('');
  }, 60_000);
});
