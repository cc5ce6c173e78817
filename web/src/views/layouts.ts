import { api, get, session } from '../api.ts';
import { field, h, replace, select, when } from '../dom.ts';
import { currentLang, t, tx } from '../i18n.ts';
import { go, type ViewContext } from '../router.ts';
import { notice, typeLabel } from '../widgets.ts';
import { KEYING_FIELDS, REGISTER_TYPES } from '../../../common/vocabulary.ts';

/** A layout column as the API gives and takes it. */
interface Column {
  key: string;
  field: string;
  label?: { sq?: string; sr?: string };
}

/** A version of a register layout, as GET /keying/layouts gives it. */
interface Layout {
  key: string;
  version: number;
  name: string;
  registerType: string;
  yearFrom: number | null;
  yearTo: number | null;
  columns: Column[];
  changeReason: string;
  createdBy: string;
  createdAt: string;
  supersededAt: string | null;
}

const years = (l: Pick<Layout, 'yearFrom' | 'yearTo'>) => (l.yearFrom === null && l.yearTo === null ? t('layoutAnyYear') : `${l.yearFrom ?? '…'}–${l.yearTo ?? '…'}`);
const columnText = (c: Column) => `${c.key} (${tx('kf_', c.field)})`;
const canEdit = () => (session.user?.roles ?? []).some((r) => r === 'records_manager' || r === 'admin');

/** Register layouts: the current version of each, and a new layout. */
export async function layoutsView(ctx: ViewContext): Promise<void> {
  const { el } = ctx;
  const { layouts } = await get<{ layouts: Layout[] }>('/keying/layouts');
  const formArea = h('div');
  const msg = notice();
  replace(el,
    h('div', { class: 'row between' }, h('h1', null, t('layouts')),
      canEdit() ? h('button', { type: 'button', onclick: () => { replace(formArea, layoutForm(null, msg, (l) => go(`/layouts/${encodeURIComponent(l.key)}`))); formArea.querySelector('input')?.focus(); } }, t('layoutNew')) : null),
    h('p', { class: 'hint' }, t('layoutsHint')),
    msg, formArea,
    layouts.length === 0 ? h('p', null, t('none')) : h('table', { class: 'layouts', 'data-testid': 'layouts' },
      h('thead', null, h('tr', null, [t('layoutKey'), t('name'), t('registerType'), t('period'), t('version'), t('layoutColumns'), t('created')].map((x) => h('th', { scope: 'col' }, x)))),
      h('tbody', null, layouts.map((l) => h('tr', null,
        h('th', { scope: 'row' }, h('a', { href: `#/layouts/${encodeURIComponent(l.key)}` }, l.key)),
        h('td', null, l.name), h('td', null, typeLabel(l.registerType)), h('td', null, years(l)), h('td', null, `v${l.version}`),
        h('td', null, l.columns.map((c) => c.key).join(', ')), h('td', null, `${when(l.createdAt, currentLang())} · ${l.createdBy}`))))));
}

/** One layout: every version with its columns and reason, and the form for the next version. */
export async function layoutView(ctx: ViewContext): Promise<void> {
  const { el, params } = ctx;
  const key = params.key!;
  const msg = notice();
  const formArea = h('div');
  const history = h('div');
  const load = async () => {
    const { layouts } = await get<{ layouts: Layout[] }>(`/keying/layouts/${encodeURIComponent(key)}/versions`);
    const current = layouts[layouts.length - 1]!;
    replace(history, h('h2', null, t('versions')),
      h('table', { class: 'versions', 'data-testid': 'layout-versions' },
        h('thead', null, h('tr', null, [t('version'), t('name'), t('period'), t('layoutColumns'), t('changeReason'), t('changedBy')].map((x) => h('th', { scope: 'col' }, x)))),
        h('tbody', null, [...layouts].reverse().map((l) => h('tr', { class: l.supersededAt ? 'old' : null },
          h('th', { scope: 'row' }, `v${l.version}`, l.supersededAt ? null : [' ', h('span', { class: 'badge st-done' }, t('layoutCurrent'))]),
          h('td', null, l.name, h('br'), h('small', { class: 'hint' }, typeLabel(l.registerType))), h('td', null, years(l)),
          h('td', null, h('ol', { class: 'layout-cols' }, l.columns.map((c) => h('li', null, columnText(c), c.label?.sq || c.label?.sr ? h('small', { class: 'hint' }, ` · ${[c.label.sq, c.label.sr].filter(Boolean).join(' / ')}`) : null)))),
          h('td', null, l.changeReason), h('td', null, l.createdBy, h('br'), h('small', { class: 'hint' }, when(l.createdAt, currentLang()))))))));
    if (canEdit()) replace(formArea, layoutForm(current, msg, async (l) => { msg.ok(`${t('layoutSaved')} v${l.version}`); await load(); }));
  };
  replace(el, h('p', { class: 'crumbs' }, h('a', { href: '#/layouts' }, t('layouts')), ' › ', key), h('h1', null, `${t('layout')} ${key}`), msg, formArea, history);
  await load();
}

/**
 * The form of a new layout (`base` null) or of the next version of `base`, prefilled with it:
 * columns are added, removed and reordered in place; the reason for the version is required.
 */
function layoutForm(base: Layout | null, msg: ReturnType<typeof notice>, saved: (l: Layout) => void | Promise<void>): HTMLElement {
  const keyIn = h('input', { name: 'key', required: true, maxlength: '100', pattern: '[a-z0-9][a-z0-9._\\-]*', value: base?.key ?? '', readonly: base !== null });
  const nameIn = h('input', { name: 'name', required: true, maxlength: '200', value: base?.name ?? '' });
  const typeIn = select('registerType', REGISTER_TYPES.map((x) => [x, typeLabel(x)] as const), base?.registerType ?? 'birth');
  const fromIn = h('input', { name: 'yearFrom', type: 'number', min: '1000', max: '9999', value: base?.yearFrom ?? '' });
  const toIn = h('input', { name: 'yearTo', type: 'number', min: '1000', max: '9999', value: base?.yearTo ?? '' });
  const reasonIn = h('textarea', { name: 'changeReason', required: true, maxlength: '1000', rows: '2' });
  let columns: Column[] = base ? base.columns.map((c) => ({ ...c, label: { ...c.label } })) : [{ key: 'entryNumber', field: 'entry_number' }];
  const rows = h('tbody');
  const table = h('table', { class: 'columns-edit', 'data-testid': 'columns-edit' },
    h('caption', { class: 'visually-hidden' }, t('layoutColumns')),
    h('thead', null, h('tr', null, ['#', t('layoutColKey'), t('layoutColField'), t('layoutLabelSq'), t('layoutLabelSr'), h('span', { class: 'visually-hidden' }, t('edit'))].map((x) => h('th', { scope: 'col' }, x)))),
    rows);

  // Rows are redrawn from `columns` after each add, removal or move; focus follows the moved row.
  const drawRows = (focus?: string) => {
    replace(rows, columns.map((c, i) => {
      const n = i + 1;
      const keyC = h('input', { name: `col-key-${n}`, 'aria-label': `${t('layoutColKey')} ${n}`, required: true, maxlength: '64', pattern: '[A-Za-z][A-Za-z0-9_]*', value: c.key, oninput: (e: Event) => { c.key = (e.target as HTMLInputElement).value.trim(); } });
      const fieldC = select(`col-field-${n}`, KEYING_FIELDS.map((f) => [f, tx('kf_', f)] as const), c.field, { 'aria-label': `${t('layoutColField')} ${n}`, onchange: (e: Event) => { c.field = (e.target as HTMLSelectElement).value; } });
      const label = (lang: 'sq' | 'sr', name: string) => h('input', { name: `col-${lang}-${n}`, 'aria-label': `${name} ${n}`, maxlength: '200', value: c.label?.[lang] ?? '', oninput: (e: Event) => { c.label = { ...c.label, [lang]: (e.target as HTMLInputElement).value }; } });
      const move = (d: -1 | 1, which: string) => () => {
        const j = i + d;
        [columns[i], columns[j]] = [columns[j]!, columns[i]!];
        drawRows(`${which}-${j + 1}`);
      };
      return h('tr', null, h('td', null, String(n)), h('td', null, keyC), h('td', null, fieldC), h('td', null, label('sq', t('layoutLabelSq'))), h('td', null, label('sr', t('layoutLabelSr'))),
        h('td', { class: 'col-actions' },
          h('button', { type: 'button', class: 'secondary small', id: `up-${n}`, disabled: i === 0, 'aria-label': `${t('layoutColUp')} ${n}`, onclick: move(-1, 'up') }, '↑'),
          h('button', { type: 'button', class: 'secondary small', id: `down-${n}`, disabled: i === columns.length - 1, 'aria-label': `${t('layoutColDown')} ${n}`, onclick: move(1, 'down') }, '↓'),
          h('button', { type: 'button', class: 'secondary small', disabled: columns.length === 1, 'aria-label': `${t('layoutColRemove')} ${n}`, onclick: () => { columns = columns.filter((_, j) => j !== i); drawRows(); } }, '✕')));
    }));
    if (focus) (document.getElementById(focus) as HTMLButtonElement | null)?.focus();
  };
  drawRows();

  const form = h('form', {
    class: 'card', 'aria-label': base ? `${t('layoutNextVersion')} v${base.version + 1}` : t('layoutNew'),
    onsubmit: async (e: Event) => {
      e.preventDefault();
      const num = (i: HTMLInputElement) => (i.value.trim() === '' ? null : Number(i.value));
      const body = {
        key: keyIn.value.trim(), name: nameIn.value.trim(), registerType: typeIn.value, yearFrom: num(fromIn), yearTo: num(toIn),
        columns: columns.map((c) => {
          const label = Object.fromEntries(Object.entries(c.label ?? {}).map(([k, v]) => [k, (v ?? '').trim()]).filter(([, v]) => v !== ''));
          return { key: c.key, field: c.field, ...(Object.keys(label).length ? { label } : {}) };
        }),
        changeReason: reasonIn.value.trim(),
      };
      if (!body.changeReason) { msg.fail(new Error(t('layoutReasonNeeded'))); reasonIn.focus(); return; }
      try {
        const r = await api<{ layout: Layout }>('POST', '/keying/layouts', body);
        await saved(r.layout);
      } catch (err) {
        msg.fail(err);
      }
    },
  },
  h('h2', null, base ? `${t('layoutNextVersion')} v${base.version + 1}` : t('layoutNew')),
  h('div', { class: 'row grow' }, field(t('layoutKey'), keyIn, base ? undefined : t('layoutKeyHint')), field(t('name'), nameIn), field(t('registerType'), typeIn)),
  h('div', { class: 'row grow' }, field(t('yearFrom'), fromIn), field(t('yearTo'), toIn)),
  h('h3', null, t('layoutColumns')), h('p', { class: 'hint' }, t('layoutColumnsHint')), table,
  h('p', null, h('button', { type: 'button', class: 'secondary', onclick: () => { columns.push({ key: '', field: 'other' }); drawRows(); rows.querySelector<HTMLInputElement>(`input[name=col-key-${columns.length}]`)?.focus(); } }, t('layoutColAdd'))),
  field(t('changeReason'), reasonIn),
  h('div', { class: 'row' }, h('button', { type: 'submit' }, t('save'))));
  return form;
}
