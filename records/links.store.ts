import type { Queryable } from '../db/index.ts';
import type { LinkTarget, LinkType, RecordLink } from './links.ts';
import type { EntrySource, LinkTargetKind } from '../common/vocabulary.ts';

interface LinkRow {
  id: string; link_type: LinkType; reason: string | null; created_by: string; created_at: Date; unlinked_by: string | null;
  unlinked_at: Date | null; unlink_reason: string | null; record_id: string; system: string; record_type: string; registry_id: string;
  person_names: string[]; event_date: string | null; target_kind: LinkTargetKind; book_id: string; page_id: string | null;
  sequence: number | null; entry_id: string | null; x0: number | null; y0: number | null; x1: number | null; y1: number | null;
  entry_source: EntrySource | null;
}

const SELECT = `SELECT l.id, l.link_type, l.reason, l.created_by, l.created_at, l.unlinked_by, l.unlinked_at, l.unlink_reason,
       r.id AS record_id, r.system, r.record_type, r.record_id AS registry_id, r.person_names, r.event_date,
       l.target_kind, l.book_id, l.page_id, p.sequence, l.entry_id, e.x0, e.y0, e.x1, e.y1, e.source AS entry_source
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
      entrySource: r.entry_id ? r.entry_source : null,
    },
  };
}

/** True when a book with that id exists. */
export async function bookExists(db: Queryable, bookId: string): Promise<boolean> {
  const r = await db.query('SELECT 1 FROM books WHERE id = $1', [bookId]);
  return r.rows[0] !== undefined;
}

/** The book a page belongs to, or undefined when there is no such page. */
export async function bookOfPage(db: Queryable, pageId: string): Promise<string | undefined> {
  const r = await db.query<{ book_id: string }>('SELECT book_id FROM pages WHERE id = $1', [pageId]);
  return r.rows[0]?.book_id;
}

/** The book and page of a live (not retired) entry. */
export async function placeOfLiveEntry(db: Queryable, entryId: string): Promise<{ bookId: string; pageId: string } | undefined> {
  const r = await db.query<{ book_id: string; page_id: string }>('SELECT book_id, page_id FROM entries WHERE id = $1 AND deleted_at IS NULL', [entryId]);
  return r.rows[0] ? { bookId: r.rows[0].book_id, pageId: r.rows[0].page_id } : undefined;
}

/** The id of a book's page by its number. */
export async function pageIdAt(db: Queryable, bookId: string, sequence: number): Promise<string | undefined> {
  const r = await db.query<{ id: string }>('SELECT id FROM pages WHERE book_id = $1 AND sequence = $2', [bookId, sequence]);
  return r.rows[0]?.id;
}

/** A link by id, live or not. */
export async function getLink(db: Queryable, id: string): Promise<RecordLink | undefined> {
  const r = await db.query<LinkRow>(`${SELECT} WHERE l.id = $1`, [id]);
  return r.rows[0] ? toLink(r.rows[0]) : undefined;
}

/** Writes a link row (a second live link of the same type fails on the unique index); returns its id. */
export async function insertLink(
  db: Queryable,
  row: { recordId: string; targetKind: LinkTarget['kind']; bookId: string; pageId: string | null; entryId: string | null; linkType: LinkType; reason: string | null; createdBy: string },
): Promise<string> {
  const r = await db.query<{ id: string }>(
    `INSERT INTO record_links (record_id, target_kind, book_id, page_id, entry_id, link_type, reason, created_by)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
    [row.recordId, row.targetKind, row.bookId, row.pageId, row.entryId, row.linkType, row.reason, row.createdBy],
  );
  return r.rows[0]!.id;
}

/** Marks a live link unlinked by whom and why; false when the link is unknown or already unlinked. */
export async function markUnlinked(db: Queryable, linkId: string, by: { user: string; reason: string | null }): Promise<boolean> {
  const r = await db.query('UPDATE record_links SET unlinked_by = $2, unlinked_at = now(), unlink_reason = $3 WHERE id = $1 AND unlinked_at IS NULL', [linkId, by.user, by.reason]);
  return r.rowCount !== 0;
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

/** Every link (with `history`, unlinked ones too), optionally of one book, oldest first. */
export async function allLinks(db: Queryable, opts: { bookId?: string; history?: boolean } = {}): Promise<RecordLink[]> {
  const where = [opts.bookId ? 'l.book_id = $1' : 'true', opts.history ? 'true' : 'l.unlinked_at IS NULL'];
  const r = await db.query<LinkRow>(`${SELECT} WHERE ${where.join(' AND ')} ORDER BY l.created_at, l.id`, opts.bookId ? [opts.bookId] : []);
  return r.rows.map(toLink);
}

/** A link whose archive item was disposed of: its trace, kept when the row had to go. */
export interface RemovedLink {
  linkId: string;
  targetKind: LinkTargetKind;
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
    link_id: string; target_kind: LinkTargetKind; book_id: string; page_id: string | null; entry_id: string | null; link_type: LinkType;
    created_by: string; created_at: Date; unlinked_at: Date | null; removed_at: Date;
  }>('SELECT * FROM record_link_tombstones WHERE record_id = $1 ORDER BY created_at, link_id', [recordId]);
  return r.rows.map((x) => ({
    linkId: x.link_id, targetKind: x.target_kind, bookId: x.book_id, pageId: x.page_id, entryId: x.entry_id, linkType: x.link_type,
    createdBy: x.created_by, createdAt: x.created_at, unlinkedAt: x.unlinked_at, removedAt: x.removed_at,
  }));
}
