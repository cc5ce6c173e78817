/**
 * The OCR port: what the archive asks of an OCR engine, in its own terms. No engine type appears
 * here; adapters (tesseract.js, native Tesseract) translate.
 */

/** A rectangle in pixels of the image given to `recognize`: x0,y0 top-left (inclusive), x1,y1 bottom-right (exclusive). */
export interface OcrBox {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

/** One recognised word. */
export interface OcrWord {
  text: string;
  /** 0-100. */
  confidence: number;
  bbox: OcrBox;
  /** Index into `OcrResult.lines`. */
  line: number;
  /** Index of the text block (column, table cell, ...) on the page. */
  block: number;
  /** Index of the paragraph on the page, when the engine reports paragraphs. */
  paragraph?: number;
}

/** One recognised text line. */
export interface OcrLine {
  text: string;
  /** 0-100. */
  confidence: number;
  bbox: OcrBox;
  block: number;
  /** Number of words of this line in `OcrResult.words`. */
  words: number;
}

/** Everything recognised on one page image. */
export interface OcrResult {
  text: string;
  /** 0-100: word confidences averaged with each word weighted by its number of characters; 0 when no word was found. */
  meanConfidence: number;
  /** In reading order; boxes in pixels of the image that was given (after EXIF orientation). */
  words: OcrWord[];
  lines: OcrLine[];
  /** A whole hOCR 1.2 document (XHTML) of the page, boxes in the same pixel coordinates as `words`, when asked. */
  hocr?: string;
  /** One-page searchable PDF (page image plus invisible text layer), when asked. */
  pdf?: Uint8Array;
  /** Engine, its version, model and languages, e.g. 'tesseract.js 7.0.0 / … / sqi+srp+eng'. */
  engine: string;
  /** Wall time of the `recognize` call. */
  durationMs: number;
  /** Size of the image that was given, after EXIF orientation. */
  width: number;
  height: number;
  /** Clockwise quarter turn that stood the page upright before reading (0 when upright), when orientation was detected. */
  orientation?: 0 | 90 | 180 | 270;
  /** Orientation detector's confidence in `orientation`. */
  orientationConfidence?: number;
  /** Name of the profile the page was read with, when one was given. */
  profile?: string;
}

/**
 * How a page is prepared and read: named per page type (printed form, typewriter, ...). Every
 * step is optional; an empty profile reads the page as given (greyed and size-bounded).
 */
export interface OcrProfile {
  /** Recorded in `OcrResult.profile`. */
  name: string;
  /** Detect quarter-turn orientation and turn the page upright before reading. */
  detectOrientation?: boolean;
  /**
   * Read the page as given, without orientation detection, and keep the reading only when it is
   * confident and its words run horizontally (`recognizeBounded` checks); otherwise the next
   * profile, which detects orientation, reads it. Most pages are scanned upright, and detection
   * costs about 40% of a page's OCR time.
   */
  uprightOnly?: boolean;
  /** Turn only when the detector is at least this confident (default 0: always follow it). */
  minOrientationConfidence?: number;
  /** Turn the page a further half turn beyond what the detector found (its usual mistake is upside down). */
  flip?: boolean;
  /** Measure and correct small skew before reading. */
  deskew?: boolean;
  /** Divide the page by its smoothed paper tone first (grey, grainy or unevenly lit paper; see ImagePreparation). */
  flattenBackground?: boolean;
  /** Stretch grey levels to the full range (faded ink, dark paper). */
  normalise?: boolean;
  /** Light Gaussian blur, sigma in pixels of the image read (thin, broken strokes; speckle). */
  blurSigma?: number;
  /** Upsample pages below this resolution to it. */
  minDpi?: number;
  /** Binarisation: 'otsu' (global, the engine's default), 'adaptive' (tiled Otsu) or 'sauvola' (local, for thin strokes on uneven paper). */
  binarisation?: 'otsu' | 'adaptive' | 'sauvola';
  /** Paint the form's vertical rules over before reading (tesseract takes them for letters). */
  removeRules?: boolean;
  /** A rescue: read only when the readings before it are empty, below the floor or unsure (recognizeBounded); engines ignore it. */
  rescue?: boolean;
}

/** Options of one `recognize` call. */
export interface OcrOptions {
  /** OCR languages, most likely first, e.g. ['sqi', 'srp', 'eng']. */
  languages: string[];
  /** Also produce a one-page searchable PDF. */
  pdf?: boolean;
  /** Also produce hOCR. */
  hocr?: boolean;
  /**
   * File name of the page image, written as the hOCR page's `image` (a plain relative path, e.g.
   * 'master.tif', the name the master has beside the hOCR in the package); left out when not given.
   */
  imageName?: string;
  /** Aborting stops the recognition (the call rejects with the signal's reason). */
  signal?: AbortSignal;
  /**
   * Bound on the reading, in CPU time of the thread that reads it where the engine can measure
   * that (a machine loaded by other processes slows a page without failing it), else in wall time
   * the page holds an OCR worker. Queueing for a worker never counts.
   */
  timeoutMs?: number;
  /** Preparation and reading settings; without one the page is read as given. */
  profile?: OcrProfile;
}

/** Counters of an engine's worker pool. */
export interface OcrStats {
  /** Workers alive or starting. */
  workers: number;
  /** Workers recognising a page now. */
  busy: number;
  /** Workers retired for age (pages), memory, a crash, a timeout or an abort; replaced lazily. */
  recycled: number;
  /** Pages recognised successfully. */
  pagesDone: number;
}

/** Turns page images into text with word boxes and confidences. */
export interface OcrEngine {
  /** Recognises one page image (any format sharp reads: PNG, JPEG, TIFF, ...). */
  recognize(image: Buffer, opts: OcrOptions): Promise<OcrResult>;
  /** Current counters. */
  stats(): OcrStats;
  /** Stops every worker; calls in flight or queued reject. */
  close(): Promise<void>;
}

/** The page took longer than `timeoutMs` (of CPU or wall time); the worker running it was stopped and will be replaced. */
export class OcrTimeoutError extends Error {
  override readonly name = 'OcrTimeoutError';
  constructor(
    readonly timeoutMs: number,
    /** Which time ran out: the reading thread's CPU time, or wall time. */
    readonly clock: 'cpu' | 'wall' = 'wall',
  ) {
    super(clock === 'cpu' ? `OCR used ${timeoutMs} ms of CPU time without finishing; its worker was stopped` : `OCR did not finish within ${timeoutMs} ms; its worker was stopped`);
  }
}

/** The OCR worker failed (crashed, could not start, or rejected the page); it was stopped and will be replaced. */
export class OcrWorkerError extends Error {
  override readonly name = 'OcrWorkerError';
}
