import { PermanentError } from '../common/errors.ts';
import type { Logger } from '../common/logger.ts';
import type { JobContext, JobHandler, JobOutcome } from './job-queue.ts';

/** How one try of a job ended, in the terms both adapters act on. */
export type Verdict =
  | { kind: 'completed'; outcome: JobOutcome }
  /** The worker is shutting down: back to the queue without using up the attempt. */
  | { kind: 'requeue'; why: 'aborted' | 'deadline' }
  /**
   * The worker lost its claim on the job (its lock expired or was taken): the job is no longer this
   * worker's to record; the queue's stalled check hands it to a worker again, without using up an attempt.
   */
  | { kind: 'lost' }
  | { kind: 'permanent'; error: Error }
  | { kind: 'retryable'; error: Error };

/** An `Error` for anything thrown, so reasons are always strings. */
export function toError(e: unknown): Error {
  return e instanceof Error ? e : new Error(typeof e === 'string' ? e : `non-error thrown: ${String(e)}`);
}

function isPermanent(e: Error): boolean {
  // the name check also catches a PermanentError from a second copy of common/ (bundlers, tests)
  return e instanceof PermanentError || e.name === 'PermanentError';
}

const RELEASED = Symbol('released');

/**
 * One job in the hands of a handler. The worker aborts its signal at shutdown, and releases it at
 * the close deadline: the adapter then stops waiting for the handler and hands the job back.
 */
export class RunningJob {
  readonly controller = new AbortController();
  private shuttingDown = false;
  private claimLost = false;
  private releaseFn: () => void = () => undefined;
  private readonly released = new Promise<typeof RELEASED>((resolve) => {
    this.releaseFn = () => resolve(RELEASED);
  });

  /** Asks the handler to stop early because the worker is closing. */
  abortForShutdown(): void {
    this.shuttingDown = true;
    this.controller.abort(new Error('worker shutting down'));
  }

  /** Asks the handler to stop because another worker may run the job now; whatever it ends with is not recorded. */
  loseClaim(): void {
    this.claimLost = true;
    this.controller.abort(new Error('lost the claim on this job: another worker may run it'));
  }

  /** Stops waiting for the handler (close deadline reached). */
  release(): void {
    this.shuttingDown = true;
    this.releaseFn();
  }

  /** Runs the handler and classifies how it ended; never rejects. */
  async run<D>(handler: JobHandler<D>, data: D, ctx: JobContext): Promise<Verdict> {
    // new Promise also turns a synchronous throw of a non-async handler into a rejection
    const settled = new Promise<JobOutcome>((resolve) => resolve(handler(data, ctx))).then(
      (outcome) => ({ ok: true as const, outcome }),
      (e: unknown) => ({ ok: false as const, error: toError(e) }),
    );
    // Promise.race subscribes to `settled`, so a late rejection after release is never unhandled
    const result = await Promise.race([settled, this.released]);
    if (result === RELEASED) return { kind: 'requeue', why: 'deadline' };
    // Even a success cannot be recorded without the claim; the next run finds the work done (idempotent).
    if (this.claimLost) return { kind: 'lost' };
    if (result.ok) return { kind: 'completed', outcome: result.outcome };
    if (isPermanent(result.error)) return { kind: 'permanent', error: result.error };
    if (this.shuttingDown) return { kind: 'requeue', why: 'aborted' };
    return { kind: 'retryable', error: result.error };
  }
}

/** The running jobs of one worker handle, so close() can abort, wait for and release them. */
export class RunningJobs {
  private readonly jobs = new Map<RunningJob, Promise<unknown>>();

  /** Tracks `job` until `done` settles. */
  track(job: RunningJob, done: Promise<unknown>): void {
    const settled = done.then(
      () => undefined,
      () => undefined,
    );
    this.jobs.set(job, settled);
    void settled.then(() => this.jobs.delete(job));
  }

  /** Number of jobs still running. */
  get size(): number {
    return this.jobs.size;
  }

  /** Aborts every running job's signal. */
  abortAll(): void {
    for (const job of this.jobs.keys()) job.abortForShutdown();
  }

  /** Releases every running job (close deadline reached). */
  releaseAll(): void {
    for (const job of this.jobs.keys()) job.release();
  }

  /** Resolves once every job tracked now has ended. */
  async settled(): Promise<void> {
    await Promise.all(this.jobs.values());
  }
}

/** True when `p` settled within `ms`. */
export async function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([
      p.then(
        () => true,
        () => true,
      ),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Logs how a try ended: retries at warn, failures for good at error. Never logs job data. */
export function logVerdict(log: Logger, verdict: Verdict, attempt: number, attempts: number): void {
  switch (verdict.kind) {
    case 'completed':
      log.debug({ outcome: verdict.outcome }, 'job completed');
      return;
    case 'requeue':
      log.info({ why: verdict.why }, 'job handed back to the queue at shutdown');
      return;
    case 'lost':
      log.warn('lost the claim on this job (lock expired or taken): left to the stalled check, attempt not used');
      return;
    case 'permanent':
      log.error({ err: verdict.error }, 'job failed for good (permanent error)');
      return;
    case 'retryable':
      if (attempt < attempts) log.warn({ err: verdict.error, attempt, attempts }, 'job failed, will retry');
      else log.error({ err: verdict.error, attempt, attempts }, 'job failed for good (attempts exhausted)');
  }
}
