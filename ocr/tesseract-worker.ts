/**
 * One tesseract.js worker (a worker_thread running the WASM core) loaded with one language set,
 * wrapped so its failures surface as a promise instead of process-level exceptions. Only the
 * files of this folder named tesseract* import tesseract.js.
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { Worker as NodeWorker } from 'node:worker_threads';
import Tesseract from 'tesseract.js';
import { OcrWorkerError } from './ocr-engine.ts';
import { procCpuTimeMs } from './time-bound.ts';

/** What one recognition asks tesseract.js to produce. */
export interface TesseractOutput {
  pdf: boolean;
}

/** Tesseract settings of one recognition; the worker keeps them until a later page changes them. */
export interface TesseractPageParams {
  /** 0 = Otsu (tesseract's default), 1 = LeptonicaOtsu (adaptive), 2 = Sauvola. */
  thresholdingMethod?: 0 | 1 | 2;
  /** Let tesseract measure the page's skew and straighten it before reading. */
  deskew?: boolean;
}

/** A started worker. */
export interface TesseractWorkerHandle {
  /** Recognises a prepared (greyscale PNG) image. */
  recognize(png: Buffer, output: TesseractOutput, params?: TesseractPageParams): Promise<Tesseract.Page>;
  /** Resolves with the first worker-level failure (thread error or exit, job rejected); never rejects. */
  readonly failure: Promise<Error>;
  /**
   * CPU time the worker's thread has used so far, in ms; undefined where it cannot be read (not
   * Linux). Lets the pool bound a page by the work it took rather than by the wall time a loaded
   * machine stretches. Test doubles may leave it out.
   */
  cpuTimeMs?(): Promise<number | undefined>;
  /** Stops the thread; resolves once it has exited (bounded wait). */
  terminate(): Promise<void>;
}

/** Starts a worker for `langs`, reading `<code>.traineddata.gz` from the local folder `langPath`. */
export type StartTesseractWorker = (langs: readonly string[], langPath: string) => Promise<TesseractWorkerHandle>;

const requireCjs = createRequire(import.meta.url);
/** Versions of tesseract.js and its WASM core, for provenance. */
export const TESSERACT_JS_VERSIONS = {
  js: (requireCjs('tesseract.js/package.json') as { version: string }).version,
  core: (requireCjs('tesseract.js-core/package.json') as { version: string }).version,
};

const EXIT_WAIT_MS = 5_000;

/** tesseract.js's worker script, wrapped to say which OS thread it runs on (see the file). */
const THREAD_SCRIPT = fileURLToPath(new URL('./tesseract-thread.cjs', import.meta.url));

/**
 * Starts a real tesseract.js worker: LSTM only, local data, nothing cached, fetched or logged.
 * `hooks.onThread` hands out the worker_thread (tests use it to kill a worker behind the pool's back).
 */
export async function startTesseractWorker(
  langs: readonly string[],
  langPath: string,
  hooks: { onThread?: (thread: NodeWorker) => void } = {},
): Promise<TesseractWorkerHandle> {
  // A promise resolves once; later failures of the same worker are the same failure.
  let fail!: (e: Error) => void;
  const failure = new Promise<Error>((resolve) => (fail = resolve));
  let terminating = false;

  const worker = await Tesseract.createWorker([...langs], Tesseract.OEM.LSTM_ONLY, {
    // A local folder: tesseract.js reads it with fs. A URL (or no langPath at all, which means
    // jsDelivr) would make it fetch; 'none' stops it from reading or writing a traineddata cache.
    langPath,
    workerPath: THREAD_SCRIPT,
    cacheMethod: 'none',
    gzip: true,
    logger: () => undefined,
    // Without this tesseract.js rethrows a rejected job inside a message listener, which takes
    // the whole process down; the job's own promise rejects as well, with the same message.
    errorHandler: (e: unknown) => fail(new OcrWorkerError(`OCR worker reported an error: ${describe(e)}`)),
  });

  // tesseract.js 7 attaches `onerror`, which a Node worker_thread ignores: an uncaught error or an
  // exit of the thread would leave the job pending (and an unheard 'error' event crashes the
  // process). The thread object is on the worker, untyped; listen to it directly.
  const thread = (worker as unknown as { worker?: unknown }).worker;
  let exited: Promise<void> = Promise.resolve();
  // where /proc lists the thread, learnt from the next message it sends (setParameters below)
  let task: string | undefined;
  if (isNodeWorker(thread)) {
    thread.on('message', (m: unknown) => {
      const said = (m as { arkivaThreadTask?: unknown } | null)?.arkivaThreadTask;
      if (task === undefined && typeof said === 'string' && /^\d+\/task\/\d+$/.test(said)) task = said;
    });
    exited = new Promise((resolve) => thread.once('exit', () => resolve()));
    thread.on('error', (e) => fail(new OcrWorkerError(`OCR worker thread failed: ${describe(e)}`)));
    thread.once('exit', (code) => {
      if (!terminating) fail(new OcrWorkerError(`OCR worker thread exited unexpectedly (code ${code})`));
    });
    hooks.onThread?.(thread);
  }

  try {
    // tesseract.js defaults to PSM 6 (one uniform block), which reads almost nothing inside a ruled
    // register table; PSM 3 (automatic layout, the tesseract CLI default) reads the cells.
    // tessedit_do_invert 0: by default every line read with low confidence is read again as white
    // on black. Register pages have no inverted text; on 12 generated pages (printed and noisy
    // typewriter) the second reading changed no character and cost ~11% of the CPU time.
    await worker.setParameters({ tessedit_pageseg_mode: Tesseract.PSM.AUTO, tessedit_do_invert: '0' } as unknown as Partial<Tesseract.WorkerParams>);
  } catch (e) {
    terminating = true;
    await worker.terminate().catch(() => undefined);
    throw e;
  }

  let thresholding = '0';
  return {
    failure,
    cpuTimeMs: async () => (task === undefined ? undefined : procCpuTimeMs(task)),
    async recognize(png, output, params = {}) {
      try {
        const method = String(params.thresholdingMethod ?? 0);
        // A parameter round trip to the thread costs little, but skipping it keeps pages of one profile in a row lean.
        if (method !== thresholding) {
          await worker.setParameters({ thresholding_method: method } as unknown as Partial<Tesseract.WorkerParams>);
          thresholding = method;
        }
        const { data } = await worker.recognize(png, { rotateAuto: params.deskew === true }, { text: true, blocks: true, pdf: output.pdf });
        return data;
      } catch (e) {
        throw new OcrWorkerError(`OCR worker rejected the page: ${describe(e)}`, { cause: e });
      }
    },
    async terminate() {
      if (terminating) return exited;
      terminating = true;
      // tesseract.js's terminate() asks the thread to stop without waiting for it.
      await worker.terminate().catch(() => undefined);
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([exited, new Promise<void>((r) => (timer = setTimeout(r, EXIT_WAIT_MS)))]);
      clearTimeout(timer);
    },
  };
}

function isNodeWorker(x: unknown): x is NodeWorker {
  return typeof x === 'object' && x !== null && typeof (x as NodeWorker).once === 'function' && typeof (x as NodeWorker).terminate === 'function';
}

function describe(e: unknown): string {
  const s = e instanceof Error ? e.message : String(e);
  return s.length > 300 ? `${s.slice(0, 300)}…` : s;
}
