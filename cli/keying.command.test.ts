/**
 * `arkiva keying stats` and `arkiva keying export`, through the real CLI on an embedded archive
 * (PGlite in a temporary folder).
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../config/index.ts';
import { silentLogger } from '../common/index.ts';
import { openAppDeps } from '../app/deps.ts';
import { upsertPage } from '../archive/index.ts';
import { createUser } from '../auth/index.ts';
import { createBookWithRetention } from '../retention/index.ts';
import { proposeZones, submitKeying, type KeyedFields } from '../keying/index.ts';

const run = promisify(execFile);

describe('arkiva keying', () => {
  let dir: string;
  let bookId: string;
  beforeAll(async () => {
    dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'arkiva-cli-keying-'));
    // The archive is set up in-process and closed before the CLI opens it (PGlite has one owner).
    const deps = await openAppDeps(loadConfig({ ARKIVA_DATA_DIR: dir }), silentLogger());
    try {
      await createUser(deps.db, { username: 'rm', roles: ['records_manager'] });
      await createUser(deps.db, { username: 'digi', roles: ['digitiser'] });
      ({ book: { id: bookId } } = await createBookWithRetention(deps.db, {
        registerType: 'death', municipality: 'Prizren', yearFrom: 1900, yearTo: 1900, languages: 'sqi', sourceFormat: 'tiff', sourceSha256: randomBytes(32).toString('hex'), sourceSize: 1,
      }));
      const page = await upsertPage(deps.db, bookId, 1);
      const zones = await proposeZones(deps.db, page.id, { source: 'drawn', zones: [{ box: { x0: 0, y0: 0, x1: 100, y1: 20 } }, { box: { x0: 0, y0: 20, x1: 100, y1: 40 } }] }, { user: 'seed' });
      const death = (surname: string): KeyedFields => ({
        entryNumber: { value: '3' }, dateOfDeath: { value: '1.2.1900' }, firstName: { value: 'Lule' }, surname: { value: surname }, age: { answer: 'illegible' }, placeOfDeath: { value: 'Prizren' },
      });
      await submitKeying(deps.db, zones[0]!.id, 'ana', death('Berisha'));
      await submitKeying(deps.db, zones[0]!.id, 'ben', death('berisha'));
      await submitKeying(deps.db, zones[1]!.id, 'ana', death('Krasniqi'));
      await submitKeying(deps.db, zones[1]!.id, 'ben', death('Krasniçi'));
    } finally {
      await deps.close();
    }
  });
  afterAll(async () => {
    await fs.promises.rm(dir, { recursive: true, force: true });
  });

  async function arkiva(args: string[], as = 'rm'): Promise<{ code: number; stdout: string; stderr: string }> {
    try {
      const r = await run(process.execPath, [path.resolve('bin/arkiva.mjs'), ...args, '--as', as], {
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ARKIVA_DATA_DIR: dir, OCR_POOL_SIZE: '1' },
        timeout: 60_000,
      });
      return { code: 0, stdout: r.stdout, stderr: r.stderr };
    } catch (e) {
      const err = e as { code: number; stdout: string; stderr: string };
      return { code: err.code, stdout: err.stdout, stderr: err.stderr };
    }
  }

  it('prints progress per book and agreement per keyer as JSON', async () => {
    const r = await arkiva(['keying', 'stats', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const stats = JSON.parse(r.stdout.trim());
    expect(stats.books).toEqual([expect.objectContaining({ bookId, zones: 2, open: 0, keyedOnce: 0, disputed: 1, verified: 1 })]);
    expect(stats.keyers).toEqual([
      { keyer: 'ana', keyings: 2, compared: 2, agreed: 1, agreementRate: 0.5, fieldsOverruled: 0 },
      { keyer: 'ben', keyings: 2, compared: 2, agreed: 1, agreementRate: 0.5, fieldsOverruled: 0 },
    ]);
  }, 90_000);

  it('exports the verified entries as CSV, and refuses both to a role without them', async () => {
    const r = await arkiva(['keying', 'export', '--book', bookId, '--format', 'csv']);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split(/\r?\n/);
    expect(lines[0]).toBe('page,zone_id,entry_id,layout,layout_version,entryNumber,dateOfDeath,firstName,surname,age,placeOfDeath,verified_by,verified_at');
    expect(lines).toHaveLength(2);
    expect(lines[1]).toContain(',death-default,1,3,1.2.1900,Lule,Berisha,[illegible],Prizren,ben,');
    const refused = await arkiva(['keying', 'stats'], 'digi');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/needs one of the roles/);
    expect((await arkiva(['keying', 'export'])).code).toBe(2);
  }, 90_000);
});
