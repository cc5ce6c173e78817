import { PermanentError } from '../../common/index.ts';
import { bookRunFigures, completeBook, getBook, listPageFailures, recordEvent, refreshBookCounts, type BookSummary } from '../../archive/index.ts';
import type { AppDeps } from '../../app/deps.ts';
import type { JobContext, JobOutcome } from '../../queue/index.ts';
import type { JobOf } from '../../pipeline/index.ts';
import { enqueuePackage } from '../../preservation/package-book.ts';
import { emit } from '../../events/index.ts';

type Deps = Pick<AppDeps, 'db' | 'log' | 'queue'>;

/**
 * Fan-in: runs after every page of a batch ended. Counts come from the pages themselves, so it is
 * idempotent and also right after a retry of some pages. While other pages are still pending (a
 * retry running alongside), the book stays in processing and that batch's completion finishes it.
 */
export async function completeBookJob(deps: Deps, job: JobOf<'book.complete'>, _ctx: JobContext): Promise<JobOutcome> {
  const book = await getBook(deps.db, job.bookId);
  if (!book) throw new PermanentError(`book ${job.bookId} does not exist`);
  if (book.status === 'failed') return 'skipped';
  const counts = await refreshBookCounts(deps.db, job.bookId);
  if (counts.pending > 0) return 'skipped';

  const figures = await bookRunFigures(deps.db, job.bookId);
  const failures = await listPageFailures(deps.db, job.bookId);
  const start = figures.ingestedAt ?? book.createdAt;
  const seconds = Math.max(0.001, (Date.now() - new Date(start).getTime()) / 1000);
  const summary: BookSummary = {
    pages: counts.pages,
    done: counts.done,
    failed: counts.failed,
    meanOcrConfidence: figures.meanOcrConfidence,
    failures: failures.map((f) => ({ sequence: f.sequence, reason: f.failureReason ?? 'unknown' })),
    processingSeconds: Math.round(seconds * 10) / 10,
    pagesPerMinute: counts.done > 0 ? Math.round((counts.done / seconds) * 60 * 10) / 10 : null,
  };
  const status = counts.pages > 0 && counts.failed === counts.pages ? 'failed' : counts.failed > 0 ? 'complete_with_failures' : 'complete';
  await deps.db.transaction(async (tx) => {
    await completeBook(tx, job.bookId, status, summary);
    // Archived (with all or some pages) is news for other systems; the same status reached again by a re-run is not.
    if (status !== 'failed') {
      await emit(tx, {
        type: 'book.archived',
        subjects: { bookId: job.bookId },
        data: { status, registerType: book.registerType, municipality: book.municipality, yearFrom: book.yearFrom, yearTo: book.yearTo, volume: book.volume ?? null },
      }, { once: true });
    }
  });
  await recordEvent(deps.db, {
    bookId: job.bookId,
    type: 'accession',
    agent: 'arkiva book.complete',
    outcome: counts.failed > 0 ? 'warning' : 'success',
    detail: `${counts.done} of ${counts.pages} pages archived, ${counts.failed} failed`,
  });
  if (status !== 'failed') await enqueuePackage(deps, job.bookId);
  return 'done';
}
