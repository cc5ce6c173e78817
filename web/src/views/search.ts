import { get } from '../api.ts';
import { field, h, replace, select } from '../dom.ts';
import { t, tx } from '../i18n.ts';
import { go, type ViewContext } from '../router.ts';
import { bookTitle, type Hit } from '../types.ts';
import { apiImage, typeLabel, withheldNotice } from '../widgets.ts';
import { matchQualityKey } from './search-words.ts';
import { REGISTER_TYPES } from '../../../common/vocabulary.ts';

/** A snippet with its «matched» words as <mark>. */
export function snippet(text: string): HTMLElement {
  const out = h('span', { class: 'snippet' });
  for (const [i, part] of text.split(/«|»/).entries()) out.append(i % 2 ? h('mark', null, part) : document.createTextNode(part));
  return out;
}

const FILTERS = ['q', 'mode', 'registerType', 'municipality', 'yearFrom', 'yearTo'] as const;

/** Clerks: search pages with filters; results with snippets and thumbnails. */
export async function searchView({ el, query }: ViewContext): Promise<void> {
  const q = h('input', { name: 'q', type: 'search', required: true, maxlength: '200', value: query.get('q') ?? '' });
  const mode = select('mode', [['words', t('m_words')], ['phrase', t('m_phrase')], ['prefix', t('m_prefix')]], query.get('mode') ?? 'words');
  const regType = select('registerType', [['', t('any')], ...REGISTER_TYPES.map((x) => [x, typeLabel(x)] as const)], query.get('registerType') ?? '');
  const muni = h('input', { name: 'municipality', value: query.get('municipality') ?? '' });
  const yFrom = h('input', { name: 'yearFrom', type: 'number', min: '1000', max: '9999', value: query.get('yearFrom') ?? '' });
  const yTo = h('input', { name: 'yearTo', type: 'number', min: '1000', max: '9999', value: query.get('yearTo') ?? '' });
  const fuzzy = h('input', { name: 'fuzzy', type: 'checkbox', checked: query.get('fuzzy') !== 'false' });
  const results = h('section', { class: 'results', 'aria-live': 'polite' });
  const form = h('form', {
    class: 'card search', role: 'search',
    onsubmit: (e: Event) => {
      e.preventDefault();
      const qs = new URLSearchParams();
      const vals: Record<string, string> = { q: q.value.trim(), mode: mode.value, registerType: regType.value, municipality: muni.value.trim(), yearFrom: yFrom.value, yearTo: yTo.value };
      for (const k of FILTERS) if (vals[k]) qs.set(k, vals[k]);
      if (!fuzzy.checked) qs.set('fuzzy', 'false');
      go(`/search?${qs}`);
    },
  },
  h('div', { class: 'row grow' }, field(t('query'), q), h('button', { type: 'submit' }, t('search'))),
  h('div', { class: 'grid filters' }, field(t('mode'), mode), field(t('registerType'), regType), field(t('municipality'), muni), field(t('yearFrom'), yFrom), field(t('yearTo'), yTo),
    h('div', { class: 'field check' }, fuzzy, h('label', { for: (fuzzy.id = 'fuzzy') }, t('fuzzy')))));
  replace(el, h('h1', null, t('search')), form, results);
  if (!query.get('q')) return q.focus();

  const params: Record<string, string> = { fuzzy: query.get('fuzzy') === 'false' ? 'false' : 'true', limit: '20' };
  for (const k of FILTERS) if (query.get(k)) params[k] = query.get(k)!;
  const list = h('ol', { class: 'hits' });
  const more = h('button', { type: 'button', class: 'secondary', hidden: true }, t('more'));
  // Hits of closed books are only counted without a purpose: say so, and let the clerk state one here.
  const withheldArea = h('div');
  let withheld = 0;
  replace(results, h('h2', null, t('results')), withheldArea, list, more);
  const fetchPage = async (cursor?: string) => {
    const r = await get<{ hits: Hit[]; nextCursor: string | null; withheld?: number }>('/search', { ...params, cursor });
    withheld += r.withheld ?? 0;
    replace(withheldArea, withheldNotice(withheld, 'searchWithPurpose', () => go(`/search?${query}`)));
    if (!cursor && r.hits.length === 0) list.replaceWith(h('p', null, t('noResults')));
    const viewQs = new URLSearchParams({ q: params.q!, mode: params.mode ?? 'words' });
    for (const hit of r.hits) {
      list.append(h('li', { class: 'hit card' },
        h('a', { href: `#/view/${hit.bookId}/${hit.sequence}?${viewQs}`, class: 'hit-link' },
          apiImage(`/books/${hit.bookId}/pages/${hit.sequence}/derivatives/thumb-jpeg?revision=${hit.revision}`, '', { class: 'hit-thumb', width: '120' }),
          h('span', { class: 'hit-body' },
            h('strong', null, bookTitle(hit.book, typeLabel), ` · ${t('page')} ${hit.sequence}`),
            snippet(hit.snippet),
            h('small', { class: 'match' }, `${t('score')}: `, h('span', { 'data-testid': 'match-quality' }, t(matchQualityKey(hit.words))),
              ` (${(hit.score * 100).toFixed(0)}%) · `, h('span', { 'data-testid': 'matched-words' }, hit.words.map((w) => w.text).join(', ')), ` · ${tx('', hit.book.registerType)}`)))));
    }
    more.hidden = !r.nextCursor;
    more.onclick = () => void fetchPage(r.nextCursor ?? undefined);
  };
  await fetchPage();
}
