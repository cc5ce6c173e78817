/**
 * Which detected table columns of a register page hold which column of its layout. The ruling
 * gives columns as spans between vertical rules; a layout names its columns in print order with
 * their headings in Albanian and Serbian, and no widths (a form revision moves them).
 *
 * The rule, from the fixtures and what real forms do:
 * - as many spans as layout columns: one to one, left to right (every generated page of
 *   bench/zones.bench.ts, and a form read as the layout describes it);
 * - otherwise the printed headings decide: a span reads as a layout column when its header-row
 *   words hold at least half of that column's heading (folded across diacritics and script, one
 *   letter of OCR slip allowed in longer words), and the spans are labelled in print order with
 *   the best total (a span after the mother's column cannot be the surname's, whatever it reads).
 *   Spans without a heading join the column whose spans surround them (a rule through a wide
 *   heading) and are left out at the table's edges (a margin ruled for annotations). A layout
 *   column with no heading read, fewer spans than columns, or an unheaded span between two
 *   different columns leaves the page unmatched: guessing would give keyers cells that hold
 *   another column's writing.
 */
import { editDistance, normaliseTokens } from '../search/normalise.ts';
import type { LayoutColumn } from './answers.ts';

/** A detected column span (deskewed page pixels, as register-grid.ts gives them). */
export interface ColumnSpan {
  x0: number;
  x1: number;
}

/** A word read in the table's header row: its text and the horizontal centre of its box (same frame as the spans). */
export interface HeaderWord {
  text: string;
  x: number;
}

/** What column matching decided. */
export type ColumnMatch =
  | {
      matched: true;
      /** For each layout column, in layout order, the indexes of the detected spans it covers (contiguous, left to right). */
      groups: number[][];
      /** 'count': one span per column; 'headings': placed by the header row's words. */
      method: 'count' | 'headings';
      /** Detected spans left out (edge columns without a heading). */
      dropped: number[];
    }
  | { matched: false; reason: string };

/** Share of a heading's words a span must show to be labelled with it. */
const MIN_HEADING_SHARE = 0.5;

/** The words of a heading worth matching: one-letter words ("e", "i") are in half the headings. */
function headingTokens(label: string | undefined): string[] {
  return label ? normaliseTokens(label).filter((t) => t.length > 1) : [];
}

function sameToken(a: string, b: string): boolean {
  if (a === b) return true;
  return Math.min(a.length, b.length) >= 5 && editDistance(a, b, 1) <= 1;
}

/** How well a span's header words read as a column's heading: best share over its languages, and the count behind it. */
export function headingScore(words: readonly string[], column: LayoutColumn): { share: number; count: number } {
  let best = { share: 0, count: 0 };
  for (const label of [column.label?.sq, column.label?.sr]) {
    const tokens = headingTokens(label);
    if (tokens.length === 0) continue;
    const count = tokens.filter((t) => words.some((w) => sameToken(t, w))).length;
    const share = count / tokens.length;
    if (share > best.share || (share === best.share && count > best.count)) best = { share, count };
  }
  return best;
}

/** Matches detected column spans to a layout's columns; `headerWords` are the header row's OCR words, if any were read. */
export function matchColumns(spans: readonly ColumnSpan[], columns: readonly LayoutColumn[], headerWords: readonly HeaderWord[] = []): ColumnMatch {
  if (columns.length === 0) return { matched: false, reason: 'the layout has no columns' };
  if (spans.length === 0) return { matched: false, reason: 'no table columns were found on the page' };
  if (spans.length === columns.length) return { matched: true, groups: spans.map((_, i) => [i]), method: 'count', dropped: [] };

  const counts = `${spans.length} columns found, the layout has ${columns.length}`;
  const perSpan = spans.map((s) => headerWords.filter((w) => w.x >= s.x0 && w.x < s.x1).flatMap((w) => normaliseTokens(w.text)));
  if (perSpan.every((w) => w.length === 0)) return { matched: false, reason: `${counts}, and no heading was read to place them` };

  // Score of span d read as column j: the heading's share (with a hair for more words, so "Emri i
  // babait" reads as the father's column rather than the child's "Emri"), or 0 below the bar.
  const L = columns.length;
  const D = spans.length;
  const score = perSpan.map((words) => columns.map((c) => {
    const h = headingScore(words, c);
    return h.share >= MIN_HEADING_SHARE ? h.share + 0.001 * h.count : 0;
  }));
  // Best labelling in print order (Viterbi): states 0 = left of the table's columns (left out),
  // 1..L = layout column j-1, L+1 = right of them; a span moves on by at most one column, so every
  // layout column gets at least one span. A heading that runs over two spans is thereby kept with
  // its column even when its second half reads like another heading ("mbiemri i vajzërisë").
  const S = L + 2;
  const gain = (d: number, st: number) => (st === 0 || st === L + 1 ? 0 : score[d]![st - 1]!);
  let best = new Float64Array(S).fill(-Infinity);
  best[0] = gain(0, 0);
  best[1] = gain(0, 1);
  const from: Int16Array[] = [];
  for (let d = 1; d < D; d++) {
    const next = new Float64Array(S).fill(-Infinity);
    const prev = new Int16Array(S).fill(-1);
    for (let st = 0; st < S; st++) {
      // On a tie a span without heading is left out at the table's edges rather than joined to its edge column.
      for (const p of st === L + 1 ? [st, st - 1] : [st - 1, st]) {
        if (p < 0 || best[p] === -Infinity) continue;
        if (best[p]! > next[st]!) {
          next[st] = best[p]!;
          prev[st] = p;
        }
      }
      if (next[st] !== -Infinity) next[st] = next[st]! + gain(d, st);
    }
    from.push(prev);
    best = next;
  }
  const end = best[L + 1]! >= best[L]! ? L + 1 : L;
  if (best[end] === -Infinity) return { matched: false, reason: `${counts}; too few columns to hold the layout's` };
  const states = new Array<number>(D);
  states[D - 1] = end;
  for (let d = D - 1; d > 0; d--) states[d - 1] = from[d - 1]![states[d]!]!;

  const groups: number[][] = columns.map(() => []);
  const dropped: number[] = [];
  states.forEach((st, d) => (st === 0 || st === L + 1 ? dropped.push(d) : groups[st - 1]!.push(d)));
  const missing = columns.filter((_, j) => !groups[j]!.some((d) => score[d]![j]! > 0)).map((c) => c.key);
  if (missing.length > 0) return { matched: false, reason: `${counts}; no heading read for ${missing.join(', ')}` };
  // A span without its heading next to another column's: which of the two it belongs to is a guess.
  for (let j = 0; j < L; j++) {
    const g = groups[j]!;
    for (const [d, edge] of [[g[0]!, g[0]! - 1], [g[g.length - 1]!, g[g.length - 1]! + 1]] as const) {
      if (score[d]![j]! === 0 && edge >= 0 && edge < D && states[edge] !== j + 1) {
        return { matched: false, reason: `${counts}; column ${d + 1} has no heading and lies at the edge of ${columns[j]!.key}` };
      }
    }
  }
  return { matched: true, groups, method: 'headings', dropped };
}
