import { getBook, isFinalBookStatus, pageProgress, type Book } from '../archive/index.ts';
import type { Queryable } from '../db/index.ts';
import { AppError } from '../common/index.ts';
import { progressBar } from './progress.ts';

/** Polls a book until it ends, drawing its pages' progress on a terminal (`progress: false` for --json). */
export async function waitForBook(db: Queryable, bookId: string, opts: { progress: boolean; timeoutMs?: number }): Promise<Book> {
  const bar = progressBar('pages', { json: !opts.progress });
  const deadline = Date.now() + (opts.timeoutMs ?? 24 * 3600_000);
  try {
    for (;;) {
      const book = await getBook(db, bookId);
      if (!book) throw new AppError('ERR_BOOK_NOT_FOUND', `no book ${bookId}`);
      const c = await pageProgress(db, bookId);
      bar?.update(c.done + c.failed, Math.max(c.total, book.pageCount), `${book.status}${c.failed ? `, ${c.failed} failed` : ''}`);
      if (isFinalBookStatus(book.status)) return book;
      if (Date.now() > deadline) throw new AppError('ERR_UNAVAILABLE', `book ${bookId} did not finish in time (status ${book.status})`);
      await new Promise((r) => setTimeout(r, 400));
    }
  } finally {
    bar?.end();
  }
}
