import './style.css';
import { api, ApiError, session, setPurpose, whenUnauthorized, type User } from './api.ts';
import { h, replace } from './dom.ts';
import { currentLang, setLang, t, type Lang } from './i18n.ts';
import { current, go, match, route } from './router.ts';
import { loginView } from './views/login.ts';
import { booksView, bookView } from './views/books.ts';
import { searchView } from './views/search.ts';
import { pageView } from './views/viewer.ts';
import { recordsView, recordView } from './views/records.ts';
import { retentionView } from './views/retention.ts';
import { auditView } from './views/audit.ts';

// The same roles the API's policies allow (api/policies.ts); admins manage users with the CLI.
const DIGITISE = ['digitiser'];
const CLERK = ['clerk'];
const READ_PAGES = ['digitiser', 'clerk', 'records_manager'];
const RECORDS = ['records_manager'];
const AUDIT = ['auditor'];

route('/login', 'authenticated', loginView);
route('/home', 'authenticated', ({ el }) => replace(el, h('h1', null, t('appName')), h('p', null, t('noScreens'))));
route('/books', DIGITISE, booksView);
route('/books/:id', DIGITISE, bookView);
route('/search', CLERK, searchView);
route('/view/:bookId/:seq', READ_PAGES, pageView);
route('/records', CLERK, recordsView);
route('/records/:id', CLERK, recordView);
route('/retention', RECORDS, retentionView);
route('/retention/:tab', RECORDS, retentionView);
route('/audit', AUDIT, auditView);

const NAV: { path: string; label: Parameters<typeof t>[0]; roles: string[] }[] = [
  { path: '/books', label: 'books', roles: DIGITISE },
  { path: '/search', label: 'search', roles: CLERK },
  { path: '/records', label: 'records', roles: CLERK },
  { path: '/retention', label: 'retention', roles: RECORDS },
  { path: '/audit', label: 'audit', roles: AUDIT },
];

const root = document.getElementById('app')!;
let leaving: (() => void)[] = [];

function allowed(user: User | null, roles: readonly string[] | 'authenticated'): boolean {
  if (!user) return false;
  return roles === 'authenticated' || user.roles.some((r) => roles.includes(r));
}

/** The first screen a user's roles open. */
export function home(user: User): string {
  return NAV.find((n) => allowed(user, n.roles))?.path ?? '/home';
}

function header(): HTMLElement {
  const user = session.user;
  const langSel = h('select', { id: 'lang', 'aria-label': t('language'), onchange: (e: Event) => { setLang((e.target as HTMLSelectElement).value as Lang); render(); } },
    h('option', { value: 'sq' }, 'Shqip'), h('option', { value: 'en' }, 'English'));
  langSel.value = currentLang();
  const path = current().path;
  return h('header', { class: 'top' },
    h('a', { class: 'brand', href: user ? `#${home(user)}` : '#/login' }, h('span', { class: 'logo', 'aria-hidden': 'true' }, 'A'), h('span', null, t('appName')), h('small', null, t('tagline'))),
    user ? h('nav', { 'aria-label': t('nav') }, h('ul', null, NAV.filter((n) => allowed(user, n.roles)).map((n) =>
      h('li', null, h('a', { href: `#${n.path}`, 'aria-current': path.startsWith(n.path) || (n.path === '/search' && path.startsWith('/view')) ? 'page' : false }, t(n.label)))))) : h('span', { class: 'spacer' }),
    h('div', { class: 'tools' },
      langSel,
      user ? h('span', { class: 'who' }, `${t('signedInAs')} `, h('strong', { 'data-testid': 'username' }, user.username), ` (${user.roles.join(', ')})`) : null,
      user ? h('button', { type: 'button', class: 'secondary', onclick: logout }, t('signOut')) : null));
}

function purposeBar(): HTMLElement | null {
  const user = session.user;
  if (!user || !user.roles.some((r) => ['clerk', 'records_manager'].includes(r))) return null;
  const input = h('input', { type: 'text', id: 'purpose', name: 'purpose', maxlength: '200', value: session.purpose, onchange: (e: Event) => setPurpose((e.target as HTMLInputElement).value), 'aria-describedby': 'purpose-hint' });
  return h('div', { class: 'purpose' }, h('label', { for: 'purpose' }, t('purpose')), input, h('small', { id: 'purpose-hint', class: 'hint' }, t('purposeHint')));
}

async function logout(): Promise<void> {
  await api('POST', '/auth/logout').catch(() => undefined);
  session.user = null;
  session.csrf = null;
  go('/login');
}

/** Draws the shell and the screen of the current hash. */
export async function render(): Promise<void> {
  for (const f of leaving) f();
  leaving = [];
  const { path, query } = current();
  // Redirect before drawing anything, so a form is never drawn twice (typed text would be lost).
  if (!session.user && path !== '/login') return go('/login');
  if (session.user && (path === '/' || path === '/login')) return go(home(session.user));
  const main = h('main', { id: 'main', tabindex: '-1' });
  replace(root, h('a', { class: 'skip', href: '#main', onclick: (e: Event) => { e.preventDefault(); main.focus(); } }, t('skip')), header(), purposeBar(), main);
  const m = match(path);
  if (!m) return replace(main, h('p', { class: 'error', role: 'alert' }, t('notFound')));
  if (path !== '/login' && !allowed(session.user, m.route.roles)) return replace(main, h('p', { class: 'error', role: 'alert' }, t('forbidden')));
  try {
    await m.route.view({ el: main, params: m.params, query, onLeave: (f) => leaving.push(f) });
  } catch (e) {
    replace(main, h('p', { class: 'error', role: 'alert' }, `${t('error')}: ${e instanceof Error ? e.message : String(e)}`));
  }
}

/** Called by the login screen once signed in. */
export function signedIn(user: User, csrf: string): void {
  session.user = user;
  session.csrf = csrf;
  go(home(user));
}

whenUnauthorized(() => {
  session.user = null;
  session.csrf = null;
  go('/login');
});

async function start(): Promise<void> {
  setLang(currentLang());
  try {
    const me = await api<{ user: User; csrfToken: string }>('GET', '/auth/me');
    session.user = me.user;
    session.csrf = me.csrfToken;
  } catch (e) {
    if (!(e instanceof ApiError)) throw e;
  }
  window.addEventListener('hashchange', () => void render());
  await render();
}

void start();
