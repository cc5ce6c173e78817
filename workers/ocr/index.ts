/** The OCR port and its tesseract.js adapter: the only public face of workers/ocr. */
export {
  OcrTimeoutError,
  OcrWorkerError,
  type OcrBox,
  type OcrEngine,
  type OcrLine,
  type OcrOptions,
  type OcrResult,
  type OcrStats,
  type OcrWord,
} from './ocr-engine.ts';
export { TesseractOcrEngine, type TesseractOcrOptions } from './tesseract.ocr-engine.ts';
export { ocrLanguages } from './lang-data.ts';
