/**
 * The pipeline's contract: the job catalogue (names, payload schemas, retries, concurrency), the
 * flows a book and its pages go through, and what is queued after what. Workers register handlers
 * for these jobs; everything that queues work asks this folder how.
 */
export { JOBS, PAGE_STAGES, STAGE_RETRIES, stageConcurrency, type Jobs, type JobName, type JobOf, type PageStage } from './catalogue.ts';
export { bookFlow, pageFlow, splitBlockOf } from './flows.ts';
export { newRunId, packageJobId, queueBookSplit, queuePackage, queuePages } from './next.ts';
export { queueSplitPages } from './next.ts';
export { installSchedules, periodicSchedules } from './schedules.ts';
