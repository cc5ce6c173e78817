/**
 * Per-stage timings of a book from its PREMIS events: one figure per page and stage (the latest
 * successful run, so retries and re-runs are not counted twice), with the share of pages beyond
 * the OCR time bound's factor of the median (the "no page over 5x the median").
 */
import type { Queryable } from '../db/index.ts';
import { latestStageDurations } from './review.store.ts';

/** Stages as the events name them. */
const STAGE_OF_EVENT: Readonly<Record<string, string>> = { capture: 'split', normalization: 'master', ocr: 'ocr', indexing: 'index' };

/** Timing figures of one stage over a book's pages. */
export interface StageTiming {
  stage: string;
  pages: number;
  meanMs: number;
  medianMs: number;
  p95Ms: number;
  maxMs: number;
  /** Pages that took more than `factor` × the median. */
  overFactor: number;
}

/** The timings of every stage of a book. */
export async function bookStageTimings(db: Queryable, bookId: string, factor = 5): Promise<StageTiming[]> {
  const byStage = new Map<string, number[]>();
  for (const run of await latestStageDurations(db, bookId, Object.keys(STAGE_OF_EVENT))) {
    const stage = STAGE_OF_EVENT[run.eventType]!;
    const list = byStage.get(stage) ?? [];
    list.push(run.durationMs);
    byStage.set(stage, list);
  }
  const order = Object.values(STAGE_OF_EVENT);
  return [...byStage].sort((a, b) => order.indexOf(a[0]) - order.indexOf(b[0])).map(([stage, values]) => {
    const s = [...values].sort((a, b) => a - b);
    const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
    const median = s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
    return {
      stage, pages: s.length, meanMs: Math.round(s.reduce((n, v) => n + v, 0) / s.length), medianMs: Math.round(median), p95Ms: at(0.95), maxMs: s[s.length - 1]!,
      overFactor: s.filter((v) => v > factor * median).length,
    };
  });
}
