import { getBook, isFinalBookStatus, pageProgress, type Book } from '../archive/index.ts';
import type { Queryable } from '../db/index.ts';
import { AppError } from '../common/index.ts';
import { ProgressBar } from './progress.ts';

/** Polls a book until it ends, drawing its pages' progress. */
export async function waitForBook(db: Queryable, bookId: string, opts: { progress: boolean; timeoutMs?: number }): Promise<Book> {
  const bar = opts.progress ? new ProgressBar('pages') : undefined;
  const deadline = Date.now() + (opts.timeoutMs ?? 24 * 3600_000);
  for (;;) {
    const book = await getBook(db, bookId);
    if (!book) throw new AppError('ERR_BOOK_NOT_FOUND', `no book ${bookId}`);
    const c = await pageProgress(db, bookId);
    bar?.update(c.done + c.failed, Math.max(c.total, book.pageCount), `${book.status}${c.failed ? `, ${c.failed} failed` : ''}`);
    if (isFinalBookStatus(book.status)) {
      bar?.end();
      return book;
    }
    if (Date.now() > deadline) throw new AppError('ERR_UNAVAILABLE', `book ${bookId} did not finish in time (status ${book.status})`);
    await new Promise((r) => setTimeout(r, 400));
  }
}
