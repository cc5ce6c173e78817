import { api, get, sendText } from '../api.ts';
import { currentLang } from '../i18n.ts';
import { field, h, replace, select, when } from '../dom.ts';
import { t, tx } from '../i18n.ts';
import { go, type ViewContext } from '../router.ts';
import type { Link, RegistryRecord } from '../types.ts';
import { apiImage, notice } from '../widgets.ts';
import { bookHref } from '../book-title.ts';
import { LINK_TYPES, REGISTER_TYPES } from '../../../common/vocabulary.ts';

function recordLabel(r: { system: string; recordType: string; recordId: string; personNames: string[]; eventDate: string | null }): string {
  return `${r.system}/${r.recordType}/${r.recordId} · ${r.personNames.join(', ') || '–'}${r.eventDate ? ` · ${r.eventDate}` : ''}`;
}

/** A link as the API gives it: a linked entry also says where it came from (keyed, OCR, by hand). */
type SourcedLink = Link & { item: Link['item'] & { entrySource?: string | null } };

/** Links as a list: the record side (`record`) or the item side (`item`) is the one shown. */
export function linkList(links: Link[], show: 'record' | 'item'): HTMLElement {
  if (links.length === 0) return h('p', null, t('none'));
  return h('ul', { class: 'links', 'data-testid': 'links' }, (links as SourcedLink[]).map((l) => {
    const it = l.item;
    const pageNo = it.pageSequence ? `${t('page')} ${it.pageSequence}` : '';
    const where = it.kind === 'entry' ? `${t('entry')}, ${pageNo.toLowerCase()}` : it.kind === 'page' ? pageNo : t('book');
    const source = it.kind === 'entry' && it.entrySource ? tx('es_', it.entrySource) : null;
    // An entry is shown by its crop on the page: a keyed entry's box is its verified zone's, an OCR'd one's its line's.
    const image = show === 'record' && it.imageHref
      ? apiImage(it.imageHref, source ? `${where} (${source})` : where, { class: 'crop', width: '320', ...(it.kind === 'entry' ? { 'data-testid': 'linked-entry-crop' } : {}) })
      : null;
    // The crop is a strip beside the record: it can be enlarged in place to read the handwriting.
    const enlarge = image ? h('button', {
      type: 'button', class: 'secondary small', 'aria-pressed': 'false', 'data-testid': 'enlarge-crop',
      onclick: (e: Event) => {
        const big = image.classList.toggle('large');
        const b = e.currentTarget as HTMLElement;
        b.setAttribute('aria-pressed', String(big));
        b.textContent = t(big ? 'vwShrink' : 'vwEnlarge');
      },
    }, t('vwEnlarge')) : null;
    // Opened from a record, the viewer zooms onto the entry's box and leads back to the record.
    const pageHref = it.pageSequence
      ? `#/view/${it.bookId}/${it.pageSequence}${show === 'record' ? `?${new URLSearchParams({ record: l.record.id, ...(it.box ? { box: `${it.box.x0},${it.box.y0},${it.box.x1},${it.box.y1}` } : {}) })}` : ''}`
      : bookHref(it.bookId);
    return h('li', { class: show === 'record' ? 'card linked-item' : '', ...(it.entrySource ? { 'data-source': it.entrySource } : {}) },
      image, enlarge,
      source ? h('span', { class: 'badge', 'data-testid': 'entry-source' }, source) : null,
      h('span', null,
        show === 'item'
          ? h('a', { href: `#/records/${l.record.id}` }, recordLabel(l.record))
          : pageHref ? h('a', { href: pageHref, 'data-testid': 'open-on-page' }, it.box ? `${where} – ${t('vwOpenOnPage')}` : where) : h('span', null, where),
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

/** A proposal of GET /books/{id}/link-proposals. */
interface Proposal {
  entryId: string;
  page: number;
  entryNumber: string | null;
  query: { surname: string; givenName: string; father: string | null; eventDate: string | null };
  candidate: { record: RegistryRecord; score: number; reasons: string[] };
  runnerUpScore: number | null;
}
interface Proposals { considered: number; proposals: Proposal[]; notProposed: Record<string, number>; nextCursor: string | null }
interface BulkReport { linked: { entryId: string }[]; refused: { entryId: string; error: string }[] }

/**
 * Records managers: the book's verified keyed entries whose best registry record is strong and
 * unique, each with its crop beside the record proposed; the ticked ones are linked in one go (the
 * server checks each again).
 */
export function linkProposalsPanel(bookId: string): HTMLElement {
  const msg = notice();
  const rows = h('tbody');
  const summary = h('p', { class: 'hint', 'data-testid': 'proposals-summary' });
  const more = h('button', { type: 'button', class: 'secondary', hidden: true }, t('lpMore'));
  let cursor: string | null = null;
  let shown = 0;
  let leftOut = 0;
  const row = (p: Proposal) => {
    const who = [p.query.givenName, p.query.surname].filter(Boolean).join(' ');
    const box = h('input', { type: 'checkbox', name: 'accept', value: `${p.entryId}|${p.candidate.record.id}`, checked: true, 'aria-label': `${t('lpAccept')}: ${who}` });
    return h('tr', { 'data-testid': 'proposal' },
      h('td', null, box),
      h('td', null, apiImage(`/entries/${p.entryId}/image?width=480`, who, { class: 'crop', width: '320' }),
        h('div', null, h('strong', null, who), p.query.father ? ` · ${p.query.father}` : '', ` · ${t('page')} ${p.page}${p.entryNumber ? ` · #${p.entryNumber}` : ''}${p.query.eventDate ? ` · ${p.query.eventDate}` : ''}`)),
      h('td', null, h('a', { href: `#/records/${p.candidate.record.id}` }, recordLabel(p.candidate.record)), h('small', { class: 'hint' }, h('br'), p.candidate.reasons.join('; '))),
      h('td', null, p.candidate.score.toFixed(2)),
      h('td', null, p.runnerUpScore === null ? '–' : p.runnerUpScore.toFixed(2)));
  };
  const load = async (reset: boolean) => {
    if (reset) { cursor = null; shown = 0; leftOut = 0; rows.replaceChildren(); }
    const r = await get<Proposals>(`/books/${bookId}/link-proposals`, { limit: 200, cursor });
    for (const p of r.proposals) rows.append(row(p));
    shown += r.proposals.length;
    leftOut += Object.values(r.notProposed).reduce((a, b) => a + b, 0);
    cursor = r.nextCursor;
    more.hidden = !cursor;
    summary.textContent = shown === 0 && !cursor ? t('lpNone') : `${shown} · ${t('lpLeftOut')}: ${leftOut}`;
  };
  more.addEventListener('click', () => void load(false).catch((e) => msg.fail(e)));
  const form = h('form', {
    'aria-labelledby': 'lp-title',
    onsubmit: async (e: Event) => {
      e.preventDefault();
      const links = [...rows.querySelectorAll<HTMLInputElement>('input[name=accept]:checked')].map((b) => {
        const [entryId, recordId] = b.value.split('|');
        return { entryId, recordId };
      });
      if (links.length === 0) return;
      try {
        const r = await api<BulkReport>('POST', `/books/${bookId}/links/bulk`, { links });
        msg.ok(`${t('lpLinked')}: ${r.linked.length}${r.refused.length ? ` · ${t('lpRefused')}: ${r.refused.length} (${r.refused.map((x) => x.error).join('; ')})` : ''}`);
        await load(true);
      } catch (err) {
        msg.fail(err);
      }
    },
  },
  h('table', null,
    h('thead', null, h('tr', null, [h('span', { class: 'visually-hidden' }, t('lpAccept')), t('lpEntry'), t('lpRecord'), t('score'), t('lpRunnerUp')].map((c) => h('th', { scope: 'col' }, c)))),
    rows),
  h('div', { class: 'row' }, h('button', { type: 'submit' }, t('lpLinkSelected')), more));
  const panel = h('section', { class: 'card', 'data-testid': 'link-proposals' }, h('h1', { id: 'lp-title' }, t('lpTitle')), h('p', { class: 'hint' }, t('lpHint')), summary, msg, form);
  void load(true).catch((e) => msg.fail(e));
  return panel;
}

/** Records managers: the link proposals of one book (`/link-proposals/:bookId`). */
export function linkProposalsView({ el, params }: ViewContext): void {
  const bookId = params.bookId ?? '';
  if (!/^[0-9a-f-]{36}$/i.test(bookId)) return replace(el, h('p', null, t('noResults')));
  replace(el, h('p', { class: 'crumbs' }, h('a', { href: '#/keying/progress' }, t('keyingProgress')), ' › '), linkProposalsPanel(bookId));
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
  }, h('div', { class: 'row grow' }, field(t('name'), name), field(t('recordId'), recordId), h('button', { type: 'submit' }, t('search')))), results,
  h('div', { class: 'two' }, newRecordForm(), importRecordsForm()));
  if (!query.get('name') && !query.get('recordId')) return;
  const { records } = await get<{ records: RegistryRecord[] }>('/records', { name: query.get('name'), recordId: query.get('recordId'), limit: 50 });
  replace(results, records.length === 0 ? h('p', null, t('noResults')) : h('table', null,
    h('thead', null, h('tr', null, [t('recordId'), t('names'), t('eventDate'), t('municipality')].map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', null, records.map((r) => h('tr', null,
      h('th', { scope: 'row' }, h('a', { href: `#/records/${r.id}` }, `${r.system}/${r.recordType}/${r.recordId}`)),
      h('td', null, r.personNames.join(', ')), h('td', null, r.eventDate ?? '–'), h('td', null, r.municipality ?? '–'))))));
}

interface ImportReport { created: number; updated: number; errors: { row: number; error: string }[] }

/** The outcome of an import in words, with each refused row and why. */
function reportText(r: ImportReport): HTMLElement {
  return h('div', { 'data-testid': 'import-report' },
    h('p', null, `${t('recImportDone')}: ${r.created} ${t('recImportNew')}, ${r.updated} ${t('recImportUpdated')}${r.errors.length ? `, ${r.errors.length} ${t('recImportErrors')}` : ''}.`),
    r.errors.length ? h('ul', { class: 'fail' }, r.errors.slice(0, 50).map((e) => h('li', null, `${t('recRow')} ${e.row}: ${e.error}`))) : null);
}

/** Creating one registry record by hand (the import of one row: same checks, same audit event). */
function newRecordForm(): HTMLElement {
  const msg = notice();
  const system = h('input', { name: 'system', required: true, maxlength: '200', value: 'civil-registry' });
  const recordType = h('input', { name: 'recordType', required: true, maxlength: '200', list: 'record-types' });
  const recordNo = h('input', { name: 'newRecordId', required: true, maxlength: '200' });
  const names = h('textarea', { name: 'personNames', rows: '3', required: true });
  const date = h('input', { name: 'eventDate', type: 'date' });
  const muni = h('input', { name: 'municipality', maxlength: '200' });
  const result = h('div', { 'aria-live': 'polite' });
  const form: HTMLFormElement = h('form', {
    class: 'card', 'aria-labelledby': 'new-record-title', 'data-testid': 'new-record',
    onsubmit: async (e: Event) => {
      e.preventDefault();
      msg.clear();
      result.replaceChildren();
      const rec = {
        system: system.value.trim(), recordType: recordType.value.trim(), recordId: recordNo.value.trim(),
        personNames: names.value.split('\n').map((n) => n.trim()).filter(Boolean), eventDate: date.value || null, municipality: muni.value.trim() || null,
      };
      try {
        const r = await api<ImportReport>('POST', '/records/import', { records: [rec] });
        if (r.errors.length) return replace(result, reportText(r));
        const { records } = await get<{ records: RegistryRecord[] }>('/records', { system: rec.system, recordId: rec.recordId, limit: 5 });
        const saved = records.find((x) => x.recordType === rec.recordType && x.recordId === rec.recordId);
        replace(result, h('p', { class: 'notice ok' }, `${t('recCreated')}: `, saved ? h('a', { href: `#/records/${saved.id}` }, recordLabel(saved)) : rec.recordId));
        form.reset();
      } catch (err) {
        msg.fail(err);
      }
    },
  }, h('h2', { id: 'new-record-title' }, t('recNew')),
  h('datalist', { id: 'record-types' }, REGISTER_TYPES.filter((x) => x !== 'other').map((x) => h('option', { value: x }))),
  h('div', { class: 'grid' }, field(t('recSystem'), system), field(t('recType'), recordType), field(t('recId'), recordNo), field(t('recDate'), date), field(t('municipality'), muni)),
  field(t('recNames'), names), h('button', { type: 'submit' }, t('recCreate')), msg, result);
  return form;
}

/** Importing registry records from a CSV file. */
function importRecordsForm(): HTMLElement {
  const msg = notice();
  const file = h('input', { name: 'csv', type: 'file', accept: '.csv,text/csv', required: true });
  const result = h('div', { 'aria-live': 'polite' });
  return h('form', {
    class: 'card', 'aria-labelledby': 'import-records-title', 'data-testid': 'import-records',
    onsubmit: async (e: Event) => {
      e.preventDefault();
      msg.clear();
      result.replaceChildren();
      const f = file.files?.[0];
      if (!f) return msg.fail(new Error(t('noFile')));
      try {
        replace(result, reportText(await sendText<ImportReport>('POST', '/records/import', await f.text(), 'text/csv')));
        file.value = '';
      } catch (err) {
        msg.fail(err);
      }
    },
  }, h('h2', { id: 'import-records-title' }, t('recImport')), field(t('file'), file, t('recImportHint')), h('button', { type: 'submit' }, t('upload')), msg, result);
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
