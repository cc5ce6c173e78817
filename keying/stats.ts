/** Keying progress per book, quality per keyer, and the export of a book's verified keyed entries. */
import { AppError } from '../common/index.ts';
import type { Queryable } from '../db/index.ts';
import { getBook } from '../archive/index.ts';
import { toCsv } from '../records/index.ts';
import type { FieldAnswer, KeyedFields } from './answers.ts';
import { layoutById } from './layouts.store.ts';
import { bookZoneCounts, keyerCounts } from './stats.store.ts';
import { verifiedZonesOfBook } from './zones.store.ts';

/** How far a book's keying is: its live zones by state. */
export interface BookKeyingStats {
  bookId: string;
  municipality: string;
  registerType: string;
  yearFrom: number;
  yearTo: number;
  /** Zones found (detected, drawn or corrected; replaced ones left out). */
  zones: number;
  open: number;
  keyedOnce: number;
  /** Keyed twice, with differences waiting for an arbitrator. */
  disputed: number;
  verified: number;
  /** Settled as empty ruled rows (every column blank): no entry made. */
  empty: number;
  /** The first page holding a live zone (where the zones screen opens). */
  firstPage: number;
}

/** A keyer's work and how often it matched the other keyer's. */
export interface KeyerStats {
  keyer: string;
  /** Zones keyed. */
  keyings: number;
  /** Keyings whose zone has its second keying. */
  compared: number;
  /** Compared keyings that matched the other keying on every field. */
  agreed: number;
  /** agreed / compared; null before any keying was compared. */
  agreementRate: number | null;
  /** Fields of theirs an arbitrator decided otherwise. */
  fieldsOverruled: number;
}

/** Keying statistics, of one book or of all. */
export interface KeyingStats {
  books: BookKeyingStats[];
  keyers: KeyerStats[];
}

/** Per-book progress and per-keyer agreement, of one book or of all. */
export async function keyingStats(db: Queryable, opts: { bookId?: string } = {}): Promise<KeyingStats> {
  const [books, keyers] = await Promise.all([bookZoneCounts(db, opts.bookId), keyerCounts(db, opts.bookId)]);
  return { books, keyers: keyers.map((k) => ({ ...k, agreementRate: k.compared === 0 ? null : k.agreed / k.compared })) };
}

/** One verified keyed entry of a book: where it is and its answers by layout column. */
export interface KeyedEntryExport {
  zoneId: string;
  entryId: string;
  page: number;
  layoutKey: string;
  layoutVersion: number;
  fields: KeyedFields;
  verifiedBy: string | null;
  verifiedAt: Date | null;
}

/** The verified keyed entries of a book, in page and row order. */
export async function exportKeyedEntries(db: Queryable, bookId: string): Promise<{ columns: string[]; entries: KeyedEntryExport[] }> {
  if (!(await getBook(db, bookId))) throw new AppError('ERR_BOOK_NOT_FOUND', `no book ${bookId}`);
  const zones = await verifiedZonesOfBook(db, bookId);
  const columns: string[] = [];
  const layouts = new Set<string>();
  for (const z of zones) {
    if (layouts.has(z.layoutId)) continue;
    layouts.add(z.layoutId);
    for (const c of (await layoutById(db, z.layoutId))?.columns ?? []) if (!columns.includes(c.key)) columns.push(c.key);
  }
  return {
    columns,
    entries: zones.map((z) => ({
      zoneId: z.id, entryId: z.entryId!, page: z.pageSequence, layoutKey: z.layoutKey, layoutVersion: z.layoutVersion,
      fields: z.finalFields ?? {}, verifiedBy: z.verifiedBy, verifiedAt: z.verifiedAt,
    })),
  };
}

// An explicit answer in a CSV cell, bracketed so it cannot be taken for a value written in the book.
const cell = (f: FieldAnswer | undefined): string => (f === undefined ? '' : 'value' in f ? f.value : `[${f.answer}]`);

/** The export as CSV: one row per entry, one column per layout column (`[illegible]`, `[blank]` for explicit answers). */
export function keyedEntriesCsv(x: { columns: string[]; entries: KeyedEntryExport[] }): string {
  return toCsv(
    ['page', 'zone_id', 'entry_id', 'layout', 'layout_version', ...x.columns, 'verified_by', 'verified_at'],
    x.entries.map((e) => [e.page, e.zoneId, e.entryId, e.layoutKey, e.layoutVersion, ...x.columns.map((c) => cell(e.fields[c])), e.verifiedBy, e.verifiedAt?.toISOString() ?? null]),
  );
}
