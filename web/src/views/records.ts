import { api, get } from '../api.ts';
import { currentLang } from '../i18n.ts';
import { field, h, replace, select, when } from '../dom.ts';
import { t } from '../i18n.ts';
import { go, type ViewContext } from '../router.ts';
import type { Link, RegistryRecord } from '../types.ts';
import { apiImage, notice } from '../widgets.ts';
import { LINK_TYPES } from '../../../common/vocabulary.ts';

function recordLabel(r: { system: string; recordType: string; recordId: string; personNames: string[]; eventDate: string | null }): string {
  return `${r.system}/${r.recordType}/${r.recordId} · ${r.personNames.join(', ') || '–'}${r.eventDate ? ` · ${r.eventDate}` : ''}`;
}

/** Links as a list: the record side (`record`) or the item side (`item`) is the one shown. */
export function linkList(links: Link[], show: 'record' | 'item'): HTMLElement {
  if (links.length === 0) return h('p', null, t('none'));
  return h('ul', { class: 'links', 'data-testid': 'links' }, links.map((l) => {
    const it = l.item;
    const pageNo = it.pageSequence ? `${t('page')} ${it.pageSequence}` : '';
    const where = it.kind === 'entry' ? `${t('entry')}, ${pageNo.toLowerCase()}` : it.kind === 'page' ? pageNo : t('book');
    return h('li', { class: show === 'record' ? 'card linked-item' : '' },
      show === 'record' && it.imageHref ? apiImage(it.imageHref, where, { class: 'crop', width: '320' }) : null,
      h('span', null,
        show === 'item'
          ? h('a', { href: `#/records/${l.record.id}` }, recordLabel(l.record))
          : h('a', { href: it.pageSequence ? `#/view/${it.bookId}/${it.pageSequence}` : `#/books/${it.bookId}` }, where),
        h('small', null, ` · ${l.linkType}${show === 'item' ? ` · ${where}` : ''} · ${l.createdBy} · ${when(l.createdAt, currentLang())}${l.reason ? ` · ${l.reason}` : ''}`)));
  }));
}

/** Finding a registry record and linking it to a page or an entry. */
export function linkForm(target: { entryId?: string; pageId?: string }, label: string, onDone: () => void | Promise<void>, onCancel: () => void): HTMLElement {
  const msg = notice();
  const q = h('input', { name: 'recordQuery', type: 'search', maxlength: '200' });
  const found = h('fieldset', { class: 'choices' }, h('legend', null, t('records')));
  const linkType = select('linkType', LINK_TYPES.map((x) => [x, x] as const), 'original-entry');
  const reason = h('input', { name: 'reason', maxlength: '2000' });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const find = async () => {
    const v = q.value.trim();
    if (!v) return replace(found, h('legend', null, t('records')));
    const byName = await get<{ records: RegistryRecord[] }>('/records', { name: v, limit: 10 });
    const byId = await get<{ records: RegistryRecord[] }>('/records', { recordId: v, limit: 5 });
    const all = [...new Map([...byId.records, ...byName.records].map((r) => [r.id, r])).values()];
    replace(found, h('legend', null, t('records')), all.length === 0 ? h('p', null, t('noResults')) : all.map((r, i) =>
      h('div', { class: 'field check' }, h('input', { type: 'radio', name: 'record', id: `rec-${r.id}`, value: r.id, checked: i === 0 }), h('label', { for: `rec-${r.id}` }, recordLabel(r)))));
  };
  q.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(() => void find().catch((e) => msg.fail(e)), 250); });
  return h('form', {
    class: 'card link-form', 'aria-label': t('linkToRecord'),
    onsubmit: async (e: Event) => {
      e.preventDefault();
      const chosen = found.querySelector<HTMLInputElement>('input[name=record]:checked');
      if (!chosen) return msg.fail(new Error(t('findRecord')));
      try {
        await api('POST', '/links', { recordId: chosen.value, ...target, linkType: linkType.value, ...(reason.value.trim() ? { reason: reason.value.trim() } : {}) });
        await onDone();
      } catch (err) {
        msg.fail(err);
      }
    },
  }, h('h2', null, t('linkToRecord')), h('p', { class: 'hint' }, label), field(t('findRecord'), q), found, field(t('linkType'), linkType), field(t('reason'), reason), msg,
  h('div', { class: 'row' }, h('button', { type: 'submit' }, t('link')), h('button', { type: 'button', class: 'secondary', onclick: onCancel }, t('cancel'))));
}

/** Clerks: find registry records. */
export async function recordsView({ el, query }: ViewContext): Promise<void> {
  const name = h('input', { name: 'name', type: 'search', value: query.get('name') ?? '' });
  const recordId = h('input', { name: 'recordId', value: query.get('recordId') ?? '' });
  const results = h('section', { 'aria-live': 'polite' });
  replace(el, h('h1', null, t('records')), h('form', {
    class: 'card', role: 'search',
    onsubmit: (e: Event) => {
      e.preventDefault();
      const qs = new URLSearchParams();
      if (name.value.trim()) qs.set('name', name.value.trim());
      if (recordId.value.trim()) qs.set('recordId', recordId.value.trim());
      go(`/records?${qs}`);
    },
  }, h('div', { class: 'row grow' }, field(t('name'), name), field(t('recordId'), recordId), h('button', { type: 'submit' }, t('search')))), results);
  if (!query.get('name') && !query.get('recordId')) return;
  const { records } = await get<{ records: RegistryRecord[] }>('/records', { name: query.get('name'), recordId: query.get('recordId'), limit: 50 });
  replace(results, records.length === 0 ? h('p', null, t('noResults')) : h('table', null,
    h('thead', null, h('tr', null, [t('recordId'), t('names'), t('eventDate'), t('municipality')].map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', null, records.map((r) => h('tr', null,
      h('th', { scope: 'row' }, h('a', { href: `#/records/${r.id}` }, `${r.system}/${r.recordType}/${r.recordId}`)),
      h('td', null, r.personNames.join(', ')), h('td', null, r.eventDate ?? '–'), h('td', null, r.municipality ?? '–'))))));
}

/** One registry record and the archive items linked to it. */
export async function recordView({ el, params }: ViewContext): Promise<void> {
  const r = await get<{ record: RegistryRecord; links: Link[] }>(`/records/${params.id}`);
  replace(el,
    h('p', { class: 'crumbs' }, h('a', { href: '#/records' }, t('records')), ' › '),
    h('h1', null, recordLabel(r.record)),
    h('dl', { class: 'facts' },
      h('dt', null, t('system')), h('dd', null, r.record.system), h('dt', null, t('recordId')), h('dd', null, r.record.recordId),
      h('dt', null, t('names')), h('dd', null, r.record.personNames.join(', ') || '–'), h('dt', null, t('eventDate')), h('dd', null, r.record.eventDate ?? '–'),
      h('dt', null, t('municipality')), h('dd', null, r.record.municipality ?? '–')),
    h('h2', null, t('linkedItems')), linkList(r.links, 'record'));
}
