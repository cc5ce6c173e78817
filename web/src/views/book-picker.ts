import { get } from '../api.ts';
import { field, h, replace, select } from '../dom.ts';
import { t } from '../i18n.ts';
import { titleOf } from '../book-title.ts';
import { typeFromWords } from '../title-words.ts';
import type { Book } from '../types.ts';
import { notice, typeLabel } from '../widgets.ts';
import { REGISTER_TYPES } from '../../../common/vocabulary.ts';

const PAGE = 20;

/** One CSV field: quoted when it holds a separator, quote or line break; a leading =+-@ is defused for spreadsheets. */
function csvField(v: string | number | null | undefined): string {
  let s = v === null || v === undefined ? '' : String(v);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/**
 * The chosen books as a CSV list (title in the interface's language, id, type, municipality,
 * years, volume, status, pages): what a records manager hands on with a hold or a transfer.
 */
export function booksCsv(books: readonly Book[]): string {
  const head = ['title', 'bookId', 'registerType', 'municipality', 'yearFrom', 'yearTo', 'volume', 'status', 'pages'];
  const rows = books.map((b) => [titleOf(b), b.id, b.registerType, b.municipality, b.yearFrom, b.yearTo, b.volume ?? '', b.status, b.pageCount]);
  return `${[head, ...rows].map((r) => r.map(csvField).join(',')).join('\r\n')}\r\n`;
}

/** A book picker: the element to place in a form and the books chosen so far. */
export interface BookPicker {
  el: HTMLElement;
  /** Ids of the chosen books, in the order they were chosen. */
  selected(): string[];
  /** Forgets every choice (after the form was sent). */
  clear(): void;
}

/** Saves text as a file the browser downloads. */
function downloadText(name: string, text: string, type: string): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = h('a', { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
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
  // Bulk: every book listed at once, and the chosen ones as a list to keep or pass on.
  const listed = new Map<string, Book>();
  const all = h('button', { type: 'button', class: 'secondary small', 'data-testid': 'picker-all', hidden: true }, t('bpChooseAll'));
  const csv = h('button', { type: 'button', class: 'secondary small', 'data-testid': 'picker-csv', disabled: true }, t('bpCsv'));
  let cursor: string | null = null;
  let seq = 0;

  const drawChosen = () => {
    csv.disabled = chosen.size === 0;
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
      if (!append) { replace(results); listed.clear(); }
      for (const b of r.books) listed.set(b.id, b);
      all.hidden = listed.size < 2;
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
  all.addEventListener('click', () => {
    for (const b of listed.values()) chosen.set(b.id, b);
    for (const b of results.querySelectorAll('button[data-book-id]')) b.setAttribute('aria-pressed', 'true');
    drawChosen();
  });
  csv.addEventListener('click', () => downloadText(`books-${new Date().toISOString().slice(0, 10)}.csv`, booksCsv([...chosen.values()]), 'text/csv;charset=utf-8'));
  // Enter in the search box searches now instead of sending the surrounding form.
  q.addEventListener('keydown', (e) => { if (e.key === 'Enter') { e.preventDefault(); clearTimeout(timer); void search(false); } });

  const el = h('fieldset', { class: 'book-picker', 'data-testid': 'book-picker' }, h('legend', null, opts.legend),
    h('div', { class: 'grid' }, field(t('bpSearch'), q, t('bpHint')), field(t('registerType'), type), field(t('municipality'), muni), field(t('bpYear'), year)),
    msg, h('h4', { id: `${id}-found` }, t('bpFound')), results, h('div', { class: 'row' }, more, all), h('h4', null, t('bpChosen')), chosenList, h('div', { class: 'row' }, csv));
  results.setAttribute('aria-labelledby', `${id}-found`);
  drawChosen();
  void search(false);
  return { el, selected: () => [...chosen.keys()], clear: () => { chosen.clear(); drawChosen(); void search(false); } };
}
