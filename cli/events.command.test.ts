/**
 * `arkiva events list|replay|subscribe|unsubscribe`, through the real CLI on an embedded archive
 * (PGlite in a temporary folder).
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../config/index.ts';
import { silentLogger } from '../common/index.ts';
import { openAppDeps } from '../app/deps.ts';
import { createUser } from '../auth/index.ts';
import { emit } from '../events/index.ts';

const run = promisify(execFile);

describe('arkiva events', () => {
  let dir: string;
  let eventId: string;
  const bookId = randomUUID();
  beforeAll(async () => {
    dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'arkiva-cli-events-'));
    // Set up in-process and closed before the CLI opens it (PGlite has one owner).
    const deps = await openAppDeps(loadConfig({ ARKIVA_DATA_DIR: dir }), silentLogger());
    try {
      await createUser(deps.db, { username: 'root', roles: ['admin'] });
      await createUser(deps.db, { username: 'aud', roles: ['auditor'] });
      eventId = await deps.db.transaction((tx) => emit(tx, { type: 'book.archived', subjects: { bookId }, data: { status: 'complete' } }));
    } finally {
      await deps.close();
    }
  });
  afterAll(async () => {
    await fs.promises.rm(dir, { recursive: true, force: true });
  });

  async function arkiva(args: string[], as: string): Promise<{ code: number; stdout: string; stderr: string }> {
    try {
      const r = await run(process.execPath, [path.resolve('bin/arkiva.mjs'), 'events', ...args, '--as', as], {
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ARKIVA_DATA_DIR: dir, OCR_POOL_SIZE: '1' },
        timeout: 60_000,
      });
      return { code: 0, stdout: r.stdout, stderr: r.stderr };
    } catch (e) {
      const err = e as { code: number; stdout: string; stderr: string };
      return { code: err.code, stdout: err.stdout, stderr: err.stderr };
    }
  }

  it('lists events to auditors, subscribes and unsubscribes as an admin (roles: see the API test; each run here starts a process)', async () => {
    const listed = await arkiva(['list', '--book', bookId, '--json'], 'aud');
    expect(listed.code, listed.stderr).toBe(0);
    expect(JSON.parse(listed.stdout).events.map((e: { id: string; type: string }) => [e.id, e.type])).toEqual([[eventId, 'book.archived']]);

    const made = await arkiva(['subscribe', '--name', 'registry', '--url', 'https://r.example.org/h', '--type', 'book.archived', '--type', 'link.made', '--grant-purpose', 'civil status verification', '--json'], 'root');
    expect(made.code, made.stderr).toBe(0);
    const { subscription, secret } = JSON.parse(made.stdout) as { subscription: { id: string; purpose: string }; secret: string };
    expect(subscription.purpose).toBe('civil status verification');
    const subs = await arkiva(['list', '--subscriptions'], 'root');
    expect(subs.stdout).toContain(subscription.id);
    expect(subs.stdout).not.toContain(secret);

    // Not sent yet: a replay is refused with the reason.
    const early = await arkiva(['replay', eventId], 'root');
    expect(early.code).not.toBe(0);
    expect(early.stderr).toMatch(/not been sent yet/);

    const ended = await arkiva(['unsubscribe', subscription.id], 'root');
    expect(ended.code, ended.stderr).toBe(0);
    expect(ended.stdout).toMatch(/inactive/);
  });
});
