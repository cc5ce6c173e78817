import { get, session } from './api.ts';
import { h } from './dom.ts';
import { t, tx } from './i18n.ts';
import { current } from './router.ts';
import { bookTitle, type Book } from './types.ts';
import { typeLabel } from './widgets.ts';
import { FINAL_BOOK_STATUSES } from '../../common/vocabulary.ts';

/**
 * Books the user uploaded in this tab, watched until they finish: when one does while the user is
 * on another screen, a toast says so (and the browser's notification, if the user allowed them).
 * Only book ids are kept (sessionStorage), never anything typed.
 */
const KEY = 'arkiva.watching';
const POLL_MS = 5_000;
const TERMINAL: readonly string[] = FINAL_BOOK_STATUSES;

function watched(): string[] {
  try {
    const v = JSON.parse(sessionStorage.getItem(KEY) ?? '[]') as unknown;
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
  } catch {
    return [];
  }
}

function save(ids: string[]): void {
  if (ids.length) sessionStorage.setItem(KEY, JSON.stringify(ids));
  else sessionStorage.removeItem(KEY);
}

/**
 * Watches a book just uploaded. Called from the upload's click, so the browser may ask once
 * whether notifications are allowed (it asks only on a user's gesture).
 */
export function watchBook(id: string): void {
  save([...new Set([...watched(), id])]);
  if ('Notification' in window && Notification.permission === 'default') void Notification.requestPermission().catch(() => undefined);
}

function toasts(): HTMLElement {
  let box = document.getElementById('toasts');
  if (!box) {
    box = h('div', { id: 'toasts', class: 'toasts', role: 'status', 'aria-live': 'polite' });
    document.body.append(box);
  }
  return box;
}

/** Shows a finished book as a toast that stays until closed or followed. */
function announce(book: Book): void {
  const title = bookTitle(book, typeLabel);
  const status = tx('s_', book.status);
  const close = h('button', { type: 'button', class: 'secondary', 'aria-label': t('close') }, '×');
  const toast = h('div', { class: `toast st-${book.status}`, 'data-testid': 'toast' },
    h('strong', null, t('ntFinished')), ' ', h('a', { href: `#/books/${book.id}` }, title), ` – ${status}`, ' ', close);
  const remove = () => toast.remove();
  close.addEventListener('click', remove);
  toast.querySelector('a')!.addEventListener('click', remove);
  toasts().append(toast);
  if ('Notification' in window && Notification.permission === 'granted' && document.visibilityState !== 'visible') {
    try {
      new Notification(`${t('ntFinished')}: ${status}`, { body: title, tag: `arkiva-book-${book.id}` });
    } catch {
      // Some browsers allow notifications only from a service worker: the toast is enough.
    }
  }
}

async function check(): Promise<void> {
  const ids = watched();
  if (ids.length === 0 || !session.user) return;
  const { path } = current();
  const left: string[] = [];
  for (const id of ids) {
    try {
      const { book } = await get<{ book: Book }>(`/books/${id}`);
      if (!TERMINAL.includes(book.status)) left.push(id);
      // On the books screen or the book's own, its progress is in view already: no toast.
      else if (path !== '/books' && path !== `/books/${id}`) announce(book);
    } catch {
      // Gone, forbidden or signed out: stop watching it (a 401 already leads to sign-in).
    }
  }
  // Books added while this round ran are kept.
  save([...new Set([...left, ...watched().filter((id) => !ids.includes(id))])]);
}

/** Starts watching in the background (once, at start). */
export function startWatching(): void {
  const loop = () => void check().finally(() => setTimeout(loop, POLL_MS));
  setTimeout(loop, POLL_MS);
}
