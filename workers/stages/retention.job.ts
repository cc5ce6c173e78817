import type { AppDeps } from '../../app/deps.ts';
import type { JobContext, JobOutcome } from '../../queue/index.ts';
import type { JobOf } from '../../pipeline/index.ts';
import { auditFixity, countStoredObjects, executeBatch, fixitySampleLimit, listDue, recomputeAll, recomputeStale, snapshotDue, syncObjectLocks } from '../../retention/index.ts';

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
export async function fixityAuditJob(deps: Deps & Pick<AppDeps, 'config'>, job: JobOf<'fixity.audit'>, ctx: JobContext): Promise<JobOutcome> {
  const cycleDays = deps.config.fixity.cycleDays;
  let limit: number | undefined;
  if (job.scheduled) {
    // A scheduled run checks its share of the cycle (objects never or least recently checked first).
    const total = await countStoredObjects(deps.db);
    limit = fixitySampleLimit(total, deps.config.schedules.fixityAuditMs, cycleDays);
  }
  const scope = { ...(job.bookId ? { bookId: job.bookId } : {}), all: job.all ?? false, cycleDays, ...(limit ? { limit } : {}) };
  // Scheduled and on-demand job runs restore what they can from good copies (recorded as PREMIS recovery events).
  const r = await auditFixity(deps, scope, { signal: ctx.signal, agent: 'arkiva fixity job', repair: true });
  ctx.log[r.problems.length ? 'error' : 'info']({ runId: r.runId, checked: r.checked, damaged: r.damaged, intruded: r.intruded }, 'fixity audit finished');
  return 'done';
}

/** Executes an approved disposal batch (resumable: a re-run continues where it stopped). */
export async function disposalExecuteJob(deps: Deps, job: JobOf<'disposal.execute'>, ctx: JobContext): Promise<JobOutcome> {
  const r = await executeBatch(deps, job.batchId);
  ctx.log.info({ batchId: job.batchId, disposed: r.disposed.length, skipped: r.skipped.length, failed: r.failed.length }, 'disposal batch executed');
  if (r.failed.length) throw new Error(`${r.failed.length} book(s) of batch ${job.batchId} failed to dispose; retrying resumes them`);
  return 'done';
}

/** Recomputes books marked stale by registry link or event changes, and extends their Object Locks. */
export async function retentionStaleJob(deps: Deps, _job: JobOf<'retention.stale'>, ctx: JobContext): Promise<JobOutcome> {
  const ids = await recomputeStale(deps.db);
  if (!ids.length) return 'skipped';
  const lock = await syncObjectLocks(deps, { bookIds: ids, repair: true });
  ctx.log.info({ recomputed: ids.length, lockDrift: lock.drift.length }, 'stale retention recomputed');
  return 'done';
}

/** Stores a snapshot of the due list (after taking in stale registry changes), for records managers. */
export async function disposalDueJob(deps: Deps, _job: JobOf<'disposal.due'>, ctx: JobContext): Promise<JobOutcome> {
  const stale = await recomputeStale(deps.db);
  if (stale.length) await syncObjectLocks(deps, { bookIds: stale, repair: true });
  const snap = await snapshotDue(deps.db);
  ctx.log.info({ snapshotId: snap.id, due: snap.due, blocked: snap.blocked }, 'disposal due list stored');
  return 'done';
}
