/** The SQL of bulk linking: a book's verified keyed entries not yet linked, and the locks a bulk link takes. */
import type { Queryable } from '../db/index.ts';
import type { EventType, KeyingField } from '../common/vocabulary.ts';

/** A verified keyed entry without a live link, with what is needed to look for its record. */
export interface UnlinkedKeyedEntry {
  entryId: string;
  zoneId: string;
  bookId: string;
  page: number;
  /** The zone's top, for the order of the listing and its cursor. */
  y0: number;
  entryNumber: string | null;
  eventType: EventType;
  eventDate: string | null;
  /** The verified answers by column key, and the layout's columns saying which field each holds. */
  fields: Record<string, { value: string } | { answer: string }>;
  columns: { key: string; field: KeyingField }[];
  book: { municipality: string; yearFrom: number; yearTo: number };
}

interface Row {
  entry_id: string; zone_id: string; book_id: string; sequence: number; y0: number; entry_number: string | null; event_type: EventType; event_date: string | null;
  final_fields: unknown; columns: unknown; municipality: string; year_from: number; year_to: number;
}

const json = <T>(v: unknown): T => (typeof v === 'string' ? (JSON.parse(v) as T) : (v as T));

const SELECT = `SELECT e.id AS entry_id, z.id AS zone_id, e.book_id, p.sequence, z.y0, e.entry_number, e.event_type, e.event_date, z.final_fields, l.columns,
       b.municipality, b.year_from, b.year_to
  FROM entries e
  -- By the entry's page too, so the zones' page index answers (entry_zones has no index on entry_id).
  JOIN entry_zones z ON z.page_id = e.page_id AND z.entry_id = e.id AND z.status = 'verified'
  JOIN register_layouts l ON l.id = z.layout_id
  JOIN pages p ON p.id = e.page_id
  JOIN books b ON b.id = e.book_id
 WHERE e.source = 'keyed' AND e.status = 'verified' AND e.deleted_at IS NULL
   AND NOT EXISTS (SELECT 1 FROM record_links k WHERE k.entry_id = e.id AND k.unlinked_at IS NULL)`;

function toEntry(r: Row): UnlinkedKeyedEntry {
  return {
    entryId: r.entry_id, zoneId: r.zone_id, bookId: r.book_id, page: r.sequence, y0: r.y0, entryNumber: r.entry_number, eventType: r.event_type, eventDate: r.event_date,
    fields: json<UnlinkedKeyedEntry['fields'] | null>(r.final_fields) ?? {},
    columns: json<{ key: string; field: KeyingField }[]>(r.columns).map((c) => ({ key: c.key, field: c.field })),
    book: { municipality: r.municipality, yearFrom: r.year_from, yearTo: r.year_to },
  };
}

/**
 * A book's verified keyed entries with no live link, in page and row order, at most `limit`,
 * after the cursor (page, top, entry id) when one is given.
 */
export async function unlinkedKeyedEntries(
  db: Queryable, bookId: string, opts: { limit: number; after?: { page: number; y0: number; entryId: string } },
): Promise<UnlinkedKeyedEntry[]> {
  const after = opts.after ? 'AND (p.sequence, z.y0, e.id) > ($3::int, $4::int, $5::uuid)' : '';
  const r = await db.query<Row>(
    `${SELECT} AND e.book_id = $1 ${after} ORDER BY p.sequence, z.y0, e.id LIMIT $2`,
    opts.after ? [bookId, opts.limit, opts.after.page, opts.after.y0, opts.after.entryId] : [bookId, opts.limit],
  );
  return r.rows.map(toEntry);
}

/** One entry if it is a verified keyed entry with no live link, else undefined. */
export async function unlinkedKeyedEntry(db: Queryable, entryId: string): Promise<UnlinkedKeyedEntry | undefined> {
  const r = await db.query<Row>(`${SELECT} AND e.id = $1`, [entryId]);
  return r.rows[0] ? toEntry(r.rows[0]) : undefined;
}

/**
 * Holds an entry's row and a record's for the rest of the transaction, so two bulk links (or a
 * bulk link and a clerk's link) cannot both link the entry, or both take the record, at once.
 * False when either row does not exist.
 */
export async function lockEntryAndRecord(tx: Queryable, entryId: string, recordId: string): Promise<boolean> {
  const e = await tx.query('SELECT 1 FROM entries WHERE id = $1 FOR UPDATE', [entryId]);
  const r = await tx.query('SELECT 1 FROM registry_records WHERE id = $1 FOR UPDATE', [recordId]);
  return e.rows.length > 0 && r.rows.length > 0;
}

/** Of these records, those already linked as the original entry of some entry (a live link). */
export async function recordsWithOriginalEntry(db: Queryable, recordIds: readonly string[]): Promise<Set<string>> {
  if (recordIds.length === 0) return new Set();
  const r = await db.query<{ record_id: string }>(
    `SELECT DISTINCT record_id FROM record_links
      WHERE record_id = ANY($1::uuid[]) AND target_kind = 'entry' AND link_type = 'original-entry' AND unlinked_at IS NULL`,
    [recordIds],
  );
  return new Set(r.rows.map((x) => x.record_id));
}
