import type { AppDeps } from '../app/deps.ts';
import type { WorkerHandle } from '../queue/index.ts';
import { stageConcurrency } from '../pipeline/index.ts';
import { pipelineHandlers } from './stages.ts';
import { startReconciler } from './reconcile.ts';

export { pipelineHandlers } from './stages.ts';
export { DERIVATIVES, EARLIER_DERIVATIVES, PYRAMID } from './stages/page-images.ts';
export { resumeUnfinished } from './resume.ts';
export { findOrphans, Reconciler, startReconciler, type OrphanWork, type ReconcileReport, type ReconcilerHandle } from './reconcile.ts';

/** Starts this process's workers for every stage, with the concurrency set in the catalogue. */
export async function startWorkers(deps: AppDeps): Promise<WorkerHandle> {
  const handle = await deps.queue.work(pipelineHandlers(deps), { concurrency: stageConcurrency(deps.config.ocr.poolSize), log: deps.log });
  // Work the queue lost (Redis restarted without its data, jobs failed for good during an outage)
  // is found from the database and queued again, without anyone running `arkiva resume`.
  const reconciler = deps.config.reconcile.intervalMs > 0 ? startReconciler(deps, { intervalMs: deps.config.reconcile.intervalMs }) : undefined;
  return {
    async close(opts) {
      await reconciler?.stop();
      await handle.close(opts);
    },
  };
}
