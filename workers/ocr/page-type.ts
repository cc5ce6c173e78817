/**
 * What a scanned page is, before and after OCR: blank sheets are found from the pixels (so they are
 * not read at all), register pages, covers and index pages from the words read. Blank pages are
 * common in registers (unused leaves, versos) and OCR on them only produces noise words.
 */
import sharp from 'sharp';

/** Kinds of page a register book holds. */
export const PAGE_TYPES = ['register', 'cover', 'index', 'blank', 'other'] as const;
export type PageType = (typeof PAGE_TYPES)[number];

/** A page type with the measurement that decided it (no text, safe to log). */
export interface PageTypeVerdict {
  type: PageType;
  reason: string;
}

/** Share of ink pixels at or below which a page counts as blank. */
export const BLANK_INK_RATIO = 0.002;

/**
 * The share of the page covered by ink: pixels clearly darker than the local paper tone (a large
 * blur estimates it, so uneven light and yellowed paper do not count), after a median filter that
 * removes isolated specks of scanner noise. Measured at ~1000 px wide: the settings that kept a
 * noisy low-contrast typewriter fixture page at 0.9% ink and noisy blank leaves at 0%.
 */
export async function inkRatio(image: Buffer, opts: { maxPixels?: number } = {}): Promise<number> {
  const grey = await sharp(image, { limitInputPixels: opts.maxPixels ?? 200_000_000, failOn: 'error' })
    .greyscale()
    .resize({ width: 1000, height: 1000, fit: 'inside', withoutEnlargement: true })
    .median(3)
    .raw()
    .toBuffer({ resolveWithObject: true });
  const { width, height } = grey.info;
  const paper = await sharp(grey.data, { raw: { width, height, channels: 1 } }).blur(12).toColourspace('b-w').raw().toBuffer();
  let ink = 0;
  for (let i = 0; i < grey.data.length; i++) {
    if ((paper[i] as number) - (grey.data[i] as number) > 25) ink++;
  }
  return ink / grey.data.length;
}

/** Blank or not, from the pixels alone. */
export async function detectBlankPage(image: Buffer, opts: { maxPixels?: number } = {}): Promise<PageTypeVerdict | undefined> {
  const ratio = await inkRatio(image, opts);
  return ratio <= BLANK_INK_RATIO ? { type: 'blank', reason: `ink covers ${(ratio * 100).toFixed(2)}% of the page` } : undefined;
}

/** A word as classification needs it. */
export interface TypedWord {
  text: string;
  line: number;
}

/**
 * The page type from its OCR words: a register page has several rows opening with an entry
 * number; an index page several lines ending with a page number; a cover has little text.
 */
export function classifyPageWords(words: readonly TypedWord[]): PageTypeVerdict {
  if (words.length === 0) return { type: 'blank', reason: 'no words were read' };
  const lines = new Map<number, string[]>();
  for (const w of words) {
    const t = w.text.trim();
    if (!t) continue;
    const l = lines.get(w.line) ?? [];
    l.push(t);
    lines.set(w.line, l);
  }
  const isNumber = (t: string | undefined) => t !== undefined && /^\d{1,5}[.)]?$/.test(t);
  let numbered = 0;
  let referenced = 0;
  for (const l of lines.values()) {
    if (l.length >= 3 && isNumber(l[0])) numbered++;
    else if (l.length >= 2 && isNumber(l[l.length - 1]) && !isNumber(l[0])) referenced++;
  }
  // Partly read register pages still count: two numbered rows are enough (a cover has none).
  if (numbered >= 2 && numbered >= referenced) return { type: 'register', reason: `${numbered} rows start with an entry number` };
  if (referenced >= 5) return { type: 'index', reason: `${referenced} lines end with a page number` };
  if (words.length < 30 && numbered === 0) return { type: 'cover', reason: `${words.length} words and no register rows` };
  return { type: 'other', reason: `${words.length} words, ${numbered} numbered rows` };
}
