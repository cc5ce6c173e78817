export * from './review.ts';
export { requestReocr, reocrPageJob, REOCR_PROFILES, REOCR_TIMEOUT_MS } from './reocr.ts';
export { characterErrorRate, editDistanceChars, pageCharacterErrorRate, type PageCer, type TruthRow, type ReadWord } from './cer.ts';
export { bookStageTimings, type StageTiming } from './timings.ts';
