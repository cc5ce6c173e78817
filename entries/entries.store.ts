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

/**
 * Words of the name vocabulary trigram-similar to each term (pg_trgm's `%` at the session's
 * threshold, 0.3 by default), best first, at most `perTerm` per term: the proposals the edit
 * budget then decides on. Position of the term from 1.
 */
export async function similarNameWords(db: Queryable, terms: readonly string[], perTerm: number): Promise<{ pos: number; norm: string }[]> {
  const r = await db.query<{ pos: number; norm: string }>(
    `SELECT t.pos::int AS pos, v.norm
       FROM unnest($1::text[]) WITH ORDINALITY AS t(term, pos)
      CROSS JOIN LATERAL (SELECT v.norm FROM entry_name_terms v WHERE v.norm % t.term ORDER BY similarity(v.norm, t.term) DESC, v.norm LIMIT $2) v`,
    [terms, perTerm],
  );
  return r.rows;
}

/** A name word an entry search accepts for one of its terms, with how like the term it is (0..1). */
export interface NameWordMatch {
  norm: string;
  sim: number;
}

/** A search of entries in search form: `terms` and `placeNorm` already normalised, `limit` already bounded. */
export interface EntryFilter {
  /** Per query word, the name words that match it (never empty: the word itself at least). */
  terms: readonly (readonly NameWordMatch[])[];
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

/**
 * Live entries matching every given field, best name match first (score 1 without names), then
 * oldest first. With name terms, each term must match (one of its `NameWordMatch`es) a word of
 * one of the entry's names (of `role`, when given); the score is the mean over terms of the best
 * similarity. Entries are found from the word postings (migration 020), which carry the tie
 * order, so only the entries that can make the first `limit` are read.
 */
export async function findEntries(db: Queryable, s: EntryFilter): Promise<(Entry & { score: number })[]> {
  const params: unknown[] = [];
  const p = (v: unknown): string => {
    params.push(v);
    return `$${params.length}`;
  };
  const where = ['e.deleted_at IS NULL'];
  if (s.eventType) where.push(`e.event_type = ${p(s.eventType)}`);
  if (s.entryNumber) where.push(`e.entry_number = ${p(s.entryNumber)}`);
  const place = s.placeNorm !== undefined ? p(s.placeNorm) : undefined;
  if (place) where.push(`e.place_norm % ${place}`);
  // The date conditions, once for the entry and once for the name postings that carry its date.
  const dates: ((alias: string) => string)[] = [];
  if (s.dateFrom) {
    const from = p(s.dateFrom);
    dates.push((a) => `${a}.event_date >= ${from}`);
  }
  if (s.dateTo) {
    const [len, to] = [p(s.dateTo.length), p(s.dateTo)];
    dates.push((a) => `left(${a}.event_date, ${len}) <= ${to}`);
  }
  where.push(...dates.map((d) => d('e')));
  const onPostings = dates.map((d) => `AND ${d('n')}`);
  if (s.bookId) where.push(`e.book_id = ${p(s.bookId)}`);
  if (s.status) where.push(`e.status = ${p(s.status)}`);
  // The entries to return, best first, at most `limit`: ids and scores.
  let chosen: string;
  if (s.terms.length) {
    const roleCond = s.role ? `AND n.role = ${p(s.role)}` : '';
    const limit = p(s.limit);
    // Each term's accepted words with their similarity, as a small constant relation.
    const words = s.terms.map((matches) => `SELECT * FROM unnest(${p(matches.map((m) => m.norm))}::text[], ${p(matches.map((m) => m.sim))}::float8[]) AS v(norm, sim)`);
    if (s.terms.length === 1) {
      // Per matching word, its first `limit` entries passing the filters, in tie order straight from
      // the postings index: an entry missing from its best word's list has `limit` entries before
      // it, so the best `limit` of the union are the answer, found without ranking every posting.
      chosen = `SELECT c.entry_id, max(c.sim)::float8 AS score FROM (
          SELECT w.sim, x.entry_id, x.created_at FROM (${words[0]}) w
           CROSS JOIN LATERAL (SELECT DISTINCT ON (n.created_at, n.entry_id) n.entry_id, n.created_at
                                 FROM entry_name_postings n JOIN entries e ON e.id = n.entry_id
                                WHERE n.norm = w.norm ${roleCond} ${onPostings.join(' ')} AND ${where.join(' AND ')}
                                ORDER BY n.created_at, n.entry_id LIMIT ${limit}) x) c
        GROUP BY c.entry_id, c.created_at ORDER BY score DESC, c.created_at, c.entry_id LIMIT ${limit}`;
    } else {
      // Several terms: the entries holding a match of every term (hash joins of the terms' postings),
      // ranked, then read best first until `limit` pass the filters. The dates also as the range
      // the postings' date index (migration 028) reads: byte-wise, below the upper date followed by
      // '~' (above any digit or '-'); equal to the conditions above for ISO dates, which are all
      // entries hold, and those stay as the check. (One term keeps its walk in tie order, which
      // stops after `limit` entries: the date range read whole and sorted was measured 4-15 times
      // slower for a common surname within five years.)
      const inRange = [...onPostings];
      const iso = /^\d{4}(-\d{2}(-\d{2})?)?$/;
      if (s.dateFrom && iso.test(s.dateFrom)) inRange.push(`AND n.event_date COLLATE "C" >= ${p(s.dateFrom)}`);
      if (s.dateTo && iso.test(s.dateTo)) inRange.push(`AND n.event_date COLLATE "C" < ${p(`${s.dateTo}~`)}`);
      // With a place, each word is read per place of the vocabulary like it (migration 030): the
      // postings of that municipality within the years, not every municipality's.
      const places = place ? `CROSS JOIN (SELECT v.norm AS place FROM entry_places v WHERE v.norm % ${place}) pl` : '';
      const inPlace = place ? 'AND n.place_norm = pl.place' : '';
      const parts = words.map((w, i) => `(SELECT n.entry_id, n.created_at, w.sim FROM (${w}) w ${places} JOIN entry_name_postings n
        ON n.norm = w.norm ${inPlace} ${roleCond} ${inRange.join(' ')}) t${i}`);
      const joins = parts.map((part, i) => (i === 0 ? part : `JOIN ${part} ON t${i}.entry_id = t0.entry_id`)).join(' ');
      const score = `(${words.map((_, i) => `max(t${i}.sim)::float8`).join(' + ')}) / ${s.terms.length}`;
      chosen = `SELECT r.entry_id, r.score FROM (
          SELECT t0.entry_id, t0.created_at, ${score} AS score FROM ${joins}
           GROUP BY t0.entry_id, t0.created_at ORDER BY score DESC, t0.created_at, t0.entry_id) r
        JOIN entries e ON e.id = r.entry_id
       WHERE ${where.join(' AND ')} ORDER BY r.score DESC, r.created_at, r.entry_id LIMIT ${limit}`;
    }
  } else {
    chosen = `SELECT e.id AS entry_id, 1.0::float8 AS score FROM entries e WHERE ${where.join(' AND ')} ORDER BY e.created_at, e.id LIMIT ${p(s.limit)}`;
  }
  const r = await db.query<EntryRow & { score: number }>(
    `${SELECT.replace('SELECT e.*,', 'SELECT e.*, x.score,')} JOIN (${chosen}) x ON x.entry_id = e.id
      ORDER BY x.score DESC, e.created_at, e.id`,
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

/** A live entry's status, its row held FOR UPDATE until the transaction ends (a verification's read-then-write). */
export async function lockEntryStatus(tx: Queryable, id: string): Promise<EntryStatus | undefined> {
  const r = await tx.query<{ status: EntryStatus }>('SELECT status FROM entries WHERE id = $1 AND deleted_at IS NULL FOR UPDATE', [id]);
  return r.rows[0]?.status;
}
