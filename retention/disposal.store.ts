import type { Queryable } from '../db/index.ts';
import { AppError } from '../common/index.ts';
import type { IsoDate } from './dates.ts';
import type { DisposalBatch, DisposalRecord, DisposalReport, DueItem, DueSnapshot } from './disposal.ts';

/** True when the table exists (disposal handles tables later migrations may not have created yet). */
export async function tableExists(db: Queryable, name: string): Promise<boolean> {
  return (await db.query<{ ok: boolean }>('SELECT to_regclass($1) IS NOT NULL AS ok', [name])).rows[0]?.ok === true;
}

/** A book whose retention ended, as stored: its record class and computed retention, before holds and closure are weighed. */
export type DueRetention = Omit<DueItem, 'holds' | 'blockedBy'>;

/** Books whose retention ended on or before `today` (not permanent), earliest first. */
export async function listDueRetention(db: Queryable, today: IsoDate): Promise<DueRetention[]> {
  const r = await db.query<{ book_id: string; register_type: string; municipality: string; year_from: number; year_to: number; retain_until: string; action: DueItem['action']; explanation: string; closed_until: string | null }>(
    `SELECT ir.book_id, b.register_type, b.municipality, b.year_from, b.year_to, ir.retain_until, ir.action, ir.explanation, ir.closed_until
       FROM item_retention ir JOIN books b ON b.id = ir.book_id
      WHERE ir.retain_until IS NOT NULL AND NOT ir.permanent AND ir.retain_until <= $1::date
      ORDER BY ir.retain_until, ir.book_id`,
    [today],
  );
  return r.rows.map((x) => ({
    bookId: x.book_id, registerType: x.register_type, municipality: x.municipality, yearFrom: x.year_from, yearTo: x.year_to,
    retainUntil: x.retain_until, action: x.action, explanation: x.explanation, closedUntil: x.closed_until,
  }));
}

/** Stores a due list as a snapshot; returns its id and when it was stored. */
export async function insertDueSnapshot(db: Queryable, s: { asOf: IsoDate; due: number; blocked: number; items: DueItem[] }): Promise<{ id: string; listedAt: Date }> {
  const r = await db.query<{ id: string; listed_at: Date }>(
    'INSERT INTO disposal_due_lists (as_of, due, blocked, items) VALUES ($1, $2, $3, $4) RETURNING id, listed_at',
    [s.asOf, s.due, s.blocked, JSON.stringify(s.items)],
  );
  return { id: r.rows[0]!.id, listedAt: r.rows[0]!.listed_at };
}

/** The latest due-list snapshots, newest first. */
export async function listDueSnapshots(db: Queryable, limit = 10): Promise<DueSnapshot[]> {
  const r = await db.query<{ id: string; listed_at: Date; as_of: string; due: number; blocked: number; items: DueItem[] }>(
    'SELECT id, listed_at, as_of::text AS as_of, due, blocked, items FROM disposal_due_lists ORDER BY listed_at DESC LIMIT $1', [limit],
  );
  return r.rows.map((x) => ({ id: x.id, listedAt: x.listed_at, asOf: x.as_of, due: x.due, blocked: x.blocked, items: x.items }));
}

/** A batch by id. */
export async function getBatch(db: Queryable, id: string): Promise<DisposalBatch> {
  const b = await db.query<{ id: string; status: DisposalBatch['status']; note: string | null; proposed_by: string; proposed_at: Date; decided_by: string | null; decided_at: Date | null; decision_note: string | null; executed_at: Date | null }>(
    'SELECT * FROM disposal_batches WHERE id = $1', [id],
  );
  const row = b.rows[0];
  if (!row) throw new AppError('ERR_NOT_FOUND', `disposal batch ${id} not found`);
  const items = await db.query<{ book_id: string; outcome: DisposalBatch['items'][number]['outcome']; detail: string | null }>(
    'SELECT book_id, outcome, detail FROM disposal_batch_items WHERE batch_id = $1 ORDER BY book_id', [id],
  );
  return {
    id: row.id, status: row.status, note: row.note, proposedBy: row.proposed_by, proposedAt: row.proposed_at, decidedBy: row.decided_by,
    decidedAt: row.decided_at, decisionNote: row.decision_note, executedAt: row.executed_at,
    items: items.rows.map((i) => ({ bookId: i.book_id, outcome: i.outcome, detail: i.detail })),
  };
}

/** Stores a proposed batch of books (in the caller's transaction); returns its id. */
export async function insertProposedBatch(tx: Queryable, b: { note: string | null; proposedBy: string; bookIds: readonly string[] }): Promise<string> {
  const r = await tx.query<{ id: string }>(`INSERT INTO disposal_batches (status, note, proposed_by) VALUES ('proposed', $1, $2) RETURNING id`, [b.note, b.proposedBy]);
  const id = r.rows[0]!.id;
  for (const bookId of b.bookIds) await tx.query('INSERT INTO disposal_batch_items (batch_id, book_id) VALUES ($1, $2)', [id, bookId]);
  return id;
}

/** Records the decision on a batch that is still proposed; false when it was decided meanwhile. */
export async function recordBatchDecision(db: Queryable, id: string, d: { status: 'approved' | 'rejected'; by: string; note: string | null }): Promise<boolean> {
  const r = await db.query(
    `UPDATE disposal_batches SET status = $2, decided_by = $3, decided_at = now(), decision_note = $4 WHERE id = $1 AND status = 'proposed'`,
    [id, d.status, d.by, d.note],
  );
  return r.rowCount !== 0;
}

/** Marks a batch as being executed. */
export async function markBatchExecuting(db: Queryable, batchId: string): Promise<void> {
  await db.query(`UPDATE disposal_batches SET status = 'executing' WHERE id = $1`, [batchId]);
}

/** Records what executing a batch did to one of its books. */
export async function recordItemOutcome(db: Queryable, batchId: string, bookId: string, outcome: 'disposed' | 'skipped', detail: string | null): Promise<void> {
  await db.query('UPDATE disposal_batch_items SET outcome = $3, detail = $4 WHERE batch_id = $1 AND book_id = $2', [batchId, bookId, outcome, detail]);
}

/** Records that disposing of one book of a batch failed, and why. */
export async function recordItemFailure(db: Queryable, batchId: string, bookId: string, reason: string): Promise<void> {
  await db.query(`UPDATE disposal_batch_items SET outcome = 'failed', detail = $3 WHERE batch_id = $1 AND book_id = $2`, [batchId, bookId, reason]);
}

/** Records the end of a batch run: executed when `done`, else still executing; the report is kept either way. */
export async function finishBatchRun(db: Queryable, batchId: string, done: boolean, report: DisposalReport): Promise<void> {
  await db.query(`UPDATE disposal_batches SET status = $2, executed_at = CASE WHEN $3 THEN now() ELSE executed_at END, report = $4 WHERE id = $1`,
    [batchId, done ? 'executed' : 'executing', done, JSON.stringify(report)]);
}

/** What remains of a disposed book. */
export async function getDisposalRecord(db: Queryable, bookId: string): Promise<DisposalRecord> {
  const t = await db.query<{ book_id: string; status: DisposalRecord['status']; tombstone: Record<string, unknown>; certificate: Record<string, unknown> | null; sha256: string | null }>(
    `SELECT t.book_id, t.status, t.tombstone, c.certificate, c.sha256 FROM disposal_tombstones t LEFT JOIN disposal_certificates c ON c.book_id = t.book_id WHERE t.book_id = $1`,
    [bookId],
  );
  const row = t.rows[0];
  if (!row) throw new AppError('ERR_NOT_FOUND', `no disposal record for book ${bookId}`);
  return { bookId: row.book_id, status: row.status, tombstone: row.tombstone, certificate: row.certificate && row.sha256 ? { content: row.certificate, sha256: row.sha256 } : null };
}

/**
 * What disposal records of a book before anything is deleted: enough to resume an interrupted
 * run, and to write the certificate.
 */
export interface DisposalTombstone {
  bookId: string;
  book: Record<string, unknown>;
  pages: { id: string; sequence: number }[];
  objects: TombstoneObject[];
  cacheObjects: { key: string; sha256: string }[];
  rule: Record<string, unknown> | null | undefined;
  retention: Record<string, unknown>;
  approvals: Record<string, unknown>;
  disposalStartedAt: string;
}

/** A stored object version as the tombstone records it. */
export interface TombstoneObject {
  id: string;
  pageId: string | null;
  role: string;
  variant: string;
  revision: number;
  key: string;
  versionId: string | null;
  sha256: string;
  size: number;
}

/** The status of a book's tombstone, if it has one. */
export async function tombstoneStatus(db: Queryable, bookId: string): Promise<string | undefined> {
  const existing = await db.query<{ status: string }>('SELECT status FROM disposal_tombstones WHERE book_id = $1', [bookId]);
  return existing.rows[0]?.status;
}

/** A book's tombstone, if disposal of it has started. */
export async function findTombstone(tx: Queryable, bookId: string): Promise<DisposalTombstone | undefined> {
  const t = await tx.query<{ tombstone: DisposalTombstone }>('SELECT tombstone FROM disposal_tombstones WHERE book_id = $1', [bookId]);
  return t.rows[0]?.tombstone;
}

/** Commits a book's tombstone with status 'deleting', before anything of it is deleted. */
export async function insertTombstone(tx: Queryable, batchId: string, tombstone: DisposalTombstone): Promise<void> {
  await tx.query(`INSERT INTO disposal_tombstones (book_id, batch_id, status, tombstone) VALUES ($1, $2, 'deleting', $3)`, [tombstone.bookId, batchId, JSON.stringify(tombstone)]);
}

/** A book's row as its tombstone records it. */
export interface DisposedBook {
  registerType: string;
  municipality: string;
  yearFrom: number;
  yearTo: number;
  volume: string | null;
  sourceSha256: string;
  sourceSize: number;
  createdAt: Date;
}

/**
 * Locks a book's row until the transaction ends (a hold placed meanwhile waits for the disposal)
 * and reads what its tombstone records of it; undefined when there is no such book.
 */
export async function lockBookForDisposal(tx: Queryable, bookId: string): Promise<DisposedBook | undefined> {
  const b = await tx.query<{ id: string; register_type: string; municipality: string; year_from: number; year_to: number; volume: string | null; source_sha256: string; source_size: number | string; created_at: Date }>(
    'SELECT * FROM books WHERE id = $1 FOR UPDATE', [bookId],
  );
  const book = b.rows[0];
  if (!book) return undefined;
  return {
    registerType: book.register_type, municipality: book.municipality, yearFrom: book.year_from, yearTo: book.year_to, volume: book.volume,
    sourceSha256: book.source_sha256, sourceSize: Number(book.source_size), createdAt: book.created_at,
  };
}

/** The rule version a disposal went by, as the tombstone records it (its stored columns). */
export async function ruleSnapshot(tx: Queryable, ruleId: string): Promise<Record<string, unknown> | undefined> {
  return (await tx.query<Record<string, unknown>>('SELECT id, rule_key, version, name, period_years, period_months, trigger, trigger_event, action FROM retention_rules WHERE id = $1', [ruleId])).rows[0];
}

/** Every stored object row of a book, book-level ones first. */
export async function objectsOfBook(tx: Queryable, bookId: string): Promise<TombstoneObject[]> {
  const objs = await tx.query<{ id: string; page_id: string | null; role: string; variant: string; revision: number; store_key: string; version_id: string | null; sha256: string; size: number | string; created_at: Date; superseded_at: Date | null }>(
    'SELECT * FROM stored_objects WHERE book_id = $1 ORDER BY page_id NULLS FIRST, role, variant, revision', [bookId],
  );
  return objs.rows.map((o) => ({ id: o.id, pageId: o.page_id, role: o.role, variant: o.variant, revision: o.revision, key: o.store_key, versionId: o.version_id, sha256: o.sha256, size: Number(o.size) }));
}

/** A book's pages in order. */
export async function pagesOfBook(tx: Queryable, bookId: string): Promise<{ id: string; sequence: number }[]> {
  return (await tx.query<{ id: string; sequence: number }>('SELECT id, sequence FROM pages WHERE book_id = $1 ORDER BY sequence', [bookId])).rows;
}

/** The cached page images of a book (none when the cache table does not exist). */
export async function cachedImagesOfBook(tx: Queryable, bookId: string): Promise<{ key: string; sha256: string }[]> {
  const rows = (await tableExists(tx, 'page_image_cache'))
    ? (await tx.query<{ store_key: string; sha256: string }>('SELECT c.store_key, c.sha256 FROM page_image_cache c JOIN pages p ON p.id = c.page_id WHERE p.book_id = $1', [bookId])).rows
    : [];
  return rows.map((c) => ({ key: c.store_key, sha256: c.sha256 }));
}

/** Which of the keys another book still records (content addressing shares them). */
export async function keysSharedWithOtherBooks(db: Queryable, keys: string[], bookId: string): Promise<Set<string>> {
  return new Set(
    // Cached views and IIIF tiles are content-addressed too: a tile of the same pixels in another book keeps its key.
    (await db.query<{ store_key: string }>(
      `SELECT store_key FROM stored_objects WHERE store_key = ANY($1) AND book_id <> $2
        UNION
       SELECT c.store_key FROM page_image_cache c JOIN pages p ON p.id = c.page_id WHERE c.store_key = ANY($1) AND p.book_id <> $2`,
      [keys, bookId],
    )).rows.map((r) => r.store_key),
  );
}

/** Tables disposal handles by name (record_links keeps its rows: it has no foreign keys left to them). */
const HANDLED_TABLES = new Set(['fixity_state', 'page_words', 'page_image_cache', 'record_links', 'retention_stale', 'entry_names', 'entries',
  'legal_hold_items', 'retention_history', 'item_retention', 'processing_events', 'stored_objects', 'pages', 'books']);

/**
 * Rows of tables that later migrations add (OCR corrections, review state, ...) referencing the
 * book, its pages, entries or objects by a foreign key: derived data of the book, so they go too.
 * Found in the catalogue, so a new table can never make disposal fail or leave content behind.
 */
async function sweepOtherReferences(tx: Queryable, bookId: string): Promise<void> {
  const fks = await tx.query<{ tbl: string; rel: string; col: string; ref: string }>(
    `SELECT c.conrelid::regclass::text AS tbl, rel.relname AS rel, a.attname AS col, ref.relname AS ref
       FROM pg_constraint c
       JOIN pg_class rel ON rel.oid = c.conrelid
       JOIN pg_class ref ON ref.oid = c.confrelid
       JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
      WHERE c.contype = 'f' AND array_length(c.conkey, 1) = 1
        AND c.confrelid IN (to_regclass('books'), to_regclass('pages'), to_regclass('entries'), to_regclass('stored_objects'))`,
  );
  const idsOf: Record<string, string> = {
    books: 'SELECT $1::uuid',
    pages: 'SELECT id FROM pages WHERE book_id = $1',
    entries: 'SELECT id FROM entries WHERE book_id = $1',
    stored_objects: 'SELECT id FROM stored_objects WHERE book_id = $1',
  };
  for (const fk of fks.rows) {
    // The audit trail is evidence, never derived data: a foreign key from it fails the disposal loudly instead.
    if (HANDLED_TABLES.has(fk.rel) || !idsOf[fk.ref] || fk.rel.startsWith('audit')) continue;
    await tx.query(`DELETE FROM ${fk.tbl} WHERE "${fk.col.replace(/"/g, '""')}" IN (${idsOf[fk.ref]})`, [bookId]);
  }
}

/**
 * Deletes every database row of a disposed book, in the caller's transaction: rows of later
 * tables that reference it, then its derived data, entries, holds and retention, events, object
 * rows, pages and the book itself. Its live registry links are ended, stamped with the disposal.
 */
export async function deleteBookRows(tx: Queryable, bookId: string, pageIds: string[], disposal: { disposedAt: string; batchId: string }): Promise<void> {
  const del = async (table: string, where: string, params: unknown[]) => {
    if (await tableExists(tx, table)) await tx.query(`DELETE FROM ${table} WHERE ${where}`, params);
  };
  await sweepOtherReferences(tx, bookId);
  await del('fixity_state', 'object_id IN (SELECT id FROM stored_objects WHERE book_id = $1)', [bookId]);
  await del('page_words', 'book_id = $1 OR page_id = ANY($2)', [bookId, pageIds]);
  await del('page_image_cache', 'page_id = ANY($1)', [pageIds]);
  // Link rows stay (a registry record's history survives; no foreign key ties them to the rows
  // deleted below). Live links are ended by the disposal, stamped with it; links ended before keep
  // their own end untouched (record links are never rewritten once ended).
  await tx.query(
    `UPDATE record_links SET item_disposed_at = $2::timestamptz, item_disposal_batch_id = $3::uuid,
            unlinked_at = $2::timestamptz, unlinked_by = 'arkiva disposal',
            unlink_reason = 'item disposed of under disposal batch ' || $3::uuid::text
      WHERE book_id = $1 AND unlinked_at IS NULL`,
    [bookId, disposal.disposedAt, disposal.batchId],
  );
  await del('retention_stale', 'book_id = $1', [bookId]);
  await del('entry_names', 'entry_id IN (SELECT id FROM entries WHERE book_id = $1)', [bookId]);
  await del('entries', 'book_id = $1', [bookId]);
  await del('legal_hold_items', 'book_id = $1', [bookId]);
  await del('retention_history', 'book_id = $1', [bookId]);
  await del('item_retention', 'book_id = $1', [bookId]);
  await del('processing_events', 'book_id = $1 OR page_id = ANY($2)', [bookId, pageIds]);
  await del('stored_objects', 'book_id = $1', [bookId]);
  await del('pages', 'book_id = $1', [bookId]);
  await del('books', 'id = $1', [bookId]);
}

/** Marks a book's tombstone disposed, at the time the certificate names. */
export async function markTombstoneDisposed(tx: Queryable, bookId: string, disposedAt: string): Promise<void> {
  await tx.query(`UPDATE disposal_tombstones SET status = 'disposed', disposed_at = $2 WHERE book_id = $1`, [bookId, disposedAt]);
}

/** Stores a book's disposal certificate with its hash. */
export async function insertCertificate(tx: Queryable, bookId: string, content: Record<string, unknown>, sha256: string): Promise<void> {
  await tx.query('INSERT INTO disposal_certificates (book_id, certificate, sha256) VALUES ($1, $2, $3)', [bookId, JSON.stringify(content), sha256]);
}
