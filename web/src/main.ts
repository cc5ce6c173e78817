import './style.css';
import { api, ApiError, session, setPurpose, whenUnauthorized, type User } from './api.ts';
import { h, replace } from './dom.ts';
import { forgetWork, keepWork, restoreWork, resumePath, sessionEnded } from './resume.ts';
import { currentLang, setLang, t, tx, type Lang } from './i18n.ts';
import { current, focusHeading, go, match, route } from './router.ts';
import { loginView } from './views/login.ts';
import { booksView, bookView } from './views/books.ts';
import { searchView } from './views/search.ts';
import { pageView } from './views/viewer.ts';
import { showTombstone, tombstoneView } from './views/tombstone.ts';
import { linkProposalsView, recordsView, recordView } from './views/records.ts';
import { certificateView, retentionView } from './views/retention.ts';
import { auditView } from './views/audit.ts';
import { layoutsView, layoutView } from './views/layouts.ts';
import { keyingProgressView } from './views/keying-progress.ts';
import { zonesView } from './views/zones.ts';
import { keyingView } from './views/keying.ts';
import { arbitrationView } from './views/arbitration.ts';
import { entriesView } from './views/entries.ts';
import { extractsView, verifyView } from './views/verify.ts';
import { processingView } from './views/processing.ts';
import { startWatching } from './watch.ts';
import { closedNotice, errorContent, isClosedRefusal } from './widgets.ts';

// The same roles the API's policies allow (api/policies.ts); admins manage users with the CLI.
const DIGITISE = ['digitiser'];
const CLERK = ['clerk'];
const READ_PAGES = ['digitiser', 'clerk', 'records_manager'];
const RECORDS = ['records_manager'];
const AUDIT = ['auditor'];
// Layouts: records managers and admins define them (keying.route.ts LAYOUT_EDITORS).
const LAYOUTS = ['records_manager', 'admin'];
const KEYING_PROGRESS = ['clerk', 'reviewer', 'records_manager', 'admin'];
// Zone correction needs the page and its image, which only clerks among the keyers may read.
const ZONES = ['clerk', 'records_manager'];
// Keying and arbitration (keying.route.ts KEYERS, ARBITRATORS).
const KEYERS = ['clerk', 'reviewer'];
const ARBITRATE = ['reviewer'];

route('/login', 'authenticated', loginView);
route('/home', 'authenticated', ({ el }) => replace(el, h('h1', null, t('appName')), h('p', null, t('noScreens'))));
route('/books', DIGITISE, booksView);
route('/books/:id', DIGITISE, bookView);
// Processing across books: the roles of GET /processing (ops.route.ts).
route('/processing', ['digitiser', 'admin'], processingView);
route('/search', CLERK, searchView);
route('/view/:bookId/:seq', READ_PAGES, pageView);
route('/records', CLERK, recordsView);
route('/records/:id', CLERK, recordView);
route('/link-proposals/:bookId', RECORDS, linkProposalsView);
route('/retention', RECORDS, retentionView);
route('/retention/:tab', RECORDS, retentionView);
// The certificate route of the API admits auditors too.
route('/disposal/certificates/:bookId', ['records_manager', 'auditor'], certificateView);
route('/audit', AUDIT, auditView);
route('/layouts', LAYOUTS, layoutsView);
route('/layouts/:key', LAYOUTS, layoutView);
route('/keying/progress', KEYING_PROGRESS, keyingProgressView);
route('/zones/:bookId/:seq', ZONES, zonesView);
route('/entry-keying', KEYERS, keyingView);
route('/arbitration', ARBITRATE, arbitrationView);
route('/entries', CLERK, entriesView);
// The extracts' register (api: records managers and auditors); the verification page is public.
route('/extracts', ['records_manager', 'auditor'], extractsView);
route('/verify', 'public', verifyView);
// A disposed book's tombstone: everyone who works with books, and auditors (api books.route.ts).
route('/disposed/:bookId', ['digitiser', 'clerk', 'records_manager', 'auditor'], tombstoneView);
route('/verify/:serial', 'public', verifyView);

const NAV: { path: string; label: Parameters<typeof t>[0]; roles: string[] }[] = [
  { path: '/books', label: 'books', roles: DIGITISE },
  { path: '/search', label: 'search', roles: CLERK },
  { path: '/entries', label: 'enTitle', roles: CLERK },
  { path: '/records', label: 'records', roles: CLERK },
  { path: '/arbitration', label: 'arTitle', roles: ARBITRATE },
  { path: '/entry-keying', label: 'kyNav', roles: KEYERS },
  { path: '/retention', label: 'retention', roles: RECORDS },
  { path: '/audit', label: 'audit', roles: AUDIT },
  { path: '/extracts', label: 'exTitle', roles: ['records_manager', 'auditor'] },
  { path: '/keying/progress', label: 'keyingProgress', roles: KEYING_PROGRESS },
  { path: '/layouts', label: 'layouts', roles: LAYOUTS },
  // Last, so it is nobody's first screen.
  { path: '/processing', label: 'prTitle', roles: ['digitiser', 'admin'] },
];

const root = document.getElementById('app')!;
let leaving: (() => void)[] = [];
/** The path last drawn, to tell a screen change from a redraw of the same screen. */
let shownPath: string | undefined;

function allowed(user: User | null, roles: readonly string[] | 'authenticated' | 'public'): boolean {
  if (roles === 'public') return true;
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
      user ? h('span', { class: 'who' }, `${t('signedInAs')} `, h('strong', { 'data-testid': 'username' }, user.username), ` (${user.roles.map((r) => tx('role_', r)).join(', ')})`) : null,
      user ? h('button', { type: 'button', class: 'secondary', onclick: logout }, t('signOut')) : null));
}

function purposeBar(): HTMLElement | null {
  const user = session.user;
  if (!user || !user.roles.some((r) => ['clerk', 'records_manager'].includes(r))) return null;
  const input = h('input', { type: 'text', id: 'purpose', name: 'purpose', maxlength: '200', value: session.purpose, onchange: (e: Event) => setPurpose((e.target as HTMLInputElement).value), 'aria-describedby': 'purpose-hint' });
  // A named region, so the bar between the header and the screen is inside a landmark (axe: region).
  return h('section', { class: 'purpose', 'aria-label': t('purpose') }, h('label', { for: 'purpose' }, t('purpose')), input, h('small', { id: 'purpose-hint', class: 'hint' }, t('purposeHint')));
}

async function logout(): Promise<void> {
  await api('POST', '/auth/logout').catch(() => undefined);
  session.user = null;
  session.csrf = null;
  forgetWork();
  go('/login');
}

/** The hash path with its query: where a user returns after their session ended. */
function here(): string {
  return location.hash.replace(/^#/, '') || '/';
}

/** After a session ended: the sign-in screen says so; the screen signed back into gets its forms back. */
function resumeNotices(main: HTMLElement): void {
  if (!session.user) {
    if (sessionEnded()) main.prepend(h('p', { class: 'notice warn', role: 'alert', 'data-testid': 'session-ended' }, t('sessionEnded')));
    return;
  }
  if (restoreWork(session.user.username, here(), main)) main.prepend(h('p', { class: 'notice ok', role: 'status', 'data-testid': 'form-restored' }, t('formRestored')));
}

/** Draws the shell and the screen of the current hash. */
export async function render(): Promise<void> {
  for (const f of leaving) f();
  leaving = [];
  const { path, query } = current();
  // Redirect before drawing anything, so a form is never drawn twice (typed text would be lost).
  if (!session.user && path !== '/login' && match(path)?.route.roles !== 'public') return go('/login');
  if (session.user && (path === '/' || path === '/login')) return go(home(session.user));
  // Focus goes to a new screen's heading; redrawing the same screen (language switch) keeps the control.
  const changed = path !== shownPath;
  shownPath = path;
  const kept = document.activeElement?.id;
  const main = h('main', { id: 'main', tabindex: '-1' });
  replace(root, h('a', { class: 'skip', href: '#main', onclick: (e: Event) => { e.preventDefault(); main.focus(); } }, t('skip')), header(), purposeBar(), main);
  const settle = (): void => {
    const again = !changed && kept ? document.getElementById(kept) : null;
    if (again) again.focus();
    else focusHeading(main);
  };
  const m = match(path);
  if (!m || (path !== '/login' && !allowed(session.user, m.route.roles))) {
    replace(main, h('p', { class: 'error', role: 'alert' }, t(m ? 'forbidden' : 'notFound')));
    return settle();
  }
  try {
    await m.route.view({ el: main, params: m.params, query, onLeave: (f) => leaving.push(f) });
  } catch (e) {
    // A closed book asks for the purpose right here (when one can help) and draws the screen again with it.
    if (isClosedRefusal(e)) replace(main, closedNotice(e, 'closedBook', 'openWithPurpose', () => void render(), true));
    // A book that is gone shows what it was (its tombstone) rather than "no book <uuid>".
    else if (e instanceof ApiError && e.code === 'ERR_BOOK_NOT_FOUND' && (m.params.bookId ?? m.params.id) && await showTombstone(main, (m.params.bookId ?? m.params.id)!).catch(() => false)) { /* shown */ }
    else replace(main, h('p', { class: 'error', role: 'alert' }, errorContent(e)));
  }
  // A newer render may have replaced this screen while the view loaded.
  if (main.isConnected) {
    resumeNotices(main);
    settle();
  }
}

/** Called by the login screen once signed in. */
export function signedIn(user: User, csrf: string): void {
  session.user = user;
  session.csrf = csrf;
  go(resumePath(user.username) ?? home(user));
}

whenUnauthorized(() => {
  // Keep the screen's typed work before leaving it: the next sign-in brings it back.
  const main = document.getElementById('main');
  if (session.user && main && current().path !== '/login') keepWork(session.user.username, here(), main);
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
  startWatching();
  await render();
}

void start();
