import { AppError, isAppError } from '../common/index.ts';
import { isUniqueViolation, type Db, type Queryable } from '../db/index.ts';
import { csvRecords, toCsv } from './csv.ts';
import { findRecordByKey, requireRecord, type ImportReport, type RegistryRecord } from './records.ts';

/** How an archive item relates to a registry record. */
export const LINK_TYPES = ['original-entry', 'amendment', 'marginal-note'] as const;
export type LinkType = (typeof LINK_TYPES)[number];

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
    kind: 'book' | 'page' | 'entry';
    bookId: string;
    pageId: string | null;
    pageSequence: number | null;
    entryId: string | null;
    /** The entry's region, for the crop shown beside the record. */
    box: { x0: number; y0: number; x1: number; y1: number } | null;
    /** The page image (or the entry's crop) to show for this item. */
    imageHref: string | null;
  };
}

interface LinkRow {
  id: string; link_type: LinkType; reason: string | null; created_by: string; created_at: Date; unlinked_by: string | null;
  unlinked_at: Date | null; unlink_reason: string | null; record_id: string; system: string; record_type: string; registry_id: string;
  person_names: string[]; event_date: string | null; target_kind: 'book' | 'page' | 'entry'; book_id: string; page_id: string | null;
  sequence: number | null; entry_id: string | null; x0: number | null; y0: number | null; x1: number | null; y1: number | null;
}

const SELECT = `SELECT l.id, l.link_type, l.reason, l.created_by, l.created_at, l.unlinked_by, l.unlinked_at, l.unlink_reason,
       r.id AS record_id, r.system, r.record_type, r.record_id AS registry_id, r.person_names, r.event_date,
       l.target_kind, l.book_id, l.page_id, p.sequence, l.entry_id, e.x0, e.y0, e.x1, e.y1
  FROM record_links l
  JOIN registry_records r ON r.id = l.record_id
  LEFT JOIN pages p ON p.id = l.page_id
  LEFT JOIN entries e ON e.id = l.entry_id`;

function toLink(r: LinkRow): RecordLink {
  const box = r.x0 !== null ? { x0: r.x0, y0: r.y0!, x1: r.x1!, y1: r.y1! } : null;
  const pageBase = r.sequence !== null ? `/books/${r.book_id}/pages/${r.sequence}` : null;
  return {
    id: r.id, linkType: r.link_type, reason: r.reason, createdBy: r.created_by, createdAt: r.created_at,
    unlinkedBy: r.unlinked_by, unlinkedAt: r.unlinked_at, unlinkReason: r.unlink_reason,
    record: { id: r.record_id, system: r.system, recordType: r.record_type, recordId: r.registry_id, personNames: r.person_names, eventDate: r.event_date },
    item: {
      kind: r.target_kind, bookId: r.book_id, pageId: r.page_id, pageSequence: r.sequence, entryId: r.entry_id, box,
      imageHref: r.entry_id ? `/entries/${r.entry_id}/image` : pageBase ? `${pageBase}/image?width=1200` : null,
    },
  };
}

async function resolveTarget(db: Queryable, t: LinkTarget): Promise<{ bookId: string; pageId: string | null; entryId: string | null }> {
  if (t.kind === 'book') {
    const r = await db.query('SELECT 1 FROM books WHERE id = $1', [t.bookId]);
    if (!r.rows[0]) throw new AppError('ERR_BOOK_NOT_FOUND', `no book ${t.bookId}`);
    return { bookId: t.bookId, pageId: null, entryId: null };
  }
  if (t.kind === 'page') {
    const r = await db.query<{ book_id: string }>('SELECT book_id FROM pages WHERE id = $1', [t.pageId]);
    if (!r.rows[0]) throw new AppError('ERR_PAGE_NOT_FOUND', `no page ${t.pageId}`);
    return { bookId: r.rows[0].book_id, pageId: t.pageId, entryId: null };
  }
  const r = await db.query<{ book_id: string; page_id: string }>('SELECT book_id, page_id FROM entries WHERE id = $1 AND deleted_at IS NULL', [t.entryId]);
  if (!r.rows[0]) throw new AppError('ERR_NOT_FOUND', `no entry ${t.entryId}`);
  return { bookId: r.rows[0].book_id, pageId: r.rows[0].page_id, entryId: t.entryId };
}

/** A link by id, live or not. */
export async function getLink(db: Queryable, id: string): Promise<RecordLink | undefined> {
  const r = await db.query<LinkRow>(`${SELECT} WHERE l.id = $1`, [id]);
  return r.rows[0] ? toLink(r.rows[0]) : undefined;
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
    const r = await db.query<{ id: string }>(
      `INSERT INTO record_links (record_id, target_kind, book_id, page_id, entry_id, link_type, reason, created_by)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
      [input.recordId, input.target.kind, t.bookId, t.pageId, t.entryId, input.linkType, input.reason ?? null, by.user],
    );
    return (await getLink(db, r.rows[0]!.id))!;
  } catch (e) {
    if (isUniqueViolation(e)) throw new AppError('ERR_CONFLICT', 'this item is already linked to the record with that link type');
    throw e;
  }
}

/** Ends a link: who, when and why are recorded; the row stays. */
export async function unlink(db: Queryable, linkId: string, by: { user: string; reason?: string | null }): Promise<RecordLink> {
  const r = await db.query('UPDATE record_links SET unlinked_by = $2, unlinked_at = now(), unlink_reason = $3 WHERE id = $1 AND unlinked_at IS NULL', [linkId, by.user, by.reason ?? null]);
  if (r.rowCount === 0) {
    const existing = await getLink(db, linkId);
    if (!existing) throw new AppError('ERR_NOT_FOUND', `no link ${linkId}`);
    throw new AppError('ERR_CONFLICT', `link ${linkId} was already unlinked`);
  }
  return (await getLink(db, linkId))!;
}

/** A record's archive items (live links; with `history`, unlinked ones too). */
export async function linksOfRecord(db: Queryable, recordId: string, opts: { history?: boolean } = {}): Promise<RecordLink[]> {
  const r = await db.query<LinkRow>(`${SELECT} WHERE l.record_id = $1 ${opts.history ? '' : 'AND l.unlinked_at IS NULL'} ORDER BY l.created_at, l.id`, [recordId]);
  return r.rows.map(toLink);
}

/** An item's records: for a book, links to the book itself; for a page, links to it and its entries; for an entry, its own. */
export async function linksOfItem(db: Queryable, target: LinkTarget, opts: { history?: boolean } = {}): Promise<RecordLink[]> {
  const [col, id] = target.kind === 'book' ? ['l.book_id', target.bookId] : target.kind === 'page' ? ['l.page_id', target.pageId] : ['l.entry_id', target.entryId];
  const kind = target.kind === 'page' ? `AND l.target_kind IN ('page', 'entry')` : target.kind === 'book' ? `AND l.target_kind = 'book'` : '';
  const r = await db.query<LinkRow>(`${SELECT} WHERE ${col} = $1 ${kind} ${opts.history ? '' : 'AND l.unlinked_at IS NULL'} ORDER BY l.created_at, l.id`, [id]);
  return r.rows.map(toLink);
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
  const r = await db.query<{ id: string }>('SELECT id FROM pages WHERE book_id = $1 AND sequence = $2', [v.book_id, seq]);
  if (!r.rows[0]) throw new AppError('ERR_PAGE_NOT_FOUND', `book ${v.book_id} has no page ${seq}`);
  return { kind: 'page', pageId: r.rows[0].id };
}

/** Every link (with `history`, unlinked ones too), optionally of one book, as CSV with audit columns. */
export async function exportLinksCsv(db: Queryable, opts: { bookId?: string; history?: boolean } = {}): Promise<string> {
  const where = [opts.bookId ? 'l.book_id = $1' : 'true', opts.history ? 'true' : 'l.unlinked_at IS NULL'];
  const r = await db.query<LinkRow>(`${SELECT} WHERE ${where.join(' AND ')} ORDER BY l.created_at, l.id`, opts.bookId ? [opts.bookId] : []);
  const links = r.rows.map(toLink);
  return toCsv(
    [...LINKS_CSV_COLUMNS, 'link_id', 'created_by', 'created_at', 'unlinked_by', 'unlinked_at', 'unlink_reason'],
    links.map((l) => [
      l.unlinkedAt ? 'unlink' : 'link', l.record.system, l.record.recordType, l.record.recordId, l.item.bookId,
      l.item.kind === 'page' ? l.item.pageSequence : '', l.item.entryId ?? '', l.linkType, l.reason ?? '',
      l.id, l.createdBy, l.createdAt.toISOString(), l.unlinkedBy ?? '', l.unlinkedAt?.toISOString() ?? '', l.unlinkReason ?? '',
    ]),
  );
}

/** Re-exported for callers that hold a record. */
export type { RegistryRecord };

/** A link whose archive item was disposed of: its trace, kept when the row had to go. */
export interface RemovedLink {
  linkId: string;
  targetKind: 'book' | 'page' | 'entry';
  bookId: string;
  pageId: string | null;
  entryId: string | null;
  linkType: LinkType;
  createdBy: string;
  createdAt: Date;
  unlinkedAt: Date | null;
  removedAt: Date;
}

/** The record's links removed with their items (disposal), oldest first. */
export async function removedLinksOfRecord(db: Queryable, recordId: string): Promise<RemovedLink[]> {
  const r = await db.query<{
    link_id: string; target_kind: 'book' | 'page' | 'entry'; book_id: string; page_id: string | null; entry_id: string | null; link_type: LinkType;
    created_by: string; created_at: Date; unlinked_at: Date | null; removed_at: Date;
  }>('SELECT * FROM record_link_tombstones WHERE record_id = $1 ORDER BY created_at, link_id', [recordId]);
  return r.rows.map((x) => ({
    linkId: x.link_id, targetKind: x.target_kind, bookId: x.book_id, pageId: x.page_id, entryId: x.entry_id, linkType: x.link_type,
    createdBy: x.created_by, createdAt: x.created_at, unlinkedAt: x.unlinked_at, removedAt: x.removed_at,
  }));
}
