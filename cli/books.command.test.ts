/**
 * `arkiva ingest --profile` and `arkiva status`, through the real CLI on an embedded archive
 * (PGlite in a temporary folder).
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../config/index.ts';
import { silentLogger } from '../common/index.ts';
import { openAppDeps } from '../app/deps.ts';
import { createBook } from '../archive/index.ts';
import { createUser } from '../auth/index.ts';

const run = promisify(execFile);

describe('arkiva ingest --profile / status', () => {
  let dir: string;
  let typedBookId: string;
  beforeAll(async () => {
    dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'arkiva-cli-books-'));
    // The archive is set up in-process and closed before the CLI opens it (PGlite has one owner).
    const deps = await openAppDeps(loadConfig({ ARKIVA_DATA_DIR: dir }), silentLogger());
    try {
      await createUser(deps.db, { username: 'digi', roles: ['digitiser'] });
      ({ book: { id: typedBookId } } = await createBook(deps.db, {
        registerType: 'death', municipality: 'Prizren', yearFrom: 1949, yearTo: 1949, languages: 'sqi', ocrProfile: 'typewriter',
        sourceFormat: 'tiff', sourceSha256: randomBytes(32).toString('hex'), sourceSize: 1,
      }));
    } finally {
      await deps.close();
    }
  });
  afterAll(async () => {
    await fs.promises.rm(dir, { recursive: true, force: true });
  });

  async function arkiva(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    try {
      const r = await run(process.execPath, [path.resolve('bin/arkiva.mjs'), ...args, '--as', 'digi'], {
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ARKIVA_DATA_DIR: dir, OCR_POOL_SIZE: '1' },
        timeout: 120_000,
      });
      return { code: 0, stdout: r.stdout, stderr: r.stderr };
    } catch (e) {
      const err = e as { code: number; stdout: string; stderr: string };
      return { code: err.code, stdout: err.stdout, stderr: err.stderr };
    }
  }

  it('refuses an unknown --profile as bad usage, naming the profiles there are', async () => {
    const r = await arkiva(['ingest', 'nothing.tif', '--type', 'birth', '--municipality', 'Pejë', '--year', '1960', '--profile', 'stenographic']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--profile must be printed\|typewriter\|mixed\|handwritten, got "stenographic"/);
    expect(r.stderr).toMatch(/usage: arkiva ingest .*\[--profile printed\|typewriter\|mixed\|handwritten\]/);
  });

  it("shows a book's OCR profile in status, as JSON and as text", async () => {
    const json = await arkiva(['status', typedBookId, '--json']);
    expect(json.code, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout.trim()).book).toMatchObject({ id: typedBookId, ocrProfile: 'typewriter' });
    const text = await arkiva(['status', typedBookId]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/OCR languages sqi, profile typewriter/);
  });

  it('archives a book with the --profile and --lang given, and printed in the default languages without them', async () => {
    // Blank leaves are not read, so the embedded pipeline ends without starting OCR.
    const blank = (grey: number) => sharp({ create: { width: 600, height: 400, channels: 3, background: { r: grey, g: grey, b: grey } } }).png().toBuffer();
    await fs.promises.writeFile(path.join(dir, 'a.png'), await blank(255));
    await fs.promises.writeFile(path.join(dir, 'b.png'), await blank(250));
    const typed = await arkiva(['ingest', path.join(dir, 'a.png'), '--type', 'birth', '--municipality', 'Pejë', '--year', '1960', '--lang', 'sqi', '--profile', 'mixed', '--json']);
    expect(typed.code, typed.stderr).toBe(0);
    expect(JSON.parse(typed.stdout.trim().split('\n').pop()!).book).toMatchObject({ ocrProfile: 'mixed', languages: 'sqi', status: 'complete' });
    const plain = await arkiva(['ingest', path.join(dir, 'b.png'), '--type', 'birth', '--municipality', 'Pejë', '--year', '1960', '--json']);
    expect(plain.code, plain.stderr).toBe(0);
    expect(JSON.parse(plain.stdout.trim().split('\n').pop()!).book).toMatchObject({ ocrProfile: 'printed', languages: 'sqi+srp_latn+srp', status: 'complete' });
  }, 240_000);
});
