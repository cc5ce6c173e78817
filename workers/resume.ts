import type { AppDeps } from '../app/deps.ts';
import { listPendingPages, listUnfinishedBooks } from '../archive/index.ts';
import { newRunId, queueBookSplit, queuePages } from '../pipeline/index.ts';

type Deps = Pick<AppDeps, 'db' | 'queue' | 'log'>;

/**
 * Queues again the work of books left unfinished (an in-process queue lost at exit, or a Redis that
 * lost its data). Safe at any time: every stage skips what is already archived.
 */
export async function resumeUnfinished(deps: Deps): Promise<{ books: number; pages: number }> {
  const books = await listUnfinishedBooks(deps.db);
  let pages = 0;
  for (const b of books) {
    if (b.status !== 'processing') {
      await queueBookSplit(deps.queue, b.id, newRunId('resume'));
      continue;
    }
    const pending = await listPendingPages(deps.db, b.id);
    pages += pending.length;
    await queuePages(deps.queue, b.id, pending, newRunId('resume'));
  }
  if (books.length) deps.log.info({ books: books.length, pages }, 'resumed unfinished books');
  return { books: books.length, pages };
}
