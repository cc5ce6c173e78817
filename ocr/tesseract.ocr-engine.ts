/**
 * `OcrEngine` on a pool of tesseract.js workers. Each worker runs in its own worker_thread, so
 * pages are recognised in parallel while the event loop stays free.
 *
 * - A worker is loaded with one language combination (e.g. sqi+srp+eng) and reused for pages of
 *   that combination; workers start lazily. When the pool is full and a page needs another
 *   combination, the least recently used idle worker is stopped to make room.
 * - Requests wait in one FIFO queue; a request is served as soon as any worker can be used for it.
 * - A worker is retired (stopped and replaced lazily) after `recycleAfterPages` pages, when the
 *   process RSS passes `recycleRssMb` (the WASM heap never shrinks), and after any failure,
 *   timeout or abort: stopping the thread is the only way to interrupt tesseract.
 */
import path from 'node:path';
import { AppError, silentLogger, type Logger } from '../common/index.ts';
import { LanguageDataFolder, scanOcrData, validateOcrLanguages, type InstalledOcrData } from './lang-data.ts';
import {
  OcrTimeoutError,
  OcrWorkerError,
  type OcrEngine,
  type OcrOptions,
  type OcrProfile,
  type OcrResult,
  type OcrStats,
} from './ocr-engine.ts';
import {
  DEFAULT_MAX_INPUT_PIXELS, DEFAULT_MAX_OCR_SIDE, orientationImage, prepareForOcr, scaleHocr, type PreparedImage,
} from './prepare-image.ts';
import { OrientationMemo } from './orientation-memo.ts';
import { waitInLine, assertTimeout, detectsOrientation, OSD_DEFAULT_TIMEOUT_MS, OSD_MAX_SIDE, type OcrImageBounds, modelLabel, noteProfile, positiveSetting, preparationOf, turnFor } from './page-reading.ts';
import { tesseractOrientationDetector, type DetectedOrientation, type OrientationDetector } from './tesseract-osd.ts';
import { hocrDocument } from './hocr-document.ts';
import { hocrFromPage, layoutFromPage } from './tesseract-page.ts';
import { WALL_CEILING_FACTOR, watchTimeBound, type TimeBound } from './time-bound.ts';
import {
  startTesseractWorker, TESSERACT_JS_VERSIONS, type StartTesseractWorker, type TesseractPageParams, type TesseractWorkerHandle,
} from './tesseract-worker.ts';

/** Settings of the pool; `Config['ocr']` fits as is. */
export interface TesseractOcrOptions extends OcrImageBounds {
  /** Most workers alive at once (each may use one core). */
  poolSize: number;
  /** Retire a worker after this many pages. */
  recycleAfterPages: number;
  /** Retire workers as they finish pages while the process RSS is above this, in MiB. */
  recycleRssMb: number;
  /** Starts one worker; tests replace it to simulate failures. */
  startWorker?: StartTesseractWorker;
  /** Orientation detector; default a Tesseract OSD worker started on first use. */
  orientationDetector?: OrientationDetector;
}

const THRESHOLDING: Record<NonNullable<OcrProfile['binarisation']>, NonNullable<TesseractPageParams['thresholdingMethod']>> = {
  otsu: 0,
  adaptive: 1,
  sauvola: 2,
};

interface Slot {
  readonly id: number;
  readonly key: string;
  readonly handle: Promise<TesseractWorkerHandle>;
  /** Rejects when the slot is retired while a page is running on it. */
  readonly stopped: Promise<never>;
  readonly stop: (e: Error) => void;
  busy: boolean;
  retired: boolean;
  pages: number;
  lastUsed: number;
}

interface Waiter {
  readonly key: string;
  readonly langs: readonly string[];
  readonly langPath: string;
  readonly resolve: (slot: Slot) => void;
  readonly reject: (e: unknown) => void;
}

type RetireReason = 'pages' | 'memory' | 'failure' | 'evicted' | 'closed';

/** The tesseract.js adapter of `OcrEngine`. */
export class TesseractOcrEngine implements OcrEngine {
  private readonly orientations = new OrientationMemo();
  private readonly poolSize: number;
  private readonly recycleAfterPages: number;
  private readonly recycleRssBytes: number;
  private readonly maxOcrSide: number;
  private readonly maxInputPixels: number;
  private readonly startWorker: StartTesseractWorker;
  private readonly osd: OrientationDetector;
  private readonly slots: Slot[] = [];
  private readonly waiters: Waiter[] = [];
  private readonly stopping = new Set<Promise<void>>();
  private installed: Promise<{ data: InstalledOcrData; folder: LanguageDataFolder }> | undefined;
  private nextSlotId = 1;
  private closed = false;
  private recycled = 0;
  private pagesDone = 0;

  constructor(
    options: TesseractOcrOptions,
    private readonly log: Logger = silentLogger(),
  ) {
    const positive = positiveSetting;
    this.poolSize = positive(options.poolSize, 'pool size');
    this.recycleAfterPages = positive(options.recycleAfterPages, 'recycle-after-pages');
    this.recycleRssBytes = positive(options.recycleRssMb, 'recycle RSS bound') * 1024 * 1024;
    this.maxOcrSide = positive(options.maxOcrSide ?? DEFAULT_MAX_OCR_SIDE, 'maximum side');
    this.maxInputPixels = positive(options.maxInputPixels ?? DEFAULT_MAX_INPUT_PIXELS, 'maximum input pixels');
    this.startWorker = options.startWorker ?? startTesseractWorker;
    this.osd =
      options.orientationDetector ??
      tesseractOrientationDetector(async () => {
        const { data } = await this.installedData();
        if (!data.osd) throw new AppError('ERR_UNAVAILABLE', 'orientation detection needs the @tesseract.js-data/osd package');
        return path.dirname(data.osd.file);
      });
  }

  /** Recognises one page; see `OcrEngine.recognize`. */
  async recognize(image: Buffer, opts: OcrOptions): Promise<OcrResult> {
    const started = performance.now();
    this.assertOpen();
    const { signal } = opts;
    assertTimeout(opts);
    const { data, folder } = await this.installedData();
    const langs = validateOcrLanguages(opts.languages, data);
    signal?.throwIfAborted();

    const profile = opts.profile;
    const detected = detectsOrientation(profile) ? await this.orientations.detect(image, () => this.detectOrientation(image, opts)) : undefined;
    const rotate = turnFor(profile, detected);
    signal?.throwIfAborted();
    const prepared = await prepareForOcr(image, {
      maxSide: this.maxOcrSide,
      maxInputPixels: this.maxInputPixels,
      preparation: preparationOf(profile, rotate),
    });
    signal?.throwIfAborted();
    // Checked again just before pathFor, which may make the language folder that close() removes.
    this.assertOpen();
    const langPath = await folder.pathFor(langs);

    const slot = await this.acquire(langs, langPath, signal);
    let page;
    try {
      page = await this.runOnSlot(slot, prepared, opts);
    } catch (e) {
      this.retire(slot, 'failure', e);
      this.pump();
      throw e;
    }
    this.pagesDone += 1;
    slot.pages += 1;
    this.release(slot);

    const layout = layoutFromPage(page, prepared);
    const result: OcrResult = {
      text: page.text ?? '',
      meanConfidence: layout.meanConfidence,
      words: layout.words,
      lines: layout.lines,
      engine: `tesseract.js ${TESSERACT_JS_VERSIONS.js} / tesseract.js-core ${TESSERACT_JS_VERSIONS.core} (Tesseract ${page.version}, LSTM) / ${modelLabel(langs)}`,
      durationMs: Math.round(performance.now() - started),
      width: prepared.width,
      height: prepared.height,
    };
    noteProfile(result, profile, rotate, detected);
    if (opts.hocr) {
      const ocrPage = scaleHocr(hocrFromPage(page, { width: prepared.ocrWidth, height: prepared.ocrHeight, dpi: prepared.ocrDpi }), prepared);
      result.hocr = hocrDocument(ocrPage, { system: result.engine, languages: langs, imageName: opts.imageName });
    }
    // The type says number[]; tesseract.js 7 sends the bytes as a Uint8Array.
    if (opts.pdf && page.pdf) result.pdf = page.pdf instanceof Uint8Array ? page.pdf : Uint8Array.from(page.pdf);
    return result;
  }

  /** Pool counters. */
  stats(): OcrStats {
    return {
      workers: this.slots.length,
      busy: this.slots.filter((s) => s.busy).length,
      recycled: this.recycled,
      pagesDone: this.pagesDone,
    };
  }

  /** Stops every worker and waits for their threads to exit; pending and later calls reject. */
  async close(): Promise<void> {
    this.closed = true;
    for (const w of this.waiters.splice(0)) w.reject(closedError());
    for (const slot of [...this.slots]) this.retire(slot, 'closed');
    await Promise.all([...this.stopping, this.osd.close().catch(() => undefined)]);
    const installed = this.installed;
    this.installed = undefined;
    if (installed) await (await installed.catch(() => undefined))?.folder.close();
  }

  /** OSD on a small copy of the page; a failed or timed-out detection reads the page as it is rather than failing it. */
  private async detectOrientation(image: Buffer, opts: OcrOptions): Promise<DetectedOrientation | undefined> {
    const small = await orientationImage(image, { maxSide: OSD_MAX_SIDE, maxInputPixels: this.maxInputPixels });
    opts.signal?.throwIfAborted();
    try {
      return await this.osd.detect(small, Math.min(opts.timeoutMs ?? OSD_DEFAULT_TIMEOUT_MS, OSD_DEFAULT_TIMEOUT_MS));
    } catch (e) {
      this.log.warn({ err: e instanceof Error ? e.message : String(e) }, 'orientation detection failed; page read as given');
      return undefined;
    }
  }

  private installedData(): Promise<{ data: InstalledOcrData; folder: LanguageDataFolder }> {
    this.installed ??= scanOcrData().then(
      (data) => ({ data, folder: new LanguageDataFolder(data) }),
      (e: unknown) => {
        this.installed = undefined;
        throw e;
      },
    );
    return this.installed;
  }

  private assertOpen(): void {
    if (this.closed) throw closedError();
  }

  private acquire(langs: readonly string[], langPath: string, signal: AbortSignal | undefined): Promise<Slot> {
    this.assertOpen();
    const key = langs.join('+');
    const waiting = waitInLine<Slot, Waiter>(this.waiters, signal, (settle) => ({ key, langs, langPath, resolve: settle.resolve, reject: settle.reject }));
    this.pump();
    return waiting;
  }

  /** Serves waiting requests in order while a worker can be used, started or made room for. */
  private pump(): void {
    while (this.waiters.length > 0 && !this.closed) {
      const waiter = this.waiters[0]!;
      let slot = this.slots.find((s) => !s.busy && s.key === waiter.key);
      if (!slot) {
        if (this.slots.length >= this.poolSize) {
          const idle = this.slots.filter((s) => !s.busy).sort((a, b) => a.lastUsed - b.lastUsed)[0];
          // Every worker is busy: nothing later in the queue can be served either.
          if (!idle) return;
          this.retire(idle, 'evicted');
        }
        slot = this.newSlot(waiter);
      }
      this.waiters.shift();
      slot.busy = true;
      waiter.resolve(slot);
    }
  }

  private newSlot(waiter: Waiter): Slot {
    const id = this.nextSlotId++;
    const handle = this.startWorker(waiter.langs, waiter.langPath);
    // Awaited by the page that caused the start; the no-op keeps a failed start that nobody is
    // waiting for any more (aborted, timed out) from becoming an unhandled rejection.
    handle.catch(() => undefined);
    let stop!: (e: Error) => void;
    const stopped = new Promise<never>((_, reject) => (stop = reject));
    stopped.catch(() => undefined);
    const slot: Slot = { id, key: waiter.key, handle, stopped, stop, busy: false, retired: false, pages: 0, lastUsed: Date.now() };
    this.slots.push(slot);
    // A worker that dies while idle is replaced now rather than failing the next page sent to it
    // (a busy one fails its page in runOnSlot).
    handle.then(
      (h) =>
        h.failure.then((e) => {
          if (slot.retired || slot.busy) return;
          this.retire(slot, 'failure', e);
          this.pump();
        }),
      () => undefined,
    );
    this.log.debug({ worker: id, languages: waiter.key, workers: this.slots.length }, 'OCR worker starting');
    return slot;
  }

  private release(slot: Slot): void {
    if (slot.retired) return;
    slot.busy = false;
    slot.lastUsed = Date.now();
    if (slot.pages >= this.recycleAfterPages) this.retire(slot, 'pages');
    else if (process.memoryUsage.rss() > this.recycleRssBytes) this.retire(slot, 'memory');
    this.pump();
  }

  /** Stops a worker and forgets it; callers pump the queue afterwards (pump itself retires). */
  private retire(slot: Slot, reason: RetireReason, cause?: unknown): void {
    if (slot.retired) return;
    slot.retired = true;
    const i = this.slots.indexOf(slot);
    if (i >= 0) this.slots.splice(i, 1);
    if (reason !== 'evicted' && reason !== 'closed') this.recycled += 1;
    if (slot.busy) slot.stop(reason === 'closed' ? closedError() : new OcrWorkerError(`OCR worker retired (${reason})`));
    slot.busy = false;
    const entry = { worker: slot.id, reason, pages: slot.pages, workers: this.slots.length };
    if (reason === 'failure') this.log.warn({ ...entry, err: cause instanceof Error ? cause.message : String(cause) }, 'OCR worker stopped after a failure');
    // Memory recycling on every page would mean the bound is set below what the process needs.
    else if (reason === 'memory') this.log.info({ ...entry, rssMb: Math.round(process.memoryUsage.rss() / 2 ** 20) }, 'OCR worker recycled for memory');
    else this.log.debug(entry, 'OCR worker retired');
    const done = slot.handle.then(
      (h) => h.terminate(),
      () => undefined,
    );
    // A worker whose start never settles cannot be stopped; close() must not wait for it forever.
    const bounded = Promise.race([done, new Promise<void>((r) => setTimeout(r, 10_000).unref())]).catch(() => undefined);
    this.stopping.add(bounded);
    void bounded.finally(() => this.stopping.delete(bounded));
  }

  private async runOnSlot(slot: Slot, prepared: PreparedImage, opts: OcrOptions) {
    const { signal, timeoutMs } = opts;
    let startTimer: NodeJS.Timeout | undefined;
    let bound: TimeBound | undefined;
    let onAbort: (() => void) | undefined;
    const stops: Promise<never>[] = [slot.stopped];
    if (signal) {
      stops.push(
        new Promise<never>((_, reject) => {
          onAbort = () => reject(signal.reason);
          if (signal.aborted) onAbort();
          else signal.addEventListener('abort', onAbort, { once: true });
        }),
      );
    }
    try {
      // A fresh worker's start-up (WASM, language data) is not the page's work: it is only bounded
      // by the wall ceiling, past which a start is stuck rather than slow.
      const starting: Promise<never>[] = [];
      if (timeoutMs !== undefined) {
        const ceilingMs = timeoutMs * WALL_CEILING_FACTOR;
        starting.push(new Promise<never>((_, reject) => (startTimer = setTimeout(() => reject(new OcrTimeoutError(ceilingMs)), ceilingMs))));
      }
      const handle = await Promise.race([slot.handle.catch(startFailed), ...stops, ...starting]);
      clearTimeout(startTimer);
      if (timeoutMs !== undefined) {
        bound = watchTimeBound(timeoutMs, handle.cpuTimeMs ? () => handle.cpuTimeMs!() : undefined);
        stops.push(bound.exceeded);
      }
      const failed = handle.failure.then((e): never => {
        throw e;
      });
      const params: TesseractPageParams = {
        thresholdingMethod: THRESHOLDING[opts.profile?.binarisation ?? 'otsu'],
        deskew: opts.profile?.deskew === true,
      };
      return await Promise.race([handle.recognize(prepared.png, { pdf: opts.pdf === true }, params), failed, ...stops]);
    } finally {
      clearTimeout(startTimer);
      bound?.stop();
      if (onAbort) signal?.removeEventListener('abort', onAbort);
    }
  }

}

function startFailed(e: unknown): never {
  throw new OcrWorkerError(`OCR worker could not start: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
}

function closedError(): AppError {
  return new AppError('ERR_UNAVAILABLE', 'the OCR engine is closed');
}
