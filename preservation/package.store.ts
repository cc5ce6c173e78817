/**
 * The SQL of a book's archival package: its generations among stored_objects, the PREMIS event
 * that names each one's basis, the locks a packaging run holds, and the corrected words its ALTO
 * and PDF carry.
 */
import type { Queryable } from '../db/index.ts';
import type { StoredObject } from '../archive/index.ts';
import type { CorrectedWord } from './corrected-ocr.ts';

/** A book-level package or PDF row, current or superseded. */
export interface PackageRow {
  id: string;
  role: string;
  revision: number;
  supersededAt: Date | null;
}

/** The book's package and PDF rows, superseded ones included, newest generation first. */
export async function listPackageRows(db: Queryable, bookId: string): Promise<PackageRow[]> {
  const r = await db.query<{ id: string; role: string; revision: number; superseded_at: Date | null }>(
    `SELECT id, role, revision, superseded_at FROM stored_objects WHERE book_id = $1 AND page_id IS NULL AND role IN ('package', 'pdf')
      ORDER BY revision DESC, created_at DESC`,
    [bookId],
  );
  return r.rows.map((x) => ({ id: x.id, role: x.role, revision: x.revision, supersededAt: x.superseded_at }));
}

/** The detail of the creation event of an object (a package's names its basis), if it has one. */
export async function creationDetail(db: Queryable, objectId: string): Promise<string | null | undefined> {
  const ev = await db.query<{ detail: string | null }>(
    `SELECT detail FROM processing_events WHERE object_id = $1 AND event_type = 'creation' ORDER BY id LIMIT 1`, [objectId]);
  return ev.rows[0]?.detail;
}

/** Stored objects by id, superseded ones included (which listObjects leaves out). */
export async function objectsById(db: Queryable, ids: string[]): Promise<Map<string, StoredObject>> {
  const m = new Map<string, StoredObject>();
  if (!ids.length) return m;
  const books = await db.query<{ book_id: string }>('SELECT DISTINCT book_id FROM stored_objects WHERE id = ANY($1::uuid[])', [ids]);
  for (const b of books.rows) {
    // listObjects hides superseded rows; read them directly, mapped the same way.
    const r = await db.query<Record<string, unknown>>('SELECT * FROM stored_objects WHERE book_id = $1 AND id = ANY($2::uuid[])', [b.book_id, ids]);
    for (const x of r.rows) m.set(x.id as string, rowToObject(x));
  }
  return m;
}

function rowToObject(r: Record<string, unknown>): StoredObject {
  return {
    id: r.id as string, bookId: r.book_id as string, pageId: (r.page_id as string | null) ?? null, role: r.role as StoredObject['role'],
    variant: r.variant as string, revision: Number(r.revision), storeKey: r.store_key as string, versionId: (r.version_id as string | null) ?? null,
    sha256: String(r.sha256), md5: String(r.md5), size: Number(r.size), mediaType: r.media_type as string, createdAt: r.created_at as Date,
  };
}

/** Whether the book's current package was built from `basis` (its creation event names it). */
export async function currentPackageHasBasis(db: Queryable, bookId: string, basis: string): Promise<boolean> {
  const r = await db.query(
    `SELECT 1 FROM stored_objects o JOIN processing_events e ON e.object_id = o.id
      WHERE o.book_id = $1 AND o.page_id IS NULL AND o.role = 'package' AND o.superseded_at IS NULL
        AND e.event_type = 'creation' AND e.detail LIKE $2`,
    [bookId, `package basis ${basis};%`],
  );
  return (r.rowCount ?? 0) > 0;
}

/** Holds the page row (FOR SHARE) and returns its revision and text revision now. */
export async function lockPageRevisions(tx: Queryable, pageId: string): Promise<{ revision: number; textRevision: number } | undefined> {
  const r = await tx.query<{ revision: number; text_revision: number }>('SELECT revision, text_revision FROM pages WHERE id = $1 FOR SHARE', [pageId]);
  const row = r.rows[0];
  return row ? { revision: row.revision, textRevision: row.text_revision } : undefined;
}

/** Marks superseded the page revision's ALTO of every other text than `variant`'s. */
export async function supersedeOtherAltos(tx: Queryable, pageId: string, revision: number, variant: string): Promise<void> {
  await tx.query(
    `UPDATE stored_objects SET superseded_at = now()
      WHERE page_id = $1 AND revision = $2 AND role = 'alto' AND variant <> $3 AND superseded_at IS NULL`,
    [pageId, revision, variant],
  );
}

/** Holds the book row (FOR UPDATE), so two runs record their packages one after the other. */
export async function lockBook(tx: Queryable, bookId: string): Promise<void> {
  await tx.query('SELECT id FROM books WHERE id = $1 FOR UPDATE', [bookId]);
}

/** The generation the book's next package gets: one past the highest so far (1 for the first). */
export async function nextPackageGeneration(tx: Queryable, bookId: string): Promise<number> {
  const gen = await tx.query<{ n: number }>(
    `SELECT COALESCE(max(revision), 0)::int + 1 AS n FROM stored_objects WHERE book_id = $1 AND page_id IS NULL AND role = 'package'`, [bookId]);
  return gen.rows[0]!.n;
}

/** Marks the book's current package and PDF superseded (their content-addressed objects stay). */
export async function supersedeCurrentPackage(tx: Queryable, bookId: string): Promise<void> {
  await tx.query(`UPDATE stored_objects SET superseded_at = now() WHERE book_id = $1 AND page_id IS NULL AND role IN ('package', 'pdf') AND superseded_at IS NULL`, [bookId]);
}

/** The corrected words of a page revision, by word index. */
export async function correctedWords(db: Queryable, pageId: string, revision: number): Promise<CorrectedWord[]> {
  const r = await db.query<{ word_index: number; line_index: number; text: string; ocr_text: string }>(
    `SELECT word_index, line_index, text, ocr_text FROM page_words
      WHERE page_id = $1 AND revision = $2 AND ocr_text IS NOT NULL ORDER BY word_index`,
    [pageId, revision],
  );
  return r.rows.map((w) => ({ wordIndex: w.word_index, lineIndex: w.line_index, text: w.text, ocrText: w.ocr_text }));
}

/** Notes a PDF or bag a packaging run of `basis` stored, before the run records its package. */
export async function notePackagePart(db: Queryable, bookId: string, basis: string, put: { key: string; sha256: string }): Promise<void> {
  await db.query('INSERT INTO package_parts (book_id, basis, store_key, sha256) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING', [bookId, basis, put.key, put.sha256]);
}

/** The parts runs of `basis` stored, each with whether a stored_objects row names its key. */
export async function packageParts(tx: Queryable, bookId: string, basis: string): Promise<{ storeKey: string; recorded: boolean }[]> {
  const r = await tx.query<{ store_key: string; recorded: boolean }>(
    `SELECT p.store_key, EXISTS (SELECT 1 FROM stored_objects o WHERE o.sha256 = p.sha256 AND o.store_key = p.store_key) AS recorded
       FROM package_parts p WHERE p.book_id = $1 AND p.basis = $2 ORDER BY p.store_key`,
    [bookId, basis],
  );
  return r.rows.map((x) => ({ storeKey: x.store_key, recorded: x.recorded }));
}

/** Forgets parts of `basis` that are recorded, or removed from the store. */
export async function forgetPackageParts(tx: Queryable, bookId: string, basis: string, storeKeys: string[]): Promise<void> {
  if (!storeKeys.length) return;
  await tx.query('DELETE FROM package_parts WHERE book_id = $1 AND basis = $2 AND store_key = ANY($3::text[])', [bookId, basis, storeKeys]);
}
