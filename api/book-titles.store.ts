import type { Queryable } from '../db/index.ts';
import type { BookCursor } from '../archive/index.ts';
import { namesOfPlace } from '../records/index.ts';
import { normaliseTokens } from '../search/index.ts';

/** What people call a book (type · municipality · years · volume), for lists that carry book ids. */
export interface BookTitle {
  bookId: string;
  registerType: string;
  municipality: string;
  yearFrom: number;
  yearTo: number;
  volume: string | null;
  /** True when the book was disposed of: only its tombstone remains. */
  disposed: boolean;
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The titles of the given books, live or disposed (a disposed book's title comes from its
 * tombstone, so batches, holds and the audit trail still name it). Ids that are not uuids, or that
 * name nothing, are left out.
 */
export async function bookTitles(db: Queryable, ids: readonly string[]): Promise<Map<string, BookTitle>> {
  const wanted = [...new Set(ids.filter((id) => UUID_RE.test(id)).map((id) => id.toLowerCase()))];
  const out = new Map<string, BookTitle>();
  if (wanted.length === 0) return out;
  const r = await db.query<{ id: string; register_type: string; municipality: string; year_from: number; year_to: number; volume: string | null; disposed: boolean }>(
    `SELECT id::text, register_type, municipality, year_from, year_to, volume, false AS disposed FROM books WHERE id = ANY($1::uuid[])
     UNION ALL
     SELECT t.book_id::text, t.tombstone->'book'->>'registerType', t.tombstone->'book'->>'municipality',
            (t.tombstone->'book'->>'yearFrom')::int, (t.tombstone->'book'->>'yearTo')::int, t.tombstone->'book'->>'volume', true
       FROM disposal_tombstones t
      WHERE t.book_id = ANY($1::uuid[]) AND NOT EXISTS (SELECT 1 FROM books b WHERE b.id = t.book_id)`,
    [wanted],
  );
  for (const row of r.rows) {
    out.set(row.id, {
      bookId: row.id, registerType: row.register_type, municipality: row.municipality, yearFrom: row.year_from, yearTo: row.year_to,
      volume: row.volume, disposed: row.disposed,
    });
  }
  return out;
}

/** Filters for browsing books; every one given must hold. */
export interface BookFilter {
  /**
   * Words that must each appear in the title (type, municipality under any of its names, years,
   * volume), folded like every search of the archive: any case, diacritics and script.
   */
  q?: string | undefined;
  registerType?: string | undefined;
  /** Municipality, matched from the start of any of its names (or of a word of one), folded like `q`. */
  municipality?: string | undefined;
  /** A year the book covers. */
  year?: number | undefined;
  status?: string | undefined;
}

/** How many books one query reads while the title words are matched here rather than in SQL. */
const SCAN_CHUNK = 1000;

/**
 * The search forms of a municipality's names (Albanian, Serbian, aliases, as the gazetteer knows
 * them), each also without its spaces, so "fushekosove" finds Fushë Kosovë.
 */
function municipalityForms(municipality: string): string[] {
  const out = new Set<string>();
  for (const name of namesOfPlace(municipality)) {
    const tokens = normaliseTokens(name);
    for (const tok of tokens) out.add(tok);
    if (tokens.length > 0) out.add(tokens.join(''));
  }
  return [...out];
}

/**
 * Ids of the books that pass the filter, newest first, keyset-paged like the plain listing. Title
 * words and the municipality are compared in the archive's one search form (search/normalise.ts),
 * against every name the gazetteer gives the municipality, so "birth prishtine 1958", "Priština"
 * and "Приштина" all find the birth register of Prishtinë. SQL narrows by status, type and year;
 * the folding runs here, reading the narrowed books newest first until a page is full.
 */
export async function searchBookIds(db: Queryable, f: BookFilter, page: { limit: number; after?: BookCursor | undefined }): Promise<string[]> {
  const limit = Math.max(1, Math.min(page.limit, 500));
  const typed = (f.q ?? '').trim();
  const words = normaliseTokens(typed).slice(0, 8);
  // Something typed that has no letter or digit ("%", "·") names no book.
  if (typed && words.length === 0) return [];
  const muniWanted = f.municipality?.trim() ? normaliseTokens(f.municipality).join('') : '';
  if (f.municipality?.trim() && !muniWanted) return [];
  const formsOf = new Map<string, string[]>();
  const forms = (municipality: string) => {
    let known = formsOf.get(municipality);
    if (!known) formsOf.set(municipality, (known = municipalityForms(municipality)));
    return known;
  };
  const out: string[] = [];
  let after = page.after;
  for (;;) {
    const r = await db.query<{ id: string; register_type: string; municipality: string; year_from: number; year_to: number; volume: string | null; at: Date }>(
      `SELECT id::text, register_type, municipality, year_from, year_to, volume, date_trunc('milliseconds', created_at) AS at FROM books
        WHERE ($1::text IS NULL OR status = $1)
          AND ($2::text IS NULL OR register_type = $2)
          AND ($3::int IS NULL OR (year_from <= $3 AND year_to >= $3))
          AND ($4::timestamptz IS NULL OR (date_trunc('milliseconds', created_at), id) < ($4::timestamptz, $5::uuid))
        ORDER BY date_trunc('milliseconds', created_at) DESC, id DESC LIMIT $6`,
      [f.status ?? null, f.registerType ?? null, f.year ?? null, after?.createdAt ?? null, after?.id ?? null, words.length > 0 || muniWanted ? SCAN_CHUNK : limit],
    );
    for (const row of r.rows) {
      const places = forms(row.municipality);
      if (muniWanted && !places.some((p) => p.startsWith(muniWanted))) continue;
      if (words.length > 0) {
        const title = [...normaliseTokens(`${row.register_type} ${row.year_from} ${row.year_to} ${row.volume ?? ''}`), ...places];
        if (!words.every((w) => title.some((t) => t.includes(w)))) continue;
      }
      out.push(row.id);
      if (out.length === limit) return out;
    }
    const last = r.rows.at(-1);
    if (!last || r.rows.length < (words.length > 0 || muniWanted ? SCAN_CHUNK : limit)) return out;
    after = { createdAt: new Date(last.at), id: last.id };
  }
}

/** What the archive keeps of a disposed book: what it was, when and by which batch it went. */
export interface BookTombstone extends BookTitle {
  batchId: string;
  status: 'deleting' | 'disposed';
  disposalStartedAt: string;
  disposedAt: string | null;
  pages: number;
  hasCertificate: boolean;
  certificateSha256: string | null;
}

/** A disposed book's tombstone, or undefined when the id names no disposal. */
export async function bookTombstone(db: Queryable, bookId: string): Promise<BookTombstone | undefined> {
  if (!UUID_RE.test(bookId)) return undefined;
  const r = await db.query<{ book_id: string; batch_id: string; status: 'deleting' | 'disposed'; book: Record<string, unknown> | null; pages: number | null; created_at: Date; disposed_at: Date | null; sha256: string | null }>(
    `SELECT t.book_id::text, t.batch_id::text, t.status, t.tombstone->'book' AS book, jsonb_array_length(coalesce(t.tombstone->'pages', '[]'::jsonb)) AS pages,
            t.created_at, t.disposed_at, c.sha256
       FROM disposal_tombstones t LEFT JOIN disposal_certificates c ON c.book_id = t.book_id
      WHERE t.book_id = $1`,
    [bookId],
  );
  const row = r.rows[0];
  if (!row) return undefined;
  const b = row.book ?? {};
  return {
    bookId: row.book_id, registerType: String(b.registerType ?? ''), municipality: String(b.municipality ?? ''),
    yearFrom: Number(b.yearFrom), yearTo: Number(b.yearTo), volume: typeof b.volume === 'string' ? b.volume : null, disposed: true,
    batchId: row.batch_id, status: row.status, disposalStartedAt: row.created_at.toISOString(), disposedAt: row.disposed_at?.toISOString() ?? null,
    pages: Number(row.pages ?? 0), hasCertificate: row.sha256 !== null, certificateSha256: row.sha256,
  };
}
