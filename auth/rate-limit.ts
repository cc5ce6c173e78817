/**
 * Counts events per key in a sliding window, in memory (one API process; a deployment with several
 * behind a balancer gets a limit per process, which still bounds guessing).
 */
export class SlidingWindowLimiter {
  readonly #hits = new Map<string, number[]>();
  constructor(
    readonly max: number,
    readonly windowMs: number,
  ) {}

  /** True when `key` already used up the window. */
  blocked(key: string, now = Date.now()): boolean {
    return this.#recent(key, now).length >= this.max;
  }

  /** Records one event for `key`. */
  hit(key: string, now = Date.now()): void {
    const list = this.#recent(key, now);
    list.push(now);
    this.#hits.set(key, list);
    if (this.#hits.size > 100_000) this.#sweep(now);
  }

  /** Forgets `key` (a successful login clears its failures). */
  reset(key: string): void {
    this.#hits.delete(key);
  }

  /** Milliseconds until `key` may try again. */
  retryAfterMs(key: string, now = Date.now()): number {
    const list = this.#recent(key, now);
    return list.length ? Math.max(0, list[0]! + this.windowMs - now) : 0;
  }

  #recent(key: string, now: number): number[] {
    const list = (this.#hits.get(key) ?? []).filter((t) => now - t < this.windowMs);
    if (list.length) this.#hits.set(key, list);
    else this.#hits.delete(key);
    return list;
  }

  #sweep(now: number): void {
    for (const key of [...this.#hits.keys()]) this.#recent(key, now);
  }
}
