import { AppError, isAppError } from '../common/index.ts';
import { isUniqueViolation, type Db, type Queryable } from '../db/index.ts';
import { csvRecords, toCsv } from './csv.ts';
import { requireRecord, type ImportReport, type RegistryRecord } from './records.ts';
import { findRecordByKey } from './records.store.ts';
import { allLinks, bookExists, bookOfPage, getLink, insertLink, linksOfRecord, markUnlinked, pageIdAt, placeOfLiveEntry } from './links.store.ts';

import { LINK_TYPES, type EntrySource, type LinkTargetKind, type LinkType } from '../common/vocabulary.ts';
import { restrictedBooks } from '../auth/index.ts';
import { emit, inTransaction } from '../events/index.ts';

// Link types are the vocabulary's (the schema's CHECK, the API and the web interface share them).
export { LINK_TYPES, type LinkType } from '../common/vocabulary.ts';

/** The archive side of a link. */
export type LinkTarget = { kind: 'book'; bookId: string } | { kind: 'page'; pageId: string } | { kind: 'entry'; entryId: string };

/** A link, live or unlinked, with both of its ends described. */
export interface RecordLink {
  id: string;
  linkType: LinkType;
  reason: string | null;
  createdBy: string;
  createdAt: Date;
  unlinkedBy: string | null;
  unlinkedAt: Date | null;
  unlinkReason: string | null;
  record: { id: string; system: string; recordType: string; recordId: string; personNames: string[]; eventDate: string | null };
  item: {
    kind: LinkTargetKind;
    bookId: string;
    pageId: string | null;
    pageSequence: number | null;
    entryId: string | null;
    /** The entry's region, for the crop shown beside the record. */
    box: { x0: number; y0: number; x1: number; y1: number } | null;
    /** The page image (or the entry's crop) to show for this item. */
    imageHref: string | null;
    /** Where a linked entry came from: keyed by people, read by OCR, or made by hand; null for books and pages. */
    entrySource: EntrySource | null;
  };
}

async function resolveTarget(db: Queryable, t: LinkTarget): Promise<{ bookId: string; pageId: string | null; entryId: string | null }> {
  if (t.kind === 'book') {
    if (!(await bookExists(db, t.bookId))) throw new AppError('ERR_BOOK_NOT_FOUND', `no book ${t.bookId}`);
    return { bookId: t.bookId, pageId: null, entryId: null };
  }
  if (t.kind === 'page') {
    const bookId = await bookOfPage(db, t.pageId);
    if (!bookId) throw new AppError('ERR_PAGE_NOT_FOUND', `no page ${t.pageId}`);
    return { bookId, pageId: t.pageId, entryId: null };
  }
  const place = await placeOfLiveEntry(db, t.entryId);
  if (!place) throw new AppError('ERR_NOT_FOUND', `no entry ${t.entryId}`);
  return { bookId: place.bookId, pageId: place.pageId, entryId: t.entryId };
}

/** Links a record to a book, page or entry; a second live link of the same type is a conflict. */
export async function createLink(
  db: Queryable,
  input: { recordId: string; target: LinkTarget; linkType: LinkType; reason?: string | null },
  by: { user: string },
): Promise<RecordLink> {
  if (!LINK_TYPES.includes(input.linkType)) throw new AppError('ERR_VALIDATION', `linkType must be one of ${LINK_TYPES.join(', ')}`, { field: 'linkType' });
  await requireRecord(db, input.recordId);
  const t = await resolveTarget(db, input.target);
  try {
    // The link and its event commit together (a transaction of its own unless the caller runs one).
    return await inTransaction(db, async (tx) => {
      const id = await insertLink(tx, {
        recordId: input.recordId, targetKind: input.target.kind, bookId: t.bookId, pageId: t.pageId, entryId: t.entryId, linkType: input.linkType,
        reason: input.reason ?? null, createdBy: by.user,
      });
      const link = (await getLink(tx, id))!;
      await emit(tx, { type: 'link.made', ...linkEvent(link) });
      return link;
    });
  } catch (e) {
    if (isUniqueViolation(e)) throw new AppError('ERR_CONFLICT', 'this item is already linked to the record with that link type');
    throw e;
  }
}

/** A link's event: its ids and codes (the registry's key of the record, the kind of link), never the record's names. */
function linkEvent(l: RecordLink): { subjects: { bookId: string; entryId: string | null; linkId: string; recordId: string }; data: Record<string, string | null> } {
  return {
    subjects: { bookId: l.item.bookId, entryId: l.item.entryId, linkId: l.id, recordId: l.record.id },
    data: {
      linkType: l.linkType, targetKind: l.item.kind, pageId: l.item.pageId,
      registrySystem: l.record.system, registryRecordType: l.record.recordType, registryRecordId: l.record.recordId,
    },
  };
}

/** Ends a link: who, when and why are recorded; the row stays. */
export async function unlink(db: Queryable, linkId: string, by: { user: string; reason?: string | null }): Promise<RecordLink> {
  return inTransaction(db, async (tx) => {
    if (!(await markUnlinked(tx, linkId, { user: by.user, reason: by.reason ?? null }))) {
      const existing = await getLink(tx, linkId);
      if (!existing) throw new AppError('ERR_NOT_FOUND', `no link ${linkId}`);
      throw new AppError('ERR_CONFLICT', `link ${linkId} was already unlinked`);
    }
    const link = (await getLink(tx, linkId))!;
    await emit(tx, { type: 'link.ended', ...linkEvent(link) });
    return link;
  });
}

/**
 * CSV columns of a links import/export. A row names a record by its registry key and an item by
 * book_id, optionally page (its number) or entry_id; `action` is `link` (default) or `unlink`.
 */
export const LINKS_CSV_COLUMNS = ['action', 'system', 'record_type', 'record_id', 'book_id', 'page', 'entry_id', 'link_type', 'reason'] as const;

/** Imports links from CSV, row by row; each failed row is reported with its line and changes nothing. */
export async function importLinksCsv(db: Db, csv: string, by: { user: string }): Promise<ImportReport & { unlinked: number }> {
  const report = { created: 0, updated: 0, unlinked: 0, errors: [] as { row: number; error: string }[] };
  for (const { line, values: v } of csvRecords(csv)) {
    try {
      await db.transaction(async (tx) => {
        const record = await findRecordByKey(tx, { system: v.system ?? '', recordType: v.record_type ?? '', recordId: v.record_id ?? '' });
        if (!record) throw new AppError('ERR_NOT_FOUND', `no registry record ${v.system}/${v.record_type}/${v.record_id}`);
        const target = await csvTarget(tx, v);
        const linkType = (v.link_type || 'original-entry') as LinkType;
        if ((v.action || 'link') === 'unlink') {
          const live = (await linksOfRecord(tx, record.id)).find((l) => l.linkType === linkType && sameItem(l, target));
          if (!live) throw new AppError('ERR_NOT_FOUND', 'no live link to unlink');
          await unlink(tx, live.id, { user: by.user, reason: v.reason || null });
          report.unlinked++;
        } else if ((v.action || 'link') === 'link') {
          await createLink(tx, { recordId: record.id, target, linkType, reason: v.reason || null }, by);
          report.created++;
        } else {
          throw new AppError('ERR_VALIDATION', 'action must be link or unlink');
        }
      });
    } catch (e) {
      if (!isAppError(e)) throw e;
      report.errors.push({ row: line, error: e.message });
    }
  }
  return report;
}

function sameItem(l: RecordLink, t: LinkTarget): boolean {
  if (t.kind === 'book') return l.item.kind === 'book' && l.item.bookId === t.bookId;
  if (t.kind === 'page') return l.item.kind === 'page' && l.item.pageId === t.pageId;
  return l.item.entryId === t.entryId;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

async function csvTarget(db: Queryable, v: Record<string, string>): Promise<LinkTarget> {
  if (v.entry_id) {
    if (!UUID.test(v.entry_id)) throw new AppError('ERR_VALIDATION', 'entry_id is not a uuid');
    return { kind: 'entry', entryId: v.entry_id };
  }
  if (!v.book_id || !UUID.test(v.book_id)) throw new AppError('ERR_VALIDATION', 'book_id (a uuid) is required');
  if (!v.page) return { kind: 'book', bookId: v.book_id };
  const seq = Number(v.page);
  if (!Number.isInteger(seq) || seq < 1) throw new AppError('ERR_VALIDATION', 'page must be a page number');
  const pageId = await pageIdAt(db, v.book_id, seq);
  if (!pageId) throw new AppError('ERR_PAGE_NOT_FOUND', `book ${v.book_id} has no page ${seq}`);
  return { kind: 'page', pageId };
}

/** Of the books a listing would show, those to leave out for its reader (auth's `booksWithheld`, bound to the reader). */
export type BookFilter = (bookIds: readonly string[]) => Promise<ReadonlySet<string>>;

/**
 * The closure filter on a listing of links: the links whose book the reader may see, and how many
 * were left out (a number, nothing more). A link names the closed book's page, entry and box.
 */
export async function withholdLinks(links: RecordLink[], withhold: BookFilter): Promise<{ links: RecordLink[]; withheld: number }> {
  const hidden = links.length ? await withhold(links.map((l) => l.item.bookId)) : new Set<string>();
  const shown = links.filter((l) => !hidden.has(l.item.bookId));
  return { links: shown, withheld: links.length - shown.length };
}

/**
 * Every link (with `history`, unlinked ones too), optionally of one book, as CSV with audit
 * columns, then the linked entry's source (`keyed`, `ocr` or `manual`) and page; links of books
 * `withhold` names are left out (by default every closed book).
 */
export async function exportLinks(db: Queryable, opts: { bookId?: string; history?: boolean; withhold?: BookFilter } = {}): Promise<{ csv: string; withheld: number }> {
  const { links, withheld } = await withholdLinks(await allLinks(db, opts), opts.withhold ?? ((ids) => restrictedBooks(db, ids)));
  const csv = toCsv(
    [...LINKS_CSV_COLUMNS, 'link_id', 'created_by', 'created_at', 'unlinked_by', 'unlinked_at', 'unlink_reason', 'entry_source', 'entry_page'],
    links.map((l) => [
      l.unlinkedAt ? 'unlink' : 'link', l.record.system, l.record.recordType, l.record.recordId, l.item.bookId,
      l.item.kind === 'page' ? l.item.pageSequence : '', l.item.entryId ?? '', l.linkType, l.reason ?? '',
      l.id, l.createdBy, l.createdAt.toISOString(), l.unlinkedBy ?? '', l.unlinkedAt?.toISOString() ?? '', l.unlinkReason ?? '',
      l.item.entrySource ?? '', l.item.kind === 'entry' ? l.item.pageSequence : '',
    ]),
  );
  return { csv, withheld };
}

/** `exportLinks`' CSV alone, links of closed books left out. */
export async function exportLinksCsv(db: Queryable, opts: { bookId?: string; history?: boolean; withhold?: BookFilter } = {}): Promise<string> {
  return (await exportLinks(db, opts)).csv;
}

/** Re-exported for callers that hold a record. */
export type { RegistryRecord };
