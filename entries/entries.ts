import { AppError } from '../common/index.ts';
import type { Db, Queryable } from '../db/index.ts';
import { normaliseText, normaliseTokens } from '../search/normalise.ts';
import { parseRegisterRow } from './parse-row.ts';

/** Roles of the persons an entry names. */
export const NAME_ROLES = ['subject', 'father', 'mother', 'spouse', 'other'] as const;
export type NameRole = (typeof NAME_ROLES)[number];

/** Kinds of event an entry records. */
export const EVENT_TYPES = ['birth', 'marriage', 'death', 'other'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** Where an entry came from and whether staff confirmed it. */
export type EntryStatus = 'proposed' | 'verified' | 'rejected';

/** A region of a page in master-image pixels. */
export interface Box { x0: number; y0: number; x1: number; y1: number }

/** A person named in an entry. */
export interface EntryName { role: NameRole; name: string }

/** The fields staff set on an entry. */
export interface EntryFields {
  box: Box;
  eventType: EventType;
  entryNumber?: string | null;
  /** 'YYYY', 'YYYY-MM' or 'YYYY-MM-DD'. */
  eventDate?: string | null;
  place?: string | null;
  marginalNotes?: string | null;
  names?: EntryName[];
}

/** An entry as the archive holds it. */
export interface Entry extends Required<Omit<EntryFields, 'names'>> {
  id: string;
  bookId: string;
  pageId: string;
  pageSequence: number;
  names: EntryName[];
  ocrText: string | null;
  source: 'manual' | 'ocr';
  status: EntryStatus;
  createdBy: string;
  createdAt: Date;
  updatedBy: string | null;
  updatedAt: Date;
  verifiedBy: string | null;
  verifiedAt: Date | null;
}

interface EntryRow {
  id: string; book_id: string; page_id: string; sequence: number; x0: number; y0: number; x1: number; y1: number;
  event_type: EventType; entry_number: string | null; event_date: string | null; place: string | null; marginal_notes: string | null;
  ocr_text: string | null; source: 'manual' | 'ocr'; status: EntryStatus; created_by: string; created_at: Date;
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

function checkFields(f: Partial<EntryFields>): void {
  if (f.box && !(f.box.x1 > f.box.x0 && f.box.y1 > f.box.y0 && f.box.x0 >= 0 && f.box.y0 >= 0)) {
    throw new AppError('ERR_VALIDATION', 'box must have x1 > x0 >= 0 and y1 > y0 >= 0', { field: 'box' });
  }
  if (f.eventDate && !/^\d{4}(-\d{2}(-\d{2})?)?$/.test(f.eventDate)) {
    throw new AppError('ERR_VALIDATION', 'eventDate must be YYYY, YYYY-MM or YYYY-MM-DD', { field: 'eventDate' });
  }
}

async function writeNames(tx: Queryable, entryId: string, names: readonly EntryName[]): Promise<void> {
  await tx.query('DELETE FROM entry_names WHERE entry_id = $1', [entryId]);
  const usable = names.filter((n) => n.name.trim() !== '');
  if (usable.length === 0) return;
  await tx.query(
    `INSERT INTO entry_names (entry_id, role, position, name, norm)
     SELECT $1, r, row_number() OVER (PARTITION BY r ORDER BY o) - 1, n, nm
       FROM unnest($2::text[], $3::text[], $4::text[]) WITH ORDINALITY AS u(r, n, nm, o)`,
    [entryId, usable.map((n) => n.role), usable.map((n) => n.name.trim()), usable.map((n) => normaliseText(n.name))],
  );
}

/** The entry, or undefined (retired entries included only with `withDeleted`). */
export async function getEntry(db: Queryable, id: string): Promise<Entry | undefined> {
  const r = await db.query<EntryRow>(`${SELECT} WHERE e.id = $1 AND e.deleted_at IS NULL`, [id]);
  return r.rows[0] ? toEntry(r.rows[0]) : undefined;
}

/** The entry, or ERR_NOT_FOUND. */
export async function requireEntry(db: Queryable, id: string): Promise<Entry> {
  const e = await getEntry(db, id);
  if (!e) throw new AppError('ERR_NOT_FOUND', `no entry ${id}`);
  return e;
}

/** Creates an entry on a page; staff entries are verified by their author, OCR proposals are not. */
export async function createEntry(
  db: Db,
  pageId: string,
  fields: EntryFields & { ocrText?: string | null },
  by: { user: string; source?: 'manual' | 'ocr' },
): Promise<Entry> {
  checkFields(fields);
  const source = by.source ?? 'manual';
  const id = await db.transaction(async (tx) => {
    const page = await tx.query<{ book_id: string }>('SELECT book_id FROM pages WHERE id = $1', [pageId]);
    if (!page.rows[0]) throw new AppError('ERR_PAGE_NOT_FOUND', `no page ${pageId}`);
    const r = await tx.query<{ id: string }>(
      `INSERT INTO entries (book_id, page_id, x0, y0, x1, y1, event_type, entry_number, event_date, place, place_norm, marginal_notes,
                            ocr_text, source, status, created_by, verified_by, verified_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, CASE WHEN $17::text IS NULL THEN NULL ELSE now() END)
       RETURNING id`,
      [page.rows[0].book_id, pageId, fields.box.x0, fields.box.y0, fields.box.x1, fields.box.y1, fields.eventType, fields.entryNumber ?? null,
       fields.eventDate ?? null, fields.place ?? null, fields.place ? normaliseText(fields.place) : null, fields.marginalNotes ?? null,
       fields.ocrText ?? null, source, source === 'manual' ? 'verified' : 'proposed', by.user, source === 'manual' ? by.user : null],
    );
    await writeNames(tx, r.rows[0]!.id, fields.names ?? []);
    return r.rows[0]!.id;
  });
  return requireEntry(db, id);
}

/** Changes an entry's fields (names are replaced as a whole when given). */
export async function updateEntry(db: Db, id: string, fields: Partial<EntryFields>, by: { user: string }): Promise<Entry> {
  checkFields(fields);
  const current = await requireEntry(db, id);
  const next = { ...current, ...fields, box: fields.box ?? current.box };
  await db.transaction(async (tx) => {
    await tx.query(
      `UPDATE entries SET x0 = $2, y0 = $3, x1 = $4, y1 = $5, event_type = $6, entry_number = $7, event_date = $8, place = $9,
              place_norm = $10, marginal_notes = $11, updated_by = $12, updated_at = now()
        WHERE id = $1`,
      [id, next.box.x0, next.box.y0, next.box.x1, next.box.y1, next.eventType, next.entryNumber ?? null, next.eventDate ?? null,
       next.place ?? null, next.place ? normaliseText(next.place) : null, next.marginalNotes ?? null, by.user],
    );
    if (fields.names) await writeNames(tx, id, fields.names);
  });
  return requireEntry(db, id);
}

/** Records that staff checked the entry against the page (or rejected an OCR proposal). */
export async function verifyEntry(db: Queryable, id: string, by: { user: string }, status: 'verified' | 'rejected' = 'verified'): Promise<Entry> {
  const r = await db.query('UPDATE entries SET status = $2, verified_by = $3, verified_at = now() WHERE id = $1 AND deleted_at IS NULL', [id, status, by.user]);
  if (r.rowCount === 0) throw new AppError('ERR_NOT_FOUND', `no entry ${id}`);
  return requireEntry(db, id);
}

/** Retires an entry; it stays in the database because links and history may point at it. */
export async function deleteEntry(db: Queryable, id: string, by: { user: string }): Promise<void> {
  const r = await db.query('UPDATE entries SET deleted_by = $2, deleted_at = now() WHERE id = $1 AND deleted_at IS NULL', [id, by.user]);
  if (r.rowCount === 0) throw new AppError('ERR_NOT_FOUND', `no entry ${id}`);
}

/** The live entries of a page, top to bottom. */
export async function listPageEntries(db: Queryable, pageId: string): Promise<Entry[]> {
  const r = await db.query<EntryRow>(`${SELECT} WHERE e.page_id = $1 AND e.deleted_at IS NULL ORDER BY e.y0, e.x0`, [pageId]);
  return r.rows.map(toEntry);
}

/** A search of entries by their fields; every given field must match. */
export interface EntrySearch {
  /** Fuzzy, accent- and script-insensitive; every word must match a word of one name. */
  name?: string;
  /** Restricts `name` to one role. */
  role?: NameRole;
  eventType?: EventType;
  entryNumber?: string;
  place?: string;
  /** Event dates from/to, compared as text on the date's prefix (`1958` covers all of 1958). */
  dateFrom?: string;
  dateTo?: string;
  bookId?: string;
  status?: EntryStatus;
  limit?: number;
}

/** Finds entries by field, best name match first. */
export async function searchEntries(db: Queryable, s: EntrySearch): Promise<(Entry & { score: number })[]> {
  const params: unknown[] = [];
  const p = (v: unknown): string => {
    params.push(v);
    return `$${params.length}`;
  };
  const where = ['e.deleted_at IS NULL'];
  let score = '1.0';
  const terms = s.name ? normaliseTokens(s.name) : [];
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
  if (s.place) where.push(`e.place_norm % ${p(normaliseText(s.place))}`);
  if (s.dateFrom) where.push(`e.event_date >= ${p(s.dateFrom)}`);
  if (s.dateTo) where.push(`left(e.event_date, ${p(s.dateTo.length)}) <= ${p(s.dateTo)}`);
  if (s.bookId) where.push(`e.book_id = ${p(s.bookId)}`);
  if (s.status) where.push(`e.status = ${p(s.status)}`);
  const r = await db.query<EntryRow & { score: number }>(
    `SELECT * FROM (${SELECT.replace('SELECT e.*,', `SELECT e.*, ${score}::float8 AS score,`)} WHERE ${where.join(' AND ')}) x
      ORDER BY score DESC, created_at, id LIMIT ${p(Math.min(s.limit ?? 50, 200))}`,
    params,
  );
  return r.rows.map((x) => ({ ...toEntry(x), score: Number(x.score) }));
}

/**
 * Proposes entries from a page's OCR lines: each line that starts with a number (a register row's
 * entry number) and has a few more words becomes a candidate with the line's box and text, and the
 * names, date and place read from the row by the register's column order (parseRegisterRow), for
 * staff to complete and verify. Lines already covered by an entry are left alone, and pages found
 * to be covers, index pages or blank propose nothing.
 */
export async function proposeEntriesFromOcr(db: Db, pageId: string, by: { user: string; eventType: EventType }): Promise<Entry[]> {
  const type = await db.query<{ page_type: string | null }>('SELECT page_type FROM pages WHERE id = $1', [pageId]);
  if (!type.rows[0]) throw new AppError('ERR_PAGE_NOT_FOUND', `no page ${pageId}`);
  if (['cover', 'index', 'blank'].includes(type.rows[0].page_type ?? '')) return [];
  const lines = await db.query<{ line_index: number; words: string[]; x0: number; y0: number; x1: number; y1: number }>(
    `SELECT w.line_index, array_agg(w.text ORDER BY w.word_index) AS words, min(w.x0) AS x0, min(w.y0) AS y0, max(w.x1) AS x1, max(w.y1) AS y1
       FROM page_words w JOIN pages p ON p.id = w.page_id AND p.revision = w.revision
      WHERE w.page_id = $1
      GROUP BY w.line_index ORDER BY min(w.y0)`,
    [pageId],
  );
  const existing = await listPageEntries(db, pageId);
  const covered = (y0: number, y1: number) => existing.some((e) => Math.min(e.box.y1, y1) - Math.max(e.box.y0, y0) > (y1 - y0) / 2);
  const out: Entry[] = [];
  for (const l of lines.rows) {
    const row = parseRegisterRow(l.words, by.eventType);
    if (!row.entryNumber || l.words.length < 3 || covered(l.y0, l.y1)) continue;
    out.push(await createEntry(db, pageId, {
      box: { x0: l.x0, y0: l.y0, x1: Math.max(l.x1, l.x0 + 1), y1: Math.max(l.y1, l.y0 + 1) }, eventType: by.eventType,
      entryNumber: row.entryNumber, eventDate: row.eventDate ?? null, place: row.place ?? null, names: row.names, ocrText: l.words.join(' '),
    }, { user: by.user, source: 'ocr' }));
  }
  return out;
}
