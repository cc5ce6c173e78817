/** How deliveries are retried: timings of the `events.deliver` job. */
export interface DeliverySettings {
  /** Tries before a delivery is dead-lettered (the first included). */
  maxAttempts: number;
  /** Wait after the first failure; each later one doubles it. */
  baseDelayMs: number;
  /** Longest wait between two tries. */
  maxDelayMs: number;
  /** How long a receiver may take to answer one POST. */
  timeoutMs: number;
  /** Deliveries claimed per round of a sweep, and how many are posted at once. */
  batch: number;
  parallel: number;
  /** A sweep stops taking new rounds after this long (the next scheduled run goes on). */
  budgetMs: number;
}

/**
 * The production schedule: 30 s, 1, 2, 4, 8, 16, 32 min, then hourly, ten tries in all: a receiver
 * down for about three hours loses nothing; after that the delivery is a dead letter, replayable.
 */
export const DELIVERY_SETTINGS: DeliverySettings = Object.freeze({
  maxAttempts: 10,
  baseDelayMs: 30_000,
  maxDelayMs: 3_600_000,
  timeoutMs: 10_000,
  batch: 50,
  parallel: 4,
  budgetMs: 60_000,
});

/**
 * When the next try after failed try `attempt` (1 on the first) is due, or null when that was the
 * last: exponential (base × 2^(attempt-1), capped), with up to 10 % random jitter so receivers
 * coming back are not hit by every retry at once.
 */
export function nextAttemptAt(attempt: number, s: Pick<DeliverySettings, 'maxAttempts' | 'baseDelayMs' | 'maxDelayMs'>, now: Date = new Date(), random: () => number = Math.random): Date | null {
  if (!Number.isInteger(attempt) || attempt < 1) throw new RangeError(`attempt must be a whole number from 1, not ${attempt}`);
  if (attempt >= s.maxAttempts) return null;
  const delay = Math.min(s.maxDelayMs, s.baseDelayMs * 2 ** (attempt - 1));
  return new Date(now.getTime() + Math.round(delay * (1 + 0.1 * random())));
}

/** How long a claim holds a delivery: the POST's timeout and a margin for writing its outcome. */
export function leaseMs(s: Pick<DeliverySettings, 'timeoutMs'>): number {
  return s.timeoutMs + 5_000;
}
