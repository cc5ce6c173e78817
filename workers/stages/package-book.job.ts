import type { AppDeps } from '../../app/deps.ts';
import type { JobContext, JobOutcome } from '../../queue/index.ts';
import type { JobOf } from '../../pipeline/index.ts';
import { packageBook } from '../../preservation/package-book.ts';

type Deps = Pick<AppDeps, 'db' | 'store' | 'log' | 'config'>;

/**
 * Builds a finished book's archival package (ALTO, PDF/A, METS, BagIt tar). Idempotent: a package
 * already built from the book's current page revisions is not built again.
 */
export async function packageBookJob(deps: Deps, job: JobOf<'book.package'>, ctx: JobContext): Promise<JobOutcome> {
  const r = await packageBook(deps, job.bookId, { signal: ctx.signal });
  if (r.outcome === 'done') {
    ctx.log.info({ bookId: job.bookId, generation: r.generation, files: r.payloadFiles, pdfBytes: r.pdfBytes, pageImageBytes: r.pageImageBytes }, 'package built');
  }
  return r.outcome;
}
