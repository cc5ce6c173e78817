/**
 * Character error rate (CER) of OCR against ground truth: edit distance over the truth's length,
 * the usual OCR quality figure. Whole pages are compared row by row (a register row's truth text
 * against the OCR words inside the row's box, in reading order), so the table's reading order or
 * the header's place in the OCR output does not count as errors.
 */

/** Levenshtein distance between two strings, by Unicode code point. */
export function editDistanceChars(a: string, b: string): number {
  const x = [...a];
  const y = [...b];
  let prev = Array.from({ length: y.length + 1 }, (_, j) => j);
  for (let i = 1; i <= x.length; i++) {
    const cur = [i];
    for (let j = 1; j <= y.length; j++) cur.push(Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (x[i - 1] === y[j - 1] ? 0 : 1)));
    prev = cur;
  }
  return prev[y.length]!;
}

const squash = (s: string) => s.replace(/\s+/gu, ' ').trim().normalize('NFC');

/** CER of `read` against `truth` (whitespace runs count as one space); 0 for two empty texts. */
export function characterErrorRate(truth: string, read: string): number {
  const t = squash(truth);
  const r = squash(read);
  if (t.length === 0) return r.length === 0 ? 0 : 1;
  return editDistanceChars(t, r) / [...t].length;
}

/** A box as the ground truth gives it. */
interface TruthBox { left: number; top: number; width: number; height: number }

/** The rows of a page's ground truth: each row's text (its cells in order) and its box. */
export interface TruthRow { text: string; box: TruthBox }

/** An OCR word with its box in the same pixels as the truth. */
export interface ReadWord { text: string; bbox: { x0: number; y0: number; x1: number; y1: number } }

/** A page's CER: summed edit distances over summed truth lengths. */
export interface PageCer { cer: number; errors: number; characters: number; rows: number }

/**
 * CER of a page, row by row: each OCR word belongs to the row whose box holds its centre (the
 * nearest such row across the lines when boxes overlap); a row's words are read left to right on
 * the upright page. Words outside every row (headers, margins) are not counted. `rotation` is the
 * clockwise quarter turn the image shows the upright page at (boxes are in the image's pixels):
 * on a page turned 90 degrees its lines run top to bottom.
 */
export function pageCharacterErrorRate(rows: readonly TruthRow[], words: readonly ReadWord[], rotation: 0 | 90 | 180 | 270 = 0): PageCer {
  const readingOrder: Record<typeof rotation, (a: ReadWord, b: ReadWord) => number> = {
    0: (a, b) => a.bbox.x0 - b.bbox.x0,
    90: (a, b) => a.bbox.y0 - b.bbox.y0,
    180: (a, b) => b.bbox.x1 - a.bbox.x1,
    270: (a, b) => b.bbox.y1 - a.bbox.y1,
  };
  // Each word goes to one row: on a skewed page the truth's boxes (bounding boxes of turned rows)
  // overlap their neighbours, and a word counted in two rows would count as an error in one.
  const sideways = rotation === 90 || rotation === 270;
  const byRow = rows.map(() => [] as ReadWord[]);
  for (const w of words) {
    const cx = (w.bbox.x0 + w.bbox.x1) / 2;
    const cy = (w.bbox.y0 + w.bbox.y1) / 2;
    let best = -1;
    let bestDistance = Infinity;
    rows.forEach((row, i) => {
      if (cx < row.box.left || cx > row.box.left + row.box.width || cy < row.box.top || cy > row.box.top + row.box.height) return;
      // Across the lines: rows are stacked top to bottom, or left to right on a page turned sideways.
      const distance = sideways ? Math.abs(cx - (row.box.left + row.box.width / 2)) : Math.abs(cy - (row.box.top + row.box.height / 2));
      if (distance < bestDistance) {
        best = i;
        bestDistance = distance;
      }
    });
    if (best >= 0) byRow[best]!.push(w);
  }
  let errors = 0;
  let characters = 0;
  rows.forEach((row, i) => {
    const inRow = byRow[i]!.sort(readingOrder[rotation]);
    const t = squash(row.text);
    errors += editDistanceChars(t, squash(inRow.map((w) => w.text).join(' ')));
    characters += [...t].length;
  });
  return { cer: characters ? errors / characters : 0, errors, characters, rows: rows.length };
}
