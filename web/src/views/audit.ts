import { ApiError, get } from '../api.ts';
import { field, h, replace, when } from '../dom.ts';
import { currentLang, t } from '../i18n.ts';
import { go, type ViewContext } from '../router.ts';

interface AuditEvent { seq: number; at: string; actor: string; action: string; targetType: string | null; targetId: string | null; from: string | null; purpose: string | null; outcome: string }
interface ChainReport { ok: boolean; checked: number; head: { seq: number; hash: string } | null; broken: { seq: number; reason: string } | null; anchor: { seq: number; at: string } | null }

/** Where the audit API lives (built with authentication). */
export const AUDIT_EVENTS = '/audit/events';
export const AUDIT_VERIFY = '/audit/verify';

/** Auditors: the audit trail with filters and the chain's verification. */
export async function auditView({ el, query }: ViewContext): Promise<void> {
  const actor = h('input', { name: 'actor', value: query.get('actor') ?? '' });
  const action = h('input', { name: 'action', value: query.get('action') ?? '', placeholder: 'page.read' });
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
    replace(chain, h('p', { class: 'notice fail' }, `${t('chain')}: ${(e as Error).message}`));
  }
  try {
    const filters: Record<string, string> = {};
    for (const k of ['actor', 'action', 'targetType', 'targetId']) if (query.get(k)) filters[k] = query.get(k)!;
    const r = await get<{ events: AuditEvent[] }>(AUDIT_EVENTS, { ...filters, limit: 200 });
    replace(table, r.events.length === 0 ? h('p', null, t('none')) : h('table', { 'data-testid': 'audit-events' },
      h('thead', null, h('tr', null, ['#', t('time'), t('actor'), t('eventKind'), t('target'), t('purpose'), t('status')].map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', null, r.events.slice().reverse().map((ev) => h('tr', null, h('th', { scope: 'row' }, String(ev.seq)), h('td', null, when(ev.at, currentLang())), h('td', null, ev.actor),
        h('td', null, h('code', null, ev.action)), h('td', null, ev.targetType ? `${ev.targetType} ${ev.targetId ?? ''}` : '–'), h('td', null, ev.purpose ?? '–'), h('td', null, ev.outcome))))));
  } catch (e) {
    if (!unavailable(e)) replace(table, h('p', { class: 'notice fail' }, (e as Error).message));
  }
}
