import type { AppDeps } from '../app/deps.ts';
import type { WorkerHandle } from '../queue/index.ts';
import { stageConcurrency } from './catalogue.ts';
import { pipelineHandlers } from './stages.ts';

export { JOBS, PAGE_STAGES, STAGE_RETRIES, stageConcurrency, type Jobs, type JobName, type JobOf } from './catalogue.ts';
export { bookFlow, pageFlow } from './flows.ts';
export { pipelineHandlers } from './stages.ts';
export type { ArchivedOcr } from './stages/ocr-page.job.ts';
export { DERIVATIVES } from './stages/make-master.job.ts';
export { resumeUnfinished } from './resume.ts';

/** Starts this process's workers for every stage, with the concurrency set in the catalogue. */
export async function startWorkers(deps: AppDeps): Promise<WorkerHandle> {
  return deps.queue.work(pipelineHandlers(deps), { concurrency: stageConcurrency(deps.config.ocr.poolSize), log: deps.log });
}
