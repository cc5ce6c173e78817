/**
 * The SQL of the catalogue writer and check: the rows of one catalogue object encoded as the
 * format says (docs/catalogue-format.md, "Value encoding"), the dirty notes, and the record of what
 * the store holds.
 */
import type { Queryable } from '../db/index.ts';
import { quoteIdent } from '../db/index.ts';
import {
  CATALOGUE_KINDS, CATALOGUE_TABLES, type CatalogueData, type CatalogueKind, type CatalogueRef, type CatalogueRow, type CatalogueTable,
  type ColumnType, type KindSpec,
} from './format.ts';

const BOOK = 'book_id = $1::uuid';
const OF_BOOK_ENTRIES = 'entry_id IN (SELECT id FROM entries WHERE book_id = $1::uuid)';
const OF_BOOK_ZONES = 'zone_id IN (SELECT id FROM entry_zones WHERE book_id = $1::uuid)';
const OF_BOOK_PAGES = 'page_id IN (SELECT id FROM pages WHERE book_id = $1::uuid)';

/** Which rows of each table an object holds: an SQL condition on `$1` (the scope), or '' for all rows. */
const FILTERS: { [K in CatalogueKind]: { [T in (typeof CATALOGUE_KINDS)[K]['tables'][number]]: string } } = {
  book: { books: 'id = $1::uuid', pages: BOOK, stored_objects: BOOK },
  events: { processing_events: BOOK },
  entries: { entries: BOOK, entry_names: OF_BOOK_ENTRIES },
  keying: { entry_zones: BOOK, entry_zone_changes: OF_BOOK_ZONES, keyings: OF_BOOK_ZONES, keying_decisions: OF_BOOK_ZONES },
  links: { record_links: BOOK, record_link_tombstones: BOOK },
  corrections: { ocr_corrections: OF_BOOK_PAGES, page_reviews: OF_BOOK_PAGES },
  retention: { item_retention: BOOK, retention_history: BOOK },
  extracts: { extracts: BOOK },
  disposal: { disposal_tombstones: BOOK, disposal_certificates: BOOK, record_links: BOOK, record_link_tombstones: BOOK },
  rules: { retention_rules: '' },
  layouts: { register_layouts: '' },
  holds: { legal_holds: '', legal_hold_items: '' },
  'disposal-batches': { disposal_batches: '', disposal_batch_items: '' },
  users: { users: '', user_roles: '' },
  'registry-records': { registry_records: 'left(id::text, 2) = $1' },
};

// The text each type is read as, so PostgreSQL and PGlite give the same JSON (a float4 read as a
// JavaScript double would print 0.9300000071525574; a timestamptz read as a Date loses microseconds).
function selectExpr(col: string, type: ColumnType): string {
  const c = quoteIdent(col);
  switch (type) {
    case 'timestamptz': return `to_char(${c} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS ${c}`;
    case 'date': case 'bigint': case 'real': case 'uuid': return `${c}::text AS ${c}`;
    case 'text[]': case 'uuid[]': return `${c}::text[] AS ${c}`;
    default: return c;
  }
}

function decode(type: ColumnType, v: unknown): CatalogueRow[string] {
  if (v === null || v === undefined) return null;
  if (type === 'bigint' || type === 'real') return Number(v);
  return v as CatalogueRow[string];
}

// Byte order for text, whatever the database's collation, so two clusters write the same bytes.
function orderExpr(col: string, type: ColumnType): string {
  return type === 'text' ? `${quoteIdent(col)} COLLATE "C"` : quoteIdent(col);
}

/** The rows of one table an object holds, encoded and in the format's order. */
export async function selectTableRows(db: Queryable, kind: CatalogueKind, table: CatalogueTable, scope: string): Promise<CatalogueRow[]> {
  const spec = CATALOGUE_TABLES[table];
  const columns = Object.entries(spec.columns) as [string, ColumnType][];
  const where = (FILTERS[kind] as Record<string, string>)[table];
  if (where === undefined) throw new Error(`catalogue ${kind} objects do not hold table ${table}`);
  const types = spec.columns as Record<string, ColumnType>;
  const sql = `SELECT ${columns.map(([c, t]) => selectExpr(c, t)).join(', ')} FROM ${quoteIdent(table)}${where ? ` WHERE ${where}` : ''}
    ORDER BY ${spec.order.map((c) => orderExpr(c, types[c]!)).join(', ')}`;
  const r = await db.query<Record<string, unknown>>(sql, where ? [scope] : []);
  return r.rows.map((row) => Object.fromEntries(columns.map(([c, t]) => [c, decode(t, row[c])])));
}

/** Every table of one object, as `data`. */
export async function selectObjectData(db: Queryable, ref: CatalogueRef): Promise<CatalogueData> {
  const spec: KindSpec = CATALOGUE_KINDS[ref.kind];
  const data: CatalogueData = {};
  for (const table of spec.tables) data[table] = await selectTableRows(db, ref.kind, table, ref.scope);
  return data;
}

/** Whether the book exists, and whether it has a disposal tombstone. */
export async function bookState(db: Queryable, bookId: string): Promise<{ exists: boolean; disposed: boolean }> {
  const r = await db.query<{ exists: boolean; disposed: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM books WHERE id = $1::uuid) AS exists, EXISTS (SELECT 1 FROM disposal_tombstones WHERE book_id = $1::uuid) AS disposed`, [bookId]);
  return r.rows[0]!;
}

/** One object with notes waiting: its kind, scope and the highest note id seen. */
export interface DirtyObject {
  kind: string;
  scope: string;
  maxId: number;
}

/** Objects with notes, oldest first. */
export async function dirtyObjects(db: Queryable, limit: number): Promise<DirtyObject[]> {
  const r = await db.query<{ kind: string; scope: string; max_id: string }>(
    `SELECT kind, scope, max(id)::text AS max_id FROM catalogue_dirty GROUP BY kind, scope ORDER BY min(id) LIMIT $1`, [limit]);
  return r.rows.map((x) => ({ kind: x.kind, scope: x.scope, maxId: Number(x.max_id) }));
}

/** How many notes wait, by object. */
export async function dirtyCount(db: Queryable): Promise<number> {
  const r = await db.query<{ n: string }>(`SELECT count(DISTINCT (kind, scope))::text AS n FROM catalogue_dirty`);
  return Number(r.rows[0]?.n ?? 0);
}

/** Forgets the notes of one object up to the highest one the writer saw; later ones stay. */
export async function forgetDirty(db: Queryable, kind: string, scope: string, maxId: number): Promise<void> {
  await db.query(`DELETE FROM catalogue_dirty WHERE kind = $1 AND scope = $2 AND id <= $3`, [kind, scope, maxId]);
}

/** Notes every object of the archive as dirty: `catalogue write --all`. */
export async function markAllDirty(db: Queryable): Promise<void> {
  await db.query(`INSERT INTO catalogue_dirty (kind, scope) SELECT k, '' FROM unnest(ARRAY['rules', 'layouts', 'holds', 'disposal-batches', 'users']) AS k`);
  await db.query(`INSERT INTO catalogue_dirty (kind, scope)
    SELECT k, b.id::text FROM books b, unnest(ARRAY['book', 'events', 'entries', 'keying', 'links', 'corrections', 'retention', 'extracts']) AS k`);
  await db.query(`INSERT INTO catalogue_dirty (kind, scope) SELECT 'disposal', book_id::text FROM disposal_tombstones`);
  await db.query(`INSERT INTO catalogue_dirty (kind, scope) SELECT DISTINCT 'registry-records', left(id::text, 2) FROM registry_records`);
}

/** What the writer last recorded of an object. */
export interface WrittenRow {
  version: number;
  contentSha256: string | null;
  storeKey: string | null;
}

/**
 * Locks the record of one object for this transaction (creating it), so one writer at a time
 * handles it; undefined when another writer holds it.
 */
export async function lockWritten(tx: Queryable, kind: string, scope: string): Promise<WrittenRow | undefined> {
  await tx.query(`INSERT INTO catalogue_written (kind, scope) VALUES ($1, $2) ON CONFLICT DO NOTHING`, [kind, scope]);
  const r = await tx.query<{ version: string; content_sha256: string | null; store_key: string | null }>(
    `SELECT version::text AS version, content_sha256, store_key FROM catalogue_written WHERE kind = $1 AND scope = $2 FOR UPDATE SKIP LOCKED`, [kind, scope]);
  const row = r.rows[0];
  return row ? { version: Number(row.version), contentSha256: row.content_sha256, storeKey: row.store_key } : undefined;
}

/** Records the newest version of an object in the store. */
export async function recordWritten(db: Queryable, kind: string, scope: string, w: { version: number; contentSha256: string | null; key: string | null }): Promise<void> {
  await db.query(
    `INSERT INTO catalogue_written (kind, scope, version, content_sha256, store_key, written_at) VALUES ($1, $2, $3, $4, $5, now())
     ON CONFLICT (kind, scope) DO UPDATE SET version = EXCLUDED.version, content_sha256 = EXCLUDED.content_sha256, store_key = EXCLUDED.store_key, written_at = now()`,
    [kind, scope, w.version, w.contentSha256, w.key]);
}

/** Every recorded object, for the check. */
export async function allWritten(db: Queryable): Promise<{ kind: string; scope: string; version: number; contentSha256: string | null; storeKey: string | null }[]> {
  const r = await db.query<{ kind: string; scope: string; version: string; content_sha256: string | null; store_key: string | null }>(
    `SELECT kind, scope, version::text AS version, content_sha256, store_key FROM catalogue_written ORDER BY kind COLLATE "C", scope COLLATE "C"`);
  return r.rows.map((x) => ({ kind: x.kind, scope: x.scope, version: Number(x.version), contentSha256: x.content_sha256, storeKey: x.store_key }));
}

/** Ids of every book, and of every disposed book, in the database. */
export async function catalogueBookIds(db: Queryable): Promise<{ books: string[]; disposed: string[] }> {
  const b = await db.query<{ id: string }>(`SELECT id::text AS id FROM books ORDER BY id`);
  const d = await db.query<{ id: string }>(`SELECT book_id::text AS id FROM disposal_tombstones ORDER BY book_id`);
  return { books: b.rows.map((x) => x.id), disposed: d.rows.map((x) => x.id) };
}

/** Registry shards that hold records. */
export async function registryShards(db: Queryable): Promise<string[]> {
  const r = await db.query<{ s: string }>(`SELECT DISTINCT left(id::text, 2) AS s FROM registry_records ORDER BY 1`);
  return r.rows.map((x) => x.s);
}

/** Audit events after `afterSeq`, encoded as the segment rows, at most `limit`. */
export async function auditRowsAfter(db: Queryable, afterSeq: number, limit: number): Promise<CatalogueRow[]> {
  const spec = CATALOGUE_TABLES.audit_events;
  const columns = Object.entries(spec.columns) as [string, ColumnType][];
  const r = await db.query<Record<string, unknown>>(
    `SELECT ${columns.map(([c, t]) => selectExpr(c, t)).join(', ')} FROM audit_events WHERE seq > $1 ORDER BY seq LIMIT $2`, [afterSeq, limit]);
  return r.rows.map((row) => Object.fromEntries(columns.map(([c, t]) => [c, decode(t, row[c])])));
}

/** The newest audit event, and when the oldest one after `afterSeq` was appended. */
export async function auditPending(db: Queryable, afterSeq: number): Promise<{ headSeq: number; oldestPendingAt: Date | null }> {
  const r = await db.query<{ head: string | null; oldest: Date | null }>(
    `SELECT (SELECT max(seq) FROM audit_events)::text AS head, (SELECT min(at) FROM audit_events WHERE seq > $1) AS oldest`, [afterSeq]);
  return { headSeq: Number(r.rows[0]?.head ?? 0), oldestPendingAt: r.rows[0]?.oldest ? new Date(r.rows[0].oldest) : null };
}

/** The newest migration applied, e.g. `027_catalogue_write`: what the rows' columns follow. */
export async function newestMigration(db: Queryable): Promise<string> {
  const r = await db.query<{ version: number; name: string }>(`SELECT version, name FROM schema_migrations ORDER BY version DESC LIMIT 1`);
  const m = r.rows[0];
  return m ? `${String(m.version).padStart(3, '0')}_${m.name}` : 'none';
}
