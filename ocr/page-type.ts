/**
 * What a scanned page is, before and after OCR: blank sheets are found from the pixels (so they are
 * not read at all), register pages, covers and index pages from the words read. Blank pages are
 * common in registers (unused leaves, versos) and OCR on them only produces noise words.
 */
import sharp, { type Sharp } from 'sharp';
import type { PageType } from '../common/vocabulary.ts';

// The kinds of page are in the vocabulary (the schema's CHECK and the API share them); exported here as before.
export { PAGE_TYPES, type PageType } from '../common/vocabulary.ts';

/** A page type with the measurement that decided it (no text, safe to log). */
export interface PageTypeVerdict {
  type: PageType;
  reason: string;
}

/** Share of ink pixels at or below which a page counts as blank. */
export const BLANK_INK_RATIO = 0.002;

/**
 * The share of the page covered by ink: pixels clearly darker than the paper around them (the
 * lighter half of each small block estimates it, so uneven light and yellowed paper do not count),
 * counting only ink with ink next to it, so isolated specks of scanner noise do not count either.
 * One decode at ~600 px and a pass in JS: 10-20 ms a page where the earlier median filter and
 * large blur in libvips took ~110 ms, more than any other step but OCR (bench/pipeline.bench.ts).
 * Measured on the fixtures: noisy blank leaves 0%, a cover with two lines 1.9%, a noisy (3)
 * low-contrast typewriter register page 3.2% (threshold 0.2%).
 */
export async function inkRatio(image: Buffer, opts: { maxPixels?: number } = {}): Promise<number> {
  return inkRatioOf(sharp(image, { limitInputPixels: opts.maxPixels ?? 200_000_000, failOn: 'error' }));
}

/** `inkRatio` of an image already open in sharp (e.g. pixels the master stage has decoded). */
export async function inkRatioOf(image: Sharp): Promise<number> {
  const { data, info } = await image
    .greyscale()
    .resize({ width: INK_SIDE, height: INK_SIDE, fit: 'inside', withoutEnlargement: true })
    .toColourspace('b-w')
    .raw()
    .toBuffer({ resolveWithObject: true });
  return inkShare(data, info.width, info.height);
}

const INK_SIDE = 600;
const PAPER_BLOCK = 16;
const INK_CONTRAST = 25;

/** `inkRatio` on decoded single-channel pixels. */
export function inkShare(grey: Uint8Array, width: number, height: number): number {
  if (grey.length !== width * height) throw new Error(`grey image of ${width}x${height} needs ${width * height} bytes, got ${grey.length}`);
  const bw = Math.ceil(width / PAPER_BLOCK);
  const bh = Math.ceil(height / PAPER_BLOCK);
  // Paper tone per block: the mean of the pixels at or above the block's mean (ink pulls the plain mean down).
  const paper = new Float32Array(bw * bh);
  for (let by = 0; by < bh; by++) {
    for (let bx = 0; bx < bw; bx++) {
      const x0 = bx * PAPER_BLOCK, y0 = by * PAPER_BLOCK;
      const x1 = Math.min(width, x0 + PAPER_BLOCK), y1 = Math.min(height, y0 + PAPER_BLOCK);
      let sum = 0, n = 0;
      for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++, n++) sum += grey[y * width + x]!;
      const mean = sum / n;
      let upper = 0, m = 0;
      for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) {
        const v = grey[y * width + x]!;
        if (v >= mean) { upper += v; m++; }
      }
      paper[by * bw + bx] = m ? upper / m : mean;
    }
  }
  const dark = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    const prow = Math.floor(y / PAPER_BLOCK) * bw;
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      if (paper[prow + Math.floor(x / PAPER_BLOCK)]! - grey[i]! > INK_CONTRAST) dark[i] = 1;
    }
  }
  let ink = 0;
  for (let y = 1; y < height - 1; y++) {
    for (let x = 1; x < width - 1; x++) {
      const i = y * width + x;
      if (!dark[i]) continue;
      // A stroke has dark neighbours; a speck of sensor noise stands alone.
      const around = dark[i - 1]! + dark[i + 1]! + dark[i - width]! + dark[i + width]! + dark[i - width - 1]! + dark[i - width + 1]! + dark[i + width - 1]! + dark[i + width + 1]!;
      if (around >= 2) ink++;
    }
  }
  return ink / (width * height);
}

/** Blank or not, from a page's ink ratio. */
export function blankByInk(ratio: number): PageTypeVerdict | undefined {
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

/** A word of a reading as the handwriting verdict needs it. */
export interface ReadWord {
  text: string;
  confidence: number;
}

/**
 * Mean OCR confidence below which a page with text reads as handwriting. Measured (bench/handwriting.bench.ts,
 * native Tesseract, scale 0.5, after the whole profile chain): printed, typewriter, Cyrillic and mixed
 * fixture pages on white paper at noise 0-3 (low contrast included) read at 69.7-92; handwritten
 * pages (Debian's handwriting fonts on a printed form) at 31-65.
 */
export const HANDWRITING_MAX_CONFIDENCE = 67;
/** Share of a page's words of 3+ letters read below 50 at or above which low confidence reads as handwriting (handwritten pages: 0.19-0.84). */
export const HANDWRITING_MIN_UNSURE_SHARE = 0.15;
/** Words of 3+ letters a reading needs before it is judged: fewer is a cover or an empty reading, for review instead. */
const HANDWRITING_MIN_WORDS = 20;
const UNSURE_WORD_CONFIDENCE = 50;

/**
 * Whether a page reads as handwriting, from its OCR reading alone: the mean confidence is below
 * HANDWRITING_MAX_CONFIDENCE and a share of its words of three letters or more were read below 50.
 * Tesseract reads a hand's letters as something (so the page has words) but unsurely, while print,
 * even noisy, is read surely. Word-shape and dictionary tests were measured too and left out: block
 * capital hands are read as real names (PLLANA, GASHI), and noisy print yields as many odd shapes.
 * Grey grainy carbon copies read as poorly as handwriting and are flagged like it (see the benchmark).
 */
export function handwritingByReading(reading: { meanConfidence: number; words: readonly ReadWord[] }): PageTypeVerdict | undefined {
  const long = reading.words.filter((w) => (w.text.match(/\p{L}/gu)?.length ?? 0) >= 3);
  if (long.length < HANDWRITING_MIN_WORDS || reading.meanConfidence >= HANDWRITING_MAX_CONFIDENCE) return undefined;
  const unsure = long.filter((w) => w.confidence < UNSURE_WORD_CONFIDENCE).length / long.length;
  if (unsure < HANDWRITING_MIN_UNSURE_SHARE) return undefined;
  return {
    type: 'handwritten',
    reason: `reads as handwriting: mean OCR confidence ${reading.meanConfidence.toFixed(1)} (below ${HANDWRITING_MAX_CONFIDENCE}), ${Math.round(unsure * 100)}% of ${long.length} words of 3+ letters read below ${UNSURE_WORD_CONFIDENCE}`,
  };
}

/** The verdict for a page of a book declared handwritten at ingest. */
export const DECLARED_HANDWRITTEN: PageTypeVerdict = { type: 'handwritten', reason: "the book's OCR profile is handwritten" };
