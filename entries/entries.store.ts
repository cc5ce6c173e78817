import type { Queryable } from '../db/index.ts';
import type { EntrySource, EntryStatus, EventType, NameRole } from '../common/vocabulary.ts';
import type { Box, Entry, EntryName } from './entries.ts';

interface EntryRow {
  id: string; book_id: string; page_id: string; sequence: number; x0: number; y0: number; x1: number; y1: number;
  event_type: EventType; entry_number: string | null; event_date: string | null; place: string | null; marginal_notes: string | null;
  ocr_text: string | null; source: EntrySource; status: EntryStatus; created_by: string; created_at: Date;
  updated_by: string | null; updated_at: Date; verified_by: string | null; verified_at: Date | null; names: EntryName[] | string | null;
}

const SELECT = `SELECT e.*, p.sequence,
  (SELECT jsonb_agg(jsonb_build_object('role', n.role, 'name', n.name) ORDER BY n.role, n.position) FROM entry_names n WHERE n.entry_id = e.id) AS names
  FROM entries e JOIN pages p ON p.id = e.page_id`;

function toEntry(r: EntryRow): Entry {
  const names = typeof r.names === 'string' ? (JSON.parse(r.names) as EntryName[]) : (r.names ?? []);
  return {
    id: r.id, bookId: r.book_id, pageId: r.page_id, pageSequence: r.sequence,
    box: { x0: r.x0, y0: r.y0, x1: r.x1, y1: r.y1 }, eventType: r.event_type, entryNumber: r.entry_number,
    eventDate: r.event_date, place: r.place, marginalNotes: r.marginal_notes, names, ocrText: r.ocr_text,
    source: r.source, status: r.status, createdBy: r.created_by, createdAt: r.created_at, updatedBy: r.updated_by,
    updatedAt: r.updated_at, verifiedBy: r.verified_by, verifiedAt: r.verified_at,
  };
}

/** A person of an entry as written: the name trimmed, `norm` its search form. */
export interface EntryNameRow {
  role: NameRole;
  name: string;
  norm: string;
}

/** Replaces an entry's names with `names`, numbered per role in the order given. */
export async function replaceEntryNames(tx: Queryable, entryId: string, names: readonly EntryNameRow[]): Promise<void> {
  await tx.query('DELETE FROM entry_names WHERE entry_id = $1', [entryId]);
  if (names.length === 0) return;
  await tx.query(
    `INSERT INTO entry_names (entry_id, role, position, name, norm)
     SELECT $1, r, row_number() OVER (PARTITION BY r ORDER BY o) - 1, n, nm
       FROM unnest($2::text[], $3::text[], $4::text[]) WITH ORDINALITY AS u(r, n, nm, o)`,
    [entryId, names.map((n) => n.role), names.map((n) => n.name), names.map((n) => n.norm)],
  );
}

/** The live entry, or undefined (retired entries are left out). */
export async function getEntry(db: Queryable, id: string): Promise<Entry | undefined> {
  const r = await db.query<EntryRow>(`${SELECT} WHERE e.id = $1 AND e.deleted_at IS NULL`, [id]);
  return r.rows[0] ? toEntry(r.rows[0]) : undefined;
}

/** The book of a page, or undefined when there is no such page. */
export async function bookOfPage(db: Queryable, pageId: string): Promise<string | undefined> {
  const page = await db.query<{ book_id: string }>('SELECT book_id FROM pages WHERE id = $1', [pageId]);
  return page.rows[0]?.book_id;
}

/** An entry's row as written (names apart): `placeNorm` is the place in search form. */
export interface NewEntryRow {
  bookId: string;
  pageId: string;
  box: Box;
  eventType: EventType;
  entryNumber: string | null;
  eventDate: string | null;
  place: string | null;
  placeNorm: string | null;
  marginalNotes: string | null;
  ocrText: string | null;
  source: EntrySource;
  status: EntryStatus;
  createdBy: string;
  /** Set for an entry verified as it is made (verified_at becomes now). */
  verifiedBy: string | null;
}

/** Writes a new entry row; returns its id. */
export async function insertEntry(tx: Queryable, row: NewEntryRow): Promise<string> {
  const r = await tx.query<{ id: string }>(
    `INSERT INTO entries (book_id, page_id, x0, y0, x1, y1, event_type, entry_number, event_date, place, place_norm, marginal_notes,
                          ocr_text, source, status, created_by, verified_by, verified_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, CASE WHEN $17::text IS NULL THEN NULL ELSE now() END)
     RETURNING id`,
    [row.bookId, row.pageId, row.box.x0, row.box.y0, row.box.x1, row.box.y1, row.eventType, row.entryNumber,
     row.eventDate, row.place, row.placeNorm, row.marginalNotes,
     row.ocrText, row.source, row.status, row.createdBy, row.verifiedBy],
  );
  return r.rows[0]!.id;
}

/** Overwrites an entry's fields (names apart), recording who changed them. */
export async function updateEntryRow(
  tx: Queryable,
  id: string,
  row: Pick<NewEntryRow, 'box' | 'eventType' | 'entryNumber' | 'eventDate' | 'place' | 'placeNorm' | 'marginalNotes'>,
  updatedBy: string,
): Promise<void> {
  await tx.query(
    `UPDATE entries SET x0 = $2, y0 = $3, x1 = $4, y1 = $5, event_type = $6, entry_number = $7, event_date = $8, place = $9,
            place_norm = $10, marginal_notes = $11, updated_by = $12, updated_at = now()
      WHERE id = $1`,
    [id, row.box.x0, row.box.y0, row.box.x1, row.box.y1, row.eventType, row.entryNumber, row.eventDate,
     row.place, row.placeNorm, row.marginalNotes, updatedBy],
  );
}

/** Sets a live entry's status with who checked it and when; false when there is no such live entry. */
export async function setEntryStatus(db: Queryable, id: string, status: 'verified' | 'rejected', by: string): Promise<boolean> {
  const r = await db.query('UPDATE entries SET status = $2, verified_by = $3, verified_at = now() WHERE id = $1 AND deleted_at IS NULL', [id, status, by]);
  return r.rowCount !== 0;
}

/** Marks a live entry retired by whom and when; false when there is no such live entry. */
export async function retireEntry(db: Queryable, id: string, by: string): Promise<boolean> {
  const r = await db.query('UPDATE entries SET deleted_by = $2, deleted_at = now() WHERE id = $1 AND deleted_at IS NULL', [id, by]);
  return r.rowCount !== 0;
}

/** The live entries of a page, top to bottom. */
export async function listPageEntries(db: Queryable, pageId: string): Promise<Entry[]> {
  const r = await db.query<EntryRow>(`${SELECT} WHERE e.page_id = $1 AND e.deleted_at IS NULL ORDER BY e.y0, e.x0`, [pageId]);
  return r.rows.map(toEntry);
}

/** A search of entries in search form: `terms` and `placeNorm` already normalised, `limit` already bounded. */
export interface EntryFilter {
  terms: readonly string[];
  role?: NameRole;
  eventType?: EventType;
  entryNumber?: string;
  placeNorm?: string;
  dateFrom?: string;
  dateTo?: string;
  bookId?: string;
  status?: EntryStatus;
  limit: number;
}

/** Live entries matching every given field, best name match first (score 1 without names). */
export async function findEntries(db: Queryable, s: EntryFilter): Promise<(Entry & { score: number })[]> {
  const params: unknown[] = [];
  const p = (v: unknown): string => {
    params.push(v);
    return `$${params.length}`;
  };
  const where = ['e.deleted_at IS NULL'];
  let score = '1.0';
  const terms = s.terms;
  if (terms.length) {
    const roleCond = s.role ? `AND n.role = ${p(s.role)}` : '';
    const termsP = p(terms);
    // Each query word must be similar to a word of a name: word_similarity compares it with the best-matching part.
    where.push(`(SELECT count(*) FROM unnest(${termsP}::text[]) t(term)
                  WHERE EXISTS (SELECT 1 FROM entry_names n WHERE n.entry_id = e.id ${roleCond} AND t.term <% n.norm)) = ${p(terms.length)}`);
    // The same condition once more per word, in a form the trigram index on entry_names.norm can
    // answer: without it PostgreSQL evaluates the subquery above for every entry (seconds at 1M).
    for (const term of terms) where.push(`e.id IN (SELECT n.entry_id FROM entry_names n WHERE ${p(term)} <% n.norm ${roleCond})`);
    score = `(SELECT avg(m) FROM (SELECT max(word_similarity(t.term, n.norm)) AS m FROM unnest(${termsP}::text[]) t(term)
               JOIN entry_names n ON n.entry_id = e.id ${roleCond} GROUP BY t.term) x)`;
  }
  if (s.eventType) where.push(`e.event_type = ${p(s.eventType)}`);
  if (s.entryNumber) where.push(`e.entry_number = ${p(s.entryNumber)}`);
  if (s.placeNorm !== undefined) where.push(`e.place_norm % ${p(s.placeNorm)}`);
  if (s.dateFrom) where.push(`e.event_date >= ${p(s.dateFrom)}`);
  if (s.dateTo) where.push(`left(e.event_date, ${p(s.dateTo.length)}) <= ${p(s.dateTo)}`);
  if (s.bookId) where.push(`e.book_id = ${p(s.bookId)}`);
  if (s.status) where.push(`e.status = ${p(s.status)}`);
  const r = await db.query<EntryRow & { score: number }>(
    `SELECT * FROM (${SELECT.replace('SELECT e.*,', `SELECT e.*, ${score}::float8 AS score,`)} WHERE ${where.join(' AND ')}) x
      ORDER BY score DESC, created_at, id LIMIT ${p(s.limit)}`,
    params,
  );
  return r.rows.map((x) => ({ ...toEntry(x), score: Number(x.score) }));
}

/** A page's type as classified (null before it is), or undefined when there is no such page. */
export async function pageTypeOf(db: Queryable, pageId: string): Promise<{ pageType: string | null } | undefined> {
  const type = await db.query<{ page_type: string | null }>('SELECT page_type FROM pages WHERE id = $1', [pageId]);
  return type.rows[0] ? { pageType: type.rows[0].page_type } : undefined;
}

/** A line of a page's current OCR: its words in order and the box around them. */
export interface OcrLine {
  lineIndex: number;
  words: string[];
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

/** The lines of a page's current revision, top to bottom. */
export async function ocrLinesOfPage(db: Queryable, pageId: string): Promise<OcrLine[]> {
  const lines = await db.query<{ line_index: number; words: string[]; x0: number; y0: number; x1: number; y1: number }>(
    `SELECT w.line_index, array_agg(w.text ORDER BY w.word_index) AS words, min(w.x0) AS x0, min(w.y0) AS y0, max(w.x1) AS x1, max(w.y1) AS y1
       FROM page_words w JOIN pages p ON p.id = w.page_id AND p.revision = w.revision
      WHERE w.page_id = $1
      GROUP BY w.line_index ORDER BY min(w.y0)`,
    [pageId],
  );
  return lines.rows.map((l) => ({ lineIndex: l.line_index, words: l.words, x0: l.x0, y0: l.y0, x1: l.x1, y1: l.y1 }));
}
