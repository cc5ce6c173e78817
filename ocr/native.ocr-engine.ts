/**
 * `OcrEngine` on native Tesseract 5 (Debian's `tesseract` command), one process per page image.
 *
 * - Same models as the tesseract.js adapter: the npm packages' `4.0.0_best_int` data, unpacked once
 *   (native-data.ts) and passed with `--tessdata-dir`; Debian's own traineddata is never read.
 * - Same preparation (prepareForOcr), orientation detection (OSD on orientationImage, `--psm 0`),
 *   page segmentation (PSM 3, no inverted-text pass) and thresholding per profile; the same
 *   layout code turns tesseract's TSV into words, lines and the character-weighted mean.
 * - At most `poolSize` processes run at once, one OpenMP thread each; calls wait in one FIFO queue.
 * - A process per page, not a persistent one: the CLI reads one image per start. Starting with
 *   three languages costs ~0.1 s of CPU (one language ~0.04 s) against 0.69 s a register page at
 *   150 dpi and 0.99 s at 300 dpi (tesseract.js: 1.07 and 1.47 s with preparation; native 0.72 and
 *   1.06 s with it), so a persistent process could save at most ~10-15%.
 * - OSD through the CLI (`--psm 0`) cost ~0.35 s of CPU a page against ~0.17 s in tesseract.js's
 *   persistent OSD worker on the same images: pages read upright first (profilesFor) pay it only
 *   when that reading fails.
 *   A crash, a hang or a memory overrun ends that process only: the page fails with
 *   OcrWorkerError or OcrTimeoutError and the next page starts a fresh one.
 * - `deskew` has no command-line equivalent (tesseract.js straightens with its own `rotateAuto`);
 *   no profile sets it, and native pages are read unstraightened.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { AppError, silentLogger, type Logger } from '../common/index.ts';
import { scanOcrData, validateOcrLanguages, type InstalledOcrData } from './lang-data.ts';
import { unpackOcrData } from './native-data.ts';
import { OrientationMemo } from './orientation-memo.ts';
import { waitInLine, assertTimeout, detectsOrientation, OSD_DEFAULT_TIMEOUT_MS, OSD_MAX_SIDE, type OcrImageBounds, modelLabel, noteProfile, positiveSetting, preparationOf, turnFor } from './page-reading.ts';
import { hocrDocument } from './hocr-document.ts';
import { hocrPageFragment, orientationFromOsd, treeFromTsv } from './native-output.ts';
import { exitFailure, nativeTesseractVersion, runTesseract, type RunningTesseract, type TesseractExit } from './native-process.ts';
import { OcrTimeoutError, OcrWorkerError, type OcrEngine, type OcrOptions, type OcrProfile, type OcrResult, type OcrStats } from './ocr-engine.ts';
import { DEFAULT_MAX_INPUT_PIXELS, DEFAULT_MAX_OCR_SIDE, orientationImage, prepareForOcr, scaleHocr } from './prepare-image.ts';
import type { DetectedOrientation } from './tesseract-osd.ts';
import { layoutFromPage } from './tesseract-page.ts';

/** Settings of the native engine; `Config['ocr']` fits as is. */
export interface NativeTesseractOcrOptions extends OcrImageBounds {
  /** Most tesseract processes running at once (each uses one core). */
  poolSize: number;
  /** The tesseract command. Default `tesseract` on PATH; tests point it at stand-ins that crash. */
  binary?: string;
  /** Folder under which the language data is unpacked (`arkiva-tessdata-<key>`). Default the OS temporary folder. */
  dataRoot?: string;
  /** Address-space bound of each tesseract process, in MiB. Default 2048 (a 3500 px page peaked at ~150 MiB resident). */
  memoryLimitMb?: number;
}

const DEFAULT_MEMORY_LIMIT_MB = 2048;
const THRESHOLDING: Record<NonNullable<OcrProfile['binarisation']>, string> = { otsu: '0', adaptive: '1', sauvola: '2' };
// What tesseract-worker.ts sets on every tesseract.js worker: automatic layout (PSM 3) and no
// second reading of low-confidence lines as white on black (register pages have none).
const PAGE_ARGS = ['--psm', '3', '-c', 'tessedit_do_invert=0'];

interface Waiter {
  readonly resolve: () => void;
  readonly reject: (e: unknown) => void;
}

/** The native Tesseract adapter of `OcrEngine`. */
export class NativeTesseractOcrEngine implements OcrEngine {
  private readonly orientations = new OrientationMemo();
  private readonly poolSize: number;
  private readonly maxOcrSide: number;
  private readonly maxInputPixels: number;
  private readonly binary: string;
  private readonly dataRoot: string;
  private readonly memoryLimitMb: number;
  private readonly waiters: Waiter[] = [];
  private readonly running = new Set<RunningTesseract>();
  private scan: Promise<InstalledOcrData> | undefined;
  private installed: Promise<{ data: InstalledOcrData; dir: string; version: string }> | undefined;
  private held = 0;
  private closed = false;
  private recycled = 0;
  private pagesDone = 0;

  constructor(
    options: NativeTesseractOcrOptions,
    private readonly log: Logger = silentLogger(),
  ) {
    const positive = positiveSetting;
    this.poolSize = positive(options.poolSize, 'pool size');
    this.maxOcrSide = positive(options.maxOcrSide ?? DEFAULT_MAX_OCR_SIDE, 'maximum side');
    this.maxInputPixels = positive(options.maxInputPixels ?? DEFAULT_MAX_INPUT_PIXELS, 'maximum input pixels');
    this.memoryLimitMb = positive(options.memoryLimitMb ?? DEFAULT_MEMORY_LIMIT_MB, 'memory bound');
    this.binary = options.binary ?? 'tesseract';
    this.dataRoot = options.dataRoot ?? os.tmpdir();
  }

  /**
   * Checks that the binary runs and the data unpacks, and returns the version and data folder;
   * `recognize` does the same on first use.
   */
  async ready(): Promise<{ version: string; dataDir: string }> {
    const { version, dir } = await this.prepared();
    return { version, dataDir: dir };
  }

  /** Recognises one page; see `OcrEngine.recognize`. */
  async recognize(image: Buffer, opts: OcrOptions): Promise<OcrResult> {
    const started = performance.now();
    this.assertOpen();
    const { signal } = opts;
    assertTimeout(opts);
    // languages first: a bad request must not start (or wait for) any process
    const langs = validateOcrLanguages(opts.languages, await this.scanned());
    const { dir, version } = await this.prepared();
    signal?.throwIfAborted();

    const profile = opts.profile;
    const detected = detectsOrientation(profile) ? await this.orientations.detect(image, () => this.detectOrientation(image, dir, opts)) : undefined;
    const rotate = turnFor(profile, detected);
    signal?.throwIfAborted();
    const prepared = await prepareForOcr(image, {
      maxSide: this.maxOcrSide,
      maxInputPixels: this.maxInputPixels,
      preparation: preparationOf(profile, rotate),
    });
    signal?.throwIfAborted();

    const out = await this.withProcessSlot(signal, () => this.read(prepared.png, langs, dir, opts));
    this.pagesDone += 1;

    const layout = layoutFromPage(out.tree, prepared);
    const result: OcrResult = {
      text: out.text,
      meanConfidence: layout.meanConfidence,
      words: layout.words,
      lines: layout.lines,
      engine: `tesseract ${version} (native, LSTM) / ${modelLabel(langs)}`,
      durationMs: Math.round(performance.now() - started),
      width: prepared.width,
      height: prepared.height,
    };
    noteProfile(result, profile, rotate, detected);
    if (out.hocr !== undefined) result.hocr = hocrDocument(scaleHocr(out.hocr, prepared), { system: result.engine, languages: langs, imageName: opts.imageName });
    if (out.pdf) result.pdf = out.pdf;
    return result;
  }

  /** Process counters: `workers` are tesseract processes alive, `busy` pages holding a process slot. */
  stats(): OcrStats {
    return { workers: this.running.size, busy: this.held, recycled: this.recycled, pagesDone: this.pagesDone };
  }

  /** Kills every running process and waits for them; pending and later calls reject. */
  async close(): Promise<void> {
    this.closed = true;
    for (const w of this.waiters.splice(0)) w.reject(closedError());
    const runs = [...this.running];
    for (const r of runs) r.kill(closedError());
    await Promise.all(runs.map((r) => r.done.catch(() => undefined)));
  }

  /** One reading: tesseract writes TSV, text and (when asked) hOCR and PDF into a private folder. */
  private async read(png: Buffer, langs: readonly string[], dir: string, opts: OcrOptions) {
    const outDir = await fs.mkdtemp(path.join(os.tmpdir(), 'arkiva-ocr-'));
    try {
      const base = path.join(outDir, 'page');
      const args = ['stdin', base, '--tessdata-dir', dir, '-l', langs.join('+'), ...PAGE_ARGS];
      args.push('-c', `thresholding_method=${THRESHOLDING[opts.profile?.binarisation ?? 'otsu']}`);
      args.push('-c', 'tessedit_create_tsv=1', '-c', 'tessedit_create_txt=1');
      if (opts.hocr) args.push('-c', 'tessedit_create_hocr=1');
      if (opts.pdf) args.push('-c', 'tessedit_create_pdf=1');
      await this.run(args, { stdin: png, timeoutMs: opts.timeoutMs, signal: opts.signal });
      const file = (ext: string) =>
        fs.readFile(`${base}.${ext}`).catch((e: unknown) => {
          throw new OcrWorkerError(`tesseract exited without writing its ${ext} output`, { cause: e });
        });
      try {
        return {
          tree: treeFromTsv((await file('tsv')).toString('utf8')),
          text: (await file('txt')).toString('utf8'),
          hocr: opts.hocr ? hocrPageFragment((await file('hocr')).toString('utf8')) : undefined,
          pdf: opts.pdf ? new Uint8Array(await file('pdf')) : undefined,
        };
      } catch (e) {
        // a process that exited cleanly without its outputs failed all the same
        this.recycled += 1;
        this.log.warn({ err: e instanceof Error ? e.message : String(e) }, 'tesseract process wrote no usable output');
        throw e;
      }
    } finally {
      await fs.rm(outDir, { recursive: true, force: true });
    }
  }

  /** OSD on a small copy of the page; a failed detection reads the page as given, as the tesseract.js adapter does. */
  private async detectOrientation(image: Buffer, dir: string, opts: OcrOptions): Promise<DetectedOrientation | undefined> {
    const small = await orientationImage(image, { maxSide: OSD_MAX_SIDE, maxInputPixels: this.maxInputPixels });
    opts.signal?.throwIfAborted();
    if (!(await this.scanned()).osd) {
      this.log.warn({}, 'orientation detection needs the @tesseract.js-data/osd package; page read as given');
      return undefined;
    }
    const timeoutMs = Math.min(opts.timeoutMs ?? OSD_DEFAULT_TIMEOUT_MS, OSD_DEFAULT_TIMEOUT_MS);
    const args = ['stdin', 'stdout', '--tessdata-dir', dir, '-l', 'osd', '--psm', '0'];
    try {
      const exit = await this.withProcessSlot(opts.signal, () => this.run(args, { stdin: small, timeoutMs, signal: opts.signal }, { tooLittleText: true }));
      return exit ? orientationFromOsd(exit.stdout) : undefined;
    } catch (e) {
      // an abort or close is the caller's, not a failed detection
      if (opts.signal?.aborted || this.closed) throw e;
      this.log.warn({ err: e instanceof Error ? e.message : String(e) }, 'orientation detection failed; page read as given');
      return undefined;
    }
  }

  /**
   * Runs one process and waits for it. A clean exit resolves; anything else rejects (and counts
   * as a recycled worker, as a retired tesseract.js worker does). With `tooLittleText`, OSD's
   * "Too few characters" exit resolves undefined: that page has no orientation to find.
   */
  private async run(args: string[], opts: { stdin: Buffer; timeoutMs?: number; signal?: AbortSignal }, expect: { tooLittleText: true }): Promise<TesseractExit | undefined>;
  private async run(args: string[], opts: { stdin: Buffer; timeoutMs?: number; signal?: AbortSignal }): Promise<TesseractExit>;
  private async run(args: string[], opts: { stdin: Buffer; timeoutMs?: number; signal?: AbortSignal }, expect?: { tooLittleText: true }): Promise<TesseractExit | undefined> {
    this.assertOpen();
    const run = runTesseract(this.binary, args, { ...opts, memoryLimitMb: this.memoryLimitMb });
    this.running.add(run);
    let exit: TesseractExit;
    try {
      exit = await run.done;
    } catch (e) {
      if (!this.closed) this.recycled += 1;
      if (e instanceof OcrTimeoutError || e instanceof OcrWorkerError || e instanceof AppError || opts.signal?.aborted) throw e;
      throw new OcrWorkerError(`tesseract failed: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    } finally {
      this.running.delete(run);
    }
    if (expect?.tooLittleText && exit.code === 1 && /Too few characters/i.test(exit.stderr)) return undefined;
    const failure = exitFailure(exit, this.memoryLimitMb);
    if (failure) {
      this.recycled += 1;
      this.log.warn({ err: failure.message }, 'tesseract process failed');
      throw failure;
    }
    return exit;
  }

  /** Holds one of `poolSize` process slots (FIFO) while `fn` runs; waiting never counts against a time bound. */
  private async withProcessSlot<T>(signal: AbortSignal | undefined, fn: () => Promise<T>): Promise<T> {
    await this.acquire(signal);
    try {
      return await fn();
    } finally {
      this.held -= 1;
      this.pump();
    }
  }

  private acquire(signal: AbortSignal | undefined): Promise<void> {
    this.assertOpen();
    const waiting = waitInLine<void, Waiter>(this.waiters, signal, (settle) => settle);
    this.pump();
    return waiting;
  }

  private pump(): void {
    while (this.waiters.length > 0 && this.held < this.poolSize && !this.closed) {
      this.held += 1;
      this.waiters.shift()!.resolve();
    }
  }

  /** The installed language packages, found without starting any process. */
  private scanned(): Promise<InstalledOcrData> {
    this.scan ??= scanOcrData().catch((e: unknown) => {
      this.scan = undefined;
      throw e;
    });
    return this.scan;
  }

  /** The installed data, unpacked, and the binary's version: found once per engine. */
  private prepared(): Promise<{ data: InstalledOcrData; dir: string; version: string }> {
    this.installed ??= (async () => {
      const [data, version] = await Promise.all([this.scanned(), nativeTesseractVersion(this.binary)]);
      return { data, version, dir: await unpackOcrData(data, this.dataRoot) };
    })().catch((e: unknown) => {
      this.installed = undefined;
      throw e;
    });
    return this.installed;
  }

  private assertOpen(): void {
    if (this.closed) throw closedError();
  }
}

function closedError(): AppError {
  return new AppError('ERR_UNAVAILABLE', 'the OCR engine is closed');
}
