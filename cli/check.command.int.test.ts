/**
 * `arkiva check`, the workers' healthcheck in docker-compose, run as the container runs it: a CLI
 * process against PostgreSQL, Redis and RGW. Needs all three.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireService } from '../test-support/services.ts';
import { openRealDeps, realServicesEnv } from '../test-support/real-deps.ts';
import { chooseOcrEngine } from '../ocr/index.ts';
import { loadConfig } from '../config/index.ts';

const ready = requireService('databaseUrl') && requireService('redisUrl') && requireService('s3');
const bin = path.resolve('bin/arkiva.mjs');

function arkiva(args: string[], env: Record<string, string>): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', (code) => resolve({ code, out, err }));
  });
}

describe.skipIf(!ready)('arkiva check on the real services', () => {
  let env: Record<string, string>;
  let real: Awaited<ReturnType<typeof openRealDeps>>;

  beforeAll(async () => {
    env = realServicesEnv();
    // makes the schema and the locked bucket the process will find
    real = await openRealDeps(env);
  });

  afterAll(async () => {
    await real?.cleanup();
  });

  it('exits 0 with every part ready, and prints no AWS SDK Node-version warning', async () => {
    const r = await arkiva(['check', '--json'], env);
    expect(r.code, r.err).toBe(0);
    // OCR_ENGINE defaults to auto: what auto finds on this machine (CI installs tesseract-ocr)
    const chosen = await chooseOcrEngine(loadConfig(env).ocr);
    expect(chosen.reason).toMatch(/^OCR_ENGINE=auto/);
    expect(JSON.parse(r.out)).toEqual({ status: 'ready', checks: { database: 'ok', store: 'ok', queue: 'ok' }, ocr: chosen });
    const wasm = await arkiva(['check', '--json'], { ...env, OCR_ENGINE: 'wasm' });
    expect(JSON.parse(wasm.out).ocr).toEqual({ kind: 'wasm', version: expect.stringMatching(/^tesseract\.js /), reason: 'OCR_ENGINE=wasm' });
    expect(r.err).not.toContain('NodeVersionSupportWarning');
    expect(r.err).not.toContain('AWS SDK');
  });

  it('exits 1 within its bounds when the object store does not answer, naming the store', async () => {
    const started = Date.now();
    const r = await arkiva(['check'], { ...env, S3_ENDPOINT: 'http://127.0.0.1:9', S3_CONNECT_TIMEOUT_SECONDS: '1', S3_TIMEOUT_SECONDS: '2', S3_MAX_ATTEMPTS: '1' });
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/S3 \w+ of .* failed/);
    expect(Date.now() - started).toBeLessThan(30_000);
  });
});
