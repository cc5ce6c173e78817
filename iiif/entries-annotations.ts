import type { Queryable } from '../db/index.ts';
import type { Page } from '../archive/index.ts';
import { listPageEntries, type Entry } from '../entries/index.ts';
import { linksOfItem, type RecordLink } from '../records/index.ts';
import { PRESENTATION_CONTEXT, type IiifJson } from './manifest.ts';
import { bookIiifIds, xywh } from './presentation-ids.ts';
import { inEach, LABELS } from './presentation-words.ts';

/**
 * The entries of a page as a IIIF annotation page: one `commenting` annotation per entry (rejected
 * proposals left out) targeting its box on the canvas, its body the entry's number, date, names and
 * place; with `links`, each live link to a registry record is a further body naming the record (its
 * API address). Whether the caller may see links is the caller's decision (the route's), not this one's.
 */
export async function entriesAnnotationPage(db: Queryable, page: Pick<Page, 'id' | 'bookId' | 'sequence'>, opts: { base: string; links: boolean }): Promise<IiifJson> {
  const entries = (await listPageEntries(db, page.id)).filter((e) => e.status !== 'rejected');
  const links = new Map<string, RecordLink[]>();
  if (opts.links) {
    for (const e of entries) links.set(e.id, await linksOfItem(db, { kind: 'entry', entryId: e.id }));
  }
  return buildEntriesPage(page, entries, links, opts.base);
}

/** What an entry says, in one line: number, date, names (with their role), place. */
export function entryText(e: Pick<Entry, 'entryNumber' | 'eventDate' | 'names' | 'place'>): string {
  // The person the entry is about first, then the others as the entry lists them.
  const ordered = [...e.names.filter((n) => n.role === 'subject'), ...e.names.filter((n) => n.role !== 'subject')];
  const names = ordered.map((n) => (n.role === 'subject' ? n.name : `${n.name} (${n.role})`));
  return [e.entryNumber ? `Nr. ${e.entryNumber}` : null, e.eventDate, ...names, e.place].filter((x): x is string => Boolean(x && x.trim())).join(' · ');
}

/** The annotation page from what `entriesAnnotationPage` read. */
export function buildEntriesPage(page: Pick<Page, 'bookId' | 'sequence'>, entries: readonly Entry[], links: ReadonlyMap<string, readonly RecordLink[]>, base: string): IiifJson {
  const origin = base.replace(/\/+$/, '');
  const ids = bookIiifIds(origin, page.bookId);
  const id = ids.entries(page.sequence);
  const canvas = ids.canvas(page.sequence);
  return {
    '@context': PRESENTATION_CONTEXT,
    id,
    type: 'AnnotationPage',
    label: inEach(LABELS.entries),
    items: entries.map((e) => ({
      id: `${id}/${e.id}`,
      type: 'Annotation',
      motivation: 'commenting',
      body: [
        { type: 'TextualBody', value: entryText(e) || e.eventType, format: 'text/plain', purpose: 'describing' },
        ...(links.get(e.id) ?? []).filter((l) => !l.unlinkedAt).map((l) => ({
          id: `${origin}/records/${l.record.id}`,
          type: 'Dataset',
          format: 'application/json',
          label: { none: [`${l.record.system} ${l.record.recordType} ${l.record.recordId}`] },
        })),
      ],
      target: xywh(canvas, e.box),
    })),
  };
}
