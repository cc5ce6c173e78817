import { ApiError, download, get, session } from '../api.ts';
import { h, replace, when } from '../dom.ts';
import { currentLang, t, tx } from '../i18n.ts';
import type { ViewContext } from '../router.ts';
import { titleOf, type BookTitle } from '../book-title.ts';
import { notice } from '../widgets.ts';

/** What the API keeps of a disposed book (GET /books/{id}/tombstone). */
interface Tombstone extends BookTitle {
  bookId: string;
  batchId: string;
  status: 'deleting' | 'disposed';
  disposalStartedAt: string;
  disposedAt: string | null;
  pages: number;
  hasCertificate: boolean;
  certificateSha256: string | null;
}

/** Fills `el` with a disposed book's tombstone; false when the id names no disposal either. */
export async function showTombstone(el: HTMLElement, bookId: string): Promise<boolean> {
  let tomb: Tombstone;
  try {
    tomb = (await get<{ tombstone: Tombstone }>(`/books/${bookId}/tombstone`)).tombstone;
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) return false;
    throw e;
  }
  const roles = session.user?.roles ?? [];
  // The certificate itself is for records managers and auditors (api retention.route.ts).
  const readsCertificate = roles.some((r) => r === 'records_manager' || r === 'auditor');
  const msg = notice();
  const lang = currentLang();
  const years = tomb.yearFrom === tomb.yearTo ? String(tomb.yearFrom) : `${tomb.yearFrom}–${tomb.yearTo}`;
  const row = (k: string, v: Node | string) => [h('dt', null, k), h('dd', null, v)];
  replace(el,
    h('h1', null, `${t('tbTitle')}: ${titleOf(tomb)}`),
    h('p', { class: 'notice warn', 'data-testid': 'tombstone' }, tomb.status === 'disposed' ? t('tbIntro') : t('tbInProgress')),
    msg,
    h('section', { class: 'card' }, h('h2', null, t('tbWhat')), h('dl', { class: 'meta' },
      row(t('registerType'), tx('', tomb.registerType)),
      row(t('municipality'), tomb.municipality), row(t('bpYear'), years), tomb.volume ? row(t('volume'), tomb.volume) : null,
      row(t('pages'), String(tomb.pages)), row('ID', h('code', null, tomb.bookId)))),
    h('section', { class: 'card' }, h('h2', null, t('disposedAt')), h('dl', { class: 'meta' },
      row(t('tbStarted'), when(tomb.disposalStartedAt, lang)),
      row(t('disposedAt'), tomb.disposedAt ? when(tomb.disposedAt, lang) : t('tbInProgress')),
      row(t('tbBatch'), roles.includes('records_manager') ? h('a', { href: '#/retention/disposal', 'data-testid': 'tombstone-batch' }, tomb.batchId.slice(0, 8)) : h('code', { 'data-testid': 'tombstone-batch' }, tomb.batchId.slice(0, 8))),
      tomb.certificateSha256 ? row(t('certSha'), h('code', { class: 'hash' }, tomb.certificateSha256)) : null)),
    h('section', { class: 'card' }, h('h2', null, t('certTitle')),
      !tomb.hasCertificate ? h('p', null, t('certNone'))
        : readsCertificate ? h('div', { class: 'row' },
          h('a', { class: 'button secondary', href: `#/disposal/certificates/${tomb.bookId}`, 'data-testid': 'certificate-page' }, t('tbShowCert')),
          h('button', { type: 'button', 'data-testid': 'certificate-pdf', onclick: () => void download(`/disposal/certificates/${tomb.bookId}/pdf`, `disposal-certificate-${tomb.bookId}.pdf`).catch((e) => msg.fail(e)) }, t('certPdf')),
          h('button', { type: 'button', class: 'secondary', onclick: () => void download(`/disposal/certificates/${tomb.bookId}`, `disposal-certificate-${tomb.bookId}.json`).catch((e) => msg.fail(e)) }, t('certJson')))
          : h('p', { class: 'hint' }, t('certSha'), ': ', h('code', null, tomb.certificateSha256 ?? '–'))));
  return true;
}

/** The screen of a disposed book: what it was, when and by which batch it went, its certificate. */
export async function tombstoneView({ el, params }: ViewContext): Promise<void> {
  const bookId = params.bookId!;
  if (!(await showTombstone(el, bookId))) replace(el, h('h1', null, t('tbTitle')), h('p', { class: 'notice fail', role: 'alert' }, t('tbNoSuchBook')));
}
