import { AppError, PermanentError, type Logger } from '../../common/index.ts';
import type { Queryable } from '../../db/index.ts';
import { claimPageForStage, getPage, markPageFailed, recordEvent, type Page } from '../../archive/index.ts';
import { isOutage, type JobContext, type JobOutcome } from '../../queue/index.ts';
import type { PageStage } from '../../pipeline/index.ts';

/** The data every page stage receives. */
export interface PageJob {
  bookId: string;
  pageId: string;
  revision: number;
}

/**
 * Thrown by a stage whose input an earlier stage of the page did not produce because that stage
 * failed for good: the page is recorded as failed at that earlier stage, with its own reason, and
 * the job is not tried again (no retry brings the input back).
 */
export class EarlierStageFailed extends PermanentError {
  constructor(
    readonly stage: PageStage,
    readonly reason: string,
  ) {
    super(`${stage}: ${reason}`);
  }
}

/**
 * Runs one stage of one page with the rules every stage shares: a stale job (the page moved to a
 * newer revision) or a page that already failed is skipped; the page's failure is recorded with
 * its reason on the last attempt (or a PermanentError), so the book goes on without it. A try cut
 * short by its worker (shutdown, or a lost claim on the job) records nothing: the job runs again.
 */
export async function runPageStage(
  deps: { db: Queryable; log: Logger },
  stage: PageStage,
  job: PageJob,
  ctx: JobContext,
  maxAttempts: number,
  work: (page: Page) => Promise<JobOutcome>,
): Promise<JobOutcome> {
  let page = await claimPageForStage(deps.db, { id: job.pageId, bookId: job.bookId, revision: job.revision }, stage);
  if (!page) {
    page = await getPage(deps.db, job.pageId);
    if (!page || page.bookId !== job.bookId) throw new PermanentError(`page ${job.pageId} of book ${job.bookId} does not exist`);
    if (page.revision !== job.revision || page.status === 'failed') return 'skipped';
    // Done at this revision: the stage still runs, to find its work done (or redo what is missing).
  }
  try {
    return await work(page);
  } catch (e) {
    const reason = e instanceof Error ? e.message : String(e);
    // A client-side AppError (bad image, unknown language) fails the same way on every try.
    const permanent = e instanceof PermanentError || (e instanceof AppError && e.status < 500);
    // Stopped by its worker, not by the page: the job goes back to the queue (shutdown) or is
    // another worker's already (lost claim), so even a last attempt must not fail the page.
    if (ctx.signal.aborted && !permanent) throw e;
    const earlier = e instanceof EarlierStageFailed ? e : undefined;
    const failedStage = earlier?.stage ?? stage;
    // A service being down says nothing about the page: it stays pending for the queue's outage
    // wait or, failing that, for the reconciler, instead of being recorded as failed.
    const final = permanent || (ctx.attempt >= maxAttempts && !isOutage(e));
    ctx.log.warn({ bookId: job.bookId, pageId: job.pageId, stage, attempt: ctx.attempt, final, err: reason }, 'page stage failed');
    if (final) {
      // an earlier stage's failure is the page's failure at that stage, in that stage's words
      await markPageFailed(deps.db, page.id, failedStage, earlier ? reason : `${stage}: ${reason}`);
      await recordEvent(deps.db, {
        bookId: job.bookId,
        pageId: job.pageId,
        type: failedStage === 'page.ocr' ? 'ocr' : failedStage === 'page.index' ? 'indexing' : 'normalization',
        agent: `arkiva ${stage}`,
        outcome: 'failure',
        detail: reason,
      });
    }
    if (permanent && !(e instanceof PermanentError)) throw new PermanentError(reason, { cause: e });
    throw e;
  }
}
