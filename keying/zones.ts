/**
 * Entry zones: one register row of a page, with its cells in the layout's column order, proposed
 * by zone detection or drawn by hand, and corrected (moved, split, merged) with every change kept.
 */
import { AppError } from '../common/index.ts';
import type { Db, Queryable } from '../db/index.ts';
import { getBook, getPage } from '../archive/index.ts';
import type { Box } from '../entries/index.ts';
import type { ZoneSource, ZoneStatus } from '../common/vocabulary.ts';
import type { KeyedFields, KeyingWarning } from './answers.ts';
import { layoutByKey, layoutForBook } from './layouts.store.ts';
import type { RegisterLayout } from './layouts.ts';
import type { Turn } from './reading-order.ts';
import { getZone, insertZone, insertZoneChange, keyingsOfZone, listPageZones, lockZone, retireZone, settleZonesOfReplacedPage, updateZoneBox } from './zones.store.ts';

/** A zone as the archive holds it. */
export interface EntryZone {
  id: string;
  bookId: string;
  pageId: string;
  pageSequence: number;
  layoutId: string;
  layoutKey: string;
  layoutVersion: number;
  box: Box;
  /** One box per layout column, in column order; empty when detection found none. */
  cells: Box[];
  source: ZoneSource;
  status: ZoneStatus;
  /** Columns the two keyings differ on (a disputed zone). */
  differences: string[];
  /** The verified answers (never shown to keyers). */
  finalFields: KeyedFields | null;
  entryId: string | null;
  verifiedBy: string | null;
  verifiedAt: Date | null;
  createdBy: string;
  createdAt: Date;
  retiredBy: string | null;
  retiredAt: Date | null;
  /** Why the zone waits for a person's review (its page's image was replaced after it was made); null when it does not. */
  reviewReason: string | null;
  reviewFlaggedAt: Date | null;
  /** The quarter turn the zone is read under, as detection found it; null: the page's OCR turn. */
  turn: Turn | null;
}

/** One keyer's answers for one zone. */
export interface Keying {
  id: string;
  zoneId: string;
  /** 1: keying A, 2: keying B. */
  slot: 1 | 2;
  keyer: string;
  layoutId: string;
  fields: KeyedFields;
  warnings: KeyingWarning[];
  /** Whether it matched the other keying on every field; null until there is one. */
  agreed: boolean | null;
  startedAt: Date | null;
  submittedAt: Date;
}

/** A zone as given by a client or by detection. */
export interface ZoneShape {
  box: Box;
  cells?: Box[];
}

function checkBox(b: Box, what: string): void {
  if (!(b.x1 > b.x0 && b.y1 > b.y0 && b.x0 >= 0 && b.y0 >= 0)) throw new AppError('ERR_VALIDATION', `${what} must have x1 > x0 >= 0 and y1 > y0 >= 0`, { field: what });
}

function checkShape(s: ZoneShape, layout: RegisterLayout, page: { width: number | null; height: number | null }): Box[] {
  checkBox(s.box, 'box');
  if (page.width !== null && page.height !== null && (s.box.x1 > page.width || s.box.y1 > page.height)) {
    throw new AppError('ERR_VALIDATION', `box must lie on the page (${page.width}x${page.height})`, { field: 'box' });
  }
  const cells = s.cells ?? [];
  if (cells.length !== 0 && cells.length !== layout.columns.length) {
    throw new AppError('ERR_VALIDATION', `cells must be one per layout column (${layout.columns.length}), or none`, { field: 'cells' });
  }
  cells.forEach((c) => checkBox(c, 'cells'));
  return cells;
}

/** The zone, live or retired, or ERR_NOT_FOUND. */
export async function requireZone(db: Queryable, id: string): Promise<EntryZone> {
  const z = await getZone(db, id);
  if (!z) throw new AppError('ERR_NOT_FOUND', `no zone ${id}`);
  return z;
}

/**
 * Adds zones to a page, all against one layout: the one named (its current version unless one is
 * given), else the current layout for the book's register type and first year. The layout must be
 * of the book's register type.
 */
export async function proposeZones(
  db: Db, pageId: string, input: { layoutKey?: string; layoutVersion?: number; source: Exclude<ZoneSource, 'corrected'>; zones: ZoneShape[]; turn?: Turn }, by: { user: string },
): Promise<EntryZone[]> {
  const page = await getPage(db, pageId);
  if (!page) throw new AppError('ERR_PAGE_NOT_FOUND', `no page ${pageId}`);
  const book = await getBook(db, page.bookId);
  if (!book) throw new AppError('ERR_BOOK_NOT_FOUND', `no book ${page.bookId}`);
  const layout = input.layoutKey ? await layoutByKey(db, input.layoutKey, input.layoutVersion) : await layoutForBook(db, book.registerType, book.yearFrom);
  if (!layout) throw new AppError('ERR_NOT_FOUND', input.layoutKey ? `no layout ${input.layoutKey}${input.layoutVersion ? ` version ${input.layoutVersion}` : ''}` : `no layout for ${book.registerType} registers of ${book.yearFrom}`);
  if (layout.registerType !== book.registerType) {
    throw new AppError('ERR_VALIDATION', `layout ${layout.key} is for ${layout.registerType} registers; this book is a ${book.registerType} register`, { field: 'layoutKey' });
  }
  if (input.zones.length === 0) throw new AppError('ERR_VALIDATION', 'no zones given', { field: 'zones' });
  const shapes = input.zones.map((z) => ({ box: z.box, cells: checkShape(z, layout, page) }));
  const ids = await db.transaction(async (tx) => {
    const out: string[] = [];
    for (const s of shapes) out.push(await insertZone(tx, { bookId: book.id, pageId, layoutId: layout.id, box: s.box, cells: s.cells, source: input.source, createdBy: by.user, turn: input.turn ?? null }));
    return out;
  });
  return Promise.all(ids.map((id) => requireZone(db, id)));
}

/** The live zones of a page, top to bottom. */
export async function pageZones(db: Queryable, pageId: string): Promise<EntryZone[]> {
  return listPageZones(db, pageId);
}

async function lockLive(tx: Queryable, id: string): Promise<EntryZone> {
  const z = await lockZone(tx, id);
  if (!z) throw new AppError('ERR_NOT_FOUND', `no zone ${id}`);
  if (z.retiredAt) throw new AppError('ERR_CONFLICT', `zone ${id} was replaced by a split or merge`);
  return z;
}

async function layoutOf(db: Queryable, z: EntryZone): Promise<RegisterLayout> {
  const l = await layoutByKey(db, z.layoutKey, z.layoutVersion);
  if (!l) throw new AppError('ERR_INTEGRITY', `zone ${z.id} names a layout that is gone`);
  return l;
}

const shapeOf = (z: EntryZone) => ({ box: z.box, cells: z.cells });

/**
 * Moves a zone (its box and cells). A verified zone stays as verified: its entry holds the box.
 * Keyings made so far stay with the zone: a move corrects where the row is, not what was read.
 */
export async function moveZone(db: Db, id: string, shape: ZoneShape, by: { user: string }): Promise<EntryZone> {
  await db.transaction(async (tx) => {
    const z = await lockLive(tx, id);
    if (z.status === 'verified') throw new AppError('ERR_CONFLICT', `zone ${id} is verified; correct its entry instead`);
    const page = await getPage(tx, z.pageId);
    const cells = checkShape(shape, await layoutOf(tx, z), { width: page?.width ?? null, height: page?.height ?? null });
    await updateZoneBox(tx, id, shape.box, cells);
    await insertZoneChange(tx, { zoneId: id, op: 'move', before: shapeOf(z), after: { box: shape.box, cells }, resultZoneIds: [], by: by.user });
  });
  return requireZone(db, id);
}

async function refuseKeyed(tx: Queryable, z: EntryZone, op: string): Promise<void> {
  if ((await keyingsOfZone(tx, z.id)).length > 0) {
    throw new AppError('ERR_CONFLICT', `zone ${z.id} has been keyed; a ${op} would leave its keyings describing another row`);
  }
}

/** Splits a zone into two or more (one per row it really held); only before anyone keyed it. */
export async function splitZone(db: Db, id: string, parts: ZoneShape[], by: { user: string }): Promise<EntryZone[]> {
  if (parts.length < 2) throw new AppError('ERR_VALIDATION', 'a split makes at least two zones', { field: 'zones' });
  const ids = await db.transaction(async (tx) => {
    const z = await lockLive(tx, id);
    await refuseKeyed(tx, z, 'split');
    const layout = await layoutOf(tx, z);
    const page = await getPage(tx, z.pageId);
    const made: string[] = [];
    for (const p of parts) {
      const cells = checkShape(p, layout, { width: page?.width ?? null, height: page?.height ?? null });
      made.push(await insertZone(tx, { bookId: z.bookId, pageId: z.pageId, layoutId: z.layoutId, box: p.box, cells, source: 'corrected', createdBy: by.user, turn: z.turn }));
    }
    await retireZone(tx, id, by.user);
    await insertZoneChange(tx, { zoneId: id, op: 'split', before: shapeOf(z), after: parts, resultZoneIds: made, by: by.user });
    return made;
  });
  return Promise.all(ids.map((x) => requireZone(db, x)));
}

/** Merges two or more zones of one page into one (the box around them unless given); only before anyone keyed them. */
export async function mergeZones(db: Db, ids: string[], shape: Partial<ZoneShape>, by: { user: string }): Promise<EntryZone> {
  if (new Set(ids).size < 2) throw new AppError('ERR_VALIDATION', 'a merge takes at least two different zones', { field: 'zoneIds' });
  const id = await db.transaction(async (tx) => {
    // Locked in one order, so two merges of overlapping zones cannot wait on each other.
    const zones: EntryZone[] = [];
    for (const zid of [...new Set(ids)].sort()) zones.push(await lockLive(tx, zid));
    const first = zones[0]!;
    if (zones.some((z) => z.pageId !== first.pageId || z.layoutId !== first.layoutId)) {
      throw new AppError('ERR_VALIDATION', 'merged zones must be on one page and of one layout', { field: 'zoneIds' });
    }
    for (const z of zones) await refuseKeyed(tx, z, 'merge');
    const box = shape.box ?? {
      x0: Math.min(...zones.map((z) => z.box.x0)), y0: Math.min(...zones.map((z) => z.box.y0)),
      x1: Math.max(...zones.map((z) => z.box.x1)), y1: Math.max(...zones.map((z) => z.box.y1)),
    };
    const page = await getPage(tx, first.pageId);
    const cells = checkShape({ box, cells: shape.cells ?? [] }, await layoutOf(tx, first), { width: page?.width ?? null, height: page?.height ?? null });
    const made = await insertZone(tx, { bookId: first.bookId, pageId: first.pageId, layoutId: first.layoutId, box, cells, source: 'corrected', createdBy: by.user, turn: first.turn });
    for (const z of zones) {
      await retireZone(tx, z.id, by.user);
      await insertZoneChange(tx, { zoneId: z.id, op: 'merge', before: shapeOf(z), after: { box, cells, merged: zones.map((x) => x.id) }, resultZoneIds: [made], by: by.user });
    }
    return made;
  });
  return requireZone(db, id);
}

/**
 * What becomes of a page's zones when its image is replaced by a rescan (a new revision), inside
 * the replacement's transaction: zones drawn on the old image no longer match the new one. Detected
 * zones nobody keyed are retired, so detection proposes fresh ones when the new revision is read;
 * zones keyed (their answers stand) or drawn or corrected by a person are kept and flagged for
 * review on the zones screen, where a move clears the flag.
 */
export async function zonesAfterPageReplaced(tx: Queryable, pageId: string, revision: number, by: string): Promise<{ retired: string[]; flagged: string[] }> {
  return settleZonesOfReplacedPage(tx, pageId, by, `the page image was replaced (revision ${revision}): check the zone still covers its row`);
}
