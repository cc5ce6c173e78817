/**
 * What every adapter of the OCR port does the same way around its engine's reading: checking
 * settings, choosing the turn from orientation detection, the pixel preparation a profile asks for,
 * and the facts of the reading it reports. Kept in one place so that the engines prepare the same
 * pixels and report alike (the `flattenBackground` step nearly went to one engine only).
 */
import { AppError } from '../common/index.ts';
import { OCR_DATA_VARIANT, OCR_LANGUAGE_ALIASES } from './lang-data.ts';
import type { OcrOptions, OcrProfile, OcrResult } from './ocr-engine.ts';
import type { ImagePreparation, QuarterTurn } from './prepare-image.ts';
import type { DetectedOrientation } from './tesseract-osd.ts';

/** Bounds on the page images an engine accepts and reads, shared by every adapter's settings. */
export interface OcrImageBounds {
  /** Longest side, in pixels, of the image tesseract sees; larger pages are downscaled. Default 3500. */
  maxOcrSide?: number;
  /** Largest input image, in pixels, checked before decoding. Default 200 M. */
  maxInputPixels?: number;
}

// OSD reads character shapes, which survive at this size; larger images only cost time.
export const OSD_MAX_SIDE = 1600;
/** Longest an orientation detection may take, whatever the page's own bound. */
export const OSD_DEFAULT_TIMEOUT_MS = 30_000;

/** A setting that must be a positive integer; ERR_VALIDATION naming it otherwise. */
export function positiveSetting(v: number, name: string): number {
  if (!Number.isInteger(v) || v < 1) throw new AppError('ERR_VALIDATION', `OCR ${name} must be a positive integer`);
  return v;
}

/** Refuses a time bound that is not a positive number of milliseconds. */
export function assertTimeout(opts: Pick<OcrOptions, 'timeoutMs'>): void {
  if (opts.timeoutMs !== undefined && !(Number.isFinite(opts.timeoutMs) && opts.timeoutMs > 0)) {
    throw new AppError('ERR_VALIDATION', 'OCR timeoutMs must be a positive number of milliseconds');
  }
}

/** Whether the profile detects orientation before reading (an upright-only reading never does). */
export function detectsOrientation(profile: OcrProfile | undefined): boolean {
  return profile?.detectOrientation === true && !profile.uprightOnly;
}

/** The clockwise turn a page is read at: what detection found, when sure enough, plus the profile's flip. */
export function turnFor(profile: OcrProfile | undefined, detected: DetectedOrientation | undefined): QuarterTurn {
  const found: QuarterTurn = detected && detected.confidence >= (profile?.minOrientationConfidence ?? 0) ? detected.rotate : 0;
  return (profile?.flip ? (found + 180) % 360 : found) as QuarterTurn;
}

/** The pixel work a profile asks for, field for field, at the given turn. */
export function preparationOf(profile: OcrProfile | undefined, rotate: QuarterTurn): ImagePreparation {
  return {
    rotate,
    flattenBackground: profile?.flattenBackground,
    normalise: profile?.normalise,
    blurSigma: profile?.blurSigma,
    minDpi: profile?.minDpi,
    removeRules: profile?.removeRules,
  };
}

/** Languages and model as the engine string names them, e.g. `sqi+srp_latn=hrv 4.0.0_best_int`. */
export function modelLabel(langs: readonly string[]): string {
  return `${langs.map((l) => (OCR_LANGUAGE_ALIASES[l] ? `${l}=${OCR_LANGUAGE_ALIASES[l]}` : l)).join('+')} ${OCR_DATA_VARIANT}`;
}

/** Records on a result the profile it was read with and, where the profile concerns orientation, the turn and detection's confidence. */
export function noteProfile(result: OcrResult, profile: OcrProfile | undefined, rotate: QuarterTurn, detected: DetectedOrientation | undefined): void {
  if (profile) result.profile = profile.name;
  if (profile?.detectOrientation || profile?.flip || profile?.uprightOnly) {
    result.orientation = rotate;
    if (detected) result.orientationConfidence = detected.confidence;
  }
}

/** One caller waiting in an engine's line for a worker or a process slot. */
export interface LineWaiter<T> {
  resolve(value: T): void;
  reject(e: unknown): void;
}

/**
 * Puts a waiter made by `make` at the end of `line` and waits until the engine settles it; an abort
 * takes it out of the line and rejects with the signal's reason. The caller serves the line after.
 */
export function waitInLine<T, W extends LineWaiter<T>>(line: W[], signal: AbortSignal | undefined, make: (settle: LineWaiter<T>) => W): Promise<T> {
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      const i = line.indexOf(waiter);
      if (i >= 0) line.splice(i, 1);
      reject(signal!.reason);
    };
    const waiter = make({
      resolve: (value) => {
        signal?.removeEventListener('abort', onAbort);
        resolve(value);
      },
      reject: (e) => {
        signal?.removeEventListener('abort', onAbort);
        reject(e);
      },
    });
    signal?.addEventListener('abort', onAbort, { once: true });
    line.push(waiter);
  });
}
