/**
 * The time bound of one reading, counted in CPU time of the thread doing it. A machine loaded by
 * other processes stretches a reading's wall time (measured: 0.45 s of OCR took 1.4 s of wall time
 * with four busy loops on two cores, and the same 0.45 s of CPU time), while the 1-minute load
 * average had not moved 15 s into the load: wall time, or wall time scaled by the load average,
 * fails pages for a busy neighbour. CPU time only grows with the work the page takes.
 */
import { readFile } from 'node:fs/promises';
import { OcrTimeoutError } from './ocr-engine.ts';

/** A reading that has had no CPU for this many times its budget is stuck, not slow: it is stopped by wall time. */
export const WALL_CEILING_FACTOR = 10;

/** Least wait between two looks at the thread's CPU time, in ms. */
const MIN_LOOK_MS = 50;

/** Clocks and timers of a bound; tests give their own. */
export interface TimeBoundClock {
  /** Wall clock in ms. */
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const REAL_CLOCK: TimeBoundClock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

/** A running bound: `exceeded` rejects with OcrTimeoutError when it is passed; `stop()` ends it. */
export interface TimeBound {
  readonly exceeded: Promise<never>;
  stop(): void;
}

/**
 * Watches one reading: `exceeded` rejects once the thread has used `budgetMs` of CPU time since
 * the call, or `budgetMs × WALL_CEILING_FACTOR` of wall time has passed. When `cpuTimeMs` is
 * absent or cannot be read, the bound is `budgetMs` of wall time (as on a machine without /proc).
 * A single thread uses at most 1 ms of CPU per ms of wall time, so the next look is due when the
 * rest of the budget could have been used: few looks on a loaded machine, none on an idle one
 * before the budget is near.
 */
export function watchTimeBound(
  budgetMs: number,
  cpuTimeMs: (() => Promise<number | undefined>) | undefined,
  clock: TimeBoundClock = REAL_CLOCK,
): TimeBound {
  let timer: unknown;
  let stopped = false;
  let fail: (e: Error) => void = () => undefined;
  const exceeded = new Promise<never>((_, reject) => (fail = reject));
  // the owner may stop without ever awaiting it
  exceeded.catch(() => undefined);
  const started = clock.now();
  const ceilingMs = budgetMs * WALL_CEILING_FACTOR;
  const at = (ms: number, fn: () => void, least = MIN_LOOK_MS) => {
    if (!stopped) timer = clock.setTimeout(fn, Math.max(least, ms));
  };
  const wallOnly = () => at(budgetMs - (clock.now() - started), () => fail(new OcrTimeoutError(budgetMs)), 0);
  const readCpu = () => cpuTimeMs!().catch(() => undefined);

  const look = async (base: number) => {
    const cpu = await readCpu();
    if (stopped) return;
    const elapsed = clock.now() - started;
    if (cpu !== undefined && cpu - base >= budgetMs) return fail(new OcrTimeoutError(budgetMs, 'cpu'));
    if (elapsed >= ceilingMs) return fail(new OcrTimeoutError(ceilingMs));
    const used = cpu === undefined ? 0 : cpu - base;
    at(Math.min(budgetMs - used, ceilingMs - elapsed), () => void look(base));
  };

  if (cpuTimeMs === undefined) wallOnly();
  else {
    void readCpu().then((base) => {
      if (stopped) return;
      if (base === undefined) wallOnly();
      else at(budgetMs, () => void look(base));
    });
  }
  return {
    exceeded,
    stop() {
      stopped = true;
      clock.clearTimeout(timer);
    },
  };
}

/** Linux reports CPU time in clock ticks of USER_HZ, which is 100 on every architecture Node runs on. */
const MS_PER_TICK = 10;

/**
 * CPU time (user + system) of the process or thread at `/proc/<task>` (a pid, or "<pid>/task/<tid>"),
 * in ms; undefined when unreadable (not Linux, or it has been reaped).
 */
export async function procCpuTimeMs(task: string): Promise<number | undefined> {
  try {
    const stat = await readFile(`/proc/${task}/stat`, 'utf8');
    // fields after the command name, which is in parentheses and may hold spaces: utime and stime are the 12th and 13th
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return Number.isFinite(ticks) ? ticks * MS_PER_TICK : undefined;
  } catch {
    return undefined;
  }
}
