import type { Config } from '../config/index.ts';
import type { Logger } from '../common/index.ts';
import { openDb, type Db } from '../db/index.ts';
import { openObjectStore, type ObjectStore } from '../storage/index.ts';
import { openJobQueue, type JobQueue } from '../queue/index.ts';
import { JOBS, type Jobs } from '../pipeline/index.ts';
import { chooseOcrEngine, ocrEngineFor, type OcrEngine, type OcrEngineChoice } from '../ocr/index.ts';

/**
 * Everything a service or job may depend on. Each one declares what it uses with
 * `Pick<AppDeps, ...>`; composition roots (CLI commands, API, worker) build it from config.
 */
export interface AppDeps {
  config: Readonly<Config>;
  db: Db;
  store: ObjectStore;
  queue: JobQueue<Jobs>;
  /** Created lazily: only worker processes run OCR. */
  ocr: () => OcrEngine;
  /** Which OCR engine `ocr()` gives (OCR_ENGINE, and what `auto` found), for status output. */
  ocrChoice: OcrEngineChoice;
  log: Logger;
}

/** Opens every port the configuration names; `close()` releases them in reverse order. */
export async function openAppDeps(config: Readonly<Config>, log: Logger): Promise<AppDeps & { close(): Promise<void> }> {
  // Before anything is opened: OCR_ENGINE=native without tesseract fails the start, naming the problem.
  const ocrChoice = await chooseOcrEngine(config.ocr);
  const db = await openDb(config.database, log);
  const closers: (() => Promise<void>)[] = [() => db.close()];
  try {
    const store = await openObjectStore(config.store, log);
    closers.push(() => store.close());
    const { lockMs, stalledCheckMs, maxStalls } = config.jobClaims;
    const queue = await openJobQueue(config.queue, JOBS, log, { lockDurationMs: lockMs, stalledIntervalMs: stalledCheckMs, maxStalledCount: maxStalls });
    closers.push(() => queue.close());
    let ocr: OcrEngine | undefined;
    return {
      config,
      db,
      store,
      queue,
      log,
      ocrChoice,
      ocr: () => (ocr ??= ocrEngineFor(ocrChoice, config.ocr, log)),
      async close() {
        if (ocr) await ocr.close();
        for (const c of closers.reverse()) await c().catch((e: unknown) => log.warn({ err: e }, 'error while closing'));
      },
    };
  } catch (e) {
    for (const c of closers.reverse()) await c().catch(() => undefined);
    throw e;
  }
}
