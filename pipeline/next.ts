/**
 * What is queued after what: the one place that knows which job follows an ingest, a split, a
 * retry, a replacement, a book's end or a change of its text, and under which job id (the id is
 * what makes a second delivery of the same step add nothing).
 */
import { randomUUID } from 'node:crypto';
import type { JobQueue } from '../queue/index.ts';
import { STAGE_RETRIES, type Jobs } from './catalogue.ts';
import { bookFlow } from './flows.ts';

type Queue = Pick<JobQueue<Jobs>, 'add' | 'addFlow'>;

/** A short id that tells one run of a book's pages (a retry, a resume, a reconcile) from another. */
export function newRunId(prefix?: string): string {
  const id = randomUUID().slice(0, 8);
  return prefix ? `${prefix}-${id}` : id;
}

/**
 * After a book's original is stored: split it into pages. Without `run` the id is the book's own,
 * so an upload repeated before the split ran queues nothing new; resume and reconcile pass a run.
 */
export async function queueBookSplit(queue: Queue, bookId: string, run?: string): Promise<void> {
  await queue.add('book.split', { bookId }, { jobId: `book.split-${bookId}${run ? `-${run}` : ''}`, ...STAGE_RETRIES['book.split'] });
}

/**
 * After pages are known (split, retried, replaced, resumed): each page through its stages, and the
 * book's completion after all of them. `part` names one block of several flows of the same run.
 */
export async function queuePages(queue: Queue, bookId: string, pages: readonly { id: string; revision: number }[], run: string, part?: string): Promise<void> {
  await queue.addFlow(bookFlow(bookId, pages.map((p) => ({ id: p.id, revision: p.revision })), run, part));
}

/**
 * While and after a book is split: one block of its pages (`splitBlockOf`) through the stages,
 * or with no block the book's completion alone. The run is the first pass's and the ids follow
 * the block, so a re-run of the split adds nothing that is still queued.
 */
export async function queueSplitPages(queue: Queue, bookId: string, pages: readonly { id: string; revision: number }[], block?: number): Promise<void> {
  await queuePages(queue, bookId, pages, 'initial', block === undefined ? undefined : `b${block}`);
}

/** The book.package job id for a basis: a new basis (a replaced page) runs again, the same one is deduplicated. */
export function packageJobId(bookId: string, basis: string): string {
  return `book.package-${bookId}-${basis.slice(0, 16)}`;
}

/** After a book ended, or its pages or text changed: build its package for that basis. */
export async function queuePackage(queue: Queue, bookId: string, basis: string): Promise<void> {
  await queue.add('book.package', { bookId }, { jobId: packageJobId(bookId, basis), ...STAGE_RETRIES['book.package'] });
}
