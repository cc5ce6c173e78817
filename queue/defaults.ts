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
  drainTimeoutMs: 60_000,
  failedLimit: 100,
} as const;
