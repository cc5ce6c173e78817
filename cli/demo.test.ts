import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { nativeTesseractStatus } from '../ocr/ocr-engine.conformance.ts';

const run = promisify(execFile);

describe('arkiva demo', () => {
  // OCR_ENGINE=wasm is what a fresh machine with only Node runs; native where Debian's tesseract is (CI installs it).
  const native = nativeTesseractStatus();
  for (const engine of ['wasm', 'native'] as const) {
    const skip = engine === 'native' && !native.available && !native.failInCi;
    it.skipIf(skip)(`runs the whole pipeline embedded, with no service configured, and finds a ground-truth name (OCR_ENGINE=${engine})`, async () => {
      if (engine === 'native' && native.failInCi) expect.fail(native.message);
      // Only what a fresh machine has: no DATABASE_URL, REDIS_URL or S3_* reach the child.
      const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', OCR_POOL_SIZE: '2', OCR_ENGINE: engine };
      const { stdout } = await run(process.execPath, [path.resolve('bin/arkiva.mjs'), 'demo', '--pages', '2', '--json'], { env, timeout: 240_000 });
      const out = JSON.parse(stdout.trim().split('\n').pop()!) as {
        book: { status: string; pageCount: number; summary: { done: number; failed: number; meanOcrConfidence: number } };
        hit?: { query: string; sequence: number; truthPage: number; box: { x0: number; x1: number } };
        ocr: { kind: string; reason: string };
      };
      expect(out.ocr).toMatchObject({ kind: engine, reason: `OCR_ENGINE=${engine}` });
      expect(out.book.status).toBe('complete');
      expect(out.book.pageCount).toBe(2);
      expect(out.book.summary.done).toBe(2);
      expect(out.book.summary.meanOcrConfidence).toBeGreaterThan(50);
      expect(out.hit?.sequence).toBe(out.hit?.truthPage);
      expect(out.hit!.box.x1).toBeGreaterThan(out.hit!.box.x0);
    }, 300_000);
  }

  it('answers an unknown command with usage and exit 2', async () => {
    const err = await run(process.execPath, [path.resolve('bin/arkiva.mjs'), 'frobnicate'], { env: { PATH: process.env.PATH ?? '' } }).catch((e: { code: number; stderr: string }) => e);
    expect((err as { code: number }).code).toBe(2);
    expect((err as { stderr: string }).stderr).toMatch(/unknown command "frobnicate"/);
  });
});
