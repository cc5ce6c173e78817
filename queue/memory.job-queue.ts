import { setTimeout as sleep } from 'node:timers/promises';
import { AppError } from '../common/errors.ts';
import type { Logger } from '../common/logger.ts';
import type {
  FailedJob, FlowJob, JobContext, JobHandler, JobHandlers, JobInput, JobOptions, JobQueue, JobQueueOptions, JobSchemas,
  QueueCounts, WorkerHandle, WorkOptions,
} from './job-queue.ts';
import { QUEUE_DEFAULTS } from './defaults.ts';
import type { JobSchedule, LiveJob, ScheduleInfo } from './job-queue.ts';
import { IntervalSchedules } from './schedules.ts';
import { logVerdict, RunningJob, RunningJobs, settlesWithin, type Verdict } from './job-run.ts';
import {
  checkFlow, concurrencyOf, failedNodeConflict, flowNodes, parseForEnqueue, parseOnDequeue, resolveJobOptions, schemaOf,
  type CheckedFlow, type ResolvedJobOptions,
} from './validation.ts';

type State = 'waiting' | 'delayed' | 'active' | 'waiting-children' | 'completed' | 'failed';

interface MemJob {
  readonly id: string;
  readonly name: string;
  readonly data: unknown;
  readonly opts: ResolvedJobOptions;
  state: State;
  attemptsMade: number;
  /** Bumped whenever the job is handed to a handler or taken back: an outcome with an old token is ignored. */
  token: number;
  parent: MemJob | undefined;
  readonly pendingChildren: Set<MemJob>;
  /** Children that failed for good, for `JobContext.failedChildren`. */
  readonly failedChildren: MemJob[];
  reason: string | undefined;
  finishedOn: number;
  timer: NodeJS.Timeout | undefined;
}

/** Tuning of the in-process queue (tests shorten the polling). */
export interface MemoryJobQueueOptions<S extends JobSchemas> extends JobQueueOptions<S> {
  /** How often drained() looks, in ms. Default 10. */
  pollMs?: number;
}

/** Exponential backoff as BullMQ computes it: the wait before try n+1 is base * 2^(n-1). */
export function backoffDelay(baseMs: number, attemptsMade: number): number {
  return Math.round(baseMs * 2 ** (attemptsMade - 1));
}

class MemoryWorker {
  closing: Promise<void> | undefined;
  readonly running = new Map<string, number>();
  readonly jobs = new RunningJobs();
  constructor(
    readonly handlers: Record<string, JobHandler<unknown>>,
    readonly concurrency: Map<string, number>,
    readonly log: Logger,
  ) {}

  hasRoom(name: string): boolean {
    return this.closing === undefined && (this.running.get(name) ?? 0) < (this.concurrency.get(name) ?? 1);
  }
}

/**
 * The job queue of embedded mode: one process, no Redis, nothing survives a restart. It keeps the
 * semantics of `BullMqJobQueue` (validation, retries with backoff, flows, per-name concurrency,
 * deduplication, retention), so the pipeline cannot tell which one it has.
 */
export class MemoryJobQueue<S extends JobSchemas> implements JobQueue<S> {
  readonly kind = 'memory' as const;
  private readonly jobs = new Map<string, Map<string, MemJob>>();
  private readonly waiting = new Map<string, MemJob[]>();
  private readonly completed = new Map<string, MemJob[]>();
  private readonly failedJobs = new Map<string, MemJob[]>();
  private readonly workers = new Set<MemoryWorker>();
  private readonly pumpPending = new Set<string>();
  private nextId = 0;
  private closed = false;
  private readonly intervals = new IntervalSchedules((name, data) => this.add(name as keyof S & string, data as JobInput<S, keyof S & string>), (err, id) => this.log.warn({ err, schedule: id }, 'scheduled job could not be added'));

  constructor(
    private readonly schemas: S,
    private readonly log: Logger,
    private readonly opts: MemoryJobQueueOptions<S> = {},
  ) {
    for (const name of Object.keys(schemas)) {
      this.jobs.set(name, new Map());
      this.waiting.set(name, []);
      this.completed.set(name, []);
      this.failedJobs.set(name, []);
    }
  }

  async add<N extends keyof S & string>(name: N, data: JobInput<S, N>, opts?: JobOptions): Promise<string> {
    this.assertOpen();
    const parsed = parseForEnqueue(this.schemas, name, data);
    const resolved = resolveJobOptions(name, opts, this.opts);
    return this.insert({ name, data: parsed, opts: resolved, children: [] }, undefined).id;
  }

  async addFlow(flow: FlowJob<S>): Promise<string> {
    this.assertOpen();
    const checked = checkFlow(this.schemas, flow, this.opts);
    const root = checked.opts.jobId !== undefined ? this.find(checked.name, checked.opts.jobId) : undefined;
    if (root) return root.id;
    for (const node of flowNodes(checked)) {
      if (node.opts.jobId !== undefined && this.find(node.name, node.opts.jobId)?.state === 'failed') throw failedNodeConflict(node);
    }
    return this.insert(checked, undefined).id;
  }

  async work(handlers: JobHandlers<S>, opts: WorkOptions<S>): Promise<WorkerHandle> {
    this.assertOpen();
    const concurrency = new Map<string, number>();
    for (const name of Object.keys(this.schemas)) concurrency.set(name, concurrencyOf(opts.concurrency as Partial<Record<string, number>>, name));
    const worker = new MemoryWorker(handlers as unknown as Record<string, JobHandler<unknown>>, concurrency, opts.log);
    this.workers.add(worker);
    for (const name of Object.keys(this.schemas)) this.schedulePump(name);
    return { close: (o) => this.closeWorker(worker, o?.timeoutMs ?? QUEUE_DEFAULTS.closeTimeoutMs) };
  }

  async counts(): Promise<QueueCounts> {
    const counts: QueueCounts = {};
    for (const [name, byId] of this.jobs) {
      const c = { waiting: 0, active: 0, delayed: 0, waitingChildren: 0, completed: 0, failed: 0 };
      for (const job of byId.values()) {
        if (job.state === 'waiting-children') c.waitingChildren++;
        else c[job.state]++;
      }
      counts[name] = c;
    }
    return counts;
  }

  async failed(name: keyof S & string, limit: number = QUEUE_DEFAULTS.failedLimit): Promise<FailedJob[]> {
    schemaOf(this.schemas, name);
    const list = this.failedJobs.get(name) ?? [];
    return list
      .slice(Math.max(0, list.length - Math.max(0, limit)))
      .reverse()
      .map((j) => ({ jobId: j.id, name: j.name, data: j.data, reason: j.reason ?? '', attempts: j.attemptsMade }));
  }

  async drained(opts?: { timeoutMs?: number }): Promise<void> {
    const timeoutMs = opts?.timeoutMs ?? QUEUE_DEFAULTS.drainTimeoutMs;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (!this.busy()) return;
      if (Date.now() >= deadline) {
        throw new AppError('ERR_UNAVAILABLE', `job queue not drained after ${timeoutMs} ms`, { counts: await this.counts() });
      }
      await sleep(this.opts.pollMs ?? 10);
    }
  }

  async obliterate(): Promise<void> {
    for (const byId of this.jobs.values()) {
      for (const job of byId.values()) {
        clearTimeout(job.timer);
        // a handler still running for it must not record anything afterwards
        job.token++;
      }
      byId.clear();
    }
    for (const list of [this.waiting, this.completed, this.failedJobs]) for (const l of list.values()) l.length = 0;
  }

  async liveJobs(names?: readonly (keyof S & string)[]): Promise<LiveJob[]> {
    const out: LiveJob[] = [];
    for (const name of names ?? [...this.jobs.keys()]) {
      schemaOf(this.schemas, name);
      for (const job of this.jobs.get(name)!.values()) {
        if (job.state !== 'completed' && job.state !== 'failed') out.push({ name, jobId: job.id, data: job.data });
      }
    }
    return out;
  }

  async upsertSchedule(id: string, schedule: JobSchedule<S>): Promise<void> {
    this.assertOpen();
    const data = parseForEnqueue(this.schemas, schedule.name, schedule.data);
    this.intervals.upsert(id, { ...schedule, data } as JobSchedule<never>);
  }

  async removeSchedule(id: string): Promise<boolean> {
    return this.intervals.remove(id);
  }

  async schedules(): Promise<ScheduleInfo[]> {
    return this.intervals.list();
  }

  async close(opts?: { timeoutMs?: number }): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.intervals.close();
    const timeoutMs = opts?.timeoutMs ?? QUEUE_DEFAULTS.closeTimeoutMs;
    await Promise.all([...this.workers].map((w) => this.closeWorker(w, timeoutMs)));
    // delayed jobs are lost with the process anyway; their timers must not keep it alive
    for (const byId of this.jobs.values()) for (const job of byId.values()) clearTimeout(job.timer);
  }

  private assertOpen(): void {
    if (this.closed) throw new AppError('ERR_UNAVAILABLE', 'job queue is closed');
  }

  private find(name: string, id: string): MemJob | undefined {
    return this.jobs.get(name)?.get(id);
  }

  private busy(): boolean {
    for (const byId of this.jobs.values()) {
      for (const job of byId.values()) if (job.state !== 'completed' && job.state !== 'failed') return true;
    }
    return false;
  }

  /** Adds a job (and its children) or, when its id is known, links the known one like BullMQ does. */
  private insert(node: CheckedFlow, parent: MemJob | undefined): MemJob {
    const existing = node.opts.jobId !== undefined ? this.find(node.name, node.opts.jobId) : undefined;
    if (existing) {
      if (parent && existing.parent === undefined) {
        existing.parent = parent;
        if (existing.state !== 'completed') parent.pendingChildren.add(existing);
      }
      for (const child of node.children) this.insert(child, existing);
      return existing;
    }
    const job: MemJob = {
      id: node.opts.jobId ?? String(++this.nextId),
      name: node.name,
      data: node.data,
      opts: node.opts,
      state: 'waiting-children',
      attemptsMade: 0,
      token: 0,
      parent,
      pendingChildren: new Set(),
      failedChildren: [],
      reason: undefined,
      finishedOn: 0,
      timer: undefined,
    };
    this.jobs.get(job.name)!.set(job.id, job);
    if (parent) parent.pendingChildren.add(job);
    for (const child of node.children) this.insert(child, job);
    if (job.pendingChildren.size === 0) {
      if (node.opts.delayMs > 0) this.delay(job, node.opts.delayMs);
      else this.toWaiting(job, 'back');
    }
    return job;
  }

  private toWaiting(job: MemJob, end: 'back' | 'front'): void {
    job.state = 'waiting';
    const list = this.waiting.get(job.name)!;
    if (end === 'back') list.push(job);
    else list.unshift(job);
    this.schedulePump(job.name);
  }

  private delay(job: MemJob, ms: number): void {
    job.state = 'delayed';
    job.timer = setTimeout(() => {
      job.timer = undefined;
      if (job.state === 'delayed') this.toWaiting(job, 'back');
    }, ms);
  }

  private schedulePump(name: string): void {
    // deferred so a handler never starts inside add() or inside another handler's bookkeeping
    if (this.pumpPending.has(name)) return;
    this.pumpPending.add(name);
    setImmediate(() => {
      this.pumpPending.delete(name);
      this.pump(name);
    });
  }

  private pump(name: string): void {
    const list = this.waiting.get(name)!;
    for (const worker of this.workers) {
      while (list.length > 0 && worker.hasRoom(name)) {
        const job = list.shift()!;
        if (job.state !== 'waiting') continue;
        this.start(worker, job);
      }
    }
  }

  private start(worker: MemoryWorker, job: MemJob): void {
    job.state = 'active';
    const token = ++job.token;
    const running = new RunningJob();
    worker.running.set(job.name, (worker.running.get(job.name) ?? 0) + 1);
    const done = this.attempt(worker, job, token, running).finally(() => {
      worker.running.set(job.name, (worker.running.get(job.name) ?? 1) - 1);
      this.schedulePump(job.name);
    });
    worker.jobs.track(running, done);
  }

  private async attempt(worker: MemoryWorker, job: MemJob, token: number, running: RunningJob): Promise<void> {
    const attempt = job.attemptsMade + 1;
    const log = worker.log.child({ job: job.name, jobId: job.id, attempt });
    const parsed = parseOnDequeue(this.schemas, job.name, job.data);
    let verdict: Verdict;
    if (!parsed.ok) {
      verdict = { kind: 'permanent', error: new Error(parsed.reason) };
    } else {
      const ctx: JobContext = {
        jobId: job.id,
        attempt,
        signal: running.controller.signal,
        log,
        failedChildren: async () => job.failedChildren.map((c) => ({ jobId: c.id, name: c.name, reason: c.reason ?? '' })),
      };
      verdict = await running.run(worker.handlers[job.name]!, parsed.data, ctx);
    }
    // taken back at the close deadline, or obliterated meanwhile
    if (job.token !== token) return;
    logVerdict(log, verdict, attempt, job.opts.attempts);
    switch (verdict.kind) {
      case 'completed':
        job.attemptsMade = attempt;
        this.finish(job, 'completed', undefined);
        return;
      case 'requeue':
      // 'lost' does not happen here (one process holds every claim); handing the job back would be its reading
      case 'lost':
        job.token++;
        this.toWaiting(job, 'front');
        return;
      case 'permanent':
        job.attemptsMade = attempt;
        this.finish(job, 'failed', verdict.error.message);
        return;
      case 'retryable':
        job.attemptsMade = attempt;
        if (attempt >= job.opts.attempts) {
          this.finish(job, 'failed', verdict.error.message);
          return;
        }
        job.reason = verdict.error.message;
        if (job.opts.backoffMs > 0) this.delay(job, backoffDelay(job.opts.backoffMs, attempt));
        else this.toWaiting(job, 'back');
    }
  }

  private finish(job: MemJob, state: 'completed' | 'failed', reason: string | undefined): void {
    job.state = state;
    job.reason = reason;
    job.finishedOn = Date.now();
    const list = (state === 'completed' ? this.completed : this.failedJobs).get(job.name)!;
    list.push(job);
    const keep = state === 'completed' ? QUEUE_DEFAULTS.keepCompleted : { ...QUEUE_DEFAULTS.keepFailed, count: Infinity };
    const oldest = job.finishedOn - keep.ageSeconds * 1000;
    while (list.length > keep.count || (list.length > 0 && list[0]!.finishedOn < oldest)) {
      const gone = list.shift()!;
      if (this.find(gone.name, gone.id) === gone) this.jobs.get(gone.name)!.delete(gone.id);
    }
    const parent = job.parent;
    if (parent && state === 'failed') parent.failedChildren.push(job);
    if (parent && parent.pendingChildren.delete(job) && parent.pendingChildren.size === 0 && parent.state === 'waiting-children') {
      if (parent.opts.delayMs > 0) this.delay(parent, parent.opts.delayMs);
      else this.toWaiting(parent, 'back');
    }
  }

  private async closeWorker(worker: MemoryWorker, timeoutMs: number): Promise<void> {
    worker.closing ??= (async () => {
      worker.jobs.abortAll();
      if (!(await settlesWithin(worker.jobs.settled(), timeoutMs))) {
        worker.log.warn({ running: worker.jobs.size, timeoutMs }, 'jobs still running at the close deadline: handing them back');
        worker.jobs.releaseAll();
        await worker.jobs.settled();
      }
      this.workers.delete(worker);
      // jobs handed back may go to another worker of this process
      for (const name of Object.keys(this.schemas)) this.schedulePump(name);
    })();
    return worker.closing;
  }
}
