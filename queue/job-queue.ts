import type { z } from 'zod';
import type { Logger } from '../common/logger.ts';

/** A catalogue of jobs: name → schema of its data. Payloads carry ids, never blobs. */
export type JobSchemas = Record<string, z.ZodType>;

/** The data type of job `N` in catalogue `S`. */
export type JobData<S extends JobSchemas, N extends keyof S> = z.infer<S[N]>;

/** What a handler learns about the run it is in. */
export interface JobContext {
  jobId: string;
  /** 1 on the first try. */
  attempt: number;
  /** Aborted when the worker is shutting down; long handlers should stop early. */
  signal: AbortSignal;
  log: Logger;
}

/** 'skipped' means the work was already done (idempotent re-run). */
export type JobOutcome = 'done' | 'skipped';

export type JobHandler<D> = (data: D, ctx: JobContext) => Promise<JobOutcome>;

/** One handler per job name; a missing handler is a compile error where this is used. */
export type JobHandlers<S extends JobSchemas> = { [N in keyof S]: JobHandler<JobData<S, N>> };

/** Per-job delivery options. */
export interface JobOptions {
  /** Deduplicates while a job with this id is known to the queue (not a substitute for idempotency). */
  jobId?: string;
  /** Total tries including the first. Default from the stage configuration or 3. */
  attempts?: number;
  /** Base of the exponential backoff between tries, in ms. */
  backoffMs?: number;
  delayMs?: number;
}

/**
 * A job with children. The parent runs after every child has ended: completed, or failed for good
 * (a failed child never blocks its parent: a failing page never blocks its book).
 */
export interface FlowJob<S extends JobSchemas, N extends keyof S & string = keyof S & string> {
  name: N;
  data: JobData<S, N>;
  opts?: JobOptions;
  children?: FlowJob<S>[];
}

/** Worker settings. */
export interface WorkOptions<S extends JobSchemas> {
  /** Concurrent jobs per job name in this process. */
  concurrency?: Partial<Record<keyof S, number>>;
  /** Default attempts and backoff per job name when the job itself does not say. */
  log: Logger;
}

/** Counts per state, per job name. */
export type QueueCounts = Record<string, { waiting: number; active: number; delayed: number; completed: number; failed: number }>;

/** The jobs a worker process runs until closed. */
export interface WorkerHandle {
  /** Stops taking jobs, waits (bounded) for running ones, and releases connections. */
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

/** The archive's work queue. */
export interface JobQueue<S extends JobSchemas> {
  readonly kind: 'bullmq' | 'memory';
  /** Validates `data` against the catalogue and enqueues it; returns the job id. */
  add<N extends keyof S & string>(name: N, data: JobData<S, N>, opts?: JobOptions): Promise<string>;
  /** Enqueues a parent job with its children (fan-out); the parent runs after them (fan-in). */
  addFlow(flow: FlowJob<S>): Promise<string>;
  /** Starts processing every job name with its handler. Data is validated again when dequeued. */
  work(handlers: JobHandlers<S>, opts: WorkOptions<S>): Promise<WorkerHandle>;
  counts(): Promise<QueueCounts>;
  /** Jobs that failed for good, newest first. */
  failed(name: keyof S & string, limit?: number): Promise<FailedJob[]>;
  /** Resolves when no job is waiting, delayed or active (tests and the demo). */
  drained(opts?: { timeoutMs?: number }): Promise<void>;
  /** Removes every job of this queue (tests only). */
  obliterate(): Promise<void>;
  close(): Promise<void>;
}
