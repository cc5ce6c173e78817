/**
 * Whether this process can serve the archive: the database, the object store and the job queue
 * each answer within a bound. The API's /ready and `arkiva check` (the worker's healthcheck) ask.
 */
import { pingDatabase } from '../db/index.ts';
import type { AppDeps } from './deps.ts';

/** The parts a readiness check probes. */
export const READY_PARTS = ['database', 'store', 'queue'] as const;
/** One part a readiness check probes. */
export type ReadyPart = (typeof READY_PARTS)[number];

// A key that never exists: a HEAD of it answers "absent" when the store is reachable.
const READY_PROBE_KEY = 'probes/ready';

/**
 * Probes every part at once, each bounded by `timeoutMs` (a hung dependency must not hang the
 * probe). `onDown` hears why a part is down; the result says only up or down.
 */
export async function checkReadiness(
  deps: Pick<AppDeps, 'db' | 'store' | 'queue'>,
  opts: { timeoutMs: number; onDown?: (part: ReadyPart, err: unknown) => void },
): Promise<Record<ReadyPart, 'ok' | 'down'>> {
  const probes: Record<ReadyPart, () => Promise<unknown>> = {
    database: () => pingDatabase(deps.db),
    store: () => deps.store.head(READY_PROBE_KEY),
    queue: () => deps.queue.counts(),
  };
  const results = await Promise.all(READY_PARTS.map(async (part) => {
    try {
      await withTimeout(probes[part](), opts.timeoutMs);
      return [part, 'ok'] as const;
    } catch (err) {
      opts.onDown?.(part, err);
      return [part, 'down'] as const;
    }
  }));
  return Object.fromEntries(results) as Record<ReadyPart, 'ok' | 'down'>;
}

async function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
