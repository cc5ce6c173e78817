/** Geometry of zone corrections (views/zones.ts), apart from the DOM so it can be tested on its own. */
import type { Box } from '../types.ts';

/** An entry zone as GET /books/{id}/pages/{n}/zones gives it (no keyed values). */
export interface Zone {
  id: string;
  pageSequence: number;
  layoutKey: string;
  layoutVersion: number;
  box: Box;
  /** One box per layout column, or none. */
  cells: Box[];
  source: string;
  status: string;
}

/** A zone's geometry, as PATCH /keying/zones/{id} and the split take it. */
export interface Shape {
  box: Box;
  cells: Box[];
}

/** `v` bounded by `lo` and `hi`. */
export const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);

/** A box given by two corners in any order. */
export const spanBox = (a: { x: number; y: number }, b: { x: number; y: number }): Box => ({
  x0: Math.min(a.x, b.x), y0: Math.min(a.y, b.y), x1: Math.max(a.x, b.x), y1: Math.max(a.y, b.y),
});

/**
 * Moves and resizes a zone's cells with its box: each cell keeps its place relative to the box,
 * so the columns stay over the same ruling after a correction.
 */
export function reshape(shape: Shape, box: Box): Shape {
  const { box: old } = shape;
  const sx = (box.x1 - box.x0) / Math.max(1, old.x1 - old.x0);
  const sy = (box.y1 - box.y0) / Math.max(1, old.y1 - old.y0);
  const mx = (x: number) => Math.round(box.x0 + (x - old.x0) * sx);
  const my = (y: number) => Math.round(box.y0 + (y - old.y0) * sy);
  return { box, cells: shape.cells.map((c) => ({ x0: mx(c.x0), y0: my(c.y0), x1: Math.max(mx(c.x1), mx(c.x0) + 1), y1: Math.max(my(c.y1), my(c.y0) + 1) })) };
}

/** The two zones a split at `y` makes: the columns stay, each part's cells span its own height. */
export function splitShapes(shape: Shape, y: number): [Shape, Shape] {
  const { box } = shape;
  const part = (y0: number, y1: number): Shape => ({ box: { ...box, y0, y1 }, cells: shape.cells.map((c) => ({ x0: c.x0, x1: c.x1, y0, y1 })) });
  return [part(box.y0, y), part(y, box.y1)];
}

/**
 * Whether zones can be merged as one row: no other zone of the page lies between them (a row
 * torn in two by detection has its halves next to each other).
 */
export function adjacent(chosen: readonly Zone[], all: readonly Zone[]): boolean {
  if (chosen.length < 2) return false;
  const mid = (z: Zone) => (z.box.y0 + z.box.y1) / 2;
  const ids = new Set(chosen.map((z) => z.id));
  const lo = Math.min(...chosen.map(mid));
  const hi = Math.max(...chosen.map(mid));
  return !all.some((z) => !ids.has(z.id) && mid(z) > lo && mid(z) < hi);
}

/** The merged zone's cells: per column the span of the parts' cells, over the merged height (none if a part has none). */
export function mergedCells(zones: readonly Zone[], box: Box): Box[] {
  const n = zones[0]?.cells.length ?? 0;
  if (n === 0 || zones.some((z) => z.cells.length !== n)) return [];
  return Array.from({ length: n }, (_, i) => ({
    x0: Math.min(...zones.map((z) => z.cells[i]!.x0)), x1: Math.max(...zones.map((z) => z.cells[i]!.x1)), y0: box.y0, y1: box.y1,
  }));
}

