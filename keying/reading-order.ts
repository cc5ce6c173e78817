/**
 * Reading order on pages the OCR turned: zones are stored in master pixels, but a page scanned a
 * quarter turn round is read with its rows running across the master. The turn that stands a zone
 * upright, and the SQL order of zones as the page is read (top to bottom when upright).
 */
import type { Box } from '../entries/index.ts';

/** A quarter turn, clockwise, that stands the master upright (pages.ocr_turn). */
export type Turn = 0 | 90 | 180 | 270;

/**
 * The turn a zone is read under: the page's OCR turn, except that a zone wider than tall on the
 * master cannot be a row of a page turned a quarter (detection gives the OCR's turn up when no
 * table appears under it, and keeps the master as scanned), so it is read as scanned.
 */
export function readingTurn(ocrTurn: number | null | undefined, box: Box): Turn {
  const t = ocrTurn === 90 || ocrTurn === 180 || ocrTurn === 270 ? ocrTurn : 0;
  if ((t === 90 || t === 270) && box.x1 - box.x0 >= box.y1 - box.y0) return 0;
  return t;
}

/** A master box (master W×H) on the page turned clockwise by `turn`. */
export function masterBoxToUpright(b: Box, turn: Turn, W: number, H: number): Box {
  switch (turn) {
    case 90: return { x0: H - b.y1, y0: b.x0, x1: H - b.y0, y1: b.x1 };
    case 180: return { x0: W - b.x1, y0: H - b.y1, x1: W - b.x0, y1: H - b.y0 };
    case 270: return { x0: b.y0, y0: W - b.x1, x1: b.y1, y1: W - b.x0 };
    default: return b;
  }
}

/** Maps a box of the upright page (turned clockwise by `turn` from the master of W×H) back to master pixels. */
export function uprightBoxToMaster(b: Box, turn: Turn, W: number, H: number): Box {
  switch (turn) {
    case 90: return { x0: b.y0, y0: H - b.x1, x1: b.y1, y1: H - b.x0 };
    case 180: return { x0: W - b.x1, y0: H - b.y1, x1: W - b.x0, y1: H - b.y0 };
    case 270: return { x0: W - b.y1, y0: b.x0, x1: W - b.y0, y1: b.x1 };
    default: return b;
  }
}

/** Maps a point of the master (W×H) to the upright page turned clockwise by `turn`. */
export function masterPointToUpright(x: number, y: number, turn: Turn, W: number, H: number): { x: number; y: number } {
  switch (turn) {
    case 90: return { x: H - y, y: x };
    case 180: return { x: W - x, y: H - y };
    case 270: return { x: y, y: W - x };
    default: return { x, y };
  }
}

/** The upright page's size for a master of W×H. */
export const uprightSize = (turn: Turn, W: number, H: number): { width: number; height: number } =>
  (turn === 90 || turn === 270 ? { width: H, height: W } : { width: W, height: H });

/**
 * SQL for the turn zone `z` of page `p` is read under: the zone's own (set by detection), else the
 * page's OCR turn by the rule of readingTurn.
 */
export const ZONE_TURN_SQL = `COALESCE(z.turn, CASE WHEN p.ocr_turn IN (90, 270) AND (z.x1 - z.x0) >= (z.y1 - z.y0) THEN 0 ELSE COALESCE(p.ocr_turn, 0) END)`;

/**
 * SQL ordering zones `z` of pages `p` as read: the upright top edge, then the upright left edge
 * (a quarter turn's upright top is a master side, hence the signs).
 */
export const READING_ORDER_SQL = `
  CASE ${ZONE_TURN_SQL} WHEN 90 THEN z.x0 WHEN 270 THEN -z.x1 WHEN 180 THEN -z.y1 ELSE z.y0 END,
  CASE ${ZONE_TURN_SQL} WHEN 90 THEN -z.y1 WHEN 270 THEN z.y0 WHEN 180 THEN -z.x1 ELSE z.x0 END`;
