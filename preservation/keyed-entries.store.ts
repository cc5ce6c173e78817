/** The SQL of the keyed entries a book's package carries: verified zones, their layout and their live links. */
import type { Queryable } from '../db/index.ts';
import type { KeyingField } from '../common/vocabulary.ts';

/** One verified keyed entry as the package reads it. */
export interface KeyedEntryRow {
  zoneId: string;
  entryId: string;
  page: number;
  box: { x0: number; y0: number; x1: number; y1: number };
  layoutKey: string;
  layoutVersion: number;
  /** The layout's columns in order: key and the field it holds. */
  columns: { key: string; field: KeyingField }[];
  /** The verified answers by column key: `{value}` as typed, or `{answer: 'illegible' | 'blank'}`. */
  fields: Record<string, { value: string } | { answer: string }>;
  verifiedBy: string | null;
  verifiedAt: Date | null;
  /** Live links of the entry to registry records, by the records' identifiers only. */
  links: { linkType: string; system: string; recordType: string; recordId: string }[];
}

const json = <T>(v: unknown): T => (typeof v === 'string' ? (JSON.parse(v) as T) : (v as T));

/**
 * The book's verified keyed entries: live verified zones whose entry is live and verified, in page
 * and row order (zone id last, so the order is total and a re-run reads them in the same order).
 */
export async function keyedEntriesOfBook(db: Queryable, bookId: string): Promise<KeyedEntryRow[]> {
  const r = await db.query<{
    zone_id: string; entry_id: string; sequence: number; x0: number; y0: number; x1: number; y1: number; layout_key: string; version: number;
    columns: unknown; final_fields: unknown; verified_by: string | null; verified_at: Date | null; links: unknown;
  }>(
    `SELECT z.id AS zone_id, z.entry_id, p.sequence, z.x0, z.y0, z.x1, z.y1, l.layout_key, l.version, l.columns, z.final_fields,
            z.verified_by, z.verified_at,
            COALESCE((SELECT jsonb_agg(jsonb_build_object('linkType', k.link_type, 'system', r.system, 'recordType', r.record_type, 'recordId', r.record_id)
                                       ORDER BY r.system, r.record_type, r.record_id, k.link_type)
                        FROM record_links k JOIN registry_records r ON r.id = k.record_id
                       WHERE k.entry_id = z.entry_id AND k.unlinked_at IS NULL), '[]'::jsonb) AS links
       FROM pages p
       -- Through the book's pages, so the zones' page index answers (entry_zones has none on book_id alone).
       JOIN entry_zones z ON z.page_id = p.id AND z.retired_at IS NULL AND z.status = 'verified'
       JOIN register_layouts l ON l.id = z.layout_id
       JOIN entries e ON e.id = z.entry_id
      WHERE p.book_id = $1 AND z.book_id = $1 AND e.deleted_at IS NULL AND e.status = 'verified'
      ORDER BY p.sequence, z.y0, z.x0, z.id`,
    [bookId],
  );
  return r.rows.map((x) => ({
    zoneId: x.zone_id, entryId: x.entry_id, page: x.sequence, box: { x0: x.x0, y0: x.y0, x1: x.x1, y1: x.y1 },
    layoutKey: x.layout_key, layoutVersion: x.version,
    columns: json<{ key: string; field: KeyingField }[]>(x.columns).map((c) => ({ key: c.key, field: c.field })),
    fields: json<KeyedEntryRow['fields'] | null>(x.final_fields) ?? {},
    verifiedBy: x.verified_by, verifiedAt: x.verified_at, links: json<KeyedEntryRow['links']>(x.links),
  }));
}

/** How many of the book's live zones still wait for keying or arbitration. */
export async function unfinishedZones(db: Queryable, bookId: string): Promise<number> {
  const r = await db.query<{ n: string | number }>(
    `SELECT count(*) AS n FROM pages p JOIN entry_zones z ON z.page_id = p.id AND z.retired_at IS NULL
      WHERE p.book_id = $1 AND z.status IN ('open', 'keyed-once', 'disputed')`,
    [bookId],
  );
  return Number(r.rows[0]?.n ?? 0);
}
