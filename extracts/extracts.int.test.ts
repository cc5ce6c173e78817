/**
 * Extracts on the real services: PostgreSQL (no test CA there: a PKCS#12 must be configured) and
 * Ceph RGW with Object Lock (the signed PDF is locked from its first byte).
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../config/index.ts';
import { silentLogger } from '../common/index.ts';
import { createUser } from '../auth/index.ts';
import { requireService } from '../test-support/services.ts';
import { openRealDeps, realServicesEnv } from '../test-support/real-deps.ts';
import { EXTRACTS_PREFIX, issueExtract, makeTestIdentityP12, openExtractSigner, revokeExtract, TEST_P12_PASSWORD, verifyBySerial, verifyPdf } from './index.ts';
import { findObject } from '../archive/index.ts';
import { syncObjectLocks } from '../retention/index.ts';
import { unrecordedObjects } from '../fault/verify.ts';
import { readObject } from '../storage/index.ts';
import { seedEntry } from './seed.suite.ts';

const run = promisify(execFile);
const ready = requireService('databaseUrl') && requireService('redisUrl') && requireService('s3');

describe.skipIf(!ready)('extracts on PostgreSQL + RGW', () => {
  let dir: string;
  let env: Awaited<ReturnType<typeof openRealDeps>>;
  let p12: string;
  beforeAll(async () => {
    dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'arkiva-extracts-int-'));
    p12 = path.join(dir, 'agency.p12');
    fs.writeFileSync(p12, makeTestIdentityP12('Agjencia e Regjistrimit Civil').p12);
    env = await openRealDeps(realServicesEnv({ OCR_POOL_SIZE: '1', ARKIVA_SIGNING_P12: p12, ARKIVA_SIGNING_P12_PASSWORD: TEST_P12_PASSWORD }));
  }, 60_000);
  afterAll(async () => {
    await env?.cleanup();
    if (dir) await fs.promises.rm(dir, { recursive: true, force: true });
  });

  it('refuses to sign on PostgreSQL without a configured PKCS#12 (no silent test CA), and says what to set', async () => {
    const config = loadConfig({ ...realServicesEnv(), ARKIVA_DATA_DIR: dir });
    await expect(openExtractSigner(config, silentLogger())).rejects.toThrow(/ARKIVA_SIGNING_P12/);
    expect(() => loadConfig({ ARKIVA_SIGNING_P12: path.join(dir, 'missing.p12') })).toThrow(/ARKIVA_SIGNING_P12: no file/);
    await expect(openExtractSigner(loadConfig({ ...realServicesEnv(), ARKIVA_SIGNING_P12: p12, ARKIVA_SIGNING_P12_PASSWORD: 'wrong' }), silentLogger())).rejects.toMatchObject({ code: 'ERR_CONFIG' });
  });

  it('issues with the configured PKCS#12, stores the PDF under GOVERNANCE retention, and it verifies', async () => {
    const { deps } = env;
    const user = await createUser(deps.db, { username: 'ana', roles: ['clerk'] });
    const signer = await openExtractSigner(deps.config, silentLogger());
    expect(signer.identity.test).toBe(false);
    const { entry } = await seedEntry(deps);
    const row = await issueExtract({ ...deps, signer }, { entryId: entry.id, requestReference: 'KRK-1' }, { user });
    const head = await deps.store.head(row.pdfKey, row.pdfVersionId ? { versionId: row.pdfVersionId } : {});
    expect(head?.size).toBe(row.pdfSize);
    expect(head?.retention?.mode).toBe('GOVERNANCE');
    expect(head!.retention!.retainUntil.getTime()).toBeGreaterThan(Date.now() + 9 * 365 * 86400_000);
    const pdf = await readObject(deps.store, row.pdfKey, { expectedSha256: row.pdfSha256 });
    const file = path.join(dir, 'x.pdf');
    fs.writeFileSync(file, pdf);
    const { stdout } = await run('pdfsig', [file]);
    expect(stdout).toContain('Signature is Valid.');
    expect(await verifyBySerial(deps.db, row.serial)).toMatchObject({ issued: true, status: 'valid', sha256: row.pdfSha256 });
    expect((await verifyPdf(deps.db, pdf)).authentic).toBe(true);
  }, 120_000);

  it('keeps the PDF as a stored object of its book under the lock sync, and removes every version of one whose register transaction failed', async () => {
    const { deps } = env;
    const user = await createUser(deps.db, { username: 'bekim', roles: ['clerk'] });
    const signer = await openExtractSigner(deps.config, silentLogger());
    const { entry, bookId } = await seedEntry(deps);
    const first = await issueExtract({ ...deps, signer }, { entryId: entry.id, requestReference: 'KRK-2' }, { user });
    const object = await findObject(deps.db, { bookId, role: 'extract', variant: first.serial });
    expect(object).toMatchObject({ storeKey: first.pdfKey, versionId: first.pdfVersionId, sha256: first.pdfSha256 });
    const sync = await syncObjectLocks(deps, { bookIds: [bookId], repair: false });
    expect(sync.drift.filter((d) => d.key === first.pdfKey)).toEqual([]);

    const versions = async () => {
      const out: string[] = [];
      for await (const v of deps.store.listVersions(`${EXTRACTS_PREFIX}/`)) out.push(`${v.key} ${v.versionId} ${v.deleteMarker}`);
      return out.sort();
    };
    const before = await versions();
    await revokeExtract(deps, first.serial, 'wrong request', { user });
    // The re-issue's PDF is stored (locked, on a versioned bucket), then its transaction refuses: no version, no delete marker stays.
    await expect(issueExtract({ ...deps, signer }, { entryId: entry.id, requestReference: 'KRK-2' }, { user }, { supersedes: first.serial })).rejects.toMatchObject({ code: 'ERR_CONFLICT' });
    expect(await versions()).toEqual(before);
    expect((await unrecordedObjects(deps)).filter((k) => k.startsWith(`${EXTRACTS_PREFIX}/`))).toEqual([]);
  }, 120_000);
});
