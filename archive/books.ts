import type { Queryable } from '../db/index.ts';
import { DEFAULT_OCR_PROFILE, type Book, type BookMetadata, type BookOcrProfile, type BookStatus, type BookSummary, type SourceFormat } from './types.ts';

interface BookRow {
  id: string;
  register_type: Book['registerType'];
  municipality: string;
  year_from: number;
  year_to: number;
  volume: string | null;
  languages: string;
  ocr_profile: BookOcrProfile;
  source_format: SourceFormat;
  source_sha256: string;
  source_size: number | string;
  status: BookStatus;
  failure_reason: string | null;
  page_count: number;
  pages_done: number;
  pages_failed: number;
  summary: BookSummary | null;
  created_by: string | null;
  created_at: Date;
  updated_at: Date;
  completed_at: Date | null;
}

function toBook(r: BookRow): Book {
  return {
    id: r.id,
    registerType: r.register_type,
    municipality: r.municipality,
    yearFrom: r.year_from,
    yearTo: r.year_to,
    volume: r.volume ?? undefined,
    languages: r.languages,
    ocrProfile: r.ocr_profile,
    sourceFormat: r.source_format,
    sourceSha256: r.source_sha256,
    sourceSize: Number(r.source_size),
    status: r.status,
    failureReason: r.failure_reason,
    pageCount: r.page_count,
    pagesDone: r.pages_done,
    pagesFailed: r.pages_failed,
    summary: r.summary,
    createdBy: r.created_by,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    completedAt: r.completed_at,
  };
}

/**
 * Creates a book for a stored original, or returns the existing book with the same source bytes
 * (a duplicate upload; its metadata, OCR profile included, stays as first given). `created` says which.
 */
export async function createBook(
  db: Queryable,
  input: BookMetadata & { sourceFormat: SourceFormat; sourceSha256: string; sourceSize: number; createdBy?: string | undefined },
): Promise<{ book: Book; created: boolean }> {
  const inserted = await db.query<BookRow>(
    `INSERT INTO books (register_type, municipality, year_from, year_to, volume, languages, ocr_profile, source_format, source_sha256, source_size, created_by)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
     ON CONFLICT (source_sha256) DO NOTHING
     RETURNING *`,
    [input.registerType, input.municipality, input.yearFrom, input.yearTo, input.volume ?? null, input.languages,
     input.ocrProfile ?? DEFAULT_OCR_PROFILE, input.sourceFormat, input.sourceSha256, input.sourceSize, input.createdBy ?? null],
  );
  if (inserted.rows[0]) return { book: toBook(inserted.rows[0]), created: true };
  const existing = await findBookBySource(db, input.sourceSha256);
  if (!existing) throw new Error('book vanished between insert conflict and read');
  return { book: existing, created: false };
}

/** The book whose original has this SHA-256, if any. */
export async function findBookBySource(db: Queryable, sha256: string): Promise<Book | undefined> {
  const r = await db.query<BookRow>('SELECT * FROM books WHERE source_sha256 = $1', [sha256]);
  return r.rows[0] ? toBook(r.rows[0]) : undefined;
}

/** A book by id. */
export async function getBook(db: Queryable, id: string): Promise<Book | undefined> {
  const r = await db.query<BookRow>('SELECT * FROM books WHERE id = $1', [id]);
  return r.rows[0] ? toBook(r.rows[0]) : undefined;
}

/** Title metadata staff may correct after upload (a typo in the municipality, the years or the volume). */
export interface BookCorrection {
  municipality?: string;
  yearFrom?: number;
  yearTo?: number;
  /** null clears the volume. */
  volume?: string | null;
}

/** Corrects a book's title metadata; the fields left out stay. Undefined when there is no such book. */
export async function updateBookMetadata(db: Queryable, id: string, c: BookCorrection): Promise<Book | undefined> {
  const r = await db.query<BookRow>(
    `UPDATE books SET municipality = COALESCE($2, municipality), year_from = COALESCE($3, year_from), year_to = COALESCE($4, year_to),
       volume = CASE WHEN $5::boolean THEN $6 ELSE volume END, updated_at = now()
     WHERE id = $1 RETURNING *`,
    [id, c.municipality ?? null, c.yearFrom ?? null, c.yearTo ?? null, c.volume !== undefined, c.volume ?? null],
  );
  return r.rows[0] ? toBook(r.rows[0]) : undefined;
}

/** Where a page of books ends: the last book's creation time (to the millisecond) and id. */
export interface BookCursor {
  createdAt: Date;
  id: string;
}

/** Books, newest first, optionally by status; keyset-paginated on (creation millisecond, id). */
export async function listBooks(
  db: Queryable,
  opts: { status?: BookStatus | undefined; limit?: number; after?: BookCursor | undefined } = {},
): Promise<Book[]> {
  // Millisecond precision on both sides: cursors travel as JavaScript Dates, the column has microseconds.
  const r = await db.query<BookRow>(
    `SELECT * FROM books
      WHERE ($1::text IS NULL OR status = $1)
        AND ($2::timestamptz IS NULL OR (date_trunc('milliseconds', created_at), id) < ($2::timestamptz, $3::uuid))
      ORDER BY date_trunc('milliseconds', created_at) DESC, id DESC LIMIT $4`,
    [opts.status ?? null, opts.after?.createdAt ?? null, opts.after?.id ?? null, Math.min(opts.limit ?? 50, 500)],
  );
  return r.rows.map(toBook);
}

/** The opaque cursor string of the page that ends with `book`. */
export function bookCursor(book: Pick<Book, 'createdAt' | 'id'>): string {
  return Buffer.from(`${book.createdAt.toISOString()}|${book.id}`).toString('base64url');
}

/** Parses a cursor made by `bookCursor`; undefined when it is not one. */
export function parseBookCursor(cursor: string): BookCursor | undefined {
  const [iso, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const createdAt = iso ? new Date(iso) : undefined;
  if (!createdAt || Number.isNaN(createdAt.getTime()) || !id || !/^[0-9a-f-]{36}$/.test(id)) return undefined;
  return { createdAt, id };
}

/** Moves a book to `status`, recording why when it failed. */
export async function setBookStatus(db: Queryable, id: string, status: BookStatus, failureReason: string | null = null): Promise<void> {
  await db.query('UPDATE books SET status = $2, failure_reason = $3, updated_at = now() WHERE id = $1', [id, status, failureReason]);
}

/** Records the page count found by splitting. */
export async function setBookPageCount(db: Queryable, id: string, pageCount: number): Promise<void> {
  await db.query(`UPDATE books SET page_count = $2, status = 'processing', updated_at = now() WHERE id = $1`, [id, pageCount]);
}

/** Recomputes a book's counts from its pages (idempotent). */
export async function refreshBookCounts(db: Queryable, id: string): Promise<{ pages: number; done: number; failed: number; pending: number }> {
  const r = await db.query<{ pages: number; done: number; failed: number }>(
    `SELECT count(*)::int AS pages,
            count(*) FILTER (WHERE status = 'done')::int AS done,
            count(*) FILTER (WHERE status = 'failed')::int AS failed
       FROM pages WHERE book_id = $1`,
    [id],
  );
  const c = r.rows[0] ?? { pages: 0, done: 0, failed: 0 };
  await db.query('UPDATE books SET pages_done = $2, pages_failed = $3, updated_at = now() WHERE id = $1', [id, c.done, c.failed]);
  return { ...c, pending: c.pages - c.done - c.failed };
}

/** Ends a book: final status, summary and completion time. */
export async function completeBook(db: Queryable, id: string, status: BookStatus, summary: BookSummary): Promise<void> {
  await db.query(
    `UPDATE books SET status = $2, summary = $3, pages_done = $4, pages_failed = $5, page_count = $6,
            completed_at = now(), updated_at = now()
      WHERE id = $1`,
    [id, status, JSON.stringify(summary), summary.done, summary.failed, summary.pages],
  );
}
