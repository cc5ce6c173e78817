import { AppError } from '../common/index.ts';
import type { Db, Queryable } from '../db/index.ts';
import { formSimilarity, normaliseText, normaliseTokens } from '../search/normalise.ts';
import { parseRegisterRow } from './parse-row.ts';
import {
  bookOfPage, findEntries, getEntry, insertEntry, listPageEntries, lockEntryStatus, ocrLinesOfPage, pageTypeOf, replaceEntryNames, retireEntry, setEntryStatus,
  similarNameWords, updateEntryRow, type NameWordMatch,
} from './entries.store.ts';
import { getBook } from '../archive/index.ts';
import { emit } from '../events/index.ts';
import type { EntrySource, EntryStatus, EventType, NameRole } from '../common/vocabulary.ts';

// Name roles, event types and entry statuses are the vocabulary's (the schema's CHECKs and the API share them).
export { EVENT_TYPES, NAME_ROLES, type EntryStatus, type EventType, type NameRole } from '../common/vocabulary.ts';

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
  source: EntrySource;
  status: EntryStatus;
  createdBy: string;
  createdAt: Date;
  updatedBy: string | null;
  updatedAt: Date;
  verifiedBy: string | null;
  verifiedAt: Date | null;
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
  const usable = names.filter((n) => n.name.trim() !== '');
  await replaceEntryNames(tx, entryId, usable.map((n) => ({ role: n.role, name: n.name.trim(), norm: normaliseText(n.name) })));
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
  by: { user: string; source?: EntrySource },
): Promise<Entry> {
  checkFields(fields);
  const source = by.source ?? 'manual';
  const id = await db.transaction(async (tx) => {
    const bookId = await bookOfPage(tx, pageId);
    if (!bookId) throw new AppError('ERR_PAGE_NOT_FOUND', `no page ${pageId}`);
    const entryId = await insertEntry(tx, {
      bookId, pageId, box: fields.box, eventType: fields.eventType, entryNumber: fields.entryNumber ?? null,
      eventDate: fields.eventDate ?? null, place: fields.place ?? null, placeNorm: fields.place ? normaliseText(fields.place) : null, marginalNotes: fields.marginalNotes ?? null,
      ocrText: fields.ocrText ?? null, source, status: source === 'manual' ? 'verified' : 'proposed', createdBy: by.user, verifiedBy: source === 'manual' ? by.user : null,
    });
    await writeNames(tx, entryId, fields.names ?? []);
    // Staff-made entries are verified as they are made: other systems hear of it in this transaction.
    if (source === 'manual') await announceVerified(tx, (await getEntry(tx, entryId))!);
    return entryId;
  });
  return requireEntry(db, id);
}

/** Changes an entry's fields (names are replaced as a whole when given). */
export async function updateEntry(db: Db, id: string, fields: Partial<EntryFields>, by: { user: string }): Promise<Entry> {
  checkFields(fields);
  const current = await requireEntry(db, id);
  const next = { ...current, ...fields, box: fields.box ?? current.box };
  await db.transaction(async (tx) => {
    await updateEntryRow(tx, id, {
      box: next.box, eventType: next.eventType, entryNumber: next.entryNumber ?? null, eventDate: next.eventDate ?? null,
      place: next.place ?? null, placeNorm: next.place ? normaliseText(next.place) : null, marginalNotes: next.marginalNotes ?? null,
    }, by.user);
    if (fields.names) await writeNames(tx, id, fields.names);
  });
  return requireEntry(db, id);
}

/**
 * Records that staff checked the entry against the page (or rejected an OCR proposal), and tells
 * no one: for callers that write their own event in their transaction (keying's double-keyed
 * entries). Staff verifying outside keying go through `verifyEntryByStaff`.
 */
export async function verifyEntry(db: Queryable, id: string, by: { user: string }, status: 'verified' | 'rejected' = 'verified'): Promise<Entry> {
  if (!(await setEntryStatus(db, id, status, by.user))) throw new AppError('ERR_NOT_FOUND', `no entry ${id}`);
  return requireEntry(db, id);
}

/**
 * A clerk verifies (or rejects) an entry outside keying (the API): the status and, when the entry
 * becomes verified, its `entry.verified` event in one transaction. Once per verification: an
 * entry verified again (a repeated request) is not announced twice.
 */
export async function verifyEntryByStaff(db: Db, id: string, by: { user: string }, status: 'verified' | 'rejected' = 'verified'): Promise<Entry> {
  await db.transaction(async (tx) => {
    const before = await lockEntryStatus(tx, id);
    if (before === undefined) throw new AppError('ERR_NOT_FOUND', `no entry ${id}`);
    const entry = await verifyEntry(tx, id, by, status);
    if (status === 'verified' && before !== 'verified') await announceVerified(tx, entry);
  });
  return requireEntry(db, id);
}

/**
 * The `entry.verified` event of an entry staff verified (as keying's: identifiers and codes; the
 * fields only for subscriptions granted a purpose), written through the caller's transaction.
 */
async function announceVerified(tx: Queryable, entry: Entry): Promise<void> {
  const book = await getBook(tx, entry.bookId);
  await emit(tx, {
    type: 'entry.verified',
    subjects: { bookId: entry.bookId, entryId: entry.id },
    data: { pageId: entry.pageId, registerType: book?.registerType ?? entry.eventType, source: entry.source },
    personal: {
      fields: { entryNumber: entry.entryNumber, eventType: entry.eventType, eventDate: entry.eventDate, place: entry.place, marginalNotes: entry.marginalNotes, names: entry.names },
    },
  });
}

/** Retires an entry; it stays in the database because links and history may point at it. */
export async function deleteEntry(db: Queryable, id: string, by: { user: string }): Promise<void> {
  if (!(await retireEntry(db, id, by.user))) throw new AppError('ERR_NOT_FOUND', `no entry ${id}`);
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

/** Most name words proposed per query word before the edit budget decides. */
const MAX_PROPOSALS = 200;

/**
 * The name words each query word matches: itself, and the vocabulary's trigram neighbours within
 * its edit budget (`formSimilarity`: one letter off in a name of 4–6 letters, two from 7), each
 * with its similarity.
 */
async function nameWordMatches(db: Queryable, terms: readonly string[]): Promise<NameWordMatch[][]> {
  const out = terms.map((t) => new Map<string, number>([[t, 1]]));
  for (const { pos, norm } of await similarNameWords(db, terms, MAX_PROPOSALS)) {
    const sim = formSimilarity(terms[pos - 1]!, norm);
    if (sim !== null && !out[pos - 1]!.has(norm)) out[pos - 1]!.set(norm, sim);
  }
  return out.map((m) => [...m].map(([norm, sim]) => ({ norm, sim })));
}

/**
 * Finds entries by field, best name match first. Names compare in search form (`normaliseWord`:
 * case, diacritics, script and Đ/Dj folded), fuzzily within each word's edit budget.
 */
export async function searchEntries(db: Queryable, s: EntrySearch): Promise<(Entry & { score: number })[]> {
  const limit = Math.min(s.limit ?? 50, 200);
  const tokens = s.name ? normaliseTokens(s.name) : [];
  return findEntries(db, {
    terms: tokens.length ? await nameWordMatches(db, tokens) : [], role: s.role, eventType: s.eventType, entryNumber: s.entryNumber,
    placeNorm: s.place ? normaliseText(s.place) : undefined, dateFrom: s.dateFrom, dateTo: s.dateTo, bookId: s.bookId, status: s.status,
    limit,
  });
}

/**
 * Proposes entries from a page's OCR lines: each line that starts with a number (a register row's
 * entry number) and has a few more words becomes a candidate with the line's box and text, and the
 * names, date and place read from the row by the register's column order (parseRegisterRow), for
 * staff to complete and verify. Lines already covered by an entry are left alone, and pages found
 * to be covers, index pages or blank propose nothing.
 */
export async function proposeEntriesFromOcr(db: Db, pageId: string, by: { user: string; eventType: EventType }): Promise<Entry[]> {
  const type = await pageTypeOf(db, pageId);
  if (!type) throw new AppError('ERR_PAGE_NOT_FOUND', `no page ${pageId}`);
  if (['cover', 'index', 'blank'].includes(type.pageType ?? '')) return [];
  const lines = await ocrLinesOfPage(db, pageId);
  const existing = await listPageEntries(db, pageId);
  const covered = (y0: number, y1: number) => existing.some((e) => Math.min(e.box.y1, y1) - Math.max(e.box.y0, y0) > (y1 - y0) / 2);
  const out: Entry[] = [];
  for (const l of lines) {
    const row = parseRegisterRow(l.words, by.eventType);
    if (!row.entryNumber || l.words.length < 3 || covered(l.y0, l.y1)) continue;
    out.push(await createEntry(db, pageId, {
      box: { x0: l.x0, y0: l.y0, x1: Math.max(l.x1, l.x0 + 1), y1: Math.max(l.y1, l.y0 + 1) }, eventType: by.eventType,
      entryNumber: row.entryNumber, eventDate: row.eventDate ?? null, place: row.place ?? null, names: row.names, ocrText: l.words.join(' '),
    }, { user: by.user, source: 'ocr' }));
  }
  return out;
}
