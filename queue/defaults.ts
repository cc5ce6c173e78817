/** Settings both adapters share unless a caller overrides them. */
export const QUEUE_DEFAULTS = {
  attempts: 3,
  backoffMs: 1000,
  concurrency: 1,
  /** Completed jobs are forgotten after a day or beyond the newest 10 000 per job name. */
  keepCompleted: { ageSeconds: 24 * 3600, count: 10_000 },
  /** Failed jobs stay for inspection for 30 days. */
  keepFailed: { ageSeconds: 30 * 24 * 3600 },
  closeTimeoutMs: 30_000,
  /** How long a worker's claim on a job lasts without renewal (BullMQ adapter; QUEUE_LOCK_SECONDS). */
  lockMs: 30_000,
  /** How often workers look for jobs whose claim expired (BullMQ adapter; QUEUE_STALLED_CHECK_SECONDS). */
  stalledCheckMs: 15_000,
  /** Times a job may be lost with its worker and run again before it fails for good (BullMQ adapter; QUEUE_MAX_STALLS). */
  maxStalls: 5,
  drainTimeoutMs: 60_000,
  failedLimit: 100,
} as const;
