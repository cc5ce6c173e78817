/**
 * What only the native adapter has: processes that crash, hang or overrun memory, the data folder
 * it unpacks, and the chooser. The shared behaviour is in ocr-engine.conformance.test.ts.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAppError } from '../common/index.ts';
import { renderTextPage, type SyntheticPage } from '../test-support/synthetic-page.ts';
import { chooseOcrEngine } from './choose-engine.ts';
import { scanOcrData } from './lang-data.ts';
import { unpackOcrData } from './native-data.ts';
import { NativeTesseractOcrEngine } from './native.ocr-engine.ts';
import { nativeTesseractStatus } from './ocr-engine.conformance.ts';
import { OcrTimeoutError, OcrWorkerError } from './ocr-engine.ts';

const native = nativeTesseractStatus();
if (native.failInCi) {
  describe('NativeTesseractOcrEngine', () => {
    it('can run here', () => {
      expect.fail(native.message);
    });
  });
} else if (!native.available) console.warn(`NativeTesseractOcrEngine tests skipped: ${native.message}`);

let dir: string;
let small: SyntheticPage;
beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'arkiva-native-test-'));
  small = await renderTextPage({ width: 800, height: 220, lines: ['Gjergj Krasniqi 1958'] });
});
afterAll(() => fs.rm(dir, { recursive: true, force: true }));

/**
 * A stand-in `tesseract`: answers --version as the real one, runs `script` (sh) for a page, and
 * logs every call. `$n` is the number of the call (0 for the first page), so a script can misbehave
 * once and then hand over to the real binary.
 */
async function fakeTesseract(name: string, script: string): Promise<{ binary: string; calls: () => Promise<string[]> }> {
  const binary = path.join(dir, name);
  const log = `${binary}.log`;
  await fs.writeFile(
    binary,
    [
      '#!/bin/sh',
      '[ "$1" = "--version" ] && exec tesseract --version',
      `n=$(cat '${log}' 2>/dev/null | wc -l)`,
      `echo "$*" >> '${log}'`,
      script,
      'exec tesseract "$@"',
      '',
    ].join('\n'),
    { mode: 0o755 },
  );
  return { binary, calls: async () => (await fs.readFile(log, 'utf8').catch(() => '')).split('\n').filter(Boolean) };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe.skipIf(!native.available)('NativeTesseractOcrEngine: failing processes', () => {
  it('fails the page of a process that crashes or writes garbage with OcrWorkerError, and reads the next page', async () => {
    const fake = await fakeTesseract('crashing', ['[ "$n" = 0 ] && kill -SEGV $$', '[ "$n" = 1 ] && { echo garbage > "$2.tsv"; echo x > "$2.txt"; exit 0; }'].join('\n'));
    const engine = new NativeTesseractOcrEngine({ poolSize: 1, binary: fake.binary, dataRoot: dir });
    try {
      const crashed = await engine.recognize(small.png, { languages: ['sqi'] }).catch((x: unknown) => x);
      expect(crashed).toBeInstanceOf(OcrWorkerError);
      expect((crashed as Error).message).toMatch(/killed by SIGSEGV/);
      const garbage = await engine.recognize(small.png, { languages: ['sqi'] }).catch((x: unknown) => x);
      expect(garbage).toBeInstanceOf(OcrWorkerError);
      expect((garbage as Error).message).toMatch(/no TSV header/);
      const r = await engine.recognize(small.png, { languages: ['sqi'] });
      expect(r.text.trim()).toBe('Gjergj Krasniqi 1958');
      expect(engine.stats()).toEqual({ workers: 0, busy: 0, recycled: 2, pagesDone: 1 });
      expect(await fake.calls()).toHaveLength(3);
    } finally {
      await engine.close();
    }
  });

  it('fails a page over its memory bound with OcrWorkerError naming the bound, and reads with room', async () => {
    const tight = new NativeTesseractOcrEngine({ poolSize: 1, dataRoot: dir, memoryLimitMb: 80 });
    const roomy = new NativeTesseractOcrEngine({ poolSize: 1, dataRoot: dir });
    try {
      const e = await tight.recognize(small.png, { languages: ['sqi', 'srp', 'eng'] }).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(OcrWorkerError);
      expect((e as Error).message).toMatch(/ran out of its memory bound of 80 MiB/);
      expect((await roomy.recognize(small.png, { languages: ['sqi', 'srp', 'eng'] })).text.trim()).toBe('Gjergj Krasniqi 1958');
    } finally {
      await Promise.all([tight.close(), roomy.close()]);
    }
  });

  it('kills a hung process by the wall ceiling (it uses no CPU) with OcrTimeoutError', async () => {
    const fake = await fakeTesseract('hanging', `echo $$ > '${dir}/hanging.pid'; exec sleep 60`);
    const engine = new NativeTesseractOcrEngine({ poolSize: 1, binary: fake.binary, dataRoot: dir });
    try {
      const started = performance.now();
      const e = await engine.recognize(small.png, { languages: ['sqi'], timeoutMs: 100 }).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(OcrTimeoutError);
      expect((e as OcrTimeoutError).clock).toBe('wall');
      // the wall ceiling is ten budgets
      expect(performance.now() - started).toBeGreaterThanOrEqual(900);
      const pid = Number(await fs.readFile(`${dir}/hanging.pid`, 'utf8'));
      expect(alive(pid)).toBe(false);
      expect(engine.stats()).toMatchObject({ workers: 0, busy: 0, recycled: 1 });
    } finally {
      await engine.close();
    }
  });

  it('close() kills the running process', async () => {
    const fake = await fakeTesseract('closing', `echo $$ > '${dir}/closing.pid'; exec sleep 60`);
    const engine = new NativeTesseractOcrEngine({ poolSize: 1, binary: fake.binary, dataRoot: dir });
    const page = engine.recognize(small.png, { languages: ['sqi'] }).catch((x: unknown) => x);
    while (engine.stats().workers === 0) await new Promise((r) => setTimeout(r, 5));
    await new Promise((r) => setTimeout(r, 100));
    const pid = Number(await fs.readFile(`${dir}/closing.pid`, 'utf8'));
    expect(alive(pid)).toBe(true);
    await engine.close();
    expect(isAppError(await page, 'ERR_UNAVAILABLE')).toBe(true);
    expect(alive(pid)).toBe(false);
  });

  it('starts no process for a page in unknown languages', async () => {
    const fake = await fakeTesseract('counting', '');
    const engine = new NativeTesseractOcrEngine({ poolSize: 1, binary: fake.binary, dataRoot: dir });
    try {
      expect(isAppError(await engine.recognize(small.png, { languages: ['tlh'] }).catch((x: unknown) => x), 'ERR_VALIDATION')).toBe(true);
      expect(await fake.calls()).toEqual([]);
    } finally {
      await engine.close();
    }
  });
});

describe.skipIf(!native.available)('NativeTesseractOcrEngine: pool and outputs', () => {
  it('runs at most poolSize processes', async () => {
    const engine = new NativeTesseractOcrEngine({ poolSize: 1, dataRoot: dir });
    try {
      let most = 0;
      const probe = setInterval(() => (most = Math.max(most, engine.stats().workers)), 2);
      const pages = await Promise.all([0, 1, 2].map(() => engine.recognize(small.png, { languages: ['sqi'] })));
      clearInterval(probe);
      expect(most).toBe(1);
      for (const r of pages) expect(r.text.trim()).toBe('Gjergj Krasniqi 1958');
      expect(engine.stats()).toEqual({ workers: 0, busy: 0, recycled: 0, pagesDone: 3 });
    } finally {
      await engine.close();
    }
  });

  it('gives a one-page searchable PDF when asked', async () => {
    const engine = new NativeTesseractOcrEngine({ poolSize: 1, dataRoot: dir });
    try {
      const r = await engine.recognize(small.png, { languages: ['sqi'], pdf: true });
      expect(Buffer.from(r.pdf!.subarray(0, 5)).toString('latin1')).toBe('%PDF-');
      expect(r.engine).toMatch(/^tesseract 5\.\d+\.\d+ \(native, LSTM\) \/ sqi 4\.0\.0_best_int$/);
    } finally {
      await engine.close();
    }
  });

  it('reads Latin Serbian with the Croatian model under its own name', async () => {
    const engine = new NativeTesseractOcrEngine({ poolSize: 1, dataRoot: dir });
    try {
      const page = await renderTextPage({ width: 1000, height: 220, lines: ['Đorđe Petrović 1961 Čačak'] });
      const r = await engine.recognize(page.png, { languages: ['srp_latn'] });
      expect(r.text.trim()).toBe('Đorđe Petrović 1961 Čačak');
      expect(r.engine).toMatch(/ srp_latn=hrv 4\.0\.0_best_int$/);
    } finally {
      await engine.close();
    }
  });
});

describe('unpackOcrData', () => {
  it('unpacks the npm models once into one folder, safely when several unpack at once, with aliases as links', async () => {
    const root = await fs.mkdtemp(path.join(dir, 'data-'));
    const installed = await scanOcrData();
    const folders = await Promise.all([1, 2, 3].map(() => unpackOcrData(installed, root)));
    expect(new Set(folders).size).toBe(1);
    const folder = folders[0]!;
    expect(path.basename(folder)).toMatch(/^arkiva-tessdata-[0-9a-f]{16}$/);
    const names = (await fs.readdir(folder)).sort();
    const expected = [...installed.languages.keys(), ...(installed.osd ? ['osd'] : [])].map((c) => `${c}.traineddata`).sort();
    // nothing half-written or temporary left behind
    expect(names).toEqual(expected);
    const sqi = installed.languages.get('sqi')!;
    const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
    expect(sha(await fs.readFile(path.join(folder, 'sqi.traineddata')))).toBe(sha(gunzipSync(await fs.readFile(sqi.file))));
    expect(await fs.readlink(path.join(folder, 'srp_latn.traineddata'))).toBe('hrv.traineddata');

    const before = await fs.stat(path.join(folder, 'eng.traineddata'));
    expect(await unpackOcrData(installed, root)).toBe(folder);
    const after = await fs.stat(path.join(folder, 'eng.traineddata'));
    expect([after.ino, after.mtimeMs]).toEqual([before.ino, before.mtimeMs]);
  });
});

describe('chooseOcrEngine', () => {
  const base = { poolSize: 1, recycleAfterPages: 10, recycleRssMb: 1024 };
  const missing = '/nonexistent/tesseract';

  it('takes tesseract.js when asked, without looking for tesseract', async () => {
    expect(await chooseOcrEngine({ ...base, engine: 'wasm', binary: missing })).toMatchObject({ kind: 'wasm', version: expect.stringMatching(/^tesseract\.js \d/), reason: 'OCR_ENGINE=wasm' });
  });

  it('refuses OCR_ENGINE=native without the binary, saying what to do', async () => {
    const e = await chooseOcrEngine({ ...base, engine: 'native', binary: missing }).catch((x: unknown) => x);
    expect(isAppError(e, 'ERR_UNAVAILABLE')).toBe(true);
    expect((e as Error).message).toBe("OCR_ENGINE=native but `/nonexistent/tesseract` was not found; install Debian's tesseract-ocr or set OCR_ENGINE=wasm");
  });

  it('falls back to tesseract.js under auto without the binary, and says why', async () => {
    const c = await chooseOcrEngine({ ...base, engine: 'auto', binary: missing });
    expect(c).toMatchObject({ kind: 'wasm' });
    expect(c.reason).toMatch(/not found/);
  });

  it.skipIf(!native.available)('takes native tesseract under auto when it runs', async () => {
    expect(await chooseOcrEngine({ ...base, engine: 'auto', dataRoot: dir })).toMatchObject({ kind: 'native', version: expect.stringMatching(/^tesseract 5\./) });
  });
});
