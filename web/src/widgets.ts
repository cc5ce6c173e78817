import { ApiError, imageUrl } from './api.ts';
import { h } from './dom.ts';
import { t, tx } from './i18n.ts';

/** A status badge; colour comes from the status, the text says it (colour is never the only cue). */
export function badge(status: string, prefix = 's_'): HTMLElement {
  return h('span', { class: `badge st-${status}` }, tx(prefix, status));
}

/** A register type in the current language. */
export function typeLabel(type: string): string {
  return tx('', type);
}

/** An <img> filled from an API image path once it has loaded; `alt` describes it. */
export function apiImage(path: string, alt: string, attrs: Record<string, unknown> = {}): HTMLImageElement {
  const img = h('img', { alt, ...attrs, class: `${String(attrs.class ?? '')} loading`.trim() });
  imageUrl(path).then((u) => { img.src = u; img.classList.remove('loading'); }, () => img.classList.replace('loading', 'broken'));
  return img;
}

/** A message area for results of actions, announced to screen readers. */
export function notice(): HTMLElement & { ok(m: string): void; fail(e: unknown): void; clear(): void } {
  const el = Object.assign(h('div', { class: 'notice', role: 'status', 'aria-live': 'polite' }), {
    ok(_m: string) {}, fail(_e: unknown) {}, clear() {},
  });
  el.ok = (m) => { el.className = 'notice ok'; el.textContent = m; };
  el.fail = (e) => { el.className = 'notice fail'; el.textContent = `${t('error')}: ${e instanceof ApiError || e instanceof Error ? e.message : String(e)}`; };
  el.clear = () => { el.className = 'notice'; el.textContent = ''; };
  return el;
}

/** A progress bar with a text equivalent. */
export function bar(value: number, max: number, label: string): HTMLElement {
  const pct = max > 0 ? Math.round((value / max) * 100) : 0;
  return h('div', { class: 'bar' }, h('progress', { max: String(max || 1), value: String(value), 'aria-label': label }), h('span', null, `${value} / ${max} (${pct}%)`));
}
