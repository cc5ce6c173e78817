/**
 * `arkiva user`, `arkiva token` and the attribution of data commands, through the real CLI on an
 * embedded archive (PGlite in a temporary folder).
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);

describe('arkiva user / token / --as', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'arkiva-cli-users-'));
  });
  afterAll(async () => {
    await fs.promises.rm(dir, { recursive: true, force: true });
  });

  async function arkiva(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
    try {
      const r = await run(process.execPath, [path.resolve('bin/arkiva.mjs'), ...args], {
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ARKIVA_DATA_DIR: dir, ...env },
        timeout: 90_000,
      });
      return { code: 0, stdout: r.stdout, stderr: r.stderr };
    } catch (e) {
      const err = e as { code: number; stdout: string; stderr: string };
      return { code: err.code, stdout: err.stdout, stderr: err.stderr };
    }
  }

  it('creates the first admin without one, then needs an admin; data commands run as a user with the right role', async () => {
    const first = await arkiva(['user', 'add', 'boss', '--role', 'admin'], { ARKIVA_PASSWORD: 'a long enough password' });
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/user boss created with roles admin/);

    // Now that an admin exists, user administration needs one.
    const anonymous = await arkiva(['user', 'add', 'ana', '--role', 'clerk', '--no-password']);
    expect(anonymous.code).toBe(1);
    expect(anonymous.stderr).toMatch(/--as NAME or set ARKIVA_USER/);
    const added = await arkiva(['user', 'add', 'ana', '--role', 'clerk', '--no-password', '--as', 'boss']);
    expect(added.code, added.stderr).toBe(0);

    const token = await arkiva(['token', 'create', 'ana', '--days', '2', '--json'], { ARKIVA_USER: 'boss' });
    expect(token.code, token.stderr).toBe(0);
    expect(JSON.parse(token.stdout.trim()).token).toMatch(/^ark_[\w-]{43}$/);

    // A clerk may not run retention; the refusal and the allowed commands are audited.
    const denied = await arkiva(['retention', 'due', '--as', 'ana']);
    expect(denied.code).toBe(1);
    expect(denied.stderr).toMatch(/needs one of the roles records_manager/);
    const notMine = await arkiva(['user', 'list', '--as', 'ana']);
    expect(notMine.code).toBe(1);

    // Nobody grants themselves a role (issue 18): a second admin grants boss the auditor role.
    expect((await arkiva(['user', 'add', 'boss2', '--role', 'admin', '--no-password', '--as', 'boss'])).code).toBe(0);
    const trail = await arkiva(['user', 'grant', 'boss', '--role', 'auditor', '--as', 'boss2']);
    expect(trail.code, trail.stderr).toBe(0);
    const list = await arkiva(['audit', 'list', '--as', 'boss', '--json']);
    expect(list.code, list.stderr).toBe(0);
    const events = (JSON.parse(list.stdout.trim()) as { events: { actor: string; action: string; outcome: string }[] }).events.map((e) => `${e.actor} ${e.action} ${e.outcome}`);
    expect(events).toEqual([
      // token.create: the token's own event, naming who made it for whom (issue 18); boss2 added, then granting.
      'bootstrap user.cli ok', 'boss user.cli ok', 'boss token.cli ok', 'boss token.create ok', 'ana access.denied denied', 'ana access.denied denied',
      'boss user.cli ok', 'boss2 user.cli ok', 'boss audit.cli ok',
    ]);
    const verify = await arkiva(['audit', 'verify', '--as', 'boss']);
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
    expect(verify.stdout).toMatch(/intact: 10 events/);
  }, 240_000);
});
