/**
 * Entry zones proposed from a page's ruling (issue 20): the master is read as the OCR stage reads
 * it, its table found by ocr/register-grid.ts, the detected columns matched to the book's layout
 * (column-match.ts), and one zone per written row proposed with source 'detected'. Run by the OCR
 * stage for every page it routes to keying, and on demand by keyers and records managers.
 */
import sharp from 'sharp';
import { AppError } from '../common/index.ts';
import { findPageObjects, getBook, getPage, recordEvent, type ArchivedOcr } from '../archive/index.ts';
import { detectRegisterGrid, type GridBox, type RegisterGrid } from '../ocr/index.ts';
import { readObject } from '../storage/read-object.ts';
import type { AppDeps } from '../app/deps.ts';
import type { Box } from '../entries/index.ts';
import { matchColumns, type ColumnMatch, type HeaderWord } from './column-match.ts';
import { liveZonesOfPage, lockPageForZones, pageTypeOf } from './detect-zones.store.ts';
import { layoutForBook } from './layouts.store.ts';
import { proposeZones, type EntryZone, type ZoneShape } from './zones.ts';
import { joinTransaction, retireZone } from './zones.store.ts';
import { masterPointToUpright, uprightBoxToMaster, type Turn } from './reading-order.ts';

type Deps = Pick<AppDeps, 'db' | 'store'>;

/** The user zone detection acts as when the pipeline runs it. */
export const ZONE_DETECTION_AGENT = 'arkiva zone detection';

/** Longest side of the raster the ruling is looked for on (the OCR bound): beyond it a page is shrunk first. */
const MAX_RASTER_SIDE = 3500;
/** Decoding bound, as for OCR: a page of more pixels is refused, not decoded. */
const MAX_INPUT_PIXELS = 200_000_000;
/** Resolution assumed when a master carries none credible (as the OCR preparation assumes). */
const ASSUMED_DPI = 300;
const MIN_CREDIBLE_DPI = 100;

/** What a detection did on a page. */
export interface ZoneDetection {
  /** 'proposed': zones written; 'skipped': the page had live zones already; 'none': nothing to propose (see `detail`). */
  outcome: 'proposed' | 'skipped' | 'none';
  zones: EntryZone[];
  /** Detected table columns, the layout's, and whether they were matched (zones then carry one cell per layout column). */
  columns: { found: number; layout: number; matched: boolean; method: 'count' | 'headings' | null };
  /** Zones a re-detection retired. */
  retired: string[];
  /** What was found, for the page's events (counts and reasons only, never text of the page). */
  detail: string;
}

/** The quarter turn an OCR reading records (any angle, normalised). */
const turnOf = (deg: number | undefined): Turn => {
  const t = ((((deg ?? 0) % 360) + 360) % 360) as number;
  return t === 90 || t === 180 || t === 270 ? t : 0;
};

/**
 * The words of the reading that lie in the table's header row, with their centres in the grid's
 * deskewed frame (the frame of its column spans). Reading boxes are master pixels.
 */
export function headerWordsOf(
  grid: RegisterGrid, reading: Pick<ArchivedOcr, 'words'> | undefined, frame: { turn: Turn; masterWidth: number; masterHeight: number; scale: number; rasterWidth: number; rasterHeight: number },
): HeaderWord[] {
  if (!reading || reading.words.length === 0) return [];
  const band = grid.headerRow ?? (grid.rules.horizontal.length > 0 ? { y0: grid.rules.horizontal[0]!, y1: grid.rows[0]?.y0 ?? grid.rules.horizontal[1] ?? grid.rules.horizontal[0]! } : undefined);
  if (!band || band.y1 <= band.y0) return [];
  const t = Math.tan((grid.skewDeg * Math.PI) / 180);
  const cx = frame.rasterWidth / 2;
  const cy = frame.rasterHeight / 2;
  const out: HeaderWord[] = [];
  for (const w of reading.words) {
    if (!w.text.trim()) continue;
    const up = masterPointToUpright((w.bbox.x0 + w.bbox.x1) / 2, (w.bbox.y0 + w.bbox.y1) / 2, frame.turn, frame.masterWidth, frame.masterHeight);
    const x = up.x * frame.scale;
    const y = up.y * frame.scale;
    // The grid's image point (x, y) of deskewed (u, v): x = u - t(v - cy), y = v + t(u - cx); small angles.
    const v = y - t * (x - cx);
    const u = x + t * (v - cy);
    if (v >= band.y0 && v <= band.y1) out.push({ text: w.text, x: u });
  }
  return out;
}

const gridToBox = (g: GridBox): Box => ({ x0: g.left, y0: g.top, x1: g.left + g.width, y1: g.top + g.height });

/**
 * The zones to propose for the grid: one per written row, with one cell per layout column when the
 * columns were matched (a layout column over several spans gets the box around them), in master pixels.
 */
export function zoneShapes(grid: RegisterGrid, match: ColumnMatch, frame: { turn: Turn; masterWidth: number; masterHeight: number; scale: number }): ZoneShape[] {
  const W = frame.masterWidth;
  const H = frame.masterHeight;
  const toMaster = (b: Box): Box | undefined => {
    const m = uprightBoxToMaster({ x0: b.x0 / frame.scale, y0: b.y0 / frame.scale, x1: b.x1 / frame.scale, y1: b.y1 / frame.scale }, frame.turn, W, H);
    const out = {
      x0: Math.max(0, Math.floor(m.x0)), y0: Math.max(0, Math.floor(m.y0)),
      x1: Math.min(W, Math.ceil(m.x1)), y1: Math.min(H, Math.ceil(m.y1)),
    };
    return out.x1 > out.x0 && out.y1 > out.y0 ? out : undefined;
  };
  const shapes: ZoneShape[] = [];
  for (const z of grid.zones) {
    const box = toMaster(gridToBox(z.box));
    if (!box) continue;
    let cells: Box[] = [];
    if (match.matched) {
      const made = match.groups.map((g) => {
        const parts = g.map((i) => gridToBox(z.cells[i]!));
        return toMaster({ x0: Math.min(...parts.map((p) => p.x0)), y0: Math.min(...parts.map((p) => p.y0)), x1: Math.max(...parts.map((p) => p.x1)), y1: Math.max(...parts.map((p) => p.y1)) });
      });
      // A cell squeezed to nothing at the page's edge: the row keeps its box and no cells rather than a wrong one.
      cells = made.every((c) => c !== undefined) ? (made as Box[]) : [];
    }
    shapes.push({ box, cells });
  }
  return shapes;
}

/** Decodes the master as OCR does (EXIF-oriented, turned upright, grey, bounded in size). */
async function greyRaster(master: Buffer, turn: Turn, pageDpi: number | null) {
  const input = { limitInputPixels: MAX_INPUT_PIXELS, failOn: 'error', autoOrient: true } as const;
  const meta = await sharp(master, input).metadata();
  const masterWidth = meta.autoOrient?.width ?? meta.width;
  const masterHeight = meta.autoOrient?.height ?? meta.height;
  if (!masterWidth || !masterHeight) throw new Error('master image has no size');
  const uprightWidth = turn === 90 || turn === 270 ? masterHeight : masterWidth;
  const uprightHeight = turn === 90 || turn === 270 ? masterWidth : masterHeight;
  const scale = Math.min(1, MAX_RASTER_SIDE / Math.max(masterWidth, masterHeight));
  const dpiIn = meta.density !== undefined && meta.density >= MIN_CREDIBLE_DPI ? meta.density : pageDpi !== null && pageDpi >= MIN_CREDIBLE_DPI ? pageDpi : ASSUMED_DPI;
  let pipeline = sharp(master, input).flatten({ background: '#ffffff' }).toColourspace('b-w');
  if (turn !== 0) pipeline = pipeline.rotate(turn);
  if (scale !== 1) pipeline = pipeline.resize(Math.max(1, Math.round(uprightWidth * scale)), Math.max(1, Math.round(uprightHeight * scale)), { fit: 'fill' });
  const { data, info } = await pipeline.raw().toBuffer({ resolveWithObject: true });
  if (info.channels !== 1) throw new Error(`expected one grey channel, got ${info.channels}`);
  return {
    image: { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height },
    masterWidth, masterHeight, scale: info.width / uprightWidth, dpi: dpiIn * (info.width / uprightWidth),
  };
}

/**
 * Detects a page's entry zones and proposes them against the book's current layout. Idempotent:
 * a page with live zones is left as it is, unless `replace` asks for a re-detection, which retires
 * the detected zones first and is refused (ERR_CONFLICT) when any was keyed or a person drew or
 * corrected zones there. Check and write happen under the page's row lock, so two runs at once
 * write one set. `reading` is the page's OCR reading when the caller holds it (else the archived
 * one is read): its header-row words place the columns when their count differs from the layout's.
 */
export async function detectPageZones(deps: Deps, pageId: string, opts: { user: string; replace?: boolean; reading?: ArchivedOcr }): Promise<ZoneDetection> {
  const page = await getPage(deps.db, pageId);
  if (!page) throw new AppError('ERR_PAGE_NOT_FOUND', `no page ${pageId}`);
  const book = await getBook(deps.db, page.bookId);
  if (!book) throw new AppError('ERR_BOOK_NOT_FOUND', `no book ${page.bookId}`);
  const layout = await layoutForBook(deps.db, book.registerType, book.yearFrom);
  const nothing = (detail: string, found = 0): ZoneDetection => ({
    outcome: 'none', zones: [], columns: { found, layout: layout?.columns.length ?? 0, matched: false, method: null }, retired: [], detail,
  });
  if (!layout) return nothing(`no register layout for ${book.registerType} registers of ${book.yearFrom}; no zones proposed`);
  if (!opts.replace && (await liveZonesOfPage(deps.db, pageId)).length > 0) {
    return { ...nothing('the page has zones already'), outcome: 'skipped' };
  }

  const objects = await findPageObjects(deps.db, { bookId: page.bookId, pageId, revision: page.revision });
  const masterObject = objects.get('master');
  if (!masterObject) throw new AppError('ERR_CONFLICT', `page ${page.sequence} has no master yet`);
  let reading = opts.reading;
  const ocrObject = objects.get('ocr/ocr-json');
  if (!reading && ocrObject) reading = JSON.parse((await readObject(deps.store, ocrObject.storeKey, { expectedSha256: ocrObject.sha256 })).toString('utf8')) as ArchivedOcr;
  const master = await readObject(deps.store, masterObject.storeKey, { expectedSha256: masterObject.sha256 });
  // The page as OCR stood it upright; orientation detection is unsure on handwriting, so a turn
  // under which no table appears is given up for the master as scanned.
  let turn = turnOf(reading?.orientation);
  let raster = await greyRaster(master, turn, page.dpiX);
  let grid = detectRegisterGrid(raster.image, { dpi: raster.dpi });
  // A register's header row is at the top of the upright page: under a turn OSD got wrong (half a
  // turn reads a ruled table just as well) it is at the bottom and not found, and as scanned it is.
  if (turn !== 0 && (grid.zones.length === 0 || !grid.headerRow)) {
    const asScanned = await greyRaster(master, 0, page.dpiX);
    const other = detectRegisterGrid(asScanned.image, { dpi: asScanned.dpi });
    if (other.zones.length > 0 && (grid.zones.length === 0 || other.headerRow)) [turn, raster, grid] = [0, asScanned, other];
  }
  if (grid.columns.length === 0) return nothing('no ruled table found (fewer than two rules each way); no zones proposed');
  if (grid.zones.length === 0) return nothing(`a table of ${grid.columns.length} columns with no written rows found; no zones proposed`, grid.columns.length);

  const frame = { turn, masterWidth: raster.masterWidth, masterHeight: raster.masterHeight, scale: raster.scale, rasterWidth: raster.image.width, rasterHeight: raster.image.height };
  const match = matchColumns(grid.columns, layout.columns, headerWordsOf(grid, reading, frame));
  const shapes = zoneShapes(grid, match, frame);
  if (shapes.length === 0) return nothing('the rows found lie off the page; no zones proposed', grid.columns.length);

  const result = await deps.db.transaction(async (tx) => {
    if (!(await lockPageForZones(tx, pageId))) throw new AppError('ERR_PAGE_NOT_FOUND', `no page ${pageId}`);
    const live = await liveZonesOfPage(tx, pageId);
    if (live.length > 0 && !opts.replace) return { zones: [] as EntryZone[], retired: [] as string[], skipped: true };
    if (live.some((z) => z.keyed)) throw new AppError('ERR_CONFLICT', `page ${page.sequence} has keyed zones; correct them one by one instead of detecting again`);
    if (live.some((z) => z.source !== 'detected')) throw new AppError('ERR_CONFLICT', `page ${page.sequence} has zones drawn or corrected by hand; a detection would discard them`);
    for (const z of live) await retireZone(tx, z.id, opts.user);
    const zones = await proposeZones(joinTransaction(tx, deps.db.kind), pageId, { layoutKey: layout.key, layoutVersion: layout.version, source: 'detected', zones: shapes, turn }, { user: opts.user });
    return { zones, retired: live.map((z) => z.id), skipped: false };
  });
  const columns = { found: grid.columns.length, layout: layout.columns.length, matched: match.matched, method: match.matched ? match.method : null };
  if (result.skipped) return { ...nothing('the page has zones already', grid.columns.length), outcome: 'skipped', columns };
  const colDetail = match.matched
    ? `${grid.columns.length} columns matched to layout ${layout.key} v${layout.version} by ${match.method === 'count' ? 'count' : 'headings'}${match.dropped.length ? ` (${match.dropped.length} unheaded edge columns left out)` : ''}`
    : `columns not matched to layout ${layout.key} v${layout.version}: ${match.reason}; zones have no cells`;
  const detail = `${result.zones.length} entry zones proposed (${turn ? `page turned ${turn}°, ` : ''}skew ${grid.skewDeg}°, header row ${grid.headerRow ? 'found' : 'not found'}); ${colDetail}${result.retired.length ? `; ${result.retired.length} earlier detected zones retired` : ''}`;
  return { outcome: 'proposed', zones: result.zones, columns, retired: result.retired, detail };
}

/**
 * Whether a page routed to keying still lacks zones: the OCR stage asks when it finds the page read
 * already (a retry after a crash between recording the reading and proposing its zones).
 */
export async function pageAwaitsZones(deps: Pick<Deps, 'db'>, pageId: string): Promise<boolean> {
  return (await pageTypeOf(deps.db, pageId)) === 'handwritten' && (await liveZonesOfPage(deps.db, pageId)).length === 0;
}

/**
 * The pipeline's detection after routing a page to keying: runs detectPageZones and records what it
 * did as an event of the page. A failure is recorded as a warning and swallowed: zones can be
 * detected again on demand or drawn by hand, and the page's reading and archiving must not wait on them.
 */
export async function detectZonesAfterRouting(deps: Deps, page: { bookId: string; pageId: string }, reading?: ArchivedOcr): Promise<ZoneDetection | undefined> {
  const started = performance.now();
  try {
    const d = await detectPageZones(deps, page.pageId, { user: ZONE_DETECTION_AGENT, ...(reading ? { reading } : {}) });
    if (d.outcome === 'skipped') return d;
    await recordEvent(deps.db, {
      bookId: page.bookId, pageId: page.pageId, type: 'creation', agent: ZONE_DETECTION_AGENT,
      outcome: d.outcome === 'proposed' && d.columns.matched ? 'success' : 'warning',
      detail: d.outcome === 'proposed' ? d.detail : `${d.detail}; zones can be drawn by hand`,
      durationMs: performance.now() - started,
    });
    return d;
  } catch (e) {
    await recordEvent(deps.db, {
      bookId: page.bookId, pageId: page.pageId, type: 'creation', agent: ZONE_DETECTION_AGENT, outcome: 'warning',
      detail: `zone detection failed: ${(e as Error).message}; the page is archived without zones, which can be detected again or drawn by hand`,
      durationMs: performance.now() - started,
    }).catch(() => {});
    return undefined;
  }
}
