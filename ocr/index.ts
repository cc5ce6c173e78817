/** The OCR port, its tesseract.js and native Tesseract adapters and the choice between them: the only public face of ocr/. */
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
export { NativeTesseractOcrEngine, type NativeTesseractOcrOptions } from './native.ocr-engine.ts';
export { chooseOcrEngine, ocrEngineFor, openOcrEngine, type OcrEngineChoice, type OcrEngineConfig, type OcrEngineSetting } from './choose-engine.ts';
export { LanguageDataFolder, ocrLanguages, scanOcrData, validateOcrLanguages } from './lang-data.ts';
export { unpackOcrData } from './native-data.ts';
export {
  betterResult, LOW_OCR_CONFIDENCE, SURE_OCR_CONFIDENCE, MIN_TEXT_CHARACTERS, pageTimeBound, readsAsEmpty, recognizeBounded, type BoundedOcr, type OcrAttempt,
} from './ocr-attempts.ts';
export { FLATTEN_RESCUE_PROFILE, OCR_PROFILES, ORIENTATION_FIRST_SHARE, RESCUE_PROFILE, RESCUE_PROFILES, bookOcrProfileOf, profilesFor, readOrientationFirst } from './ocr-profiles.ts';
export {
  BLANK_INK_RATIO, DECLARED_HANDWRITTEN, HANDWRITING_MAX_CONFIDENCE, HANDWRITING_MIN_UNSURE_SHARE, PAGE_TYPES, blankByInk, classifyPageWords, handwritingByReading, inkRatio, inkRatioOf,
  type PageType, type PageTypeVerdict,
} from './page-type.ts';
export { detectRegisterGrid, type EntryZone, type GridBox, type RegisterGrid, type RegisterGridOptions } from './register-grid.ts';
