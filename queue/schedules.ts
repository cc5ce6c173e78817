import type { Queue, JobsOptions } from 'bullmq';
import { AppError } from '../common/errors.ts';
import type { JobSchedule, ScheduleInfo } from './job-queue.ts';

/** Refuses a schedule whose id BullMQ cannot store or whose interval is not a positive whole ms. */
export function checkSchedule(id: string, everyMs: number): void {
  if (!/^[A-Za-z0-9._-]{1,100}$/.test(id)) throw new AppError('ERR_VALIDATION', 'a schedule id is 1-100 letters, digits, ".", "_" or "-"', { field: 'id' });
  if (!Number.isInteger(everyMs) || everyMs < 1000) throw new AppError('ERR_VALIDATION', 'a schedule runs at most once a second (everyMs >= 1000)', { field: 'everyMs' });
}

/**
 * BullMQ job schedulers behind the port: one scheduler per id in the queue of its job name, so
 * every worker process upserting the same id at start keeps ONE schedule. The first run is one
 * interval after the schedule is first created (never at once: a worker restart must not trigger
 * a full audit); upserting again with the same interval keeps the pending run's time.
 */
export async function upsertBullSchedule(queue: Queue, id: string, schedule: JobSchedule<never>, data: unknown, jobOpts: JobsOptions): Promise<void> {
  checkSchedule(id, schedule.everyMs);
  const { jobId: _ignored, delay: _delay, ...opts } = jobOpts;
  await queue.upsertJobScheduler(id, { every: schedule.everyMs, startDate: new Date(Date.now() + schedule.everyMs) }, { name: schedule.name, data, opts });
}

/** Removes the scheduler `id` from whichever queue has it; true when one was there. */
export async function removeBullSchedule(queues: Iterable<Queue>, id: string): Promise<boolean> {
  let removed = false;
  for (const q of queues) removed = (await q.removeJobScheduler(id)) || removed;
  return removed;
}

/** Every scheduler of the queues, with its next run. */
export async function listBullSchedules(queues: Iterable<[string, Queue]>): Promise<ScheduleInfo[]> {
  const out: ScheduleInfo[] = [];
  for (const [name, q] of queues) {
    for (const s of await q.getJobSchedulers()) {
      out.push({ id: s.key, name, everyMs: Number(s.every ?? 0), next: s.next ? new Date(s.next) : null });
    }
  }
  return out.sort((a, b) => a.id.localeCompare(b.id));
}

/**
 * The in-process equivalent: a timer per schedule that adds the job every interval (first run one
 * interval from now). Timers are unref'd so a schedule never keeps a process alive.
 */
export class IntervalSchedules {
  private readonly timers = new Map<string, { timer: NodeJS.Timeout; info: ScheduleInfo }>();
  private readonly data = new Map<string, unknown>();

  constructor(private readonly add: (name: string, data: unknown) => Promise<unknown>, private readonly onError: (err: unknown, id: string) => void) {}

  upsert(id: string, schedule: JobSchedule<never>): void {
    checkSchedule(id, schedule.everyMs);
    const existing = this.timers.get(id);
    // Same job and interval: the pending run keeps its time, as with BullMQ.
    if (existing && existing.info.everyMs === schedule.everyMs && existing.info.name === schedule.name) {
      this.data.set(id, schedule.data);
      return;
    }
    this.remove(id);
    this.data.set(id, schedule.data);
    const info: ScheduleInfo = { id, name: schedule.name, everyMs: schedule.everyMs, next: new Date(Date.now() + schedule.everyMs) };
    const timer = setInterval(() => {
      info.next = new Date(Date.now() + schedule.everyMs);
      this.add(schedule.name, this.data.get(id)).catch((err: unknown) => this.onError(err, id));
    }, schedule.everyMs);
    timer.unref();
    this.timers.set(id, { timer, info });
  }

  remove(id: string): boolean {
    const t = this.timers.get(id);
    if (!t) return false;
    clearInterval(t.timer);
    this.timers.delete(id);
    this.data.delete(id);
    return true;
  }

  list(): ScheduleInfo[] {
    return [...this.timers.values()].map((t) => ({ ...t.info })).sort((a, b) => a.id.localeCompare(b.id));
  }

  close(): void {
    for (const id of [...this.timers.keys()]) this.remove(id);
  }
}
