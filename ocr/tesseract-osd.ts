/**
 * Orientation detection with Tesseract OSD. OSD belongs to the legacy engine, which the LSTM-only
 * core that reads text does not contain; so it runs in a worker of its own (legacy core, `osd`
 * data from @tesseract.js-data/osd), one page at a time, and is restarted after any failure.
 */
import Tesseract from 'tesseract.js';
import { OcrTimeoutError, OcrWorkerError } from './ocr-engine.ts';
import type { QuarterTurn } from './prepare-image.ts';

/** What OSD found: the clockwise turn that stands the page upright, and how sure it is. */
export interface DetectedOrientation {
  rotate: QuarterTurn;
  /** Tesseract's orientation confidence (margin over the second best; roughly 0-20 on register pages). */
  confidence: number;
  /** The script OSD found most of ('Latin', 'Cyrillic', ...), when it named one. */
  script?: string;
  /** OSD's confidence in `script`. */
  scriptConfidence?: number;
}

/** Detects page orientation; one detection at a time, bounded in time. */
export interface OrientationDetector {
  /** Orientation of a greyscale PNG; `undefined` when OSD found too little text to judge. */
  detect(png: Buffer, timeoutMs: number): Promise<DetectedOrientation | undefined>;
  /** Stops the worker, if one is running. */
  close(): Promise<void>;
}

/** Starts the OSD worker lazily from `langPath` (the folder holding `osd.traineddata.gz`). */
export function tesseractOrientationDetector(langPath: () => Promise<string>): OrientationDetector {
  let worker: Promise<Tesseract.Worker> | undefined;
  let queue: Promise<unknown> = Promise.resolve();
  let closed = false;

  const start = async (): Promise<Tesseract.Worker> => {
    let failed: Error | undefined;
    const w = await Tesseract.createWorker('osd', Tesseract.OEM.TESSERACT_ONLY, {
      langPath: await langPath(),
      legacyCore: true,
      legacyLang: true,
      cacheMethod: 'none',
      gzip: true,
      logger: () => undefined,
      // As for recognition workers: without it a rejected job is rethrown where nothing catches it.
      errorHandler: (e: unknown) => (failed = new OcrWorkerError(`OSD worker reported an error: ${String(e)}`)),
    });
    if (failed) throw failed;
    return w;
  };

  const stop = async () => {
    const w = worker;
    worker = undefined;
    if (w) await (await w.catch(() => undefined))?.terminate().catch(() => undefined);
  };

  const run = async (png: Buffer, timeoutMs: number): Promise<DetectedOrientation | undefined> => {
    if (closed) throw new OcrWorkerError('the orientation detector is closed');
    worker ??= start();
    let timer: NodeJS.Timeout | undefined;
    try {
      const w = await worker;
      const { data } = await Promise.race([
        w.detect(png),
        new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new OcrTimeoutError(timeoutMs)), timeoutMs))),
      ]);
      const degrees = data.orientation_degrees;
      if (degrees === null || degrees === undefined || ![0, 90, 180, 270].includes(degrees)) return undefined;
      // OSD reports how far the text is turned counter-clockwise, which is the clockwise turn that undoes it.
      const found: DetectedOrientation = { rotate: degrees as QuarterTurn, confidence: Math.round((data.orientation_confidence ?? 0) * 100) / 100 };
      if (data.script) {
        found.script = data.script;
        found.scriptConfidence = Math.round((data.script_confidence ?? 0) * 100) / 100;
      }
      return found;
    } catch (e) {
      // Stopping the thread is the only way to interrupt it; the next page starts a fresh one.
      await stop();
      if (e instanceof OcrTimeoutError || e instanceof OcrWorkerError) throw e;
      throw new OcrWorkerError(`orientation detection failed: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    } finally {
      clearTimeout(timer);
    }
  };

  return {
    detect(png, timeoutMs) {
      const next = queue.then(() => run(png, timeoutMs));
      queue = next.catch(() => undefined);
      return next;
    },
    async close() {
      closed = true;
      await queue;
      await stop();
    },
  };
}
