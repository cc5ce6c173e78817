/**
 * Removal of a register form's vertical ruling lines before OCR. Tesseract reads a column rule
 * next to a cell's text as `1`, `l`, `j`, `(` or `|`: on the generated register pages that was
 * most of the character error rate of clean pages. Measured on 14 generated pages (printed,
 * typewriter, Cyrillic; noise 0 to 3; `bench/ocr-quality.bench.ts`), CER with the rules as
 * scanned / vertical rules removed / every rule removed: clean printed 6.0-6.4% / 1.1-1.3% /
 * 9-17%; typewriter 5.1-7.4% / 2.0-3.7% / 9.5-12%; Cyrillic 9.5-10% / 2.8-3.3% / 6.5-7.5%.
 * Horizontal rules stay: without them tesseract runs a row's cells together into one line and
 * reads narrow cells (the entry number, sex) and typewriter dates worse.
 *
 * A vertical rule is a run of ink down a column far longer than any stroke of a letter; such
 * runs, and their anti-aliased edges, are painted in the paper's tone. Only the image tesseract
 * reads is changed: the master and the derivatives keep their rules.
 */

/** A single-channel 8-bit image, row-major, `width * height` bytes. */
export interface GreyImage {
  data: Uint8Array;
  width: number;
  height: number;
}

export interface RuleRemovalOptions {
  /** Shortest run of ink, in pixels, taken for a rule (a letter's stroke is shorter). */
  minRun: number;
  /** Light pixels a rule may be broken by and still count as one run (scanner noise, faded ink). */
  maxGap?: number;
}

export interface RuleRemovalResult {
  /** Runs taken for parts of rules. */
  runs: number;
  /** Pixels painted over. */
  cleared: number;
}

/**
 * The shortest rule at a resolution: about 8 mm of paper, three times the height of a capital in a
 * 10-12 pt register hand or typeface, so no letter is taken for a rule.
 */
export function minRuleRun(dpi: number): number {
  return Math.max(24, Math.round(dpi * 0.32));
}

/**
 * Otsu's threshold over a histogram: the grey level that best splits paper from ink, whatever the
 * paper's tone.
 */
export function otsuThreshold(hist: ArrayLike<number>): number {
  let total = 0;
  let sumAll = 0;
  for (let v = 0; v < 256; v++) {
    total += hist[v]!;
    sumAll += v * hist[v]!;
  }
  let wB = 0;
  let sumB = 0;
  let best = 0;
  let threshold = 127;
  for (let v = 0; v < 256; v++) {
    wB += hist[v]!;
    if (wB === 0) continue;
    const wF = total - wB;
    if (wF === 0) break;
    sumB += v * hist[v]!;
    const mB = sumB / wB;
    const mF = (sumAll - sumB) / wF;
    const between = wB * wF * (mB - mF) * (mB - mF);
    if (between > best) {
      best = between;
      threshold = v;
    }
  }
  return threshold;
}

/** Paints the vertical rules of `image` over with the paper's tone, in place. */
export function removeVerticalRules(image: GreyImage, opts: RuleRemovalOptions): RuleRemovalResult {
  const { width, height } = image;
  // A plain Uint8Array view: V8 reads a Buffer's elements more slowly in these loops.
  const data = new Uint8Array(image.data.buffer, image.data.byteOffset, image.data.length);
  if (data.length !== width * height) throw new Error(`grey image of ${width}x${height} needs ${width * height} bytes, got ${data.length}`);
  const minRun = Math.max(2, Math.floor(opts.minRun));
  const maxGap = Math.max(0, Math.floor(opts.maxGap ?? 2));

  // Every third pixel is plenty to place the threshold and the paper tone, at a third of the cost.
  const hist = new Uint32Array(256);
  let sampled = 0;
  for (let i = 0; i < data.length; i += 3, sampled++) hist[data[i]!]! += 1;
  const threshold = otsuThreshold(hist);
  // The paper: the commonest grey lighter than the ink threshold.
  let paper = 255;
  for (let v = threshold + 1; v < 256; v++) if (hist[v]! > hist[paper]!) paper = v;
  // A page all of one tone (blank) has no ink to find rules in.
  if (hist[paper] === sampled) return { runs: 0, cleared: 0 };

  // Every column's run advanced row by row, so memory is read in order.
  const runs: number[] = [];
  const start = new Int32Array(width).fill(-1);
  const last = new Int32Array(width).fill(-1);
  for (let y = 0, row = 0; y < height; y++, row += width) {
    for (let x = 0; x < width; x++) {
      if (data[row + x]! > threshold) continue;
      const s = start[x]!;
      const l = last[x]!;
      if (s < 0 || y - l - 1 > maxGap) {
        if (s >= 0 && l - s + 1 >= minRun) runs.push(x, s, l);
        start[x] = y;
      }
      last[x] = y;
    }
  }
  for (let x = 0; x < width; x++) {
    if (start[x]! >= 0 && last[x]! - start[x]! + 1 >= minRun) runs.push(x, start[x]!, last[x]!);
  }

  // A rule's anti-aliased edge is lighter than ink but darker than paper: once the rule is gone it
  // would stand alone as a faint line, so the grey pixels either side of a run go with it (ink
  // there is a letter touching the rule, and stays). Painted in the paper's own tone, not white:
  // a white line on grey paper is an edge of its own.
  // Otsu puts the threshold near the ink when a page is mostly paper, so "darker than paper" is
  // measured from the paper's side: anything a quarter of the way from paper to the threshold.
  const fringe = Math.round(paper - (paper - threshold) / 4);
  let cleared = 0;
  for (let r = 0; r < runs.length; r += 3) {
    const x = runs[r]!;
    for (let y = runs[r + 1]!; y <= runs[r + 2]!; y++) {
      const i = y * width + x;
      data[i] = paper;
      cleared++;
      if (x > 0 && data[i - 1]! > threshold && data[i - 1]! <= fringe) {
        data[i - 1] = paper;
        cleared++;
      }
      if (x + 1 < width && data[i + 1]! > threshold && data[i + 1]! <= fringe) {
        data[i + 1] = paper;
        cleared++;
      }
    }
  }
  return { runs: runs.length / 3, cleared };
}
