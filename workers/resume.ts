import { randomUUID } from 'node:crypto';
import type { AppDeps } from '../app/deps.ts';
import { bookFlow, STAGE_RETRIES } from '../pipeline/index.ts';

type Deps = Pick<AppDeps, 'db' | 'queue' | 'log'>;

/**
 * Queues again the work of books left unfinished (an in-process queue lost at exit, or a Redis that
 * lost its data). Safe at any time: every stage skips what is already archived.
 */
export async function resumeUnfinished(deps: Deps): Promise<{ books: number; pages: number }> {
  const books = await deps.db.query<{ id: string; status: string }>(
    `SELECT id, status FROM books WHERE status IN ('received', 'splitting', 'processing') ORDER BY created_at`,
  );
  let pages = 0;
  for (const b of books.rows) {
    if (b.status !== 'processing') {
      await deps.queue.add('book.split', { bookId: b.id }, { jobId: `book.split-${b.id}-resume-${randomUUID().slice(0, 8)}`, ...STAGE_RETRIES['book.split'] });
      continue;
    }
    const pending = await deps.db.query<{ id: string; revision: number }>(
      `SELECT id, revision FROM pages WHERE book_id = $1 AND status IN ('pending', 'processing') ORDER BY sequence`,
      [b.id],
    );
    pages += pending.rowCount;
    await deps.queue.addFlow(bookFlow(b.id, pending.rows, `resume-${randomUUID().slice(0, 8)}`));
  }
  if (books.rowCount) deps.log.info({ books: books.rowCount, pages }, 'resumed unfinished books');
  return { books: books.rowCount, pages };
}
