import type { Queryable } from '../db/index.ts';
import type { ExtractStatus, ExtractType } from '../common/vocabulary.ts';

/** A row of the register of extracts. */
export interface ExtractRow {
  serial: string;
  type: ExtractType;
  status: ExtractStatus;
  entryId: string;
  recordId: string | null;
  bookId: string;
  requestReference: string;
  purpose: string | null;
  restricted: boolean;
  issuingOffice: string;
  issuedBy: string;
  issuedAt: Date;
  pdfSha256: string;
  pdfKey: string;
  pdfVersionId: string | null;
  pdfSize: number;
  signerSubject: string;
  supersedes: string | null;
  supersededBy: string | null;
  revokedBy: string | null;
  revokedAt: Date | null;
  revokeReason: string | null;
}

interface Row {
  serial: string; extract_type: ExtractType; status: ExtractStatus; entry_id: string; record_id: string | null; book_id: string;
  request_reference: string; purpose: string | null; restricted: boolean; issuing_office: string; issued_by: string; issued_at: Date;
  pdf_sha256: string; pdf_key: string; pdf_version_id: string | null; pdf_size: string | number; signer_subject: string;
  supersedes: string | null; superseded_by: string | null; revoked_by: string | null; revoked_at: Date | null; revoke_reason: string | null;
}

const COLUMNS = `serial, extract_type, status, entry_id, record_id, book_id, request_reference, purpose, restricted, issuing_office, issued_by,
  issued_at, pdf_sha256, pdf_key, pdf_version_id, pdf_size, signer_subject, supersedes, superseded_by, revoked_by, revoked_at, revoke_reason`;

function toExtract(r: Row): ExtractRow {
  return {
    serial: r.serial, type: r.extract_type, status: r.status, entryId: r.entry_id, recordId: r.record_id, bookId: r.book_id,
    requestReference: r.request_reference, purpose: r.purpose, restricted: r.restricted, issuingOffice: r.issuing_office, issuedBy: r.issued_by,
    issuedAt: r.issued_at, pdfSha256: r.pdf_sha256, pdfKey: r.pdf_key, pdfVersionId: r.pdf_version_id, pdfSize: Number(r.pdf_size),
    signerSubject: r.signer_subject, supersedes: r.supersedes, supersededBy: r.superseded_by, revokedBy: r.revoked_by, revokedAt: r.revoked_at,
    revokeReason: r.revoke_reason,
  };
}

/** True when the serial was ever issued. */
export async function serialTaken(db: Queryable, serial: string): Promise<boolean> {
  return (await db.query('SELECT 1 FROM extracts WHERE serial = $1', [serial])).rows.length > 0;
}

/** Writes the register row of a newly issued extract. */
export async function insertExtract(db: Queryable, e: Omit<ExtractRow, 'status' | 'supersededBy' | 'revokedBy' | 'revokedAt' | 'revokeReason'>): Promise<void> {
  await db.query(
    `INSERT INTO extracts (serial, extract_type, entry_id, record_id, book_id, request_reference, purpose, restricted, issuing_office, issued_by,
                           issued_at, pdf_sha256, pdf_key, pdf_version_id, pdf_size, signer_subject, supersedes)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)`,
    [e.serial, e.type, e.entryId, e.recordId, e.bookId, e.requestReference, e.purpose, e.restricted, e.issuingOffice, e.issuedBy,
      e.issuedAt, e.pdfSha256, e.pdfKey, e.pdfVersionId, e.pdfSize, e.signerSubject, e.supersedes],
  );
}

/** The register row of a serial; `lock` takes it FOR UPDATE (revocation and re-issue). */
export async function getExtract(db: Queryable, serial: string, opts: { lock?: boolean } = {}): Promise<ExtractRow | undefined> {
  const r = await db.query<Row>(`SELECT ${COLUMNS} FROM extracts WHERE serial = $1${opts.lock ? ' FOR UPDATE' : ''}`, [serial]);
  return r.rows[0] ? toExtract(r.rows[0]) : undefined;
}

/** The register row of the extract whose PDF has this SHA-256. */
export async function extractBySha256(db: Queryable, sha256: string): Promise<ExtractRow | undefined> {
  const r = await db.query<Row>(`SELECT ${COLUMNS} FROM extracts WHERE pdf_sha256 = $1`, [sha256]);
  return r.rows[0] ? toExtract(r.rows[0]) : undefined;
}

/** Marks a valid extract revoked; false when it was not valid. */
export async function markRevoked(db: Queryable, serial: string, by: string, reason: string): Promise<boolean> {
  const r = await db.query(
    `UPDATE extracts SET status = 'revoked', revoked_by = $2, revoked_at = now(), revoke_reason = $3 WHERE serial = $1 AND status = 'valid'`,
    [serial, by, reason],
  );
  return (r.rowCount ?? 0) > 0;
}

/** Marks a valid extract superseded by a re-issue; false when it was not valid. */
export async function markSuperseded(db: Queryable, serial: string, by: string): Promise<boolean> {
  const r = await db.query(`UPDATE extracts SET status = 'superseded', superseded_by = $2 WHERE serial = $1 AND status = 'valid'`, [serial, by]);
  return (r.rowCount ?? 0) > 0;
}

/** Filters of the register listing; every given one must match. */
export interface ExtractQuery {
  serial?: string;
  entryId?: string;
  recordId?: string;
  bookId?: string;
  requestReference?: string;
  issuedBy?: string;
  status?: ExtractStatus;
  type?: ExtractType;
  /** Issued on or after / before this instant. */
  from?: Date;
  to?: Date;
  limit: number;
  /** Serial of the last row of the previous page (rows are newest first, serial breaks ties). */
  before?: { issuedAt: Date; serial: string };
}

/** The register, newest first, filtered. */
export async function findExtracts(db: Queryable, q: ExtractQuery): Promise<ExtractRow[]> {
  const where: string[] = [];
  const params: unknown[] = [];
  const add = (sql: string, v: unknown) => {
    params.push(v);
    where.push(sql.replace('?', `$${params.length}`));
  };
  if (q.serial) add('serial = ?', q.serial);
  if (q.entryId) add('entry_id = ?', q.entryId);
  if (q.recordId) add('record_id = ?', q.recordId);
  if (q.bookId) add('book_id = ?', q.bookId);
  if (q.requestReference) add('request_reference = ?', q.requestReference);
  if (q.issuedBy) add('issued_by = ?', q.issuedBy);
  if (q.status) add('status = ?', q.status);
  if (q.type) add('extract_type = ?', q.type);
  if (q.from) add('issued_at >= ?', q.from);
  if (q.to) add('issued_at < ?', q.to);
  if (q.before) {
    params.push(q.before.issuedAt, q.before.serial);
    where.push(`(issued_at, serial) < ($${params.length - 1}, $${params.length})`);
  }
  params.push(q.limit);
  const r = await db.query<Row>(
    `SELECT ${COLUMNS} FROM extracts ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY issued_at DESC, serial DESC LIMIT $${params.length}`,
    params,
  );
  return r.rows.map(toExtract);
}

/** Notes an extract's PDF about to be uploaded under `storeKey`, before the upload. */
export async function noteUpload(db: Queryable, u: { storeKey: string; sha256: string; serial: string; bookId: string }): Promise<void> {
  await db.query('INSERT INTO extract_uploads (store_key, sha256, serial, book_id) VALUES ($1, $2, $3, $4) ON CONFLICT (store_key) DO NOTHING', [u.storeKey, u.sha256, u.serial, u.bookId]);
}

/**
 * Forgets a noted upload in the transaction that registers its extract; false when the note is
 * gone (the sweep took the upload for abandoned and removed its PDF). Waits for a sweep holding it.
 */
export async function takeUpload(tx: Queryable, storeKey: string): Promise<boolean> {
  return ((await tx.query('DELETE FROM extract_uploads WHERE store_key = $1', [storeKey])).rowCount ?? 0) > 0;
}

/** Takes a noted upload's row for removal; undefined when it is gone or an issue in progress holds it. */
export async function lockUpload(tx: Queryable, storeKey: string): Promise<{ storeKey: string; serial: string } | undefined> {
  const r = await tx.query<{ store_key: string; serial: string }>('SELECT store_key, serial FROM extract_uploads WHERE store_key = $1 FOR UPDATE SKIP LOCKED', [storeKey]);
  return r.rows[0] ? { storeKey: r.rows[0].store_key, serial: r.rows[0].serial } : undefined;
}

/** Keys of uploads noted before `before` and never registered nor removed. */
export async function staleUploads(db: Queryable, before: Date, limit: number): Promise<string[]> {
  const r = await db.query<{ store_key: string }>('SELECT store_key FROM extract_uploads WHERE noted_at < $1 ORDER BY noted_at LIMIT $2', [before, limit]);
  return r.rows.map((x) => x.store_key);
}

/** Every noted upload's key (tests and the fault checks: none should stay). */
export async function notedUploads(db: Queryable): Promise<string[]> {
  return (await db.query<{ store_key: string }>('SELECT store_key FROM extract_uploads ORDER BY noted_at')).rows.map((x) => x.store_key);
}

/** True when a stored object row names the key (its PDF is an archive object and must stay). */
export async function keyRecorded(db: Queryable, storeKey: string): Promise<boolean> {
  return (await db.query('SELECT 1 FROM stored_objects WHERE store_key = $1 LIMIT 1', [storeKey])).rows.length > 0;
}

/** True when an upload under the key is noted (registered or removed ones are not). */
export async function uploadNoted(db: Queryable, storeKey: string): Promise<boolean> {
  return (await db.query('SELECT 1 FROM extract_uploads WHERE store_key = $1', [storeKey])).rows.length > 0;
}
