import { createHash } from 'node:crypto';
import { AppError } from '../common/index.ts';
import type { AppDeps } from '../app/deps.ts';
import type { Queryable } from '../db/index.ts';
import { toIsoDate, type IsoDate } from './dates.ts';
import { activeHoldsOn } from './holds.ts';
import { pruneSearchTerms } from '../search/index.ts';

type Deps = Pick<AppDeps, 'db' | 'store' | 'log'>;

/**
 * JSON with object keys sorted at every level and no whitespace, so the same content always
 * gives the same bytes (and the same certificate hash) whatever order it was built in.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value)) throw new Error('canonical JSON has no NaN or Infinity');
    return JSON.stringify(value ?? null);
  }
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/** SHA-256 (hex) of a certificate's canonical JSON. */
export function certificateHash(content: unknown): string {
  return createHash('sha256').update(canonicalJson(content), 'utf8').digest('hex');
}

/** True when a stored certificate still matches its hash. */
export function verifyCertificate(cert: { content: unknown; sha256: string }): boolean {
  return certificateHash(cert.content) === cert.sha256;
}

/**
 * Four eyes: the person approving a disposal must not be the one who proposed it. Names are
 * compared trimmed and case-insensitively so 'Ana' cannot approve what 'ana ' proposed.
 */
export function assertFourEyes(proposedBy: string, decidedBy: string): void {
  const norm = (s: string) => s.trim().toLocaleLowerCase();
  if (!norm(decidedBy)) throw new AppError('ERR_VALIDATION', 'the approver must be named', { field: 'by' });
  if (norm(proposedBy) === norm(decidedBy)) {
    throw new AppError('ERR_CONFLICT', 'four eyes: a disposal batch must be approved by a different records manager than the one who proposed it', { field: 'by' });
  }
}

/** A book whose retention period has ended. */
export interface DueItem {
  bookId: string;
  registerType: string;
  municipality: string;
  yearFrom: number;
  yearTo: number;
  retainUntil: IsoDate;
  action: 'review' | 'transfer' | 'destroy';
  explanation: string;
  holds: { id: string; name: string }[];
  closedUntil: IsoDate | null;
  /** Why it cannot be disposed of now, if it cannot. */
  blockedBy: ('hold' | 'closure')[];
}

/** Books whose retention ended on or before `today`, with what would block their disposal. */
export async function listDue(db: Queryable, today: IsoDate = toIsoDate(new Date())): Promise<DueItem[]> {
  const r = await db.query<{ book_id: string; register_type: string; municipality: string; year_from: number; year_to: number; retain_until: string; action: DueItem['action']; explanation: string; closed_until: string | null }>(
    `SELECT ir.book_id, b.register_type, b.municipality, b.year_from, b.year_to, ir.retain_until, ir.action, ir.explanation, ir.closed_until
       FROM item_retention ir JOIN books b ON b.id = ir.book_id
      WHERE ir.retain_until IS NOT NULL AND NOT ir.permanent AND ir.retain_until <= $1::date
      ORDER BY ir.retain_until, ir.book_id`,
    [today],
  );
  const out: DueItem[] = [];
  for (const x of r.rows) {
    const holds = await activeHoldsOn(db, x.book_id);
    const closed = x.closed_until !== null && x.closed_until > today;
    out.push({
      bookId: x.book_id, registerType: x.register_type, municipality: x.municipality, yearFrom: x.year_from, yearTo: x.year_to,
      retainUntil: x.retain_until, action: x.action, explanation: x.explanation, holds, closedUntil: x.closed_until,
      blockedBy: [...(holds.length ? ['hold' as const] : []), ...(closed ? ['closure' as const] : [])],
    });
  }
  return out;
}

/** A stored snapshot of the due list (what the scheduled job saw). */
export interface DueSnapshot {
  id: string;
  listedAt: Date;
  asOf: IsoDate;
  due: number;
  blocked: number;
  items: DueItem[];
}

/** Lists what is due now and stores it as a snapshot (the scheduled `disposal.due` job). */
export async function snapshotDue(db: Queryable, today: IsoDate = toIsoDate(new Date())): Promise<DueSnapshot> {
  const items = await listDue(db, today);
  const blocked = items.filter((d) => d.blockedBy.length).length;
  const r = await db.query<{ id: string; listed_at: Date }>(
    'INSERT INTO disposal_due_lists (as_of, due, blocked, items) VALUES ($1, $2, $3, $4) RETURNING id, listed_at',
    [today, items.length, blocked, JSON.stringify(items)],
  );
  return { id: r.rows[0]!.id, listedAt: r.rows[0]!.listed_at, asOf: today, due: items.length, blocked, items };
}

/** The latest due-list snapshots, newest first. */
export async function listDueSnapshots(db: Queryable, limit = 10): Promise<DueSnapshot[]> {
  const r = await db.query<{ id: string; listed_at: Date; as_of: string; due: number; blocked: number; items: DueItem[] }>(
    'SELECT id, listed_at, as_of::text AS as_of, due, blocked, items FROM disposal_due_lists ORDER BY listed_at DESC LIMIT $1', [limit],
  );
  return r.rows.map((x) => ({ id: x.id, listedAt: x.listed_at, asOf: x.as_of, due: x.due, blocked: x.blocked, items: x.items }));
}

/** A disposal batch and its items. */
export interface DisposalBatch {
  id: string;
  status: 'proposed' | 'approved' | 'rejected' | 'executing' | 'executed';
  note: string | null;
  proposedBy: string;
  proposedAt: Date;
  decidedBy: string | null;
  decidedAt: Date | null;
  decisionNote: string | null;
  executedAt: Date | null;
  items: { bookId: string; outcome: 'pending' | 'disposed' | 'skipped' | 'failed'; detail: string | null }[];
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

/** Proposes a batch of due books whose action is 'destroy'; anything else is refused. */
export async function proposeBatch(deps: Pick<AppDeps, 'db'>, input: { bookIds: string[]; by: string; note?: string; today?: IsoDate }): Promise<DisposalBatch> {
  if (!input.by?.trim()) throw new AppError('ERR_VALIDATION', 'the proposer must be named', { field: 'by' });
  const ids = [...new Set(input.bookIds.map((s) => s.toLowerCase()))];
  if (ids.length === 0) throw new AppError('ERR_VALIDATION', 'a disposal batch needs at least one book', { field: 'bookIds' });
  const due = new Map((await listDue(deps.db, input.today)).map((d) => [d.bookId, d]));
  for (const id of ids) {
    const d = due.get(id);
    if (!d) throw new AppError('ERR_CONFLICT', `book ${id} is not due for disposal`, { bookId: id });
    if (d.action !== 'destroy') throw new AppError('ERR_CONFLICT', `book ${id} is due for ${d.action}, not destruction`, { bookId: id });
  }
  const batchId = await deps.db.transaction(async (tx) => {
    const r = await tx.query<{ id: string }>(`INSERT INTO disposal_batches (status, note, proposed_by) VALUES ('proposed', $1, $2) RETURNING id`, [input.note ?? null, input.by.trim()]);
    const id = r.rows[0]!.id;
    for (const b of ids) await tx.query('INSERT INTO disposal_batch_items (batch_id, book_id) VALUES ($1, $2)', [id, b]);
    return id;
  });
  return getBatch(deps.db, batchId);
}

/** Approves or rejects a proposed batch; the decider must differ from the proposer. */
export async function decideBatch(deps: Pick<AppDeps, 'db'>, id: string, decision: 'approve' | 'reject', by: { user: string; note?: string }): Promise<DisposalBatch> {
  const batch = await getBatch(deps.db, id);
  if (batch.status !== 'proposed') throw new AppError('ERR_CONFLICT', `disposal batch ${id} is ${batch.status}, not proposed`);
  assertFourEyes(batch.proposedBy, by.user);
  const r = await deps.db.query(
    `UPDATE disposal_batches SET status = $2, decided_by = $3, decided_at = now(), decision_note = $4 WHERE id = $1 AND status = 'proposed'`,
    [id, decision === 'approve' ? 'approved' : 'rejected', by.user.trim(), by.note ?? null],
  );
  if (r.rowCount === 0) throw new AppError('ERR_CONFLICT', `disposal batch ${id} was decided meanwhile`);
  return getBatch(deps.db, id);
}

/** The tombstone and certificate of a disposed book. */
export interface DisposalRecord {
  bookId: string;
  status: 'deleting' | 'disposed';
  tombstone: Record<string, unknown>;
  certificate: { content: Record<string, unknown>; sha256: string } | null;
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

/** What executing a batch did, per book. */
export interface DisposalReport {
  batchId: string;
  disposed: string[];
  skipped: { bookId: string; reason: string }[];
  failed: { bookId: string; reason: string }[];
}

const tableExists = async (db: Queryable, name: string) =>
  (await db.query<{ ok: boolean }>('SELECT to_regclass($1) IS NOT NULL AS ok', [name])).rows[0]?.ok === true;

/**
 * Executes an approved batch. Per book, with the book row locked: items under a hold or closure,
 * or no longer due, are skipped and reported. Otherwise: the tombstone is committed first (so an
 * interrupted run can resume from it), then every version of every object only this book uses is
 * deleted from the store with the governance bypass, then every database row of the book goes
 * and the certificate is written, in one transaction. Safe to run again.
 */
export async function executeBatch(deps: Deps, batchId: string, opts: { today?: IsoDate; agent?: string } = {}): Promise<DisposalReport> {
  const today = opts.today ?? toIsoDate(new Date());
  const batch = await getBatch(deps.db, batchId);
  if (batch.status !== 'approved' && batch.status !== 'executing') throw new AppError('ERR_CONFLICT', `disposal batch ${batchId} is ${batch.status}, not approved`);
  await deps.db.query(`UPDATE disposal_batches SET status = 'executing' WHERE id = $1`, [batchId]);
  const report: DisposalReport = { batchId, disposed: [], skipped: [], failed: [] };
  for (const item of batch.items) {
    if (item.outcome === 'disposed' || item.outcome === 'skipped') continue;
    try {
      const r = await disposeBook(deps, batch, item.bookId, today);
      if (r.outcome === 'skipped') report.skipped.push({ bookId: item.bookId, reason: r.reason });
      else report.disposed.push(item.bookId);
      await deps.db.query('UPDATE disposal_batch_items SET outcome = $3, detail = $4 WHERE batch_id = $1 AND book_id = $2',
        [batchId, item.bookId, r.outcome, r.outcome === 'skipped' ? r.reason : null]);
    } catch (e) {
      const reason = (e as Error).message;
      deps.log.error({ err: e, batchId, bookId: item.bookId }, 'disposal of a book failed');
      report.failed.push({ bookId: item.bookId, reason });
      await deps.db.query(`UPDATE disposal_batch_items SET outcome = 'failed', detail = $3 WHERE batch_id = $1 AND book_id = $2`, [batchId, item.bookId, reason.slice(0, 2000)]);
    }
  }
  // A batch with failures stays 'executing' so it can be run again.
  const done = report.failed.length === 0;
  await deps.db.query(`UPDATE disposal_batches SET status = $2, executed_at = CASE WHEN $3 THEN now() ELSE executed_at END, report = $4 WHERE id = $1`,
    [batchId, done ? 'executed' : 'executing', done, JSON.stringify(report)]);
  return report;
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

type ObjRow = { id: string; page_id: string | null; role: string; variant: string; revision: number; store_key: string; version_id: string | null; sha256: string; size: number | string; created_at: Date; superseded_at: Date | null };

async function disposeBook(deps: Deps, batch: DisposalBatch, bookId: string, today: IsoDate): Promise<{ outcome: 'disposed' } | { outcome: 'skipped'; reason: string }> {
  const existing = await deps.db.query<{ status: string }>('SELECT status FROM disposal_tombstones WHERE book_id = $1', [bookId]);
  if (existing.rows[0]?.status === 'disposed') return { outcome: 'disposed' };

  // Phase 1: checks and the tombstone, with the book locked against a hold being placed meanwhile.
  const plan = await deps.db.transaction(async (tx) => {
    const t = await tx.query<{ tombstone: Tombstone }>('SELECT tombstone FROM disposal_tombstones WHERE book_id = $1', [bookId]);
    if (t.rows[0]) return { resume: true as const, tombstone: t.rows[0].tombstone };
    const b = await tx.query<Record<string, unknown> & { id: string }>('SELECT * FROM books WHERE id = $1 FOR UPDATE', [bookId]);
    const book = b.rows[0];
    if (!book) return { skip: 'book not found' };
    const holds = await activeHoldsOn(tx, bookId);
    if (holds.length) return { skip: `under legal hold: ${holds.map((h) => h.name).join(', ')}` };
    const ir = await tx.query<{ rule_id: string | null; retain_until: string | null; permanent: boolean; action: string | null; explanation: string; closed_until: string | null; closure_explanation: string | null }>(
      'SELECT * FROM item_retention WHERE book_id = $1', [bookId],
    );
    const ret = ir.rows[0];
    if (!ret || ret.permanent || ret.retain_until === null || ret.retain_until > today || ret.action !== 'destroy') return { skip: 'no longer due for destruction' };
    if (ret.closed_until !== null && ret.closed_until > today) return { skip: `under privacy closure until ${ret.closed_until}` };
    const rule = ret.rule_id ? (await tx.query<Record<string, unknown>>('SELECT id, rule_key, version, name, period_years, period_months, trigger, trigger_event, action FROM retention_rules WHERE id = $1', [ret.rule_id])).rows[0] : null;
    const objs = await tx.query<ObjRow>('SELECT * FROM stored_objects WHERE book_id = $1 ORDER BY page_id NULLS FIRST, role, variant, revision', [bookId]);
    const pages = await tx.query<{ id: string; sequence: number }>('SELECT id, sequence FROM pages WHERE book_id = $1 ORDER BY sequence', [bookId]);
    const cacheKeys = (await tableExists(tx, 'page_image_cache'))
      ? (await tx.query<{ store_key: string; sha256: string }>('SELECT c.store_key, c.sha256 FROM page_image_cache c JOIN pages p ON p.id = c.page_id WHERE p.book_id = $1', [bookId])).rows
      : [];
    const tombstone: Tombstone = {
      bookId,
      book: {
        registerType: book.register_type, municipality: book.municipality, yearFrom: book.year_from, yearTo: book.year_to, volume: book.volume,
        sourceSha256: book.source_sha256, sourceSize: Number(book.source_size), createdAt: (book.created_at as Date).toISOString(), pageCount: pages.rows.length,
      },
      pages: pages.rows.map((p) => ({ id: p.id, sequence: p.sequence })),
      objects: objs.rows.map((o) => ({ id: o.id, pageId: o.page_id, role: o.role, variant: o.variant, revision: o.revision, key: o.store_key, versionId: o.version_id, sha256: o.sha256, size: Number(o.size) })),
      cacheObjects: cacheKeys.map((c) => ({ key: c.store_key, sha256: c.sha256 })),
      rule, retention: { retainUntil: ret.retain_until, action: ret.action, explanation: ret.explanation, closedUntil: ret.closed_until },
      approvals: { batchId: batch.id, proposedBy: batch.proposedBy, proposedAt: batch.proposedAt.toISOString(), approvedBy: batch.decidedBy, approvedAt: batch.decidedAt?.toISOString() ?? null },
      disposalStartedAt: new Date().toISOString(),
    };
    await tx.query(`INSERT INTO disposal_tombstones (book_id, batch_id, status, tombstone) VALUES ($1, $2, 'deleting', $3)`, [bookId, batch.id, JSON.stringify(tombstone)]);
    return { resume: false as const, tombstone };
  });
  if ('skip' in plan) return { outcome: 'skipped', reason: plan.skip ?? 'skipped' };
  const tomb = plan.tombstone;

  // Phase 2: the store. Keys another book still records are left alone (content addressing shares them).
  const keys = [...new Set([...tomb.objects.map((o) => o.key), ...tomb.cacheObjects.map((c) => c.key)])];
  const shared = new Set(
    (await deps.db.query<{ store_key: string }>('SELECT DISTINCT store_key FROM stored_objects WHERE store_key = ANY($1) AND book_id <> $2', [keys, bookId])).rows.map((r) => r.store_key),
  );
  const deleted: { key: string; versionId: string | null }[] = [];
  for (const key of keys) {
    if (shared.has(key)) continue;
    for await (const v of deps.store.listVersions(key)) {
      if (v.key !== key) continue;
      await deps.store.delete(key, { ...(v.versionId ? { versionId: v.versionId } : {}), bypassGovernance: true });
      deleted.push({ key, versionId: v.versionId ?? null });
    }
  }

  // Phase 3: every row of the book, then the certificate.
  const disposedAt = new Date().toISOString();
  await deps.db.transaction(async (tx) => {
    const pageIds = tomb.pages.map((p) => p.id);
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
      [bookId, disposedAt, batch.id],
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
    const content = {
      type: 'arkiva-disposal-certificate',
      version: 1,
      bookId,
      book: tomb.book,
      rule: tomb.rule,
      retention: tomb.retention,
      approvals: tomb.approvals,
      objects: tomb.objects.map((o) => ({ key: o.key, versionId: o.versionId, sha256: o.sha256, size: o.size, role: o.role })),
      storeVersionsDeleted: deleted.length,
      sharedKeysKept: [...shared].sort(),
      disposedAt,
      agent: 'arkiva disposal',
    };
    await tx.query(`UPDATE disposal_tombstones SET status = 'disposed', disposed_at = $2 WHERE book_id = $1`, [bookId, disposedAt]);
    await tx.query('INSERT INTO disposal_certificates (book_id, certificate, sha256) VALUES ($1, $2, $3)', [bookId, JSON.stringify(content), certificateHash(content)]);
  });
  // The search vocabulary keeps forms (names among them) until no page has them: drop those the book alone had.
  if (await tableExists(deps.db, 'search_terms')) await pruneSearchTerms(deps.db);
  deps.log.info({ batchId: batch.id, bookId, versions: deleted.length }, 'book disposed of');
  return { outcome: 'disposed' };
}

interface Tombstone {
  bookId: string;
  book: Record<string, unknown>;
  pages: { id: string; sequence: number }[];
  objects: { id: string; pageId: string | null; role: string; variant: string; revision: number; key: string; versionId: string | null; sha256: string; size: number }[];
  cacheObjects: { key: string; sha256: string }[];
  rule: Record<string, unknown> | null | undefined;
  retention: Record<string, unknown>;
  approvals: Record<string, unknown>;
  disposalStartedAt: string;
}
