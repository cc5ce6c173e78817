import { get } from '../api.ts';
import { field, h, replace, select } from '../dom.ts';
import { t } from '../i18n.ts';
import { titleOf } from '../book-title.ts';
import { typeFromWords } from '../title-words.ts';
import type { Book } from '../types.ts';
import { notice, typeLabel } from '../widgets.ts';
import { REGISTER_TYPES } from '../../../common/vocabulary.ts';

const PAGE = 20;

/** A book picker: the element to place in a form and the books chosen so far. */
export interface BookPicker {
  el: HTMLElement;
  /** Ids of the chosen books, in the order they were chosen. */
  selected(): string[];
  /** Forgets every choice (after the form was sent). */
  clear(): void;
}

/**
 * Picks books by what they are rather than by id: a type-ahead over the title (type ·
 * municipality · year · volume) with filters by type, municipality and year, the newest books
 * listed before anything is typed, each with a button to add it; the chosen ones are listed with a
 * button to remove them. Searches the API's book listing (GET /books), so anyone who may list books
 * may pick them.
 */
export function bookPicker(opts: { legend: string; id?: string }): BookPicker {
  const id = opts.id ?? 'book-picker';
  const chosen = new Map<string, Book>();
  const msg = notice();
  const q = h('input', { type: 'search', name: 'bookQuery', id: `${id}-q`, maxlength: '200', autocomplete: 'off', 'aria-controls': `${id}-results`, placeholder: t('bpPlaceholder') });
  const type = select('bookType', [['', t('bpAnyType')], ...REGISTER_TYPES.map((x) => [x, typeLabel(x)] as const)], '', { id: `${id}-type` });
  const muni = h('input', { name: 'bookMunicipality', id: `${id}-muni`, maxlength: '200', autocomplete: 'off' });
  const year = h('input', { name: 'bookYear', id: `${id}-year`, type: 'number', min: '1000', max: '9999', inputmode: 'numeric' });
  const results = h('ul', { class: 'picker-results', id: `${id}-results`, 'aria-live': 'polite', 'data-testid': 'picker-results' });
  const chosenList = h('ul', { class: 'picker-chosen', 'data-testid': 'picker-chosen' });
  const more = h('button', { type: 'button', class: 'secondary small', hidden: true }, t('bpMore'));
  let cursor: string | null = null;
  let seq = 0;

  const drawChosen = () => {
    replace(chosenList, chosen.size === 0 ? h('li', { class: 'hint' }, t('bpNoneChosen')) : [...chosen.values()].map((b) =>
      h('li', { class: 'chip' }, h('span', null, titleOf(b)),
        h('button', { type: 'button', class: 'secondary small', 'aria-label': `${t('bpRemove')}: ${titleOf(b)}`, onclick: () => { chosen.delete(b.id); drawChosen(); void search(false); } }, '×'))));
  };
  const row = (b: Book) => h('li', null,
    h('button', {
      type: 'button', class: 'link', 'aria-pressed': String(chosen.has(b.id)), 'data-book-id': b.id,
      onclick: (e: Event) => {
        if (chosen.has(b.id)) chosen.delete(b.id); else chosen.set(b.id, b);
        (e.currentTarget as HTMLElement).setAttribute('aria-pressed', String(chosen.has(b.id)));
        drawChosen();
      },
    }, titleOf(b)),
    h('small', null, ` · ${b.pageCount} ${t('nPages')}`));

  /** Lists the books that match; `append` adds the next page to the list instead of replacing it. */
  async function search(append: boolean): Promise<void> {
    const mine = ++seq;
    const y = year.value.trim();
    if (y && !/^\d{4}$/.test(y)) { msg.fail(new Error(t('bpBadYear'))); return; }
    try {
      const { words, registerType } = typeFromWords(q.value, type.value, typeLabel);
      const r = await get<{ books: Book[]; nextBefore: string | null }>('/books', {
        q: words, registerType, municipality: muni.value.trim(), year: y, limit: PAGE, before: append ? cursor : undefined,
      });
      // A slower answer to an older query must not overwrite a newer one.
      if (mine !== seq) return;
      msg.clear();
      cursor = r.nextBefore;
      more.hidden = !cursor;
      if (!append) replace(results);
      if (!append && r.books.length === 0) replace(results, h('li', { class: 'hint' }, t('noResults')));
      for (const b of r.books) results.append(row(b));
    } catch (e) {
      if (mine === seq) msg.fail(e);
    }
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  const later = () => { clearTimeout(timer); timer = setTimeout(() => void search(false), 200); };
  for (const input of [q, muni, year]) input.addEventListener('input', later);
  type.addEventListener('change', () => void search(false));
  more.addEventListener('click', () => void search(true));
  // Enter in the search box searches now instead of sending the surrounding form.
  q.addEventListener('keydown', (e) => { if (e.key === 'Enter') { e.preventDefault(); clearTimeout(timer); void search(false); } });

  const el = h('fieldset', { class: 'book-picker', 'data-testid': 'book-picker' }, h('legend', null, opts.legend),
    h('div', { class: 'grid' }, field(t('bpSearch'), q, t('bpHint')), field(t('registerType'), type), field(t('municipality'), muni), field(t('bpYear'), year)),
    msg, h('h4', { id: `${id}-found` }, t('bpFound')), results, more, h('h4', null, t('bpChosen')), chosenList);
  results.setAttribute('aria-labelledby', `${id}-found`);
  drawChosen();
  void search(false);
  return { el, selected: () => [...chosen.keys()], clear: () => { chosen.clear(); drawChosen(); void search(false); } };
}
