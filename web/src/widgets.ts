import { ApiError, imageUrl, needsPurpose, session, setPurpose } from './api.ts';
import { append, field, h, type Child } from './dom.ts';
import { t, tx, type Key } from './i18n.ts';

/** A status badge; colour comes from the status, the text says it (colour is never the only cue). */
export function badge(status: string, prefix = 's_'): HTMLElement {
  return h('span', { class: `badge st-${status}` }, tx(prefix, status));
}

/** A register type in the current language. */
export function typeLabel(type: string): string {
  return tx('', type);
}

/** An <img> filled from an API image path once it has loaded; `alt` describes it; `onFail` hears why it did not. */
export function apiImage(path: string, alt: string, attrs: Record<string, unknown> = {}, onFail?: (e: unknown) => void): HTMLImageElement {
  const img = h('img', { alt, ...attrs, class: `${String(attrs.class ?? '')} loading`.trim() });
  imageUrl(path).then((u) => { img.src = u; img.classList.remove('loading'); }, (e: unknown) => {
    img.classList.replace('loading', 'broken');
    img.title = errorText(e);
    onFail?.(e);
  });
  return img;
}

/**
 * What went wrong, in the interface's language: a refusal's reason or the error code in words.
 * The server's own (English) message is kept apart as a detail, except where the words already say
 * all of it (it would only add API jargon such as header names).
 */
export function errorWords(e: unknown): { text: string; detail: string | null } {
  if (e instanceof ApiError) {
    if (e.reason && tx('errr_', e.reason) !== e.reason) return { text: tx('errr_', e.reason), detail: null };
    const known = tx('err_', e.code) !== e.code;
    const text = known ? tx('err_', e.code) : t('errUnknown');
    return { text, detail: e.message && e.message !== text ? e.message : null };
  }
  if (e instanceof Error) return { text: e.message, detail: null };
  return { text: String(e), detail: null };
}

/** An error as one translated sentence (for titles and plain-text places). */
export function errorText(e: unknown): string {
  const { text, detail } = errorWords(e);
  return detail ? `${text} (${t('errDetail')}: ${detail})` : text;
}

/** An error as elements: the translated sentence, then the server's English words marked as such. */
export function errorContent(e: unknown): Child[] {
  const { text, detail } = errorWords(e);
  return [`${t('error')}: ${text}.`, detail ? h('small', { class: 'detail' }, ` ${t('errDetail')}: `, h('span', { lang: 'en' }, detail)) : null];
}

/** A message area for results of actions, announced to screen readers. */
export function notice(): HTMLElement & { ok(m: string): void; fail(e: unknown): void; clear(): void } {
  const el = Object.assign(h('div', { class: 'notice', role: 'status', 'aria-live': 'polite' }), {
    ok(_m: string) {}, fail(_e: unknown) {}, clear() {},
  });
  el.ok = (m) => { el.className = 'notice ok'; el.textContent = m; };
  el.fail = (e) => {
    el.className = 'notice fail';
    el.replaceChildren();
    append(el, errorContent(e));
  };
  el.clear = () => { el.className = 'notice'; el.textContent = ''; };
  return el;
}

/** A progress bar with a text equivalent. */
export function bar(value: number, max: number, label: string): HTMLElement {
  const pct = max > 0 ? Math.round((value / max) * 100) : 0;
  return h('div', { class: 'bar' }, h('progress', { max: String(max || 1), value: String(value), 'aria-label': label }), h('span', null, `${value} / ${max} (${pct}%)`));
}

/**
 * A form asking for the purpose of access to a closed book (sent from then on with every read,
 * as the header's purpose field is), then running `then` — the search again, the page, the images.
 */
export function purposeForm(opts: { hint: Key; submit: Key; then: () => void }): HTMLFormElement {
  const input = h('input', { name: 'purpose', type: 'text', required: true, maxlength: '200', value: session.purpose, autocomplete: 'off' });
  const err = h('p', { class: 'hint', role: 'alert' });
  return h('form', {
    class: 'card purpose-form', 'data-testid': 'purpose-form',
    onsubmit: (e: Event) => {
      e.preventDefault();
      if (!input.value.trim()) { err.textContent = t('purposeNeeded'); input.focus(); return; }
      setPurpose(input.value);
      const bar = document.getElementById('purpose');
      if (bar instanceof HTMLInputElement) bar.value = session.purpose;
      opts.then();
    },
  }, h('p', null, t(opts.hint)), h('div', { class: 'row grow' }, field(t('purpose'), input), h('button', { type: 'submit' }, t(opts.submit))), err);
}

/**
 * What a closed-book refusal means for this user, with a purpose form when stating one can help.
 * `asHeading` when the notice is the whole screen: its first sentence is then the screen's heading.
 */
export function closedNotice(e: unknown, intro: Key, submit: Key, then: () => void, asHeading = false): HTMLElement {
  return h('div', { class: 'notice fail closed-notice', role: 'status', 'data-testid': 'closed-notice' },
    asHeading ? h('h1', { class: 'notice-heading' }, t(intro)) : h('p', null, h('strong', null, t(intro))),
    needsPurpose(e) ? purposeForm({ hint: 'statePurposeHint', submit, then })
      : h('p', null, e instanceof ApiError && e.reason === 'closed-role' ? t('closedNotForRole') : errorText(e)));
}

/** True for a refusal because the book is closed for privacy (whatever the caller may do about it). */
export function isClosedRefusal(e: unknown): boolean {
  return e instanceof ApiError && typeof e.reason === 'string' && e.reason.startsWith('closed-');
}

/**
 * Asks to confirm a destructive action in a modal dialog naming what it destroys; with
 * `typeToConfirm`, the user must type that text (a batch's reference) before the button acts.
 * Resolves true when confirmed, false when cancelled (Escape too).
 */
export function confirmAction(opts: { title: string; body: Child; confirm: string; typeToConfirm?: string }): Promise<boolean> {
  const before = document.activeElement instanceof HTMLElement ? document.activeElement : null;
  return new Promise((resolve) => {
    const titleId = `confirm-${Math.random().toString(36).slice(2, 9)}`;
    const typed = opts.typeToConfirm !== undefined ? h('input', { name: 'confirm-text', autocomplete: 'off', spellcheck: 'false', required: true }) : null;
    const err = h('p', { class: 'hint', role: 'alert' });
    const cancel = h('button', { type: 'button', class: 'secondary', onclick: () => finish(false) }, t('cancel'));
    const dlg = h('dialog', { class: 'confirm-dialog', 'aria-labelledby': titleId, 'data-testid': 'confirm-dialog' });
    const finish = (ok: boolean) => {
      dlg.close();
      dlg.remove();
      before?.focus();
      resolve(ok);
    };
    dlg.addEventListener('cancel', (e) => { e.preventDefault(); finish(false); });
    dlg.append(h('form', {
      onsubmit: (e: Event) => {
        e.preventDefault();
        if (typed && typed.value.trim() !== opts.typeToConfirm) { err.textContent = t('referenceMismatch'); typed.focus(); return; }
        finish(true);
      },
    }, h('h2', { id: titleId }, opts.title), opts.body,
    typed ? field(`${t('typeReference')} ${opts.typeToConfirm}`, typed) : null, err,
    h('div', { class: 'row' }, h('button', { type: 'submit', class: 'danger' }, opts.confirm), cancel)));
    document.body.append(dlg);
    dlg.showModal();
    // The safe choice has the focus: Enter alone never destroys anything.
    (typed ?? cancel).focus();
  });
}

/** How many results were left out because their books are closed, with a purpose form to see them (nothing when none). */
export function withheldNotice(count: number, submit: Key, rerun: () => void): HTMLElement | null {
  if (count <= 0) return null;
  return h('div', { class: 'notice withheld', role: 'status', 'data-testid': 'withheld' },
    h('p', null, h('strong', null, `${count} ${t(count === 1 ? 'withheld1' : 'withheldN')}`)), purposeForm({ hint: 'statePurposeHint', submit, then: rerun }));
}
