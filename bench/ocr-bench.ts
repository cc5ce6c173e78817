/**
 * What the OCR benches (ocr-quality, ocr-languages) share: their common arguments, the engine by
 * name, and the truth rows a page is scored against. Apart from bench-support.ts so that other
 * benches do not load the OCR adapters.
 */
import type { PageTruth } from '../fixtures/truth.ts';
import { NativeTesseractOcrEngine, TesseractOcrEngine, type OcrEngine } from '../ocr/index.ts';
import type { TruthRow } from '../review/cer.ts';
import { procCpuSeconds } from './bench-support.ts';

/** The arguments both OCR benches take: pages per fixture, render scale, first seed, pages read at once. */
export function ocrBenchOptions(defaults: { pages: string; seed: string }) {
  return {
    pages: { type: 'string', default: defaults.pages },
    scale: { type: 'string', default: '0.5' },
    seed: { type: 'string', default: defaults.seed },
    workers: { type: 'string', default: '2' },
  } as const;
}

/**
 * An OCR adapter by its bench name (`native` or `wasm`) reading `workers` pages at once. tesseract.js
 * is recycled so rarely that no recycling falls inside a bench's timings.
 */
export function openBenchOcrEngine(name: string, workers: number): OcrEngine {
  if (name === 'native') return new NativeTesseractOcrEngine({ poolSize: workers });
  if (name === 'wasm') return new TesseractOcrEngine({ poolSize: workers, recycleAfterPages: 200, recycleRssMb: 8192 });
  throw new Error(`the OCR engine is native or wasm, not ${name}`);
}

/** A page's register rows as the character error rate compares them: each entry's cells, with its box. */
export const truthRowsOf = (page: PageTruth): TruthRow[] => page.entries.map((e) => ({ text: e.cells.map((c) => c.text).join(' '), box: e.box }));

/**
 * CPU seconds of this process, its threads (tesseract.js) and its waited-for children (native
 * tesseract): what OCR costs whichever adapter reads.
 */
export const ocrCpuSeconds = (): number => procCpuSeconds('self', { children: true });
