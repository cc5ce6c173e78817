/**
 * OCR profiles per page type and the order of fallbacks, chosen by measurement on the fixtures
 * (bench/ocr-quality.bench.ts, scale 0.5, printed and typewriter, noise 0/2/3, rotated 0/90/180,
 * low contrast). What the figures said:
 * - Orientation detection (OSD) is what upside-down pages need: without it they read 0-2% of
 *   surnames, with it 98-100%; PSM 3 alone copes with most sideways pages. It costs ~0.4 s a page.
 * - Sauvola binarisation (thresholding_method 2) lost text on these pages, badly on low contrast
 *   and heavy noise (0-21% of surnames), so it is not a first choice; it stays as the last resort
 *   for pages where Otsu finds nothing (the pathological typewriter page of the shared notes).
 * - Normalising grey levels plus a light blur (sigma 0.7) helped typewriter pages at noise 3 and
 *   low contrast a little and cost nothing measurable; printed pages were already read in full.
 * - Grey, grainy carbon copies (fixtures paper 'grey-grainy'; monospace and serif typewriter faces,
 *   faint ribbon, light blur): every earlier profile, and the old Sauvola rescue, read none or a
 *   few words of them (Sauvola erases the faint strokes with the grain; normalising stretches the
 *   grain with the ink). Dividing by the paper tone first, then stretching and a 1 px blur, read
 *   most of them; Sauvola after the division added nothing over Otsu, and median filtering
 *   and upscaling read fewer names. So the rescue flattens first and Sauvola stays the last try.
 * - Painting over the form's vertical rules (ruling-lines.ts) took the CER of clean printed pages
 *   from ~6% to ~1.2%, of typewriter pages from 5-7% to 2-4% and of Cyrillic ones from ~10% to
 *   ~3%: tesseract had read the rules as `1`, `l`, `j`, `(`. Every profile does it.
 */
import { BOOK_OCR_PROFILES, DEFAULT_OCR_PROFILE, type BookOcrProfile } from '../common/vocabulary.ts';
import type { OcrProfile } from './ocr-engine.ts';

/** What each of a book's OCR profiles reads its pages with first. */
export const OCR_PROFILES: Readonly<Record<BookOcrProfile, OcrProfile>> = {
  printed: { name: 'printed', detectOrientation: true, removeRules: true },
  typewriter: { name: 'typewriter', detectOrientation: true, normalise: true, blurSigma: 0.7, removeRules: true },
  // Mixed Latin/Cyrillic pages differ in the language set (the book's, e.g. sqi+srp), not the pixels.
  mixed: { name: 'mixed', detectOrientation: true, removeRules: true },
  // Handwritten pages are keyed by people; the printed settings read whatever printed form text they carry, for search.
  handwritten: { name: 'handwritten', detectOrientation: true, removeRules: true },
};

/**
 * The OSD confidence below which a rescue reads the page as it stands. Pages reach the rescues
 * because the readings before failed, often on grain that OSD misreads too: it turned a grey grainy
 * serif page upside down at confidence 0.71 (names found 0% instead of 32%), while truly turned
 * noisy fixture pages scored 0.9-12.8 (bench/ocr-quality rotated types; 22 of 24 above 2), and those
 * are read by the +osd and +flip profiles before any rescue.
 */
const RESCUE_MIN_ORIENTATION_CONFIDENCE = 1;

/**
 * First rescue when the readings so far are empty or poor: the paper divided out, grey levels
 * stretched, a light blur to close the grain's holes in thin strokes, Otsu.
 */
export const FLATTEN_RESCUE_PROFILE: OcrProfile = {
  name: 'rescue:flatten', detectOrientation: true, minOrientationConfidence: RESCUE_MIN_ORIENTATION_CONFIDENCE,
  flattenBackground: true, normalise: true, blurSigma: 1, removeRules: true, rescue: true,
};

/** Last resort when the first readings are poor: local thresholding on stretched grey levels. */
export const RESCUE_PROFILE: OcrProfile = {
  name: 'rescue', detectOrientation: true, minOrientationConfidence: RESCUE_MIN_ORIENTATION_CONFIDENCE, normalise: true, binarisation: 'sauvola', removeRules: true, rescue: true,
};

/** The profiles that run only when every reading before them is empty or below the confidence floor. */
export const RESCUE_PROFILES: readonly OcrProfile[] = [FLATTEN_RESCUE_PROFILE, RESCUE_PROFILE];

/**
 * Profiles to try in turn for a book's OCR profile: its own read as given, kept when confident and
 * horizontal (OSD cost ~0.28 s of CPU a page against ~0.65 s for the reading itself, on pages
 * that are nearly all upright; bench/pipeline.bench.ts); its own with orientation detection; the
 * same turned a further half turn (OSD took one noisy upside-down typewriter page in eight for
 * upright, and an upside-down reading scores ~25 against ~70); then the rescues, flattened
 * paper first. recognizeBounded stops at the first reading that is confident and not empty, so
 * ordinary pages never reach the rescues.
 */
export function profilesFor(profile: BookOcrProfile, opts: { orientationFirst?: boolean } = {}): OcrProfile[] {
  const first = OCR_PROFILES[profile];
  // A handwritten page goes to keying whatever OCR makes of it: one reading with orientation
  // detection. An upright-only reading first would be set aside on nearly every such page (it is
  // kept only when confident), and the flip and the rescues exist to lift a poor reading.
  if (profile === 'handwritten') return [{ ...first, name: `${first.name}+osd` }];
  return [
    ...(opts.orientationFirst ? [] : [{ ...first, uprightOnly: true }]),
    { ...first, name: `${first.name}+osd` },
    { ...first, name: `${first.name}+flip`, flip: true },
    ...RESCUE_PROFILES,
  ];
}

/**
 * Share of a book's recent pages found turned above which its next page is read with orientation
 * detection first. A turned page read upright first costs a whole wasted reading (bench/ocr-quality,
 * `--set grid --rotate 0,90,180,270 --scale 1`: 1.5-2.2 s a turned page against 0.6-0.7 s an
 * upright one, on both engines), detection ~0.35 s of CPU with native Tesseract (a process per
 * page) and ~0.17 s with tesseract.js's resident OSD worker: detection first pays once about a
 * third of the pages are turned, as in a book scanned in the wrong orientation or `cardinal`-like.
 */
export const ORIENTATION_FIRST_SHARE = 1 / 3;
/** Pages of the book already read before their shapes and turns are trusted. */
const ORIENTATION_FIRST_MIN_PAGES = 3;

/**
 * Whether to read a page with orientation detection first, from the book's pages read lately
 * (newest first): when at least ORIENTATION_FIRST_SHARE of them were turned, or when this page's
 * shape (landscape or portrait) is not that of most of them, as a page scanned sideways is not.
 */
export function readOrientationFirst(recent: readonly { landscape: boolean; turn: number }[], page: { landscape: boolean } | undefined): boolean {
  if (recent.length < ORIENTATION_FIRST_MIN_PAGES) return false;
  const turned = recent.filter((p) => p.turn !== 0).length;
  if (turned / recent.length >= ORIENTATION_FIRST_SHARE) return true;
  if (!page) return false;
  const sameShape = recent.filter((p) => p.landscape === page.landscape).length;
  return sameShape * 2 < recent.length;
}

/** Resolves the OCR profile named on a book (one of BOOK_OCR_PROFILES); unknown names fall back to the default, 'printed'. */
export function bookOcrProfileOf(name: string | null | undefined): BookOcrProfile {
  return BOOK_OCR_PROFILES.find((p) => p === name) ?? DEFAULT_OCR_PROFILE;
}
