import type { Db, Queryable } from '../db/index.ts';
import type { ArbitrationChoice, ZoneChangeOp, ZoneSource, ZoneStatus } from '../common/vocabulary.ts';
import type { Box } from '../entries/index.ts';
import type { FieldAnswer, KeyedFields, KeyingWarning } from './answers.ts';
import type { EntryZone, Keying } from './zones.ts';
import { READING_ORDER_SQL, type Turn } from './reading-order.ts';

type Json<T> = T | string;
const parse = <T>(v: Json<T>): T => (typeof v === 'string' ? (JSON.parse(v) as T) : v);

interface ZoneRow {
  id: string; book_id: string; page_id: string; sequence: number; layout_id: string; layout_key: string; layout_version: number;
  x0: number; y0: number; x1: number; y1: number; cells: Json<Box[]>; source: ZoneSource; status: ZoneStatus; differences: string[];
  final_fields: Json<KeyedFields> | null; entry_id: string | null; verified_by: string | null; verified_at: Date | null;
  created_by: string; created_at: Date; retired_by: string | null; retired_at: Date | null;
  review_reason: string | null; review_flagged_at: Date | null; turn: number | null;
}

const ZONE_SELECT = `SELECT z.*, p.sequence, l.layout_key, l.version AS layout_version
  FROM entry_zones z JOIN pages p ON p.id = z.page_id JOIN register_layouts l ON l.id = z.layout_id`;

function toZone(r: ZoneRow): EntryZone {
  return {
    id: r.id, bookId: r.book_id, pageId: r.page_id, pageSequence: r.sequence, layoutId: r.layout_id, layoutKey: r.layout_key, layoutVersion: r.layout_version,
    box: { x0: r.x0, y0: r.y0, x1: r.x1, y1: r.y1 }, cells: parse(r.cells), source: r.source, status: r.status, differences: r.differences ?? [],
    finalFields: r.final_fields === null ? null : parse(r.final_fields), entryId: r.entry_id, verifiedBy: r.verified_by, verifiedAt: r.verified_at,
    createdBy: r.created_by, createdAt: r.created_at, retiredBy: r.retired_by, retiredAt: r.retired_at,
    reviewReason: r.review_reason ?? null, reviewFlaggedAt: r.review_flagged_at ?? null,
    turn: r.turn === null || r.turn === undefined ? null : (Number(r.turn) as Turn),
  };
}

/** A zone, retired or not. */
export async function getZone(db: Queryable, id: string): Promise<EntryZone | undefined> {
  const r = await db.query<ZoneRow>(`${ZONE_SELECT} WHERE z.id = $1`, [id]);
  return r.rows[0] ? toZone(r.rows[0]) : undefined;
}

/** A zone locked until the transaction ends: keyings, decisions and corrections of one zone queue behind each other. */
export async function lockZone(tx: Queryable, id: string): Promise<EntryZone | undefined> {
  const r = await tx.query<ZoneRow>(`${ZONE_SELECT} WHERE z.id = $1 FOR UPDATE OF z`, [id]);
  return r.rows[0] ? toZone(r.rows[0]) : undefined;
}

/** The live zones of a page, top to bottom as the page is read (upright, on a page the OCR turned). */
export async function listPageZones(db: Queryable, pageId: string): Promise<EntryZone[]> {
  const r = await db.query<ZoneRow>(`${ZONE_SELECT} WHERE z.page_id = $1 AND z.retired_at IS NULL ORDER BY ${READING_ORDER_SQL}, z.id`, [pageId]);
  return r.rows.map(toZone);
}

/** Writes a new zone; returns its id. */
export async function insertZone(
  tx: Queryable, z: { bookId: string; pageId: string; layoutId: string; box: Box; cells: Box[]; source: ZoneSource; createdBy: string; turn?: Turn | null },
): Promise<string> {
  const r = await tx.query<{ id: string }>(
    `INSERT INTO entry_zones (book_id, page_id, layout_id, x0, y0, x1, y1, cells, source, created_by, turn)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9, $10, $11) RETURNING id`,
    [z.bookId, z.pageId, z.layoutId, z.box.x0, z.box.y0, z.box.x1, z.box.y1, JSON.stringify(z.cells), z.source, z.createdBy, z.turn ?? null],
  );
  return r.rows[0]!.id;
}

/** Moves a zone's box and cells (its change row is written beside); a person placed it, so a review flag is cleared. */
export async function updateZoneBox(tx: Queryable, id: string, box: Box, cells: Box[]): Promise<void> {
  await tx.query(`UPDATE entry_zones SET x0 = $2, y0 = $3, x1 = $4, y1 = $5, cells = $6::jsonb, source = 'corrected', review_reason = NULL, review_flagged_at = NULL WHERE id = $1`,
    [id, box.x0, box.y0, box.x1, box.y1, JSON.stringify(cells)]);
}

/** Retires a zone replaced by a split or merge. */
export async function retireZone(tx: Queryable, id: string, by: string): Promise<void> {
  await tx.query('UPDATE entry_zones SET retired_by = $2, retired_at = now() WHERE id = $1', [id, by]);
  await tx.query('DELETE FROM keying_claims WHERE zone_id = $1', [id]);
}

/**
 * A page's image was replaced: its live zones made by detection that nobody keyed (nor claimed) are
 * retired; the others (keyed, or drawn or corrected by a person) are kept and flagged with `reason`.
 */
export async function settleZonesOfReplacedPage(tx: Queryable, pageId: string, by: string, reason: string): Promise<{ retired: string[]; flagged: string[] }> {
  const retired = await tx.query<{ id: string }>(
    `UPDATE entry_zones z SET retired_by = $2, retired_at = now()
      WHERE z.page_id = $1 AND z.retired_at IS NULL AND z.source = 'detected' AND z.status = 'open'
        AND NOT EXISTS (SELECT 1 FROM keyings k WHERE k.zone_id = z.id)
      RETURNING z.id`,
    [pageId, by],
  );
  const ids = retired.rows.map((r) => r.id);
  if (ids.length) await tx.query('DELETE FROM keying_claims WHERE zone_id = ANY($1::uuid[])', [ids]);
  const flagged = await tx.query<{ id: string }>(
    `UPDATE entry_zones SET review_reason = $2, review_flagged_at = now() WHERE page_id = $1 AND retired_at IS NULL RETURNING id`,
    [pageId, reason],
  );
  return { retired: ids, flagged: flagged.rows.map((r) => r.id) };
}

/** Records a correction of a zone. */
export async function insertZoneChange(
  tx: Queryable, c: { zoneId: string; op: ZoneChangeOp; before: unknown; after: unknown; resultZoneIds: string[]; by: string },
): Promise<void> {
  await tx.query(
    `INSERT INTO entry_zone_changes (zone_id, op, before, after, result_zone_ids, changed_by) VALUES ($1, $2, $3::jsonb, $4::jsonb, $5::uuid[], $6)`,
    [c.zoneId, c.op, JSON.stringify(c.before), JSON.stringify(c.after), c.resultZoneIds, c.by],
  );
}

/** The corrections of a zone, oldest first. */
export async function zoneChanges(db: Queryable, zoneId: string): Promise<{ op: ZoneChangeOp; before: unknown; after: unknown; resultZoneIds: string[]; changedBy: string; changedAt: Date }[]> {
  const r = await db.query<{ op: ZoneChangeOp; before: Json<unknown>; after: Json<unknown>; result_zone_ids: string[]; changed_by: string; changed_at: Date }>(
    'SELECT * FROM entry_zone_changes WHERE zone_id = $1 ORDER BY id', [zoneId]);
  return r.rows.map((c) => ({ op: c.op, before: parse(c.before), after: parse(c.after), resultZoneIds: c.result_zone_ids, changedBy: c.changed_by, changedAt: c.changed_at }));
}

/**
 * A zone's history: the corrections of the zone itself and the split or merge that made it (on the
 * zones it replaced), oldest first; `zoneId` says which zone each change was made on.
 */
export async function zoneHistory(db: Queryable, zoneId: string): Promise<{ zoneId: string; op: ZoneChangeOp; before: unknown; after: unknown; resultZoneIds: string[]; changedBy: string; changedAt: Date }[]> {
  const r = await db.query<{ zone_id: string; op: ZoneChangeOp; before: Json<unknown>; after: Json<unknown>; result_zone_ids: string[]; changed_by: string; changed_at: Date }>(
    'SELECT * FROM entry_zone_changes WHERE zone_id = $1 OR $1 = ANY(result_zone_ids) ORDER BY id', [zoneId]);
  return r.rows.map((c) => ({ zoneId: c.zone_id, op: c.op, before: parse(c.before), after: parse(c.after), resultZoneIds: c.result_zone_ids, changedBy: c.changed_by, changedAt: c.changed_at }));
}

/** Sets where a zone is in keying, with the columns its keyings differ on. */
export async function setZoneStatus(tx: Queryable, id: string, status: ZoneStatus, differences: readonly string[] = []): Promise<void> {
  await tx.query('UPDATE entry_zones SET status = $2, differences = $3::text[] WHERE id = $1', [id, status, differences]);
}

/** Marks a zone verified with its final answers and the entry made from them. */
export async function markZoneVerified(tx: Queryable, id: string, finalFields: KeyedFields, entryId: string, by: string): Promise<void> {
  await tx.query(
    `UPDATE entry_zones SET status = 'verified', final_fields = $2::jsonb, entry_id = $3, verified_by = $4, verified_at = now() WHERE id = $1`,
    [id, JSON.stringify(finalFields), entryId, by],
  );
}

/** Settles a zone as an empty ruled row: its final answers (all blank) are kept, no entry is made. */
export async function markZoneEmpty(tx: Queryable, id: string, finalFields: KeyedFields, by: string): Promise<void> {
  await tx.query(
    `UPDATE entry_zones SET status = 'empty', differences = '{}', final_fields = $2::jsonb, entry_id = NULL, verified_by = $3, verified_at = now() WHERE id = $1`,
    [id, JSON.stringify(finalFields), by],
  );
}

interface KeyingRow {
  id: string; zone_id: string; slot: 1 | 2; keyer: string; layout_id: string; fields: Json<KeyedFields>; warnings: Json<KeyingWarning[]>;
  agreed: boolean | null; started_at: Date | null; submitted_at: Date;
}

function toKeying(r: KeyingRow): Keying {
  return {
    id: r.id, zoneId: r.zone_id, slot: Number(r.slot) as 1 | 2, keyer: r.keyer, layoutId: r.layout_id, fields: parse(r.fields), warnings: parse(r.warnings),
    agreed: r.agreed, startedAt: r.started_at, submittedAt: r.submitted_at,
  };
}

/** The keyings of a zone, in the order they came (slot 1 is keying A). */
export async function keyingsOfZone(db: Queryable, zoneId: string): Promise<Keying[]> {
  const r = await db.query<KeyingRow>('SELECT * FROM keyings WHERE zone_id = $1 ORDER BY slot', [zoneId]);
  return r.rows.map(toKeying);
}

/** Stores a keying in its slot; `started_at` is when the queue handed the zone to the keyer, if it did. */
export async function insertKeying(
  tx: Queryable, k: { zoneId: string; slot: 1 | 2; keyer: string; layoutId: string; fields: KeyedFields; warnings: KeyingWarning[] },
): Promise<Keying> {
  const r = await tx.query<KeyingRow>(
    `INSERT INTO keyings (zone_id, slot, keyer, layout_id, fields, warnings, started_at)
     VALUES ($1, $2, $3, $4, $5::jsonb, $6::jsonb, (SELECT claimed_at FROM keying_claims WHERE zone_id = $1 AND keyer = $3))
     RETURNING *`,
    [k.zoneId, k.slot, k.keyer, k.layoutId, JSON.stringify(k.fields), JSON.stringify(k.warnings)],
  );
  await tx.query('DELETE FROM keying_claims WHERE zone_id = $1 AND keyer = $2', [k.zoneId, k.keyer]);
  return toKeying(r.rows[0]!);
}

/** Records whether a zone's two keyings matched on every field. */
export async function setKeyingsAgreed(tx: Queryable, zoneId: string, agreed: boolean): Promise<void> {
  await tx.query('UPDATE keyings SET agreed = $2 WHERE zone_id = $1', [zoneId, agreed]);
}

// SQL of "the zone can still take this keyer": live, short of two keyings, not keyed by them, and
// not held by claims of others (fresh ones) that would fill it.
const AVAILABLE = `z.retired_at IS NULL AND z.status IN ('open', 'keyed-once')
  AND NOT EXISTS (SELECT 1 FROM keyings k WHERE k.zone_id = z.id AND k.keyer = $1)
  AND (SELECT count(*) FROM keyings k WHERE k.zone_id = z.id)
    + (SELECT count(*) FROM keying_claims c WHERE c.zone_id = z.id AND c.keyer <> $1 AND c.claimed_at > now() - make_interval(mins => $2::int)) < 2`;

/** Books holding zones the keyer may key, the longest-archived first (at most `limit`). */
export async function booksWithZonesFor(db: Queryable, keyer: string, claimMinutes: number, opts: { bookId?: string; limit: number }): Promise<string[]> {
  const r = await db.query<{ id: string }>(
    `SELECT b.id FROM books b
      WHERE ($3::uuid IS NULL OR b.id = $3)
        AND EXISTS (SELECT 1 FROM entry_zones z WHERE z.book_id = b.id AND ${AVAILABLE})
      ORDER BY b.created_at, b.id LIMIT $4`,
    [keyer, claimMinutes, opts.bookId ?? null, opts.limit],
  );
  return r.rows.map((x) => x.id);
}

/**
 * The zone the keyer should key next among `bookIds`: one they already hold a claim on, else the
 * first in book, page and row order; zones in `skip` are left out.
 */
export async function nextZoneId(db: Queryable, keyer: string, claimMinutes: number, bookIds: readonly string[], skip: readonly string[]): Promise<string | undefined> {
  const r = await db.query<{ id: string }>(
    `SELECT z.id FROM entry_zones z JOIN books b ON b.id = z.book_id JOIN pages p ON p.id = z.page_id
      WHERE z.book_id = ANY($3::uuid[]) AND NOT (z.id = ANY($4::uuid[])) AND ${AVAILABLE}
      ORDER BY EXISTS (SELECT 1 FROM keying_claims c WHERE c.zone_id = z.id AND c.keyer = $1) DESC,
               b.created_at, b.id, p.sequence, ${READING_ORDER_SQL}, z.id
      LIMIT 1`,
    [keyer, claimMinutes, bookIds, skip],
  );
  return r.rows[0]?.id;
}

/**
 * Claims a zone for a keyer, checked again under the zone's lock (two keyers asking at once cannot
 * both take the last place); false when it is full by now. A claim held already is kept as it was.
 */
export async function claimZone(tx: Queryable, zoneId: string, keyer: string, claimMinutes: number): Promise<boolean> {
  const ok = await tx.query<{ ok: boolean }>(`SELECT (${AVAILABLE}) AS ok FROM entry_zones z WHERE z.id = $3 FOR UPDATE OF z`, [keyer, claimMinutes, zoneId]);
  if (!ok.rows[0]?.ok) return false;
  await tx.query(
    `INSERT INTO keying_claims (zone_id, keyer) VALUES ($1, $2)
     ON CONFLICT (zone_id, keyer) DO UPDATE SET claimed_at = CASE WHEN keying_claims.claimed_at > now() - make_interval(mins => $3::int) THEN keying_claims.claimed_at ELSE now() END`,
    [zoneId, keyer, claimMinutes],
  );
  return true;
}

/** Stores an arbitrator's decision on one field. */
export async function insertDecision(
  tx: Queryable,
  d: { zoneId: string; column: string; choice: ArbitrationChoice; answer: FieldAnswer; before: { a: FieldAnswer | null; b: FieldAnswer | null }; overruled: string[]; by: string },
): Promise<void> {
  await tx.query(
    `INSERT INTO keying_decisions (zone_id, column_key, choice, answer, before, overruled, decided_by) VALUES ($1, $2, $3, $4::jsonb, $5::jsonb, $6::text[], $7)`,
    [d.zoneId, d.column, d.choice, JSON.stringify(d.answer), JSON.stringify(d.before), d.overruled, d.by],
  );
}

/** The decisions taken on a zone. */
export async function decisionsOfZone(db: Queryable, zoneId: string): Promise<{ column: string; choice: ArbitrationChoice; answer: FieldAnswer; overruled: string[]; decidedBy: string; decidedAt: Date }[]> {
  const r = await db.query<{ column_key: string; choice: ArbitrationChoice; answer: Json<FieldAnswer>; overruled: string[]; decided_by: string; decided_at: Date }>(
    'SELECT * FROM keying_decisions WHERE zone_id = $1 ORDER BY column_key', [zoneId]);
  return r.rows.map((d) => ({ column: d.column_key, choice: d.choice, answer: parse(d.answer), overruled: d.overruled, decidedBy: d.decided_by, decidedAt: d.decided_at }));
}

/** Disputed live zones (oldest book, page and row first) that `notKeyedBy` did not key, at most `limit`. */
export async function disputedZones(db: Queryable, opts: { notKeyedBy: string; bookId?: string; limit: number }): Promise<EntryZone[]> {
  const r = await db.query<ZoneRow>(
    `${ZONE_SELECT} JOIN books b ON b.id = z.book_id
      WHERE z.status = 'disputed' AND z.retired_at IS NULL AND ($2::uuid IS NULL OR z.book_id = $2)
        AND NOT EXISTS (SELECT 1 FROM keyings k WHERE k.zone_id = z.id AND k.keyer = $1)
      ORDER BY b.created_at, b.id, p.sequence, ${READING_ORDER_SQL}, z.id LIMIT $3`,
    [opts.notKeyedBy, opts.bookId ?? null, opts.limit],
  );
  return r.rows.map(toZone);
}

/** Verified live zones of a book in page and row order. */
export async function verifiedZonesOfBook(db: Queryable, bookId: string): Promise<EntryZone[]> {
  const r = await db.query<ZoneRow>(
    `${ZONE_SELECT} WHERE z.book_id = $1 AND z.status = 'verified' AND z.retired_at IS NULL ORDER BY p.sequence, ${READING_ORDER_SQL}, z.id`, [bookId]);
  return r.rows.map(toZone);
}

/**
 * A Db that runs everything inside the open transaction `tx`, for domain functions that take a
 * Db and open their own transaction (entries' createEntry): their writes then commit or roll back
 * with the caller's.
 */
export function joinTransaction(tx: Queryable, kind: Db['kind']): Db {
  return {
    kind,
    query: <R>(sql: string, params?: readonly unknown[]) => tx.query<R>(sql, params),
    transaction: <T>(fn: (inner: Queryable) => Promise<T>) => fn(tx),
    close: async () => {},
  };
}
