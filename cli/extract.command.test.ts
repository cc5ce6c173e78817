/**
 * `arkiva extract issue|revoke|list|verify`, through the real CLI on an embedded archive (PGlite in
 * a temporary folder, the local test signing identity made at first use).
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../config/index.ts';
import { silentLogger } from '../common/index.ts';
import { openAppDeps } from '../app/deps.ts';
import { createUser } from '../auth/index.ts';
import { listAuditEvents } from '../audit/index.ts';
import { seedEntry } from '../extracts/seed.suite.ts';

const run = promisify(execFile);

describe('arkiva extract', () => {
  let dir: string;
  let entryId: string;
  let closedEntryId: string;
  beforeAll(async () => {
    dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'arkiva-cli-extract-'));
    // Set up in-process and closed before the CLI opens the archive (PGlite has one owner).
    const deps = await openAppDeps(loadConfig({ ARKIVA_DATA_DIR: dir }), silentLogger());
    try {
      await createUser(deps.db, { username: 'ana', roles: ['clerk'] });
      await createUser(deps.db, { username: 'rm', roles: ['records_manager'] });
      entryId = (await seedEntry(deps)).entry.id;
      closedEntryId = (await seedEntry(deps, { closedUntil: '2099-12-31' })).entry.id;
    } finally {
      await deps.close();
    }
  }, 60_000);
  afterAll(async () => {
    await fs.promises.rm(dir, { recursive: true, force: true });
  });

  async function arkiva(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    try {
      const r = await run(process.execPath, [path.resolve('bin/arkiva.mjs'), ...args], {
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ARKIVA_DATA_DIR: dir, OCR_POOL_SIZE: '1', ARKIVA_PUBLIC_BASE_URL: 'https://verify.example.org' },
        timeout: 90_000,
      });
      return { code: 0, stdout: r.stdout, stderr: r.stderr };
    } catch (e) {
      const err = e as { code: number; stdout: string; stderr: string };
      return { code: err.code, stdout: err.stdout, stderr: err.stderr };
    }
  }

  it('issues, verifies by serial and by file, revokes with a reason, lists; a closed book needs --purpose', async () => {
    const out = path.join(dir, 'x.pdf');
    const issued = await arkiva(['extract', 'issue', entryId, '--request', 'KRK-77', '--out', out, '--as', 'ana', '--json']);
    expect(issued.code, issued.stderr).toBe(0);
    // The loud warning of the test identity goes to the log, not the output.
    expect(issued.stderr).toContain('LOCAL TEST CERTIFICATE');
    const row = JSON.parse(issued.stdout);
    expect(row).toMatchObject({ status: 'valid', requestReference: 'KRK-77', issuedBy: 'ana', verifyUrl: `https://verify.example.org/verify/${row.serial}` });
    expect(fs.readFileSync(out).subarray(0, 5).toString()).toBe('%PDF-');

    const bySerial = await arkiva(['extract', 'verify', row.serial]);
    expect(bySerial.code, bySerial.stderr).toBe(0);
    expect(bySerial.stdout).toContain('status valid');
    const byFile = await arkiva(['extract', 'verify', out]);
    expect(byFile.code, byFile.stderr).toBe(0);
    expect(byFile.stdout).toContain('AUTHENTIC');

    expect((await arkiva(['extract', 'revoke', row.serial, '--as', 'rm'])).code).toBe(2);
    expect((await arkiva(['extract', 'revoke', row.serial, '--reason', 'wrong person', '--as', 'ana'])).code).not.toBe(0);
    const revoked = await arkiva(['extract', 'revoke', row.serial, '--reason', 'wrong person', '--as', 'rm']);
    expect(revoked.code, revoked.stderr).toBe(0);
    const after = await arkiva(['extract', 'verify', row.serial]);
    expect(after.code).toBe(1);
    expect(after.stdout).toContain('revoked (wrong person)');
    const list = await arkiva(['extract', 'list', '--entry', entryId, '--as', 'rm', '--json']);
    expect(JSON.parse(list.stdout)).toEqual([expect.objectContaining({ serial: row.serial, status: 'revoked', revokeReason: 'wrong person' })]);

    const refused = await arkiva(['extract', 'issue', closedEntryId, '--request', 'KRK-78', '--as', 'ana']);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('--purpose');
    const allowed = await arkiva(['extract', 'issue', closedEntryId, '--request', 'KRK-78', '--as', 'ana', '--purpose', 'court order 12/2026', '--json']);
    expect(allowed.code, allowed.stderr).toBe(0);
    expect(JSON.parse(allowed.stdout)).toMatchObject({ restricted: true, purpose: 'court order 12/2026' });

    const deps = await openAppDeps(loadConfig({ ARKIVA_DATA_DIR: dir }), silentLogger());
    try {
      const denied = await listAuditEvents(deps.db, { action: 'access.denied', actor: 'ana' });
      expect(denied.some((e) => e.targetId === closedEntryId && e.detail?.restricted === true)).toBe(true);
      expect(await listAuditEvents(deps.db, { action: 'extract.issue' })).toHaveLength(2);
    } finally {
      await deps.close();
    }
  }, 240_000);
});
