import { ApiError, get } from '../api.ts';
import { field, h, replace, when } from '../dom.ts';
import { currentLang, t } from '../i18n.ts';
import { go, type ViewContext } from '../router.ts';
import { bookHref, titleOrId, type BookTitle } from '../book-title.ts';
import { errorContent, errorText } from '../widgets.ts';

interface AuditEvent { seq: number; at: string; actor: string; action: string; targetType: string | null; targetId: string | null; from: string | null; purpose: string | null; outcome: string; book?: BookTitle | null }
interface ChainReport { ok: boolean; checked: number; head: { seq: number; hash: string } | null; broken: { seq: number; reason: string } | null; anchor: { seq: number; at: string } | null }

/** Where the audit API lives (built with authentication). */
export const AUDIT_EVENTS = '/audit/events';
export const AUDIT_VERIFY = '/audit/verify';

/** Events per page of the trail: the newest first, then older ones on demand. */
const PAGE = 100;

/**
 * An event's target: a book by its title (auditors may open a disposed book's tombstone, no
 * other book screen), anything else by its type and id.
 */
function target(ev: AuditEvent): HTMLElement | string {
  if (!ev.targetType) return '–';
  if (ev.targetType === 'book' && ev.targetId && ev.book) {
    const href = bookHref(ev.targetId, { disposed: ev.book.disposed });
    const label = titleOrId(ev.book, ev.targetId);
    return h('span', { 'data-testid': 'audit-book' }, href ? h('a', { href }, label) : label, ' ', h('small', null, h('code', null, ev.targetId.slice(0, 8))));
  }
  return `${ev.targetType} ${ev.targetId ?? ''}`;
}

/** The filter's choices: each category (`book.*`, every event whose name starts `book.`) with its names under it. */
function actionOptions(actions: { action: string; count: number }[]): HTMLElement[] {
  const byCategory = new Map<string, { action: string; count: number }[]>();
  for (const a of actions) {
    const cat = a.action.includes('.') ? a.action.slice(0, a.action.indexOf('.')) : a.action;
    byCategory.set(cat, [...(byCategory.get(cat) ?? []), a]);
  }
  return [...byCategory].map(([cat, list]) => h('optgroup', { label: cat },
    list.length > 1 || list[0]!.action !== cat ? h('option', { value: `${cat}.*` }, `${cat}.* – ${t('auAllOf')} (${list.reduce((n, a) => n + a.count, 0)})`) : null,
    list.map((a) => h('option', { value: a.action }, `${a.action} (${a.count})`))));
}

/** Auditors: the audit trail with filters and the chain's verification. */
export async function auditView({ el, query }: ViewContext): Promise<void> {
  const actor = h('input', { name: 'actor', value: query.get('actor') ?? '' });
  // Chosen from the names in the trail and their categories (`book.*`), never typed exactly.
  const action = h('select', { name: 'action', 'data-testid': 'audit-action' }, h('option', { value: '' }, t('auAnyEvent')),
    query.get('action') ? h('option', { value: query.get('action')! }, query.get('action')!) : null);
  action.value = query.get('action') ?? '';
  void get<{ actions: { action: string; count: number }[] }>('/audit/actions').then(({ actions }) => {
    const chosen = action.value;
    replace(action, h('option', { value: '' }, t('auAnyEvent')), actionOptions(actions));
    action.value = chosen;
  }, () => undefined);
  const targetType = h('input', { name: 'targetType', value: query.get('targetType') ?? '' });
  const targetId = h('input', { name: 'targetId', value: query.get('targetId') ?? '' });
  const chain = h('section', { class: 'chain', 'aria-live': 'polite', 'data-testid': 'chain' }, t('loading'));
  const table = h('section');
  replace(el, h('h1', null, t('audit')), chain, h('form', {
    class: 'card', role: 'search',
    onsubmit: (e: Event) => {
      e.preventDefault();
      const qs = new URLSearchParams();
      for (const i of [actor, action, targetType, targetId]) if (i.value.trim()) qs.set(i.name, i.value.trim());
      go(`/audit?${qs}`);
    },
  }, h('div', { class: 'grid' }, field(t('actor'), actor), field(t('eventKind'), action), field(t('target'), targetType), field('ID', targetId)), h('button', { type: 'submit' }, t('filter'))), table);

  const unavailable = (e: unknown) => {
    if (e instanceof ApiError && (e.status === 404 || e.status === 501)) {
      replace(el, h('h1', null, t('audit')), h('p', { class: 'notice warn', role: 'status', 'data-testid': 'audit-unavailable' }, t('auditUnavailable')));
      return true;
    }
    return false;
  };
  try {
    const r = await get<ChainReport>(AUDIT_VERIFY);
    replace(chain, h('p', { class: r.ok ? 'notice ok' : 'notice fail' }, h('strong', null, `${t('chain')}: ${r.ok ? t('chainOk') : t('chainBroken')}`),
      ` · ${t('checked')} ${r.checked}${r.head ? ` · head #${r.head.seq} ${r.head.hash.slice(0, 12)}…` : ''}${r.broken ? ` · #${r.broken.seq}: ${r.broken.reason}` : ''}${r.anchor ? ` · anchor #${r.anchor.seq} ${when(r.anchor.at, currentLang())}` : ''}`));
  } catch (e) {
    if (unavailable(e)) return;
    replace(chain, h('p', { class: 'notice fail' }, `${t('chain')}: ${errorText(e)}`));
  }
  const filters: Record<string, string> = {};
  for (const k of ['actor', 'action', 'targetType', 'targetId']) if (query.get(k)) filters[k] = query.get(k)!;
  const row = (ev: AuditEvent) => h('tr', null, h('th', { scope: 'row' }, String(ev.seq)), h('td', null, when(ev.at, currentLang())), h('td', null, ev.actor),
    h('td', null, h('code', null, ev.action)), h('td', null, target(ev)), h('td', null, ev.purpose ?? '–'), h('td', null, ev.outcome));
  const body = h('tbody');
  const older = h('button', { type: 'button', class: 'secondary', 'data-testid': 'audit-older', hidden: true }, t('auOlder'));
  const olderMsg = h('p', { role: 'status', 'aria-live': 'polite' });
  /** One page of events, newest first, before `beforeSeq` when paging back; says whether there may be older ones. */
  const page = async (beforeSeq?: number) => {
    const r = await get<{ events: AuditEvent[] }>(AUDIT_EVENTS, { ...filters, newestFirst: true, limit: PAGE, ...(beforeSeq === undefined ? {} : { beforeSeq }) });
    body.append(...r.events.map(row));
    const last = r.events.at(-1);
    older.hidden = r.events.length < PAGE || !last;
    older.onclick = last ? () => {
      older.disabled = true;
      void page(last.seq).then(() => { older.disabled = false; }, (e: unknown) => { older.disabled = false; replace(olderMsg, h('span', { class: 'notice fail' }, errorContent(e))); });
    } : null;
    return r.events.length;
  };
  try {
    const n = await page();
    replace(table, n === 0 ? h('p', null, t('none')) : [h('p', { class: 'hint' }, t('auNewestFirst')), h('table', { 'data-testid': 'audit-events' },
      h('thead', null, h('tr', null, ['#', t('time'), t('actor'), t('eventKind'), t('target'), t('purpose'), t('status')].map((c) => h('th', { scope: 'col' }, c)))),
      body), older, olderMsg]);
  } catch (e) {
    if (!unavailable(e)) replace(table, h('p', { class: 'notice fail' }, errorContent(e)));
  }
}
