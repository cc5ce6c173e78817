/**
 * Reading a page within bounds: profiles tried in turn while the result stays poor, the better
 * result kept, each attempt bounded relative to the book's typical page time. Works on any
 * `OcrEngine`; nothing here knows tesseract.
 */
import { OcrTimeoutError, type OcrEngine, type OcrOptions, type OcrProfile, type OcrResult } from './ocr-engine.ts';

/** Below this mean confidence a page is read again with the next profile, and listed for review if still below. */
export const LOW_OCR_CONFIDENCE = 60;

/**
 * A reading that passes the floor but stays below this is unsure: the rescue profiles still read the
 * page, and the better reading is kept. Grey grainy carbon copies read upright at 61-68 with 20-85% of
 * their names, and at 72-78 with 93-98% once the paper was flattened (bench/ocr-quality, `--set grey`,
 * native and tesseract.js alike); ordinary fixture pages read at 80-93 and never pay for it.
 */
export const SURE_OCR_CONFIDENCE = 75;

/**
 * A reading of a page with ink that found fewer characters than this found nothing: a few specks
 * or a stray word read surely (grey grainy pages gave 3 words at confidence 82) must not pass the
 * confidence floor, which is a mean over the words found. A cover's shortest title is longer.
 */
export const MIN_TEXT_CHARACTERS = 20;

/** Whether a reading found no text worth the name (see MIN_TEXT_CHARACTERS). */
export function readsAsEmpty(r: Pick<OcrResult, 'words'>): boolean {
  return characters(r) < MIN_TEXT_CHARACTERS;
}

/** Settings of the per-page time bound. */
export interface TimeBoundOptions {
  /** Bound = factor × median page time of the book. Default 5. */
  factor?: number;
  /**
   * Floor of the bound: a fast book must not cut off a page that is merely harder than its median.
   * Default 15 s. (A busy machine is not what the floor is for: the engine counts the OCR thread's
   * CPU time, which other processes do not stretch; worker start-up does not count.)
   */
  minMs?: number;
  /** Ceiling of the bound, and the bound used before the book has enough timed pages. Default 180 s. */
  maxMs?: number;
  /** Timed pages needed before the median is trusted. Default 3. */
  minSamples?: number;
}

/** The time one page may take, from the OCR durations of its book's pages so far. */
export function pageTimeBound(durationsMs: readonly number[], opts: TimeBoundOptions = {}): number {
  const { factor = 5, minMs = 15_000, maxMs = 180_000, minSamples = 3 } = opts;
  const valid = durationsMs.filter((d) => Number.isFinite(d) && d > 0);
  if (valid.length < minSamples) return maxMs;
  return Math.round(Math.min(maxMs, Math.max(minMs, factor * median(valid))));
}

/** Median of a non-empty list. */
export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function characters(r: Pick<OcrResult, 'words'>): number {
  return r.words.reduce((n, w) => n + [...w.text].length, 0);
}

/**
 * The better of two readings of one page: mean confidence scaled by how much text each found
 * relative to the other, so three confident words do not beat a full page read a little less
 * surely. Ties keep the first.
 */
export function betterResult<R extends Pick<OcrResult, 'meanConfidence' | 'words'>>(a: R, b: R): R {
  const most = Math.max(characters(a), characters(b), 1);
  const score = (r: R) => r.meanConfidence * (characters(r) / most);
  return score(b) > score(a) ? b : a;
}

/** One try at a page. */
export interface OcrAttempt {
  profile: string;
  /** 'not-upright': an upright-only reading that was not confident or not horizontal, set aside for a reading with orientation detection. */
  outcome: 'read' | 'not-upright' | 'timeout';
  meanConfidence?: number;
  durationMs: number;
}

/** The outcome of reading a page with fallbacks. */
export interface BoundedOcr {
  /** The best reading, or undefined when every attempt ran out of time. */
  result: OcrResult | undefined;
  attempts: OcrAttempt[];
  /** The page needs a person: no reading, the best is empty, or it is still below the confidence threshold. */
  review: boolean;
  /** The best reading is empty (readsAsEmpty) after every profile, rescues included: "no text read". */
  noText: boolean;
}

/**
 * Reads a page with `profiles[0]`, then with each next profile while the best reading so far is
 * below `minConfidence` or empty (readsAsEmpty: the caller gives only pages with ink); an attempt
 * that exceeds `timeoutMs` (its worker is recycled by the engine) counts as a failed attempt and
 * the next profile is tried. Other errors propagate. An empty reading never counts as good,
 * however confident its few words: it ends as `noText` and `review`. A good reading below
 * `sureConfidence` skips the remaining ordinary profiles and goes to the rescue profiles
 * (`OcrProfile.rescue`), keeping whichever reading is better.
 */
export async function recognizeBounded(
  engine: OcrEngine,
  image: Buffer,
  opts: Omit<OcrOptions, 'profile'> & { profiles: readonly OcrProfile[]; minConfidence?: number; sureConfidence?: number },
): Promise<BoundedOcr> {
  const { profiles, minConfidence = LOW_OCR_CONFIDENCE, sureConfidence = SURE_OCR_CONFIDENCE, ...base } = opts;
  if (profiles.length === 0) throw new Error('recognizeBounded needs at least one profile');
  const attempts: OcrAttempt[] = [];
  let best: OcrResult | undefined;
  // An upright-only reading that did not pass: kept only in case every later attempt times out.
  let setAside: OcrResult | undefined;
  // Once a reading passes the floor but stays unsure, only the rescues are still worth a try.
  let rescuesOnly = false;
  for (const profile of profiles) {
    if (rescuesOnly && !profile.rescue) continue;
    const started = performance.now();
    try {
      const r = await engine.recognize(image, { ...base, profile });
      if (profile.uprightOnly && !(good(r) && runsHorizontally(r))) {
        attempts.push({ profile: profile.name, outcome: 'not-upright', meanConfidence: r.meanConfidence, durationMs: r.durationMs });
        setAside = setAside ? betterResult(setAside, r) : r;
        continue;
      }
      attempts.push({ profile: profile.name, outcome: 'read', meanConfidence: r.meanConfidence, durationMs: r.durationMs });
      best = best ? betterResult(best, r) : r;
    } catch (e) {
      if (!(e instanceof OcrTimeoutError)) throw e;
      attempts.push({ profile: profile.name, outcome: 'timeout', durationMs: Math.round(performance.now() - started) });
    }
    if (best && good(best)) {
      if (best.meanConfidence >= sureConfidence) break;
      rescuesOnly = true;
    }
  }
  // A set-aside reading with text beats an empty one: it is a reading of a sideways page at worst.
  if (setAside && (!best || (readsAsEmpty(best) && !readsAsEmpty(setAside)))) best = setAside;
  const noText = best !== undefined && readsAsEmpty(best);
  return { result: best, attempts, review: !best || noText || best.meanConfidence < minConfidence, noText };

  function good(r: OcrResult): boolean {
    return r.meanConfidence >= minConfidence && !readsAsEmpty(r);
  }
}

/** Words of four letters or more that a page needs before its reading direction is trusted. */
const MIN_WORDS_FOR_DIRECTION = 3;

/**
 * Whether a reading's words run left to right across the image: tesseract's layout analysis reads
 * a sideways page too, but its word boxes then stand taller than wide (and the page's turn is unknown).
 */
export function runsHorizontally(r: Pick<OcrResult, 'words'>): boolean {
  const long = r.words.filter((w) => [...w.text].length >= 4);
  if (long.length < MIN_WORDS_FOR_DIRECTION) return false;
  const wide = long.filter((w) => w.bbox.x1 - w.bbox.x0 >= w.bbox.y1 - w.bbox.y0).length;
  return wide >= 0.8 * long.length;
}
