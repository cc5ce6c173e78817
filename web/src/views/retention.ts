import { api, download, get, session } from '../api.ts';
import { field, h, replace, select, when } from '../dom.ts';
import { currentLang, t, tx, type Key } from '../i18n.ts';
import { go, type ViewContext } from '../router.ts';
import { badge, confirmAction, notice, typeLabel } from '../widgets.ts';
import { bookHref, titleOrId, type BookTitle } from '../book-title.ts';
import { bookPicker } from './book-picker.ts';
import { DISPOSITION_ACTIONS, REGISTER_TYPES, RETENTION_TRIGGERS, RULE_KINDS, type RuleKind } from '../../../common/vocabulary.ts';

interface Rule {
  id: string; ruleKey: string; version: number; kind: RuleKind; name: string; registerType: string;
  municipality: string | null; yearFrom: number | null; yearTo: number | null; periodYears: number; periodMonths: number;
  permanent: boolean; trigger: string; triggerEvent: string | null; action: string | null; changeReason: string; createdBy: string; createdAt: string; supersededAt: string | null;
}
interface Hold { id: string; name: string; reason: string; authority: string; createdBy: string; createdAt: string; items: { bookId: string; pageId: string | null; book?: BookTitle | null }[] }
interface Due { bookId: string; registerType: string; municipality: string; yearFrom: number; yearTo: number; retainUntil: string; action: string; explanation: string; holds: { id: string; name: string }[]; closedUntil: string | null; blockedBy: string[] }
interface Batch { id: string; status: string; note: string | null; proposedBy: string; proposedAt: string; decidedBy: string | null; decidedAt: string | null; decisionNote: string | null; executedAt: string | null; items: { bookId: string; outcome: string; detail: string | null; book?: BookTitle | null; pageCount?: number | null }[] }
interface Intrusion { versionId: string; deleteMarker: boolean; size: number; appearedAt: string }
interface FixityRun {
  id: string; startedAt: string; finishedAt: string | null; checked: number; failed: number;
  // Runs stored before intrusions were told apart from damage have no `intrusions`.
  report: { ok: number; problems: { key: string; outcome: string; detail: string; bookId: string; intrusions?: Intrusion[] }[] } | null;
}

const TABS: [string, Key][] = [['rules', 'rules'], ['holds', 'holds'], ['due', 'due'], ['disposal', 'disposal'], ['fixity', 'fixity']];
const me = () => session.user?.username ?? '';

function period(r: Rule): string {
  if (r.permanent) return t('permanent');
  return [
    r.periodYears ? `${r.periodYears} ${t(r.periodYears === 1 ? 'oneYear' : 'nYears')}` : '',
    r.periodMonths ? `${r.periodMonths} ${t(r.periodMonths === 1 ? 'oneMonth' : 'nMonths')}` : '',
  ].filter(Boolean).join(' ') || '0';
}

function ruleForm(rule: Rule | null, onSaved: (saved: Rule, message: string) => void, flash = ''): HTMLElement {
  const msg = notice();
  if (flash) msg.ok(flash);
  const key = h('input', { name: 'ruleKey', required: true, pattern: '[a-z0-9][a-z0-9._\\-]*', maxlength: '100', value: rule?.ruleKey ?? '', readonly: Boolean(rule) });
  const kind = select('kind', RULE_KINDS.map((x) => [x, tx('k_', x)] as const), rule?.kind ?? 'retention');
  const name = h('input', { name: 'name', required: true, maxlength: '200', value: rule?.name ?? '' });
  const regType = select('registerType', REGISTER_TYPES.map((x) => [x, typeLabel(x)] as const), rule?.registerType ?? 'birth');
  const muni = h('input', { name: 'municipality', value: rule?.municipality ?? '' });
  const yFrom = h('input', { name: 'yearFrom', type: 'number', value: rule?.yearFrom ?? '' });
  const yTo = h('input', { name: 'yearTo', type: 'number', value: rule?.yearTo ?? '' });
  const years = h('input', { name: 'periodYears', type: 'number', min: '0', value: String(rule?.periodYears ?? 0) });
  const months = h('input', { name: 'periodMonths', type: 'number', min: '0', value: String(rule?.periodMonths ?? 0) });
  const permanent = h('input', { name: 'permanent', type: 'checkbox', id: 'rule-permanent', checked: rule?.permanent ?? false });
  const trigger = select('trigger', RETENTION_TRIGGERS.map((x) => [x, tx('t_', x)] as const), rule?.trigger ?? 'closing-year');
  const triggerEvent = h('input', { name: 'triggerEvent', value: rule?.triggerEvent ?? '' });
  const action = select('action', [['', '–'], ...DISPOSITION_ACTIONS.map((x) => [x, tx('a_', x)] as const)], rule?.action ?? 'review');
  const reason = h('input', { name: 'reason', required: true, maxlength: '1000' });
  const history = h('div', { class: 'versions' });
  if (rule) {
    void get<{ versions: Rule[] }>(`/ui-api/retention/rules/${rule.ruleKey}/versions`).then(({ versions }) => replace(history, h('h3', null, t('versions')),
      h('table', { 'data-testid': 'versions' }, h('thead', null, h('tr', null, [t('version'), t('name'), t('period'), t('action'), t('changeReason'), t('changedBy')].map((c) => h('th', { scope: 'col' }, c)))),
        h('tbody', null, versions.slice().reverse().map((v) => h('tr', { class: v.supersededAt ? 'old' : 'current' },
          h('th', { scope: 'row' }, `v${v.version}`), h('td', null, v.name), h('td', null, period(v)), h('td', null, v.action ? tx('a_', v.action) : '–'),
          h('td', null, v.changeReason), h('td', null, `${v.createdBy}, ${when(v.createdAt, currentLang())}`))))))).catch((e) => msg.fail(e));
  }
  const num = (i: HTMLInputElement) => (i.value.trim() === '' ? null : Number(i.value));
  return h('form', {
    class: 'card rule-form', 'aria-label': rule ? `${t('edit')} ${rule.ruleKey}` : t('newRule'),
    onsubmit: async (e: Event) => {
      e.preventDefault();
      try {
        const r = await api<{ rule: Rule; recomputed: string[] }>('PUT', `/retention/rules/${encodeURIComponent(key.value.trim())}`, {
          kind: kind.value, name: name.value.trim(), registerType: regType.value, municipality: muni.value.trim() || null, yearFrom: num(yFrom), yearTo: num(yTo),
          periodYears: Number(years.value || 0), periodMonths: Number(months.value || 0), permanent: permanent.checked, trigger: trigger.value,
          triggerEvent: triggerEvent.value.trim() || null, action: kind.value === 'closure' ? null : action.value || null, reason: reason.value.trim(),
        });
        onSaved(r.rule, `${t('ruleSaved')} ${r.recomputed.length}`);
      } catch (err) {
        msg.fail(err);
      }
    },
  }, h('h2', null, rule ? `${t('edit')}: ${rule.ruleKey} (v${rule.version})` : t('newRule')),
  h('div', { class: 'grid' }, field(t('ruleKey'), key), field(t('kind'), kind), field(t('name'), name), field(t('registerType'), regType), field(t('municipality'), muni),
    field(t('yearFrom'), yFrom), field(t('yearTo'), yTo), field(t('periodYears'), years), field(t('periodMonths'), months),
    h('div', { class: 'field check' }, permanent, h('label', { for: 'rule-permanent' }, t('permanent'))),
    field(t('trigger'), trigger), field(t('triggerEvent'), triggerEvent), field(t('action'), action)),
  field(t('changeReason'), reason), msg, h('div', { class: 'row' }, h('button', { type: 'submit' }, t('save'))), history);
}

async function rulesTab(el: HTMLElement): Promise<void> {
  const formArea = h('div');
  const table = h('div');
  // After a save the form shows the saved version, with its history.
  const saved = (r: Rule, message: string) => {
    void load();
    replace(formArea, ruleForm(r, saved, message));
  };
  const load = async () => {
    const { rules } = await get<{ rules: Rule[] }>('/retention/rules');
    replace(table, rules.length === 0 ? h('p', null, t('none')) : h('table', { 'data-testid': 'rules' },
      h('thead', null, h('tr', null, [t('ruleKey'), t('name'), t('kind'), t('registerType'), t('period'), t('trigger'), t('action'), t('version'), h('span', { class: 'visually-hidden' }, t('edit'))].map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', null, rules.map((r) => h('tr', null,
        h('th', { scope: 'row' }, r.ruleKey), h('td', null, r.name), h('td', null, tx('k_', r.kind)),
        h('td', null, `${typeLabel(r.registerType)}${r.municipality ? ` · ${r.municipality}` : ''}${r.yearFrom || r.yearTo ? ` · ${r.yearFrom ?? '…'}–${r.yearTo ?? '…'}` : ''}`),
        h('td', null, period(r)), h('td', null, tx('t_', r.trigger)), h('td', null, r.action ? tx('a_', r.action) : '–'), h('td', null, `v${r.version}`),
        h('td', null, h('button', { type: 'button', class: 'secondary small', onclick: () => { replace(formArea, ruleForm(r, saved)); formArea.scrollIntoView(); }, 'aria-label': `${t('edit')} ${r.ruleKey}` }, t('edit'))))))));
  };
  replace(el, h('div', { class: 'row between' }, h('h2', null, t('rules')), h('button', { type: 'button', onclick: () => replace(formArea, ruleForm(null, saved)) }, t('newRule'))), table, formArea);
  await load();
}

async function holdsTab(el: HTMLElement): Promise<void> {
  const msg = notice();
  const list = h('div');
  const load = async () => {
    const { holds } = await get<{ holds: Hold[] }>('/retention/holds');
    replace(list, holds.length === 0 ? h('p', null, t('none')) : h('ul', { class: 'holds' }, holds.map((x) => h('li', { class: 'card' },
      h('strong', null, x.name), h('p', null, `${x.reason} · ${t('authority')}: ${x.authority} · ${x.createdBy}, ${when(x.createdAt, currentLang())}`),
      h('p', null, `${t('items')}: `, x.items.map((i, k) => {
        // A link only where this role may open the book (or its tombstone); otherwise its title alone.
        const href = bookHref(i.bookId, { disposed: i.book?.disposed });
        const label = titleOrId(i.book, i.bookId);
        return [k ? ', ' : '', href ? h('a', { href, 'data-testid': 'hold-item' }, label) : h('span', { 'data-testid': 'hold-item' }, label), i.pageId ? ` (${t('page')})` : ''];
      })),
      h('button', {
        type: 'button', class: 'secondary small',
        onclick: async () => {
          const why = h('input', { name: 'releaseReason', required: true, maxlength: '2000' });
          const ok = await confirmAction({
            title: t('confirmRelease'), confirm: t('release'),
            body: [h('p', null, h('strong', null, x.name), ` · ${t('authority')}: ${x.authority}`),
              h('ul', null, x.items.map((i) => h('li', null, titleOrId(i.book, i.bookId), i.pageId ? ` (${t('page')})` : ''))),
              h('p', null, t('releaseWarn')), field(t('releaseReason'), why)],
          });
          if (!ok) return;
          try { await api('POST', `/retention/holds/${x.id}/release`, { reason: why.value.trim() }); await load(); } catch (e) { msg.fail(e); }
        },
      }, t('release'))))));
  };
  const name = h('input', { name: 'name', required: true, maxlength: '200' });
  const reason = h('input', { name: 'reason', required: true, maxlength: '2000' });
  const authority = h('input', { name: 'authority', required: true, maxlength: '200' });
  const picker = bookPicker({ legend: t('bpBooks'), id: 'hold-books' });
  replace(el, h('h2', null, t('holds')), msg, list, h('form', {
    class: 'card', 'aria-label': t('placeHold'),
    onsubmit: async (e: Event) => {
      e.preventDefault();
      const items = picker.selected().map((bookId) => ({ bookId }));
      if (items.length === 0) { msg.fail(new Error(t('bpChooseOne'))); picker.el.querySelector('input')?.focus(); return; }
      try {
        await api('POST', '/retention/holds', { name: name.value.trim(), reason: reason.value.trim(), authority: authority.value.trim(), items });
        (e.target as HTMLFormElement).reset();
        picker.clear();
        await load();
      } catch (err) { msg.fail(err); }
    },
  }, h('h3', null, t('placeHold')), h('div', { class: 'grid' }, field(t('name'), name), field(t('reason'), reason), field(t('authority'), authority)), picker.el,
  h('button', { type: 'submit' }, t('placeHold'))));
  await load();
}

async function dueTab(el: HTMLElement): Promise<void> {
  const msg = notice();
  const { due } = await get<{ due: Due[] }>('/retention/due');
  const note = h('input', { name: 'note', maxlength: '2000' });
  replace(el, h('h2', null, t('due')), msg, due.length === 0 ? h('p', null, t('none')) : h('form', {
    onsubmit: async (e: Event) => {
      e.preventDefault();
      const bookIds = [...el.querySelectorAll<HTMLInputElement>('input[name=due]:checked')].map((i) => i.value);
      if (!bookIds.length) return;
      try {
        await api('POST', '/disposal/batches', { bookIds, ...(note.value.trim() ? { note: note.value.trim() } : {}) });
        msg.ok(t('batchProposed'));
        go('/retention/disposal');
      } catch (err) { msg.fail(err); }
    },
  }, h('table', { 'data-testid': 'due' },
    h('thead', null, h('tr', null, [h('span', { class: 'visually-hidden' }, t('propose')), t('books'), t('retainUntil'), t('action'), t('reason'), t('blockedBy')].map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', null, due.map((d) => {
      const blocked = d.blockedBy.length > 0 || d.action !== 'destroy';
      return h('tr', { class: blocked ? 'blocked' : '' },
        h('td', null, h('input', { type: 'checkbox', name: 'due', value: d.bookId, id: `due-${d.bookId}`, disabled: blocked, 'aria-label': `${d.municipality} ${d.yearFrom}` })),
        h('th', { scope: 'row' }, h('label', { for: `due-${d.bookId}` }, `${typeLabel(d.registerType)} · ${d.municipality} · ${d.yearFrom}${d.yearTo !== d.yearFrom ? `–${d.yearTo}` : ''}`), h('br'), h('small', null, d.bookId)),
        h('td', null, d.retainUntil), h('td', null, tx('a_', d.action)), h('td', null, d.explanation),
        h('td', null, [...d.holds.map((x) => `${t('holds')}: ${x.name}`), d.closedUntil ? `${tx('k_', 'closure')} → ${d.closedUntil}` : ''].filter(Boolean).join('; ') || '–'));
    }))),
  h('div', { class: 'row' }, field(t('note'), note), h('button', { type: 'submit' }, t('propose')))));
}

async function disposalTab(el: HTMLElement): Promise<void> {
  const msg = notice();
  const list = h('div');
  const act = async (b: Batch, what: 'approve' | 'reject' | 'execute') => {
    if (what === 'execute' && !(await confirmExecute(b))) return;
    try {
      await api('POST', `/disposal/batches/${b.id}/${what}`, {});
      await load();
    } catch (e) { msg.fail(e); }
  };
  const load = async () => {
    const { batches } = await get<{ batches: Batch[] }>('/ui-api/disposal/batches');
    replace(list, batches.length === 0 ? h('p', null, t('none')) : h('ul', { class: 'batches' }, batches.map((b) => {
      const mine = b.proposedBy.trim().toLowerCase() === me().trim().toLowerCase();
      return h('li', { class: 'card', 'data-batch': b.id },
        h('div', { class: 'row between' }, h('strong', null, `${t('batch')} `, h('code', { 'data-testid': 'batch-ref' }, batchRef(b)), ' ', badge(b.status, 'b_')), h('small', null, `${t('proposedBy')} ${b.proposedBy}, ${when(b.proposedAt, currentLang())}${b.decidedBy ? ` · ${t('decidedBy')} ${b.decidedBy}, ${when(b.decidedAt, currentLang())}` : ''}`)),
        b.note ? h('p', null, b.note) : null,
        h('ul', { class: 'batch-items' }, b.items.map((i) => h('li', null, batchItemTitle(i), ' ', h('small', null, h('code', null, i.bookId.slice(0, 8))), ' · ', h('span', { 'data-testid': 'item-outcome', 'data-outcome': i.outcome }, tx('io_', i.outcome)), i.detail ? ` (${i.detail})` : '',
          i.outcome === 'disposed' ? [' ', h('a', { href: `#/disposal/certificates/${i.bookId}`, 'data-testid': 'certificate-link' }, t('certificate')), ' ',
            h('a', { href: `/disposal/certificates/${i.bookId}/pdf`, download: `disposal-certificate-${i.bookId}.pdf`, 'aria-label': `${t('certPdf')}: ${titleOrId(i.book, i.bookId)}` }, 'PDF')] : null))),
        b.status === 'proposed' ? (mine ? h('p', { class: 'hint' }, t('fourEyes')) : h('div', { class: 'row' },
          h('button', { type: 'button', onclick: () => act(b, 'approve') }, t('approve')), h('button', { type: 'button', class: 'secondary', onclick: () => act(b, 'reject') }, t('reject')))) : null,
        b.status === 'approved' || b.status === 'executing' ? h('button', { type: 'button', class: 'danger', onclick: () => act(b, 'execute') }, t('execute')) : null);
    })));
  };
  replace(el, h('h2', null, t('disposal')), msg, list);
  await load();
}

/** The reference people read and type for a batch: the start of its id, as its card shows it. */
function batchRef(b: Batch): string {
  return b.id.slice(0, 8);
}

/** Asks to confirm a batch's execution, naming each book to be destroyed and its pages; the reference must be typed. */
function confirmExecute(b: Batch): Promise<boolean> {
  const doomed = b.items.filter((i) => i.outcome !== 'disposed');
  return confirmAction({
    title: t('confirmExecute'), confirm: t('destroyForGood'), typeToConfirm: batchRef(b),
    body: [
      h('p', null, `${t('batch')} `, h('code', null, batchRef(b)), ` · ${t('proposedBy')} ${b.proposedBy}${b.decidedBy ? ` · ${t('decidedBy')} ${b.decidedBy}` : ''}`),
      h('ul', { class: 'doomed', 'data-testid': 'doomed' }, doomed.map((i) => h('li', null, h('strong', null, titleOrId(i.book, i.bookId)),
        ` · ${i.pageCount ?? '?'} ${t('nPages')}`, i.book ? null : ` (${t('bookGone')})`))),
      h('p', { class: 'warn' }, t('executeWarn')),
    ],
  });
}

/** A batch item by its book's title, linked where the role may open the book or its tombstone. */
function batchItemTitle(i: { bookId: string; book?: BookTitle | null }): HTMLElement {
  const href = bookHref(i.bookId, { disposed: i.book?.disposed });
  const label = titleOrId(i.book, i.bookId);
  return href ? h('a', { href, 'data-testid': 'batch-item' }, label) : h('span', { 'data-testid': 'batch-item' }, label);
}

/** A version or delete marker written above a recorded version by someone else, in words. */
function intrusionLine(i: Intrusion): string {
  const what = i.deleteMarker ? t('deleteMarker') : `${t('foreignVersion')} (${i.size} ${t('bytes')})`;
  return `${what} ${i.versionId}, ${t('writtenAt')} ${when(i.appearedAt, currentLang())}; ${t('keptAsEvidence')}`;
}

async function fixityTab(el: HTMLElement): Promise<void> {
  const msg = notice();
  const list = h('div');
  const bookId = h('input', { name: 'bookId', pattern: '[0-9a-fA-F-]{36}' });
  const load = async () => {
    const { runs } = await get<{ runs: FixityRun[] }>('/ui-api/fixity/runs');
    replace(list, runs.length === 0 ? h('p', null, t('none')) : h('table', { 'data-testid': 'fixity' },
      h('thead', null, h('tr', null, [t('started'), t('checked'), t('ok'), t('problems')].map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', null, runs.map((r) => h('tr', null, h('th', { scope: 'row' }, when(r.startedAt, currentLang())), h('td', null, String(r.checked)), h('td', null, String(r.report?.ok ?? r.checked - r.failed)),
        h('td', { class: r.failed ? 'fail' : '' }, r.failed === 0 ? '0' : h('ul', null, (r.report?.problems ?? []).map((p) => h('li', null, `${tx('fx_', p.outcome)}: ${p.key} – ${p.detail}`,
          p.intrusions?.length ? h('ul', null, p.intrusions.map((i) => h('li', { 'data-testid': 'intrusion' }, intrusionLine(i)))) : null)))))))));
  };
  const run = async (body: Record<string, unknown>) => {
    msg.ok(t('loading'));
    try { const r = await api<{ checked: number; ok: number }>('POST', '/fixity/runs', body); msg.ok(`${t('checked')} ${r.checked}, ${t('ok')} ${r.ok}`); await load(); } catch (e) { msg.fail(e); }
  };
  replace(el, h('h2', null, t('fixity')), h('div', { class: 'row' }, h('button', { type: 'button', onclick: () => run({ all: true }) }, t('runFixity')),
    field(t('bookId'), bookId), h('button', { type: 'button', class: 'secondary', onclick: () => bookId.value.trim() && run({ bookId: bookId.value.trim() }) }, t('runFixityBook'))), msg, list);
  await load();
}

interface CertificateAnswer {
  bookId: string;
  status: string;
  certificate: { content: Record<string, unknown>; sha256: string } | null;
  certificateValid: boolean | null;
}

/** Reads a field of the certificate's JSON, or '–' (older certificates may lack some). */
function certField(o: unknown, ...path: string[]): string {
  let v: unknown = o;
  for (const k of path) v = v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined;
  return v === undefined || v === null || v === '' ? '–' : String(v);
}

/** A disposed book's certificate as a page people can read, with its PDF (signed content attached) and JSON to download. */
export async function certificateView({ el, params }: ViewContext): Promise<void> {
  const bookId = params.bookId!;
  const msg = notice();
  const r = await get<CertificateAnswer>(`/disposal/certificates/${bookId}`);
  const c = r.certificate?.content;
  const book = (c?.book ?? null) as (BookTitle & { pageCount?: number; sourceSha256?: string }) | null;
  const row = (k: string, v: string | HTMLElement) => h('tr', null, h('th', { scope: 'row' }, k), h('td', null, v));
  const objects = Array.isArray(c?.objects) ? c.objects.length : 0;
  replace(el,
    h('p', { class: 'crumbs' }, h('a', { href: '#/retention/disposal' }, t('disposal')), ' › ', t('certTitle')),
    h('h1', null, `${t('certTitle')}: ${titleOrId(book, bookId)}`),
    msg,
    !r.certificate ? h('p', null, t('certNone')) : [
      h('p', { class: r.certificateValid ? 'notice ok' : 'notice fail', 'data-testid': 'cert-valid' }, r.certificateValid ? t('certValid') : t('certInvalid')),
      h('table', { class: 'data cert', 'data-testid': 'certificate' }, h('tbody', null,
        row(t('book'), titleOrId(book, bookId)),
        row(t('bookId'), h('code', null, bookId)),
        h('tr', null, h('th', { scope: 'row' }, t('pages')), h('td', { 'data-testid': 'cert-pages' }, certField(book, 'pageCount'))),
        row(t('disposedAt'), when(certField(c, 'disposedAt'), currentLang())),
        row(t('certRule'), `${certField(c, 'rule', 'rule_key')} v${certField(c, 'rule', 'version')} – ${certField(c, 'rule', 'name')}`),
        row(t('retainUntil'), certField(c, 'retention', 'retainUntil')),
        row(t('certApprovals'), `${t('batch')} ${certField(c, 'approvals', 'batchId').slice(0, 8)} · ${t('proposedBy')} ${certField(c, 'approvals', 'proposedBy')} · ${t('decidedBy')} ${certField(c, 'approvals', 'approvedBy')}`),
        row(t('certObjects'), String(objects)),
        row(t('certVersions'), certField(c, 'storeVersionsDeleted')),
        row(t('certSha'), h('code', null, r.certificate.sha256)))),
      h('div', { class: 'row' },
        // A plain link: the session cookie is all the certificate routes need, and the browser saves the PDF itself.
        h('a', { class: 'button', href: `/disposal/certificates/${bookId}/pdf`, download: `disposal-certificate-${bookId}.pdf`, 'data-testid': 'cert-pdf' }, t('certPdf')),
        h('button', { type: 'button', class: 'secondary', onclick: () => void download(`/disposal/certificates/${bookId}`, `disposal-certificate-${bookId}.json`).catch((e) => msg.fail(e)) }, t('certJson'))),
    ]);
}

/** Records managers: rules, holds, due list, disposal, fixity. */
export async function retentionView({ el, params }: ViewContext): Promise<void> {
  const tab = params.tab ?? 'rules';
  const body = h('div', { class: 'tab-body' });
  replace(el, h('h1', null, t('retention')),
    h('nav', { class: 'tabs', 'aria-label': t('retention') }, h('ul', null, TABS.map(([k, label]) => h('li', null, h('a', { href: `#/retention/${k}`, 'aria-current': k === tab ? 'page' : false }, t(label)))))),
    body);
  const tabs: Record<string, (el: HTMLElement) => Promise<void>> = { rules: rulesTab, holds: holdsTab, due: dueTab, disposal: disposalTab, fixity: fixityTab };
  await (tabs[tab] ?? rulesTab)(body);
}
