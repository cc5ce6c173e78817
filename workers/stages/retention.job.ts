import type { AppDeps } from '../../app/deps.ts';
import type { JobContext, JobOutcome } from '../../queue/index.ts';
import type { JobOf } from '../catalogue.ts';
import { auditFixity, executeBatch, listDue, recomputeAll, syncObjectLocks } from '../../retention/index.ts';

type Deps = Pick<AppDeps, 'db' | 'store' | 'log'>;

/** Recomputes retention (one book or all), lists what is due, and extends the books' Object Locks. */
export async function retentionRecomputeJob(deps: Deps, job: JobOf<'retention.recompute'>, ctx: JobContext): Promise<JobOutcome> {
  const ids = job.bookId ? [job.bookId] : undefined;
  const n = await recomputeAll(deps.db, job.reason ?? 'scheduled recompute', ids);
  const lock = await syncObjectLocks(deps, { ...(ids ? { bookIds: ids } : {}), repair: true });
  const due = await listDue(deps.db);
  ctx.log.info({ recomputed: n, due: due.length, blocked: due.filter((d) => d.blockedBy.length).length, lockDrift: lock.drift.length }, 'retention recomputed');
  return 'done';
}

/** Reports (and with `repair`, fixes) drift between the database and the store's Object Lock state. */
export async function retentionReconcileJob(deps: Deps, job: JobOf<'retention.reconcile'>, ctx: JobContext): Promise<JobOutcome> {
  const r = await syncObjectLocks(deps, { repair: job.repair });
  ctx.log[r.drift.length ? 'warn' : 'info']({ objects: r.objects, drift: r.drift.length, repaired: r.drift.filter((d) => d.repaired).length }, 'object lock reconciled');
  return 'done';
}

/** Audits fixity of one book, all objects, or those not checked within the cycle. */
export async function fixityAuditJob(deps: Deps, job: JobOf<'fixity.audit'>, ctx: JobContext): Promise<JobOutcome> {
  const r = await auditFixity(deps, { ...(job.bookId ? { bookId: job.bookId } : {}), all: job.all ?? false }, { signal: ctx.signal, agent: 'arkiva fixity job' });
  ctx.log[r.problems.length ? 'error' : 'info']({ runId: r.runId, checked: r.checked, problems: r.problems.length }, 'fixity audit finished');
  return 'done';
}

/** Executes an approved disposal batch (resumable: a re-run continues where it stopped). */
export async function disposalExecuteJob(deps: Deps, job: JobOf<'disposal.execute'>, ctx: JobContext): Promise<JobOutcome> {
  const r = await executeBatch(deps, job.batchId);
  ctx.log.info({ batchId: job.batchId, disposed: r.disposed.length, skipped: r.skipped.length, failed: r.failed.length }, 'disposal batch executed');
  if (r.failed.length) throw new Error(`${r.failed.length} book(s) of batch ${job.batchId} failed to dispose; retrying resumes them`);
  return 'done';
}
