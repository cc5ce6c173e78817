/** Small helpers shared by the benchmarks (not used by the product). */
import { spawn, type SpawnOptions } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/** Median of a non-empty list. */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** The p-th percentile (0-100), nearest rank. */
export function percentile(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

/** Rounded to one decimal. */
export const r1 = (x: number): number => Math.round(x * 10) / 10;
/** Rounded to two decimals. */
export const r2 = (x: number): number => Math.round(x * 100) / 100;

/**
 * The real services' settings from `.services.env` (written by scripts/services.sh), falling back
 * to the environment; refuses to run without them, since these figures are about the real services.
 */
export function loadServicesEnv(root: string): Record<string, string> {
  const file = path.join(root, '.services.env');
  const vars: Record<string, string> = {};
  if (fs.existsSync(file)) {
    for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
      const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
      if (m) vars[m[1]!] = m[2]!;
    }
  }
  for (const k of ['DATABASE_URL', 'REDIS_URL', 'S3_ENDPOINT', 'S3_ACCESS_KEY_ID', 'S3_SECRET_ACCESS_KEY', 'S3_REGION']) {
    if (!vars[k] && process.env[k]) vars[k] = process.env[k]!;
  }
  const missing = ['DATABASE_URL', 'REDIS_URL', 'S3_ENDPOINT', 'S3_ACCESS_KEY_ID', 'S3_SECRET_ACCESS_KEY'].filter((k) => !vars[k]);
  if (missing.length) throw new Error(`real services are not configured (${missing.join(', ')}): run scripts/services.sh start`);
  delete vars.S3_BUCKET;
  return vars;
}

/** Runs a command to completion; rejects with its stderr tail when it exits non-zero. */
export function run(cmd: string, args: string[], opts: SpawnOptions = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { ...opts, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`${cmd} exited with ${code}: ${err.slice(-1000)}`))));
  });
}

/** First line of a command's version output, or 'absent'. */
export async function commandVersion(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', () => resolve('absent'));
    child.on('exit', () => resolve(out.split('\n').find((l) => l.trim())?.trim() ?? 'unknown'));
  });
}

/**
 * CPU seconds of a process from /proc (Linux): its own user+system time, and with `children`
 * that of its waited-for descendants too. Load on a shared machine stretches wall time but
 * hardly CPU time, so CPU per page is the steadier comparison.
 */
export function procCpuSeconds(pid: number | 'self', opts: { children?: boolean } = {}): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces) start at field 3.
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ').map(Number);
  const ticks = 100;
  const own = f[11]! + f[12]!;
  return (opts.children ? own + f[13]! + f[14]! : own) / ticks;
}

/** Runs `jobs` with at most `limit` at once; results in the jobs' order. */
export async function runLimited<T>(jobs: (() => Promise<T>)[], limit: number): Promise<T[]> {
  const results: T[] = new Array(jobs.length);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, jobs.length) }, async () => {
    while (next < jobs.length) {
      const i = next++;
      results[i] = await jobs[i]!();
    }
  }));
  return results;
}

/** Mean of a list, 0 for an empty one. */
export function mean(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
}

/** Rounded to `digits` decimals. */
export function round(x: number, digits: number): number {
  return Math.round(x * 10 ** digits) / 10 ** digits;
}

/** A share as a percentage. */
export function pct(share: number, digits = 0): string {
  return `${(100 * share).toFixed(digits)}%`;
}
