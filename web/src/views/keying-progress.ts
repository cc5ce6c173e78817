import { get, session } from '../api.ts';
import { h, replace, select } from '../dom.ts';
import { t } from '../i18n.ts';
import { go, type ViewContext } from '../router.ts';
import { bookTitle } from '../types.ts';
import { bar, typeLabel } from '../widgets.ts';

/** A book's keying progress, as GET /keying/stats gives it. */
interface BookProgress {
  bookId: string;
  municipality: string;
  registerType: string;
  yearFrom: number;
  yearTo: number;
  zones: number;
  open: number;
  keyedOnce: number;
  disputed: number;
  verified: number;
  /** Settled as empty ruled rows: no entry. */
  empty: number;
  firstPage: number;
}

/** A keyer's work and agreement, as GET /keying/stats gives it. */
interface KeyerQuality {
  keyer: string;
  keyings: number;
  compared: number;
  agreed: number;
  agreementRate: number | null;
  fieldsOverruled: number;
}

const pct = (r: number | null) => (r === null ? '–' : `${Math.round(r * 1000) / 10}%`);

/** Keying progress per book and agreement per keyer, of all books or of one (`?book=`). */
export async function keyingProgressView(ctx: ViewContext): Promise<void> {
  const { el, query } = ctx;
  const bookId = query.get('book') ?? '';
  // The book list always comes from the unfiltered stats, so the filter can go back to any book.
  const all = await get<{ books: BookProgress[]; keyers: KeyerQuality[] }>('/keying/stats');
  const { books, keyers } = bookId ? await get<{ books: BookProgress[]; keyers: KeyerQuality[] }>('/keying/stats', { bookId }) : all;
  const title = (b: BookProgress) => bookTitle(b, typeLabel);
  const filter = select('book', [['', t('allBooks')], ...all.books.map((b) => [b.bookId, title(b)] as const)], bookId, {
    id: 'progress-book', onchange: (e: Event) => { const v = (e.target as HTMLSelectElement).value; go(v ? `/keying/progress?book=${v}` : '/keying/progress'); },
  });
  const num = (n: number) => h('td', { class: 'num' }, String(n));
  const roles = session.user?.roles ?? [];
  // The screens a book's row leads on to, for the roles those screens admit (web/src/main.ts).
  const correctsZones = roles.some((r) => r === 'clerk' || r === 'records_manager');
  const reviewsLinks = roles.includes('records_manager');
  const linksOf = (b: BookProgress) => h('td', { class: 'actions' },
    correctsZones ? h('a', { href: `#/zones/${b.bookId}/${b.firstPage}`, 'data-testid': 'progress-zones' }, t('kpZonesScreen')) : null,
    correctsZones && reviewsLinks ? ' · ' : null,
    reviewsLinks ? h('a', { href: `#/link-proposals/${b.bookId}`, 'data-testid': 'progress-link-review' }, t('kpLinkReview')) : null);
  const withLinks = correctsZones || reviewsLinks;
  const totals = books.reduce((s, b) => ({ zones: s.zones + b.zones, verified: s.verified + b.verified, empty: s.empty + b.empty }), { zones: 0, verified: 0, empty: 0 });

  replace(el,
    h('h1', null, t('keyingProgress')),
    h('div', { class: 'field narrow' }, h('label', { for: 'progress-book' }, t('book')), filter),
    h('h2', null, t('progressPerBook')),
    books.length === 0 ? h('p', null, t('noZonesYet')) : h('table', { class: 'progress', 'data-testid': 'book-progress' },
      h('thead', null, h('tr', null, [t('book'), t('kpZones'), t('kpOpen'), t('kpKeyedOnce'), t('kpDisputed'), t('kpVerified'), t('kpEmpty'), t('progress'), ...(withLinks ? [t('kpGoTo')] : [])].map((x) => h('th', { scope: 'col' }, x)))),
      h('tbody', null, books.map((b) => h('tr', { 'data-book-id': b.bookId },
        h('th', { scope: 'row' }, title(b)), num(b.zones), num(b.open), num(b.keyedOnce), num(b.disputed), num(b.verified), num(b.empty),
        // Empty rows are settled too: progress is what no longer waits for anyone.
        h('td', null, bar(b.verified + b.empty, b.zones, `${t('kpSettled')}: ${title(b)}`)),
        withLinks ? linksOf(b) : null))),
      books.length > 1 ? h('tfoot', null, h('tr', null, h('th', { scope: 'row' }, t('total')), num(totals.zones), h('td', { colspan: '3' }), num(totals.verified), num(totals.empty), h('td', null, bar(totals.verified + totals.empty, totals.zones, t('kpSettled'))), withLinks ? h('td') : null)) : null),
    h('h2', null, t('progressPerKeyer')),
    h('p', { class: 'hint' }, t('agreementHint')),
    keyers.length === 0 ? h('p', null, t('none')) : h('table', { class: 'progress', 'data-testid': 'keyer-quality' },
      h('thead', null, h('tr', null, [t('keyer'), t('kpKeyings'), t('kpCompared'), t('kpAgreed'), t('kpAgreement'), t('kpOverruled')].map((x) => h('th', { scope: 'col' }, x)))),
      h('tbody', null, keyers.map((k) => h('tr', null,
        h('th', { scope: 'row' }, k.keyer), num(k.keyings), num(k.compared), num(k.agreed), h('td', { class: 'num' }, pct(k.agreementRate)), num(k.fieldsOverruled))))));
}
