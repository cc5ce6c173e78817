import type { Key } from '../i18n.ts';

/** The stages a page or book goes through, by the short name the labels use. */
export const STAGE_NAMES = ['split', 'master', 'ocr', 'index', 'complete', 'package'] as const;

/** A stage's short name. */
export type StageName = (typeof STAGE_NAMES)[number];

/**
 * The short name of a stage as the API reports it (`page.ocr`, `book.split`), or undefined for one
 * this screen does not know (shown as given rather than guessed as another).
 */
export function stageName(stage: string | null | undefined): StageName | undefined {
  const short = stage?.replace(/^(page|book)\./, '');
  return (STAGE_NAMES as readonly string[]).includes(short ?? '') ? (short as StageName) : undefined;
}

// The failure reasons the archive writes (ingest/detect.ts, ocr/, workers/stages/), in the order
// tried: the first pattern that matches names the sentence shown to staff.
const REASONS: readonly (readonly [RegExp, Key])[] = [
  [/is not a TIFF, PDF, PNG, JPEG or ZIP|must be a PNG, JPEG or TIFF/i, 'rs_notImage'],
  [/file is empty|page image is empty/i, 'rs_empty'],
  [/OCR exceeded the page time bound|timed? ?out/i, 'rs_ocrTimeout'],
  [/OCR result unreadable/i, 'rs_ocrUnreadable'],
  [/has no source image|could not be read from the original/i, 'rs_noSource'],
  [/OCR language|no OCR data installed/i, 'rs_language'],
  [/JavaScript|active content/i, 'rs_script'],
  [/holds no pages|contains no pages/i, 'rs_noPages'],
  [/more than the limit|larger than|too large|image is .*pixels/i, 'rs_tooLarge'],
  [/cannot be decoded|truncated|damaged|corrupt|unreadable|Input buffer|unsupported image format|bad seek|premature end/i, 'rs_damaged'],
];

/**
 * What a failure reason means for staff, as a label key; undefined when the reason is not one the
 * archive is known to write (the screen then names the stage and shows the reason as detail).
 */
export function reasonKey(reason: string | null | undefined): Key | undefined {
  if (!reason) return undefined;
  return REASONS.find(([re]) => re.test(reason))?.[1];
}

// Names of Tesseract's language codes as their speakers write them: staff choose the languages a
// book is written in, and read them in that language whatever the interface's language.
const LANGUAGE_NAMES: Readonly<Record<string, string>> = {
  sqi: 'Shqip',
  srp: 'Српски (ћирилица)',
  srp_latn: 'Srpski (latinica)',
  eng: 'English',
  bos: 'Bosanski',
  hrv: 'Hrvatski',
  mkd: 'Македонски',
  tur: 'Türkçe',
  deu: 'Deutsch',
  ita: 'Italiano',
  fra: 'Français',
  lat: 'Latina',
  ell: 'Ελληνικά',
  rus: 'Русский',
};

/** The languages offered as choices when uploading a book, in the order they are offered. */
export const OFFERED_LANGUAGES = ['sqi', 'srp_latn', 'srp', 'eng'] as const;

/** A language code's name (the code itself when unknown). */
export function languageName(code: string): string {
  return LANGUAGE_NAMES[code] ?? code;
}

/** A `+`-joined list of language codes (`sqi+srp+eng`) as names (`Shqip, Српски (ћирилица), English`). */
export function languageNames(codes: string | null | undefined): string {
  return (codes ?? '').split('+').filter(Boolean).map(languageName).join(', ');
}
