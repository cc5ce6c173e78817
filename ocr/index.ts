/** The OCR port and its tesseract.js adapter: the only public face of ocr/. */
export {
  OcrTimeoutError,
  OcrWorkerError,
  type OcrBox,
  type OcrEngine,
  type OcrLine,
  type OcrOptions,
  type OcrProfile,
  type OcrResult,
  type OcrStats,
  type OcrWord,
} from './ocr-engine.ts';
export { TesseractOcrEngine, type TesseractOcrOptions } from './tesseract.ocr-engine.ts';
export { LanguageDataFolder, ocrLanguages, scanOcrData, validateOcrLanguages } from './lang-data.ts';
export { betterResult, LOW_OCR_CONFIDENCE, pageTimeBound, recognizeBounded, type BoundedOcr, type OcrAttempt } from './ocr-attempts.ts';
export { OCR_PROFILES, RESCUE_PROFILE, bookOcrProfileOf, profilesFor } from './ocr-profiles.ts';
export { PAGE_TYPES, blankByInk, classifyPageWords, inkRatio, inkRatioOf, type PageType } from './page-type.ts';
