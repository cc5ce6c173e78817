import os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  DelayedError, FlowProducer, Queue, UnrecoverableError, WaitingError, Worker,
  type FlowChildJob, type FlowJob as BullFlowJob, type Job, type JobsOptions,
} from 'bullmq';
import { Redis } from 'ioredis';
import type { ServiceConfig } from '../config/env.ts';
import { AppError } from '../common/errors.ts';
import type { Logger } from '../common/logger.ts';
import type {
  FailedChild, FailedJob, FlowJob, JobContext, JobHandler, JobHandlers, JobInput, JobOptions, JobOutcome, JobQueue, JobQueueOptions,
  JobSchemas, QueueCounts, WorkerHandle, WorkOptions,
} from './job-queue.ts';
import type { JobSchedule, LiveJob, ScheduleInfo } from './job-queue.ts';
import { isOutage, MAX_OUTAGE_DEFERRALS, outageDelayMs } from './outage.ts';
import { QUEUE_DEFAULTS } from './defaults.ts';
import { logVerdict, RunningJob, RunningJobs, settlesWithin, toError } from './job-run.ts';
import { warnUnlessNoEviction } from './redis-policy.ts';
import { listBullSchedules, removeBullSchedule, upsertBullSchedule } from './schedules.ts';
import {
  checkFlow, concurrencyOf, failedNodeConflict, flowNodes, parseForEnqueue, parseOnDequeue, resolveJobOptions, schemaOf,
  type CheckedFlow, type ResolvedJobOptions,
} from './validation.ts';

/** The queue configuration when Redis is used. */
export type BullMqConfig = Extract<ServiceConfig['queue'], { kind: 'bullmq' }>;

/** Tuning of the BullMQ adapter; the defaults suit production, tests shorten them. */
export interface BullMqJobQueueOptions<S extends JobSchemas> extends JobQueueOptions<S> {
  /**
   * How long a worker's claim on a job lasts without renewal, in ms (renewed every quarter to half
   * of it). Default 30 000: OCR runs in worker threads, so the event loop renews in time; a crashed
   * worker's jobs are taken over after at most this plus two stalled intervals.
   */
  lockDurationMs?: number;
  /** How often workers look for jobs whose claim expired, in ms. Default 15 000. */
  stalledIntervalMs?: number;
  /**
   * Times a job may be lost with its worker (killed, crashed, or its claim expired) and run again
   * before it fails for good. A loss is not the job's fault and uses none of its attempts; the
   * bound only stops a job that itself brings its workers down. Default 5 (BullMQ's own is 1,
   * which failed pages whose worker was killed and whose next worker lost its claim under load).
   * Every process sharing a prefix must use the same value: whichever runs the stalled check applies its own.
   */
  maxStalledCount?: number;
  /** How long open() waits for Redis, in ms. Default 10 000. */
  connectTimeoutMs?: number;
  /** How often drained() polls the counts, in ms. Default 50. */
  pollMs?: number;
}

const STOP_AFTER_FORCE_MS = 5000;

/** What BullMQ records for a job lost with its workers more than `maxStalledCount` times. */
const BULLMQ_STALLED_REASON = 'job stalled more than allowable limit';

/** A job's failure reason in the archive's words (BullMQ's stall limit says neither what happened nor why it matters). */
function reasonOf(raw: string, maxStalls: number): string {
  if (raw !== BULLMQ_STALLED_REASON) return raw;
  const times = maxStalls + 1;
  return `lost with its worker ${times} time${times === 1 ? '' : 's'} (worker killed, crashed or cut off past its claim); a job that keeps stopping its workers is failed rather than run forever`;
}

function connect(url: string, name: string, log: Logger): Redis {
  // null: BullMQ's blocking commands must wait through reconnections instead of failing
  const redis = new Redis(url, { maxRetriesPerRequest: null, connectionName: name });
  // the URL may hold a password: never log it
  redis.on('error', (err: unknown) => log.warn({ err, connection: name }, 'redis connection error'));
  return redis;
}

async function quit(redis: Redis): Promise<void> {
  try {
    await redis.quit();
  } catch {
    redis.disconnect();
  }
}

function escapeGlob(s: string): string {
  return s.replace(/[*?[\]\\]/g, '\\$&');
}

/**
 * The job queue on Redis through BullMQ. One BullMQ queue (and, in workers, one BullMQ worker)
 * per job name, named after the job, so each stage scales on its own; flows span those queues.
 */
export class BullMqJobQueue<S extends JobSchemas> implements JobQueue<S> {
  readonly kind = 'bullmq' as const;
  private readonly queues = new Map<string, Queue>();
  private readonly flows: FlowProducer;
  private readonly handles = new Set<BullMqWorkerHandle>();
  private closing: Promise<void> | undefined;

  /** Connects, checks the eviction policy, and opens one BullMQ queue per job name. */
  static async open<S extends JobSchemas>(
    config: BullMqConfig,
    schemas: S,
    log: Logger,
    opts: BullMqJobQueueOptions<S> = {},
  ): Promise<BullMqJobQueue<S>> {
    const redis = connect(config.url, `${config.prefix}:queue`, log);
    const timeoutMs = opts.connectTimeoutMs ?? 10_000;
    try {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer from Redis within ${timeoutMs} ms`)), timeoutMs);
      });
      try {
        await Promise.race([redis.ping(), timeout]);
      } finally {
        clearTimeout(timer);
      }
      await warnUnlessNoEviction(redis, log);
    } catch (e) {
      redis.disconnect();
      throw new AppError('ERR_UNAVAILABLE', 'cannot reach Redis for the job queue', undefined, { cause: e });
    }
    try {
      return new BullMqJobQueue(config.prefix, schemas, log, opts, redis);
    } catch (e) {
      // e.g. a job name BullMQ cannot use as a queue name (it contains ':')
      redis.disconnect();
      throw e;
    }
  }

  private constructor(
    private readonly prefix: string,
    private readonly schemas: S,
    private readonly log: Logger,
    private readonly opts: BullMqJobQueueOptions<S>,
    private readonly redis: Redis,
  ) {
    for (const name of Object.keys(schemas)) {
      const queue = new Queue(name, { connection: redis, prefix });
      queue.on('error', (err) => log.warn({ err, job: name }, 'job queue error'));
      this.queues.set(name, queue);
    }
    this.flows = new FlowProducer({ connection: redis, prefix });
    this.flows.on('error', (err) => log.warn({ err }, 'job flow producer error'));
  }

  async add<N extends keyof S & string>(name: N, data: JobInput<S, N>, opts?: JobOptions): Promise<string> {
    this.assertOpen();
    const parsed = parseForEnqueue(this.schemas, name, data);
    const resolved = resolveJobOptions(name, opts, this.opts);
    const job = await this.queue(name).add(name, parsed, this.jobsOptions(resolved));
    return job.id!;
  }

  async addFlow(flow: FlowJob<S>): Promise<string> {
    this.assertOpen();
    const checked = checkFlow(this.schemas, flow, this.opts);
    const known = await this.knownRoot(checked);
    if (known !== undefined) return known;
    const node = await this.flows.add(this.toBullFlow(checked, false) as BullFlowJob);
    return node.job.id!;
  }

  async work(handlers: JobHandlers<S>, opts: WorkOptions<S>): Promise<WorkerHandle> {
    this.assertOpen();
    const names = Object.keys(this.schemas);
    const concurrency = new Map(names.map((n) => [n, concurrencyOf(opts.concurrency as Partial<Record<string, number>>, n)]));
    const redis = this.redis.duplicate({ connectionName: `${this.prefix}:worker` });
    redis.on('error', (err: unknown) => opts.log.warn({ err }, 'redis connection error (worker)'));
    const handle = new BullMqWorkerHandle(redis, opts.log, () => this.handles.delete(handle));
    const workerName = `${os.hostname()}-${process.pid}`;
    for (const name of names) {
      const handler = (handlers as unknown as Record<string, JobHandler<unknown>>)[name]!;
      const byJobId = new Map<string, RunningJob>();
      // two parameters on purpose: BullMQ adds its own AbortSignal only to 3-parameter processors,
      // and ours (RunningJob) already covers shutdown and lost claims
      const worker = new Worker(name, (job: Job, token?: string) => this.process(handle, name, handler, byJobId, job, token), {
        connection: redis,
        prefix: this.prefix,
        name: workerName,
        concurrency: concurrency.get(name)!,
        lockDuration: this.opts.lockDurationMs ?? QUEUE_DEFAULTS.lockMs,
        stalledInterval: this.opts.stalledIntervalMs ?? QUEUE_DEFAULTS.stalledCheckMs,
        maxStalledCount: this.maxStalls,
      });
      worker.on('error', (err) => opts.log.warn({ err, job: name }, 'job worker error'));
      // the claim is gone: another worker may already run this job, so ours stops and records nothing
      worker.on('lockRenewalFailed', (ids) => {
        for (const id of ids) byJobId.get(id)?.loseClaim();
      });
      handle.workers.push(worker);
    }
    this.handles.add(handle);
    try {
      await Promise.all(handle.workers.map((w) => w.waitUntilReady()));
    } catch (e) {
      await handle.close({ timeoutMs: 0 });
      throw new AppError('ERR_UNAVAILABLE', 'cannot start the job workers', undefined, { cause: e });
    }
    return handle;
  }

  async counts(): Promise<QueueCounts> {
    const entries = await Promise.all(
      [...this.queues].map(async ([name, queue]) => {
        const c = await queue.getJobCounts();
        const n = (k: string) => c[k] ?? 0;
        return [
          name,
          {
            waiting: n('waiting') + n('paused') + n('prioritized'),
            active: n('active'),
            delayed: n('delayed'),
            waitingChildren: n('waiting-children'),
            completed: n('completed'),
            failed: n('failed'),
          },
        ] as const;
      }),
    );
    return Object.fromEntries(entries);
  }

  async failed(name: keyof S & string, limit: number = QUEUE_DEFAULTS.failedLimit): Promise<FailedJob[]> {
    schemaOf(this.schemas, name);
    if (limit <= 0) return [];
    const jobs = await this.queue(name).getFailed(0, limit - 1);
    return jobs.map((j) => ({ jobId: j.id!, name: j.name, data: j.data, reason: reasonOf(j.failedReason ?? '', this.maxStalls), attempts: j.attemptsMade }));
  }

  async drained(opts?: { timeoutMs?: number }): Promise<void> {
    const timeoutMs = opts?.timeoutMs ?? QUEUE_DEFAULTS.drainTimeoutMs;
    const deadline = Date.now() + timeoutMs;
    // counts of several queues are not read atomically: a job could hop from a queue not yet
    // read to one already read, so quiet must be seen twice in a row
    let quiet = 0;
    for (;;) {
      const counts = await this.counts();
      const busy = await this.busy(counts);
      quiet = busy ? 0 : quiet + 1;
      if (quiet >= 2) return;
      if (Date.now() >= deadline) throw new AppError('ERR_UNAVAILABLE', `job queue not drained after ${timeoutMs} ms`, { counts });
      await sleep(this.opts.pollMs ?? 50);
    }
  }

  /** True when a job is pending; the next run of a schedule (a delayed job BullMQ's scheduler keeps) does not count. */
  private async busy(counts: QueueCounts): Promise<boolean> {
    for (const [name, c] of Object.entries(counts)) {
      if (c.waiting + c.active + c.waitingChildren > 0) return true;
      if (c.delayed === 0) continue;
      // Each job scheduler keeps at most one delayed next run; any delayed job beyond those is real
      // work (a retry waiting out its backoff). Counting, rather than listing the delayed jobs, has
      // no window in which a job promoted between two reads goes unseen.
      if (c.delayed > (await this.queue(name).getJobSchedulersCount())) return true;
    }
    return false;
  }

  async obliterate(): Promise<void> {
    for (const [name, queue] of this.queues) {
      await queue.obliterate({ force: true });
      // BullMQ's obliterate leaves parents waiting for children behind: sweep what remains
      const pattern = `${escapeGlob(this.prefix)}:${escapeGlob(name)}:*`;
      let cursor = '0';
      do {
        const [next, keys] = await this.redis.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
        if (keys.length > 0) await this.redis.unlink(...keys);
        cursor = next;
      } while (cursor !== '0');
    }
  }

  async liveJobs(names?: readonly (keyof S & string)[]): Promise<LiveJob[]> {
    const out: LiveJob[] = [];
    for (const name of names ?? [...this.queues.keys()]) {
      const jobs = await this.queue(name).getJobs(['waiting', 'paused', 'prioritized', 'delayed', 'active', 'waiting-children']);
      // a job removed between listing and reading comes back undefined
      for (const j of jobs) if (j?.id !== undefined) out.push({ name, jobId: j.id, data: j.data });
    }
    return out;
  }

  async upsertSchedule(id: string, schedule: JobSchedule<S>): Promise<void> {
    this.assertOpen();
    const data = parseForEnqueue(this.schemas, schedule.name, schedule.data);
    await upsertBullSchedule(this.queue(schedule.name), id, schedule as JobSchedule<never>, data, this.jobsOptions(resolveJobOptions(schedule.name, undefined, this.opts)));
  }

  async removeSchedule(id: string): Promise<boolean> {
    return removeBullSchedule(this.queues.values(), id);
  }

  async schedules(): Promise<ScheduleInfo[]> {
    return listBullSchedules(this.queues);
  }

  async close(opts?: { timeoutMs?: number }): Promise<void> {
    this.closing ??= (async () => {
      // workers first, so no job is left half-recorded when the queue connection goes
      await Promise.all([...this.handles].map((h) => h.close(opts)));
      await this.flows.close().catch((err: unknown) => this.log.warn({ err }, 'error closing the flow producer'));
      for (const queue of this.queues.values()) await queue.close().catch((err: unknown) => this.log.warn({ err }, 'error closing a queue'));
      await quit(this.redis);
    })();
    return this.closing;
  }

  private assertOpen(): void {
    if (this.closing) throw new AppError('ERR_UNAVAILABLE', 'job queue is closed');
  }

  private get maxStalls(): number {
    return this.opts.maxStalledCount ?? QUEUE_DEFAULTS.maxStalls;
  }

  /** The children of `job` that failed for good, from the failures BullMQ keeps for a parent whose children may fail. */
  private async failedChildrenOf(job: Job): Promise<FailedChild[]> {
    const failures = await job.getIgnoredChildrenFailures();
    // keys are `<prefix>:<queue>:<job id>`; neither a queue name nor a job id may contain ':'
    return Object.entries(failures).map(([key, reason]) => {
      const parts = key.split(':');
      return { name: parts.at(-2) ?? '', jobId: parts.at(-1) ?? '', reason: reasonOf(reason, this.maxStalls) };
    });
  }

  private queue(name: string): Queue {
    schemaOf(this.schemas, name);
    return this.queues.get(name)!;
  }

  private jobsOptions(o: ResolvedJobOptions): JobsOptions {
    return {
      ...(o.jobId !== undefined ? { jobId: o.jobId } : {}),
      attempts: o.attempts,
      ...(o.backoffMs > 0 ? { backoff: { type: 'exponential', delay: o.backoffMs } } : {}),
      ...(o.delayMs > 0 ? { delay: o.delayMs } : {}),
      removeOnComplete: { age: QUEUE_DEFAULTS.keepCompleted.ageSeconds, count: QUEUE_DEFAULTS.keepCompleted.count },
      removeOnFail: { age: QUEUE_DEFAULTS.keepFailed.ageSeconds },
    };
  }

  private toBullFlow(node: CheckedFlow, isChild: boolean): FlowChildJob {
    return {
      name: node.name,
      queueName: node.name,
      prefix: this.prefix,
      data: node.data,
      // a child that failed for good leaves its parent's dependencies (listed among its failed
      // children) instead of blocking it: the parent still runs once every child has ended
      opts: { ...this.jobsOptions(node.opts), ...(isChild ? { ignoreDependencyOnFailure: true } : {}) },
      ...(node.children.length > 0 ? { children: node.children.map((c) => this.toBullFlow(c, true)) } : {}),
    };
  }

  /**
   * The id of the flow's root when that job is already known (the flow is then not added), after
   * refusing nodes that failed for good: BullMQ would re-attach such a job as a pending dependency
   * of its new parent, which would then wait forever. One pipelined round trip; not atomic with
   * the add, which only matters for two identical flows added at the same instant (BullMQ then
   * deduplicates node by node).
   */
  private async knownRoot(flow: CheckedFlow): Promise<string | undefined> {
    const named = flowNodes(flow).filter((n) => n.opts.jobId !== undefined);
    if (named.length === 0) return undefined;
    const pipeline = this.redis.pipeline();
    const rootId = flow.opts.jobId;
    if (rootId !== undefined) pipeline.exists(this.queue(flow.name).toKey(rootId));
    for (const n of named) pipeline.zscore(this.queue(n.name).keys.failed!, n.opts.jobId!);
    const replies = (await pipeline.exec()) ?? [];
    for (const [err] of replies) if (err) throw err;
    const values = replies.map(([, v]) => v);
    if (rootId !== undefined && values.shift() === 1) return rootId;
    for (const [i, score] of values.entries()) if (score !== null) throw failedNodeConflict(named[i]!);
    return undefined;
  }

  private async process(
    handle: BullMqWorkerHandle,
    name: string,
    handler: JobHandler<unknown>,
    byJobId: Map<string, RunningJob>,
    job: Job,
    token: string | undefined,
  ): Promise<JobOutcome> {
    const jobId = job.id!;
    const attempt = job.attemptsMade + 1;
    const log = handle.log.child({ job: name, jobId, attempt });
    if (handle.isClosing) {
      // fetched just as the worker began to close: leave it untouched for the next worker
      await job.moveToWait(token);
      throw new WaitingError();
    }
    const parsed = parseOnDequeue(this.schemas, name, job.data);
    if (!parsed.ok) {
      logVerdict(log, { kind: 'permanent', error: new Error(parsed.reason) }, attempt, job.opts.attempts ?? 1);
      throw new UnrecoverableError(parsed.reason);
    }
    const running = new RunningJob();
    const ctx: JobContext = { jobId, attempt, signal: running.controller.signal, log, failedChildren: () => this.failedChildrenOf(job) };
    const verdictPromise = running.run(handler, parsed.data, ctx);
    byJobId.set(jobId, running);
    handle.jobs.track(running, verdictPromise);
    const verdict = await verdictPromise.finally(() => byJobId.delete(jobId));
    if (verdict.kind === 'retryable' && token !== undefined) {
      // attemptsStarted counts every start, attemptsMade only the tries that counted
      const deferrals = Math.max(0, job.attemptsStarted - job.attemptsMade - 1);
      if (isOutage(verdict.error) && deferrals < MAX_OUTAGE_DEFERRALS) {
        const delayMs = outageDelayMs(deferrals);
        log.warn({ err: verdict.error, delayMs, deferrals }, 'a service the job needs is unavailable; waiting without using up an attempt');
        await job.moveToDelayed(Date.now() + delayMs, token);
        throw new DelayedError();
      }
    }
    logVerdict(log, verdict, attempt, job.opts.attempts ?? 1);
    switch (verdict.kind) {
      case 'completed':
        return verdict.outcome;
      case 'permanent':
        throw new UnrecoverableError(verdict.error.message);
      case 'retryable':
        throw verdict.error;
      case 'requeue':
        // moves it back without counting an attempt; WaitingError tells BullMQ it was handled
        await job.moveToWait(token);
        throw new WaitingError();
      case 'lost':
        // Not ours to move any more: WaitingError makes BullMQ leave the job as it is, for the
        // stalled check to hand it out again (or for the worker that already took it over).
        throw new WaitingError();
    }
  }
}

/** The BullMQ workers started by one `work()` call, with their own Redis connection. */
class BullMqWorkerHandle implements WorkerHandle {
  readonly workers: Worker[] = [];
  readonly jobs = new RunningJobs();
  private closing: Promise<void> | undefined;

  constructor(
    private readonly redis: Redis,
    readonly log: Logger,
    private readonly onClosed: () => void,
  ) {}

  get isClosing(): boolean {
    return this.closing !== undefined;
  }

  close(opts?: { timeoutMs?: number }): Promise<void> {
    this.closing ??= this.shutDown(opts?.timeoutMs ?? QUEUE_DEFAULTS.closeTimeoutMs);
    return this.closing;
  }

  private async shutDown(timeoutMs: number): Promise<void> {
    // Worker.close() stops fetching at once and then waits for the running jobs
    const closed = Promise.all(this.workers.map((w) => w.close().catch((err: unknown) => this.log.warn({ err: toError(err) }, 'error closing a job worker'))));
    this.jobs.abortAll();
    if (!(await settlesWithin(closed, timeoutMs))) {
      this.log.warn({ running: this.jobs.size, timeoutMs }, 'jobs still running at the close deadline: handing them back');
      this.jobs.releaseAll();
      if (!(await settlesWithin(closed, STOP_AFTER_FORCE_MS))) {
        // a job left active here is taken over by another worker once its claim expires
        this.log.error('job workers did not stop after handing their jobs back; closing the connection anyway');
      }
    }
    await quit(this.redis);
    this.onClosed();
  }
}
