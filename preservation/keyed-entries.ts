/**
 * Keyed entries in the package (issue 20, point 6): one JSON file per verified keyed entry and one
 * CSV of them all, independent of METS and ALTO, so the keyed registers survive whatever reads the
 * bag. The bytes depend on the database rows alone, so the same entries make the same files.
 */
import { createHash } from 'node:crypto';
import { toCsv } from '../records/index.ts';
import type { KeyedEntryRow } from './keyed-entries.store.ts';

/** Names the layout of a keyed entry's JSON file; bumped if its shape ever changes. */
export const KEYED_ENTRY_FORMAT = 'arkiva-keyed-entry-1';
/** Folder of the keyed entries in the bag's payload. */
export const KEYED_DIR = 'data/keyed-entries';

/** A payload file holding keyed entries, made in memory. */
export interface KeyedFile {
  path: string;
  body: Buffer;
  sha256: string;
  mimeType: string;
  /** METS fileGrp USE. */
  use: 'keyed-entry' | 'keyed-entries';
  /** The page the entry is on (the CSV, of the whole book, has none). */
  page?: number;
  /** When what it holds was last verified: the file's date in the tar and in METS. */
  created?: Date;
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** The answers in the layout's column order (any key the layout lacks after them, sorted, so nothing is dropped). */
function orderedFields(e: KeyedEntryRow): { column: string; field: string | null; value?: string; answer?: string }[] {
  const known = new Set(e.columns.map((c) => c.key));
  const extra = Object.keys(e.fields).filter((k) => !known.has(k)).sort();
  return [...e.columns.map((c) => ({ key: c.key, field: c.field as string | null })), ...extra.map((key) => ({ key, field: null }))]
    .filter((c) => e.fields[c.key] !== undefined)
    .map((c) => {
      const f = e.fields[c.key]!;
      return 'value' in f ? { column: c.key, field: c.field, value: f.value } : { column: c.key, field: c.field, answer: f.answer };
    });
}

/** One entry's JSON document: where it is, its answers as verified, who verified it and when, the records it is linked to. */
export function keyedEntryJson(bookId: string, e: KeyedEntryRow): string {
  return `${JSON.stringify({
    format: KEYED_ENTRY_FORMAT,
    bookId,
    entryId: e.entryId,
    zoneId: e.zoneId,
    page: e.page,
    // In the page master's pixels, as the zone was keyed.
    box: e.box,
    layout: { key: e.layoutKey, version: e.layoutVersion },
    fields: orderedFields(e),
    verified: { by: e.verifiedBy, at: e.verifiedAt ? e.verifiedAt.toISOString() : null },
    links: e.links,
  }, null, 2)}\n`;
}

// An explicit answer in a CSV cell, bracketed so it cannot be taken for a value written in the book.
const cell = (f: KeyedEntryRow['fields'][string] | undefined): string => (f === undefined ? '' : 'value' in f ? f.value : `[${f.answer}]`);

/** Every entry of the book as one CSV: place, layout, one column per layout column (in first-seen order), verification, linked records. */
export function keyedEntriesBookCsv(entries: readonly KeyedEntryRow[]): string {
  const columns: string[] = [];
  for (const e of entries) for (const c of [...e.columns.map((x) => x.key), ...Object.keys(e.fields).sort()]) if (!columns.includes(c)) columns.push(c);
  return toCsv(
    ['page', 'entry_id', 'zone_id', 'x0', 'y0', 'x1', 'y1', 'layout', 'layout_version', ...columns, 'verified_by', 'verified_at', 'linked_records'],
    entries.map((e) => [
      e.page, e.entryId, e.zoneId, e.box.x0, e.box.y0, e.box.x1, e.box.y1, e.layoutKey, e.layoutVersion, ...columns.map((c) => cell(e.fields[c])),
      e.verifiedBy, e.verifiedAt?.toISOString() ?? null,
      e.links.map((l) => `${l.system}/${l.recordType}/${l.recordId} (${l.linkType})`).join('; '),
    ]),
  );
}

/** The payload files of a book's keyed entries: none when it has none, so such a book packages as before. */
export function keyedEntryFiles(bookId: string, entries: readonly KeyedEntryRow[]): KeyedFile[] {
  if (entries.length === 0) return [];
  const out: KeyedFile[] = entries.map((e) => {
    const body = Buffer.from(keyedEntryJson(bookId, e));
    return {
      path: `${KEYED_DIR}/${String(e.page).padStart(4, '0')}/${e.entryId}.json`, body, sha256: sha(body), mimeType: 'application/json',
      use: 'keyed-entry', page: e.page, ...(e.verifiedAt ? { created: e.verifiedAt } : {}),
    };
  });
  const latest = Math.max(...entries.map((e) => e.verifiedAt?.getTime() ?? 0));
  const csv = Buffer.from(keyedEntriesBookCsv(entries));
  out.push({ path: `${KEYED_DIR}/keyed-entries.csv`, body: csv, sha256: sha(csv), mimeType: 'text/csv', use: 'keyed-entries', ...(latest > 0 ? { created: new Date(latest) } : {}) });
  return out;
}

/** What the package basis adds for keyed entries: a digest of their files; undefined when there are none. */
export function keyedDigest(files: readonly KeyedFile[]): string | undefined {
  if (files.length === 0) return undefined;
  const h = createHash('sha256');
  for (const f of files) h.update(`${f.path}:${f.sha256}\n`);
  return h.digest('hex');
}
