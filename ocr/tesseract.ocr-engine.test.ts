import { spawn, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Worker as NodeWorker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAppError } from '../common/index.ts';
import { scanOcrData } from './lang-data.ts';
import { drawnWord, expectNearInk, wordOf } from './ocr-engine.conformance.ts';
import { OcrTimeoutError, OcrWorkerError } from './ocr-engine.ts';
import { REGISTER_LINES, renderTextPage, type SyntheticPage } from '../test-support/synthetic-page.ts';
import { TesseractOcrEngine, type TesseractOcrOptions } from './tesseract.ocr-engine.ts';
import { startTesseractWorker, type TesseractWorkerHandle } from './tesseract-worker.ts';

const LANGS = ['sqi', 'srp', 'eng'];
const CYRILLIC = REGISTER_LINES.filter((l) => /[\u0400-\u04ff]/.test(l));

/** An engine whose worker threads the test can see (and kill). */
function engineWithThreads(options: Partial<TesseractOcrOptions> = {}) {
  const threads: NodeWorker[] = [];
  const engine = new TesseractOcrEngine({
    poolSize: 1,
    recycleAfterPages: 1000,
    recycleRssMb: 16384,
    startWorker: (langs, langPath) => startTesseractWorker(langs, langPath, { onThread: (t) => threads.push(t) }),
    ...options,
  });
  return { engine, threads };
}

/** Resolves once a page holds a worker (image prepared; with a started worker, recognition under way). */
async function onWorker(engine: TesseractOcrEngine): Promise<void> {
  while (engine.stats().busy === 0) await new Promise((r) => setTimeout(r, 2));
}

async function exited(thread: NodeWorker, withinMs = 5000): Promise<boolean> {
  const until = Date.now() + withinMs;
  while (thread.threadId !== -1 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
  return thread.threadId === -1;
}

let mixed: SyntheticPage;
let small: SyntheticPage;

beforeAll(async () => {
  [mixed, small] = await Promise.all([
    renderTextPage({ width: 1400, height: 700, lines: REGISTER_LINES.slice(0, 6) }),
    renderTextPage({ width: 800, height: 220, lines: ['Gjergj Krasniqi 1958'] }),
  ]);
});

describe('TesseractOcrEngine: reading', () => {
  const engine = new TesseractOcrEngine({ poolSize: 2, recycleAfterPages: 1000, recycleRssMb: 16384 });
  afterAll(() => engine.close());

  // Reading Albanian and Cyrillic with boxes on the ink is the shared conformance suite's (ocr-engine.conformance.test.ts).
  it('reads Cyrillic with srp alone', async () => {
    const page = await renderTextPage({ width: 1200, height: 500, lines: CYRILLIC.slice(0, 4) });
    const r = await engine.recognize(page.png, { languages: ['srp'] });
    for (const text of ['Милош', 'Јовановић', 'Драган', 'Ниш', 'Јелена', 'Крагујевац']) expectNearInk(wordOf(r, text).bbox, drawnWord(page, text), 6);
    expect(r.engine).toMatch(/ srp 4\.0\.0_best_int$/);
  });

  it('downscales a 5000 px page for OCR and gives boxes and hOCR in the pixels of the page given', async () => {
    // Text placed right of x = 3500, so a box left in OCR-image pixels could not pass.
    const page = await renderTextPage({ width: 5000, height: 1300, size: 90, left: 2600, lines: REGISTER_LINES.slice(0, 4) });
    const r = await engine.recognize(page.png, { languages: LANGS, hocr: true });
    expect([r.width, r.height]).toEqual([5000, 1300]);
    const scale = 5000 / 3500;
    for (const text of ['Krasniqi', 'Prishtinë', 'Јовановић', 'Београд', 'Gjakovë']) expectNearInk(wordOf(r, text).bbox, drawnWord(page, text), Math.ceil(6 * scale), scale);
    expect(Math.max(...r.words.map((w) => w.bbox.x1))).toBeGreaterThan(3500);
    expect(r.hocr).toContain('bbox 0 0 5000 1300');
    const b = wordOf(r, 'Prishtinë').bbox;
    expect(r.hocr).toContain(`bbox ${b.x0} ${b.y0} ${b.x1} ${b.y1}; x_wconf`);
  });

  it('gives a one-page searchable PDF and hOCR when asked', async () => {
    const r = await engine.recognize(small.png, { languages: ['sqi'], pdf: true, hocr: true });
    expect(r.pdf).toBeInstanceOf(Uint8Array);
    expect(Buffer.from(r.pdf!.subarray(0, 5)).toString('latin1')).toBe('%PDF-');
    expect(r.hocr).toMatch(/class='ocrx_word'[^>]*>Krasniqi</);
  });

  it('refuses unknown languages with ERR_VALIDATION naming them, before starting a worker', async () => {
    const fresh = new TesseractOcrEngine({ poolSize: 1, recycleAfterPages: 10, recycleRssMb: 1024 });
    try {
      for (const languages of [['sqi', 'klingon'], ['osd'], []]) {
        const e = await fresh.recognize(small.png, { languages }).catch((x: unknown) => x);
        expect(isAppError(e, 'ERR_VALIDATION'), String(e)).toBe(true);
        if (languages.length) expect((e as Error).message).toContain(JSON.stringify(languages.at(-1)));
      }
      const e = await fresh.recognize(small.png, { languages: ['sqi'], timeoutMs: -1 }).catch((x: unknown) => x);
      expect(isAppError(e, 'ERR_VALIDATION')).toBe(true);
      expect(fresh.stats().workers).toBe(0);
    } finally {
      await fresh.close();
    }
  });
});

describe('TesseractOcrEngine: pool', () => {
  it('recognises two pages at once on a pool of two, with the event loop free', async () => {
    const { engine } = engineWithThreads({ poolSize: 2 });
    try {
      await Promise.all([engine.recognize(small.png, { languages: ['sqi'] }), engine.recognize(small.png, { languages: ['sqi'] })]);
      expect(engine.stats()).toMatchObject({ workers: 2, busy: 0 });
      const t1 = performance.now();
      await engine.recognize(mixed.png, { languages: ['sqi'] });
      const alone = performance.now() - t1;

      let maxBusy = 0;
      let maxLag = 0;
      let last = performance.now();
      const probe = setInterval(() => {
        const now = performance.now();
        maxLag = Math.max(maxLag, now - last - 10);
        last = now;
        maxBusy = Math.max(maxBusy, engine.stats().busy);
      }, 10);
      const spans: [number, number][] = [];
      const timed = async () => {
        const s = performance.now();
        const r = await engine.recognize(mixed.png, { languages: ['sqi'] });
        spans.push([s, performance.now()]);
        return r;
      };
      const t2 = performance.now();
      const [a, b] = await Promise.all([timed(), timed()]);
      const both = performance.now() - t2;
      clearInterval(probe);

      expect(a.text).toBe(b.text);
      expect(maxBusy).toBe(2);
      const [[s1, e1], [s2, e2]] = spans as [[number, number], [number, number]];
      // Run one after the other, the two readings would not overlap at all; side by side they overlap
      // for nearly the whole of the shorter one. (Wall time against one page alone is no proof:
      // other test files share the cores.)
      const overlap = Math.min(e1, e2) - Math.max(s1, s2);
      console.info(`one page ${alone.toFixed(0)} ms; two at once ${both.toFixed(0)} ms; overlap ${overlap.toFixed(0)} ms; event-loop lag max ${maxLag.toFixed(0)} ms`);
      expect(overlap).toBeGreaterThan(0.8 * Math.min(e1 - s1, e2 - s2));
      expect(maxLag).toBeLessThan(250);
    } finally {
      await engine.close();
    }
  });

  it('recycles a worker after N pages and keeps reading correctly', async () => {
    const { engine, threads } = engineWithThreads({ recycleAfterPages: 2 });
    try {
      for (let i = 0; i < 3; i++) {
        const r = await engine.recognize(small.png, { languages: ['sqi'] });
        expect(r.text.trim()).toBe('Gjergj Krasniqi 1958');
      }
      expect(engine.stats()).toMatchObject({ recycled: 1, pagesDone: 3, workers: 1 });
      expect(threads).toHaveLength(2);
      expect(await exited(threads[0]!)).toBe(true);
      expect(threads[1]!.threadId).not.toBe(-1);
      await engine.recognize(small.png, { languages: ['sqi'] });
      expect(engine.stats()).toMatchObject({ recycled: 2, pagesDone: 4, workers: 0 });
      expect(await exited(threads[1]!)).toBe(true);
    } finally {
      await engine.close();
    }
  });

  it('stops a page over its time bound with OcrTimeoutError, replaces the worker and goes on', async () => {
    const { engine, threads } = engineWithThreads();
    try {
      await engine.recognize(small.png, { languages: ['sqi'] });
      const e = await engine.recognize(mixed.png, { languages: ['sqi'], timeoutMs: 50 }).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(OcrTimeoutError);
      expect(engine.stats()).toMatchObject({ recycled: 1, workers: 0, busy: 0 });
      expect(await exited(threads[0]!)).toBe(true);
      const r = await engine.recognize(small.png, { languages: ['sqi'], timeoutMs: 30_000 });
      expect(r.text.trim()).toBe('Gjergj Krasniqi 1958');
      expect(threads).toHaveLength(2);
    } finally {
      await engine.close();
    }
  });

  it('stops a page when its signal aborts, also while queued, and goes on', async () => {
    const { engine, threads } = engineWithThreads();
    try {
      await engine.recognize(small.png, { languages: ['sqi'] });
      const running = new AbortController();
      const aborted = engine.recognize(mixed.png, { languages: ['sqi'], signal: running.signal }).catch((x: unknown) => x);
      await onWorker(engine);
      running.abort();
      const e = await aborted;
      expect((e as Error).name).toBe('AbortError');
      expect(engine.stats().recycled).toBe(1);
      expect(await exited(threads[0]!)).toBe(true);

      // Queued behind a page on the only worker: aborting it leaves that page alone.
      const first = engine.recognize(mixed.png, { languages: ['sqi'] });
      await onWorker(engine);
      const queued = new AbortController();
      const second = engine.recognize(small.png, { languages: ['sqi'], signal: queued.signal }).catch((x: unknown) => x);
      await new Promise((r) => setTimeout(r, 100));
      queued.abort();
      expect(((await second) as Error).name).toBe('AbortError');
      expect((await first).text).toContain('Krasniqi');
      expect(engine.stats()).toMatchObject({ recycled: 1, pagesDone: 2 });

      const already = await engine.recognize(small.png, { languages: ['sqi'], signal: AbortSignal.abort() }).catch((x: unknown) => x);
      expect((already as Error).name).toBe('AbortError');
    } finally {
      await engine.close();
    }
  });

  it('fails the page of a worker thread that dies with OcrWorkerError and replaces the worker, busy or idle', async () => {
    const { engine, threads } = engineWithThreads();
    try {
      await engine.recognize(small.png, { languages: ['sqi'] });
      const page = engine.recognize(mixed.png, { languages: ['sqi'] }).catch((x: unknown) => x);
      await onWorker(engine);
      void threads[0]!.terminate();
      const e = await page;
      expect(e).toBeInstanceOf(OcrWorkerError);
      expect((e as Error).message).toMatch(/exited unexpectedly/);
      expect(engine.stats()).toMatchObject({ recycled: 1, workers: 0 });
      expect((await engine.recognize(small.png, { languages: ['sqi'] })).text.trim()).toBe('Gjergj Krasniqi 1958');

      // One that dies while idle is replaced before a page is sent to it.
      await threads[1]!.terminate();
      while (engine.stats().workers > 0) await new Promise((r) => setTimeout(r, 5));
      expect(engine.stats().recycled).toBe(2);
      expect((await engine.recognize(small.png, { languages: ['sqi'] })).text.trim()).toBe('Gjergj Krasniqi 1958');
    } finally {
      await engine.close();
    }
  });

  it('turns a job the worker rejects into OcrWorkerError and a failure signal, without taking the process down', async () => {
    const eng = (await scanOcrData()).languages.get('eng')!;
    const handle = await startTesseractWorker(['eng'], path.dirname(eng.file));
    try {
      const e = await handle.recognize(Buffer.from('not an image at all'), { pdf: false }).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(OcrWorkerError);
      expect(await handle.failure).toBeInstanceOf(OcrWorkerError);
    } finally {
      await handle.terminate();
    }
  });

  it('stops an idle worker of another language set when the pool is full', async () => {
    const { engine, threads } = engineWithThreads();
    try {
      await engine.recognize(small.png, { languages: ['sqi'] });
      const r = await engine.recognize(small.png, { languages: ['eng'] });
      expect(r.engine).toMatch(/ eng 4\.0\.0_best_int$/);
      expect(engine.stats()).toMatchObject({ workers: 1, recycled: 0 });
      expect(await exited(threads[0]!)).toBe(true);
    } finally {
      await engine.close();
    }
  });

  it('close() stops every thread, fails the page in flight, and refuses later calls', async () => {
    const { engine, threads } = engineWithThreads({ poolSize: 2 });
    await engine.recognize(small.png, { languages: ['sqi'] });
    const inFlight = engine.recognize(mixed.png, { languages: ['srp'] }).catch((x: unknown) => x);
    await onWorker(engine);
    await engine.close();
    expect(threads.length).toBeGreaterThanOrEqual(1);
    for (const t of threads) expect(t.threadId).toBe(-1);
    expect(engine.stats()).toMatchObject({ workers: 0, busy: 0 });
    expect(isAppError(await inFlight, 'ERR_UNAVAILABLE')).toBe(true);
    expect(isAppError(await engine.recognize(small.png, { languages: ['sqi'] }).catch((x: unknown) => x), 'ERR_UNAVAILABLE')).toBe(true);
  });

  it('lets a process exit by itself after close(), with no network access attempted', async () => {
    // Run in a child: a leftover worker thread would keep it alive. The preload, which worker
    // threads inherit, makes any socket or fetch fail loudly.
    const deny = [
      "import net from 'node:net';",
      "const deny = (what) => function () { process.stderr.write('NETWORK ATTEMPT ' + what + '\\n'); throw new Error('network: ' + what); };",
      "net.Socket.prototype.connect = deny('connect');",
      "globalThis.fetch = deny('fetch');",
    ].join('');
    const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
    const args = ['--import', 'tsx', '--import', `data:text/javascript,${encodeURIComponent(deny)}`, 'bench/ocr-pool.bench.ts'];
    args.push('--pages', '1', '--pools', '1', '--width', '900', '--height', '300', '--lines', '2', '--languages', 'sqi+srp+eng');
    const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null>((resolve) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        resolve(null);
      }, 40_000);
      child.on('exit', (c) => {
        clearTimeout(timer);
        resolve(c);
      });
    });
    expect(out).not.toContain('NETWORK ATTEMPT');
    expect(code, out).toBe(0);
    expect(out).toMatch(/pool 1: .* pages\/min/);
  });
});

describe('TesseractOcrEngine: time bound on a loaded machine', () => {
  it('bounds a page by its thread’s CPU time: other processes loading every core slow it past the budget in wall time without stopping it', async () => {
    const handles: TesseractWorkerHandle[] = [];
    const engine = new TesseractOcrEngine({
      poolSize: 1,
      recycleAfterPages: 1000,
      recycleRssMb: 16384,
      startWorker: async (langs, langPath) => {
        const h = await startTesseractWorker(langs, langPath);
        handles.push(h);
        return h;
      },
    });
    const loops: ChildProcess[] = [];
    try {
      await engine.recognize(small.png, { languages: ['sqi'] });
      const cpu = async () => (await handles[0]!.cpuTimeMs!())!;
      const before = await cpu();
      await engine.recognize(mixed.png, { languages: ['sqi'] });
      const pageCpuMs = (await cpu()) - before;
      expect(pageCpuMs).toBeGreaterThan(0);

      // three busy processes per core: the OCR thread gets at most about a third of one
      const busy = 3 * os.availableParallelism();
      for (let i = 0; i < busy; i++) loops.push(spawn(process.execPath, ['-e', 'const end = Date.now() + 60000; while (Date.now() < end);'], { stdio: 'ignore' }));
      const budgetMs = Math.ceil(2 * pageCpuMs);
      const t0 = performance.now();
      const r = await engine.recognize(mixed.png, { languages: ['sqi'], timeoutMs: budgetMs });
      const wallMs = performance.now() - t0;
      // a wall-clock bound of the same size would have stopped this reading
      expect(wallMs, `read in ${Math.round(wallMs)} ms of wall time, ${pageCpuMs} ms of CPU unloaded`).toBeGreaterThan(budgetMs);
      expect(r.words.length).toBeGreaterThan(10);

      // and a budget below the page's CPU time still stops it, in CPU terms: without the busy
      // processes, or the wall ceiling (10× a third of the page) could come first on a machine
      // that is loaded besides them
      for (const l of loops) l.kill('SIGKILL');
      const e = await engine.recognize(mixed.png, { languages: ['sqi'], timeoutMs: Math.max(20, Math.floor(pageCpuMs / 3)) }).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(OcrTimeoutError);
      expect((e as OcrTimeoutError).clock).toBe('cpu');
    } finally {
      for (const l of loops) l.kill('SIGKILL');
      await engine.close();
    }
  });
});
