import type { z } from 'zod';
import type { Logger } from '../common/logger.ts';

/** A catalogue of jobs: name → schema of its data. Payloads carry ids, never blobs. */
export type JobSchemas = Record<string, z.ZodType>;

/** The data type of job `N` in catalogue `S`, as its handler receives it (parsed). */
export type JobData<S extends JobSchemas, N extends keyof S> = z.infer<S[N]>;

/** The data of job `N` as enqueued (before the schema's defaults apply). */
export type JobInput<S extends JobSchemas, N extends keyof S> = z.input<S[N]>;

/** What a handler learns about the run it is in. */
export interface JobContext {
  jobId: string;
  /** 1 on the first try. */
  attempt: number;
  /**
   * Aborted when the worker is shutting down, or when it lost its claim on the job (another worker
   * may run it now); long handlers should stop early, and record nothing as the job's outcome.
   */
  signal: AbortSignal;
  log: Logger;
  /**
   * The children of this flow job that failed for good, with their reasons (a parent runs even
   * when a child failed: see `FlowJob`), so a stage can say why its input is missing. Empty for a
   * job without children.
   */
  failedChildren(): Promise<FailedChild[]>;
}

/** A child of a flow job that failed for good, as its parent sees it. */
export interface FailedChild {
  name: string;
  jobId: string;
  /** The child's failure, as `FailedJob.reason`. */
  reason: string;
}

/** 'skipped' means the work was already done (idempotent re-run). */
export type JobOutcome = 'done' | 'skipped';

/** Runs one job; throw a `PermanentError` for what retrying cannot fix, anything else is retried. */
export type JobHandler<D> = (data: D, ctx: JobContext) => Promise<JobOutcome>;

/** One handler per job name; a missing handler is a compile error where this is used. */
export type JobHandlers<S extends JobSchemas> = { [N in keyof S]: JobHandler<JobData<S, N>> };

/** Per-job delivery options. */
export interface JobOptions {
  /**
   * Deduplicates while a job with this id is known to the queue (not a substitute for idempotency).
   * Must not be an integer nor contain ':' (BullMQ reserves both); refused otherwise.
   */
  jobId?: string;
  /** Total tries including the first. Default from `JobQueueOptions`, else 3. */
  attempts?: number;
  /** Base of the exponential backoff between tries, in ms: try n+1 waits backoffMs * 2^(n-1). Default 1000. */
  backoffMs?: number;
  /** Waits this long before the first try. */
  delayMs?: number;
}

/** Retry settings of one queue, for jobs whose own options do not say. */
export interface JobQueueOptions<S extends JobSchemas> {
  /** Default 3. */
  attempts?: number;
  /** Default 1000. */
  backoffMs?: number;
  /** Overrides per job name. */
  perJob?: Partial<Record<keyof S & string, { attempts?: number; backoffMs?: number }>>;
}

/**
 * A job with children. The parent runs after every child has ended: completed, or failed for good
 * (a failed child never blocks its parent: a failing page never blocks its book). Children may have
 * children of their own. Deduplication by `jobId`: a flow whose root is already known is not added
 * at all (a retried job re-adding its flow adds nothing); below a new root, a known node is
 * deduplicated like `add`, except that naming a job that failed for good is refused with
 * ERR_CONFLICT (its new parent would wait for it forever).
 */
export interface FlowJob<S extends JobSchemas, N extends keyof S & string = keyof S & string> {
  name: N;
  data: JobInput<S, N>;
  opts?: JobOptions;
  children?: FlowJob<S>[];
}

/** Worker settings. */
export interface WorkOptions<S extends JobSchemas> {
  /** Concurrent jobs per job name in this process. Default 1. */
  concurrency?: Partial<Record<keyof S, number>>;
  /** Parent of every handler's `ctx.log`. */
  log: Logger;
}

/** Counts per state, per job name; `waiting` includes prioritized and paused jobs. */
export type QueueCounts = Record<
  string,
  { waiting: number; active: number; delayed: number; waitingChildren: number; completed: number; failed: number }
>;

/** The jobs a worker process runs until closed. */
export interface WorkerHandle {
  /**
   * Stops taking jobs, aborts every running job's `ctx.signal` and waits for those jobs, at most
   * `timeoutMs` (default 30 s); then releases connections. A job that ends by throwing after the
   * abort, or is still running at the deadline, goes back to the queue without using up an attempt
   * (a still-running handler's late outcome is ignored).
   */
  close(opts?: { timeoutMs?: number }): Promise<void>;
}

/** Reported for a job that failed for good (attempts exhausted or a PermanentError). */
export interface FailedJob {
  jobId: string;
  name: string;
  data: unknown;
  reason: string;
  attempts: number;
}

/** A job added again and again at a fixed interval (retention recompute, fixity sampling, due list). */
export interface JobSchedule<S extends JobSchemas, N extends keyof S & string = keyof S & string> {
  name: N;
  data: JobInput<S, N>;
  /** Interval in ms (at least 1000); the first run is one interval after the schedule is created. */
  everyMs: number;
}

/** A schedule as the queue knows it. */
export interface ScheduleInfo {
  id: string;
  name: string;
  everyMs: number;
  next: Date | null;
}

/** A job not yet ended (waiting, delayed, active or waiting for its children), as the reconciler sees it. */
export interface LiveJob {
  name: string;
  jobId: string;
  data: unknown;
}

/** The archive's work queue. */
export interface JobQueue<S extends JobSchemas> {
  /** Which adapter this is (for logs and the demo; pipeline code must not branch on it). */
  readonly kind: 'bullmq' | 'memory';
  /** Validates `data` against the catalogue and enqueues it; returns the job id. */
  add<N extends keyof S & string>(name: N, data: JobInput<S, N>, opts?: JobOptions): Promise<string>;
  /** Enqueues a parent job with its children (fan-out); the parent runs after them (fan-in). Returns the root's id. */
  addFlow(flow: FlowJob<S>): Promise<string>;
  /** Starts processing every job name with its handler. Data is validated again when dequeued. */
  work(handlers: JobHandlers<S>, opts: WorkOptions<S>): Promise<WorkerHandle>;
  /** How many jobs each job name has in each state. */
  counts(): Promise<QueueCounts>;
  /** Jobs that failed for good, newest first (default limit 100). */
  failed(name: keyof S & string, limit?: number): Promise<FailedJob[]>;
  /**
   * Resolves when no job is waiting, delayed, active or waiting for children (tests and the demo);
   * the pending next run of a schedule does not count;
   * rejects with ERR_UNAVAILABLE after `timeoutMs` (default 60 s).
   */
  drained(opts?: { timeoutMs?: number }): Promise<void>;
  /** Removes every job of this queue (tests, and a catalogue rebuild whose jobs name lost rows). */
  obliterate(): Promise<void>;
  /**
   * Every job of the given names (default all) that has not ended yet. The reconciler compares it
   * with the database to find work the queue lost (a Redis restarted without its data).
   */
  liveJobs(names?: readonly (keyof S & string)[]): Promise<LiveJob[]>;
  /**
   * Creates or updates the schedule `id` (data validated now and when dequeued). Every process
   * sharing the queue may upsert the same id at start: there stays one schedule, and upserting the
   * same interval again keeps the time of its pending run.
   */
  upsertSchedule(id: string, schedule: JobSchedule<S>): Promise<void>;
  /** Removes a schedule; true when it existed. */
  removeSchedule(id: string): Promise<boolean>;
  /** Every schedule with its next run. */
  schedules(): Promise<ScheduleInfo[]>;
  /** Closes the workers still open (as `WorkerHandle.close`), then the queue's own connections. */
  close(opts?: { timeoutMs?: number }): Promise<void>;
}
