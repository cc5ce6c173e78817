import type { ServiceConfig } from '../config/env.ts';
import type { Logger } from '../common/logger.ts';
import type { JobQueue, JobSchemas } from './job-queue.ts';
import type { BullMqJobQueueOptions } from './bullmq.job-queue.ts';
import { MemoryJobQueue } from './memory.job-queue.ts';

export type {
  FailedJob, FlowJob, JobContext, JobData, JobHandler, JobHandlers, JobInput, JobOptions, JobOutcome, JobQueue,
  JobQueueOptions, JobSchemas, QueueCounts, WorkerHandle, WorkOptions,
} from './job-queue.ts';
export type { JobSchedule, LiveJob, ScheduleInfo } from './job-queue.ts';
export { isOutage } from './outage.ts';
export { QUEUE_DEFAULTS } from './defaults.ts';

/**
 * Opens the job queue the configuration names: BullMQ on Redis, or the in-process queue of
 * embedded mode. Pipeline code gets a `JobQueue` and never learns which.
 */
export async function openJobQueue<S extends JobSchemas>(
  config: ServiceConfig['queue'],
  schemas: S,
  log: Logger,
  /** Retry settings for both adapters; the claim settings only matter to BullMQ. */
  opts?: BullMqJobQueueOptions<S>,
): Promise<JobQueue<S>> {
  if (config.kind === 'memory') return new MemoryJobQueue(schemas, log, opts);
  // loaded on demand: embedded mode never pays for loading BullMQ
  const { BullMqJobQueue } = await import('./bullmq.job-queue.ts');
  return BullMqJobQueue.open(config, schemas, log, opts);
}
export type { FailedChild } from './job-queue.ts';
