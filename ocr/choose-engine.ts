/**
 * Which OCR adapter a process runs (`OCR_ENGINE`): native Tesseract where it is installed, for
 * 0.55-0.9x the CPU a page (docs/performance.md §0), else tesseract.js, which needs nothing installed. Both read the same
 * npm models, so the choice changes speed, not readings.
 */
import { AppError, silentLogger, type Logger } from '../common/index.ts';
import { NativeTesseractOcrEngine, type NativeTesseractOcrOptions } from './native.ocr-engine.ts';
import type { OcrEngine } from './ocr-engine.ts';
import { TesseractOcrEngine, type TesseractOcrOptions } from './tesseract.ocr-engine.ts';
import { TESSERACT_JS_VERSIONS } from './tesseract-worker.ts';

/** `OCR_ENGINE`: 'auto' takes native Tesseract when it runs, else tesseract.js. */
export type OcrEngineSetting = 'auto' | 'native' | 'wasm';

/** The engine chosen, for status output and logs. */
export interface OcrEngineChoice {
  kind: 'native' | 'wasm';
  /** Native Tesseract's version, or tesseract.js's. */
  version: string;
  /** Why this one (what `auto` found, or that it was asked for). */
  reason: string;
}

/** What the chooser needs: `Config['ocr']` fits. */
export type OcrEngineConfig = { engine: OcrEngineSetting } & TesseractOcrOptions & Omit<NativeTesseractOcrOptions, 'poolSize'>;

const MIN_NATIVE_MAJOR = 5;

/**
 * Decides, without reading any page: for 'native' and 'auto' it runs `tesseract --version` and
 * unpacks the language data (once per machine). 'native' throws ERR_UNAVAILABLE naming what is
 * missing; 'auto' falls back to tesseract.js and says why.
 */
export async function chooseOcrEngine(config: OcrEngineConfig): Promise<OcrEngineChoice> {
  const wasm = (reason: string): OcrEngineChoice => ({ kind: 'wasm', version: `tesseract.js ${TESSERACT_JS_VERSIONS.js}`, reason });
  if (config.engine === 'wasm') return wasm('OCR_ENGINE=wasm');
  const probe = new NativeTesseractOcrEngine({ ...config, poolSize: 1 });
  try {
    const { version } = await probe.ready();
    const major = Number(version.split('.')[0]);
    if (!(major >= MIN_NATIVE_MAJOR)) throw new AppError('ERR_UNAVAILABLE', `tesseract ${version} is older than ${MIN_NATIVE_MAJOR}`);
    return { kind: 'native', version: `tesseract ${version}`, reason: config.engine === 'native' ? 'OCR_ENGINE=native' : `OCR_ENGINE=auto found tesseract ${version}` };
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    if (config.engine === 'native') throw new AppError('ERR_UNAVAILABLE', `OCR_ENGINE=native but ${why.replace(/; install .*$/, '')}; install Debian's tesseract-ocr or set OCR_ENGINE=wasm`);
    return wasm(`OCR_ENGINE=auto: native tesseract unusable (${why})`);
  } finally {
    await probe.close();
  }
}

/** Builds the engine a choice names; nothing starts until its first page. */
export function ocrEngineFor(choice: OcrEngineChoice, config: OcrEngineConfig, log: Logger = silentLogger()): OcrEngine {
  return choice.kind === 'native' ? new NativeTesseractOcrEngine(config, log) : new TesseractOcrEngine(config, log);
}

/** Chooses (see `chooseOcrEngine`) and builds the engine. */
export async function openOcrEngine(config: OcrEngineConfig, log: Logger = silentLogger()): Promise<{ engine: OcrEngine; choice: OcrEngineChoice }> {
  const choice = await chooseOcrEngine(config);
  log.info(choice, 'OCR engine chosen');
  return { engine: ocrEngineFor(choice, config, log), choice };
}
