import { get } from '../api.ts';
import { field, h, replace } from '../dom.ts';
import { t } from '../i18n.ts';
import { go, type ViewContext } from '../router.ts';
import type { Book, Entry } from '../types.ts';
import { apiImage, notice, withheldNotice } from '../widgets.ts';
import { altDigit, candidatePanel, linkEntry } from './keying.ts';
import { issueExtractForm } from './verify.ts';

/** An entry as GET /entries gives it: with its book and where it came from (keyed, OCR, drawn). */
type FoundEntry = Entry & { bookId: string; source: string };

/**
 * The subject's name split for a candidate search: the last word as the surname, the rest as the
 * given name (keyed entries store "given surname"; a two-word surname then ranks a little lower).
 */
export function splitName(name: string): { givenName: string; surname: string } {
  const parts = name.trim().split(/\s+/u);
  return parts.length < 2 ? { givenName: '', surname: parts[0] ?? '' } : { givenName: parts.slice(0, -1).join(' '), surname: parts.at(-1)! };
}

/**
 * Clerks: find entries (keyed, OCR'd or drawn) by a name typed with or without diacritics, in
 * Latin or Cyrillic; open an entry's crop, and link it to one of its registry candidates with
 * Alt+1..3 or a click.
 */
export async function entriesView({ el, query }: ViewContext): Promise<void> {
  const msg = notice();
  const name = h('input', { name: 'name', type: 'search', maxlength: '200', required: true, value: query.get('name') ?? '' });
  const results = h('section', { class: 'results', 'aria-live': 'polite' });
  replace(el, h('h1', null, t('enTitle')), h('form', {
    class: 'card', role: 'search',
    onsubmit: (e: Event) => {
      e.preventDefault();
      if (name.value.trim()) go(`/entries?${new URLSearchParams({ name: name.value.trim() })}`);
    },
  }, h('div', { class: 'row grow' }, field(t('enName'), name, t('enNameHint')), h('button', { type: 'submit' }, t('search')))), msg, results);
  const q = query.get('name');
  if (!q) return name.focus();
  const { entries, withheld } = await get<{ entries: FoundEntry[]; withheld?: number }>('/entries', { name: q, limit: 20 });
  // Entries of closed books are only counted without a purpose: say how many, and let the clerk state one.
  const closed = withheldNotice(withheld ?? 0, 'searchWithPurpose', () => go(`/entries?${query}`));
  if (entries.length === 0) return replace(results, closed, h('p', null, t('noResults')));
  const books = new Map<string, Promise<Book | null>>();
  const bookOf = (id: string) => {
    if (!books.has(id)) books.set(id, get<{ book: Book }>(`/books/${id}`).then((r) => r.book, () => null));
    return books.get(id)!;
  };
  replace(results, h('h2', null, t('results')), closed, h('ol', { class: 'hits entries-found', 'data-testid': 'entries-found' }, entries.map((e) => {
    const subject = e.names.find((n) => n.role === 'subject')?.name ?? e.names[0]?.name ?? '';
    const crop = h('div', { class: 'entry-crop' });
    const linkArea = h('div');
    const openCrop = h('button', {
      type: 'button', class: 'secondary small', 'aria-expanded': 'false',
      onclick: () => {
        const shown = openCrop.getAttribute('aria-expanded') === 'true';
        openCrop.setAttribute('aria-expanded', String(!shown));
        replace(crop, shown ? null : apiImage(`/entries/${e.id}/image?width=1000&margin=12`, `${t('entry')} ${e.entryNumber ?? ''}, ${t('page')} ${e.pageSequence}`, { class: 'zone-crop', 'data-testid': 'entry-crop' }));
      },
    }, t('enCrop'));
    const candidates = h('button', {
      type: 'button', class: 'secondary small',
      onclick: async () => {
        const book = await bookOf(e.bookId);
        if (!book) return msg.fail(new Error(t('forbidden')));
        const panel = candidatePanel(async (c) => {
          if (!c) return;
          try {
            await linkEntry(e.id, c.record.id);
            msg.ok(`${t('kyLinkedTo')} ${c.record.recordId}`);
            replace(linkArea, h('p', { class: 'linked', 'data-testid': 'linked' }, `${t('kyLinkedTo')} ${c.record.system}/${c.record.recordType}/${c.record.recordId}`, ' · ', h('a', { href: `#/records/${c.record.id}` }, t('records'))));
          } catch (err) {
            msg.fail(err);
          }
        });
        const { givenName, surname } = splitName(subject);
        const father = e.names.find((n) => n.role === 'father')?.name;
        replace(linkArea, panel);
        panel.addEventListener('keydown', (k) => {
          const i = altDigit(k);
          if (i !== null && i < 3) {
            k.preventDefault();
            panel.choose(i);
          }
        });
        panel.tabIndex = -1;
        await panel.show({
          municipality: book.municipality, yearFrom: book.yearFrom, yearTo: book.yearTo, eventType: e.eventType, surname, givenName,
          ...(father ? { father } : {}), ...(e.eventDate ? { eventDate: e.eventDate } : {}),
        });
        panel.focus();
      },
    }, t('enCandidates'));
    return h('li', { class: 'card entry-hit', 'data-testid': 'entry-hit' },
      h('p', null, h('strong', null, subject || '–'), ` · ${e.eventDate ?? '–'} · ${e.place ?? '–'} · `,
        h('a', { href: `#/view/${e.bookId}/${e.pageSequence}` }, `${t('page')} ${e.pageSequence}`),
        e.entryNumber ? ` · ${t('entryNumber')} ${e.entryNumber}` : '', h('small', null, ` · ${e.source}`)),
      h('div', { class: 'row' }, openCrop, candidates), crop, linkArea,
      // Extracts are issued from verified entries only (the API refuses others).
      e.status === 'verified' ? issueExtractForm(e.id) : null);
  })));
}
