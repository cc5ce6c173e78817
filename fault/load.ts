/**
 * What the kill-load scenario needs besides the worker pool: other processes loading the CPU, and
 * which worker process holds a book's running OCR jobs (so the kill lands on one that has some).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Redis } from 'ioredis';

/** Busy processes started by `loadCpu`; `stop()` kills those still running. */
export interface CpuLoad {
  readonly pids: number[];
  stop(): Promise<void>;
}

/**
 * Starts `count` processes that spin on the CPU for at most `maxMs` each (they end by themselves
 * even if the suite dies), as other programs on a shared machine would.
 */
export function loadCpu(count: number, maxMs: number): CpuLoad {
  const children: ChildProcess[] = [];
  for (let i = 0; i < count; i++) {
    children.push(spawn(process.execPath, ['-e', `const end = Date.now() + ${Math.round(maxMs)}; while (Date.now() < end);`], { stdio: 'ignore' }));
  }
  return {
    pids: children.map((c) => c.pid ?? -1),
    async stop() {
      const running = children.filter((c) => c.exitCode === null && c.signalCode === null);
      const exited = running.map((c) => new Promise<void>((resolve) => c.once('exit', () => resolve())));
      for (const c of running) c.kill('SIGKILL');
      await Promise.all(exited);
    },
  };
}

/**
 * The running `page.ocr` jobs of `bookId`, each with the pid of the worker process holding it
 * (BullMQ records `<host>-<pid>` as the job's `processedBy`), read straight from Redis.
 */
export async function runningOcrJobs(redis: Redis, prefix: string, bookId: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  const ids = await redis.lrange(`${prefix}:page.ocr:active`, 0, -1);
  for (const id of ids) {
    const [data, by] = await redis.hmget(`${prefix}:page.ocr:${id}`, 'data', 'pb');
    if (!data || !by) continue;
    const job = JSON.parse(data) as { bookId?: string };
    const pid = Number(by.slice(by.lastIndexOf('-') + 1));
    if (job.bookId === bookId && Number.isInteger(pid)) out.set(id, pid);
  }
  return out;
}
