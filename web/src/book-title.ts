import { session } from './api.ts';
import { t, tx } from './i18n.ts';
import { formatBookTitle } from './title-words.ts';

/** What the API says of a book wherever a list carries its id (api/book-titles.store.ts). */
export interface BookTitle {
  registerType: string;
  municipality: string;
  yearFrom: number;
  yearTo: number;
  volume?: string | null;
  /** Set on titles that come from a disposed book's tombstone. */
  disposed?: boolean;
}

/** A book's title as people say it: type · municipality · year(s) · volume, in the interface's language. */
export function titleOf(b: BookTitle): string {
  return formatBookTitle(b, { type: (x) => tx('', x), volume: t('volumeShort') });
}

/** The title of a book an API list names, or its short id when the list could not name it. */
export function titleOrId(b: BookTitle | null | undefined, bookId: string): string {
  if (!b) return `${t('book')} ${bookId.slice(0, 8)}`;
  return b.disposed ? `${titleOf(b)} (${t('disposedMark')})` : titleOf(b);
}

/**
 * Where the signed-in user may open a book, or null when no screen of theirs shows it: the book
 * screen for digitisers, its first page for those who read pages, the tombstone for a disposed
 * book (any role that works with books, and auditors). Links go only where the role may go.
 */
export function bookHref(bookId: string, opts: { disposed?: boolean | undefined; page?: number } = {}): string | null {
  const roles = session.user?.roles ?? [];
  const has = (...rs: string[]) => roles.some((r) => rs.includes(r));
  if (opts.disposed) return has('digitiser', 'clerk', 'records_manager', 'auditor') ? `#/disposed/${bookId}` : null;
  if (has('clerk', 'records_manager') || (opts.page !== undefined && has('digitiser'))) return `#/view/${bookId}/${opts.page ?? 1}`;
  if (has('digitiser')) return `#/books/${bookId}`;
  return null;
}
