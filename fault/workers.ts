/**
 * The worker processes under test, with the supervision a deployment gives them (systemd
 * `Restart=always`, a Kubernetes Deployment): a worker that exits for any reason is started again.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** N supervised `arkiva worker` processes. */
export class WorkerPool {
  private readonly slots: (ChildProcess | undefined)[];
  private stopping = false;
  /** Starts of a worker after the first (after a kill or a crash). */
  restarts = 0;
  /** Exits not caused by the suite (a worker that crashed on its own). */
  unexpectedExits = 0;
  private readonly killed = new Set<ChildProcess>();

  constructor(
    size: number,
    private readonly env: Record<string, string>,
    private readonly logDir: string,
    private readonly bin = path.resolve('bin/arkiva.mjs'),
  ) {
    this.slots = Array.from({ length: size }, () => undefined);
  }

  /** Starts every worker; after `stop()`, starts them again (an operator's restart after a restore). */
  start(): void {
    this.stopping = false;
    for (let i = 0; i < this.slots.length; i++) this.spawn(i);
  }

  private spawn(i: number): void {
    const log = fs.createWriteStream(path.join(this.logDir, `worker-${i}.log`), { flags: 'a' });
    const child = spawn(process.execPath, [this.bin, 'worker'], { env: this.env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.pipe(log, { end: false });
    child.stderr!.pipe(log, { end: false });
    this.slots[i] = child;
    child.once('exit', () => {
      if (!this.killed.delete(child)) this.unexpectedExits += this.stopping ? 0 : 1;
      // a worker of before a stop() is not restarted once start() has put a new one in its slot
      if (this.stopping || this.slots[i] !== child) return;
      // a short pause, as a supervisor's restart delay, so a crash loop does not spin
      setTimeout(() => {
        if (this.stopping || this.slots[i] !== child) return;
        this.restarts++;
        this.spawn(i);
      }, 500);
    });
  }

  /** SIGKILLs one worker chosen at random; its supervisor starts it again. */
  killRandom(random: () => number = Math.random): number | undefined {
    const alive = this.slots.filter((c): c is ChildProcess => c !== undefined && c.exitCode === null && c.signalCode === null);
    if (alive.length === 0) return undefined;
    const victim = alive[Math.floor(random() * alive.length)]!;
    this.killed.add(victim);
    victim.kill('SIGKILL');
    return victim.pid;
  }

  /** SIGKILLs the worker with this pid, when it is one of the pool's and still running; its supervisor starts it again. */
  killPid(pid: number): boolean {
    const victim = this.slots.find((c) => c !== undefined && c.pid === pid && c.exitCode === null && c.signalCode === null);
    if (!victim) return false;
    this.killed.add(victim);
    victim.kill('SIGKILL');
    return true;
  }

  /** How many workers are running now. */
  get alive(): number {
    return this.slots.filter((c) => c !== undefined && c.exitCode === null && c.signalCode === null).length;
  }

  /** Stops every worker (SIGTERM, then SIGKILL after `graceMs`). */
  async stop(graceMs = 15_000): Promise<void> {
    this.stopping = true;
    const live = this.slots.filter((c): c is ChildProcess => c !== undefined && c.exitCode === null && c.signalCode === null);
    for (const c of live) {
      this.killed.add(c);
      c.kill('SIGTERM');
    }
    const end = Date.now() + graceMs;
    while (live.some((c) => c.exitCode === null && c.signalCode === null) && Date.now() < end) await sleep(100);
    for (const c of live) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    // gone before stop() returns, so that a start() after it runs no worker twice
    while (live.some((c) => c.exitCode === null && c.signalCode === null) && Date.now() < end + 5000) await sleep(50);
  }
}
