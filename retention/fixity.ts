import { createHash } from 'node:crypto';
import { isAppError } from '../common/index.ts';
import type { FixityOutcome } from '../common/vocabulary.ts';
import type { AppDeps } from '../app/deps.ts';
import { recordEvent } from '../archive/index.ts';
import { recordRestore, restoreObject, type RestoreOutcome } from './fixity-restore.ts';
import { syncObjectLocks } from './object-lock.ts';
import { booksOfStoreKey, finishFixityRun, objectsToAudit, recordFixityState, startFixityRun } from './fixity.store.ts';

type Deps = Pick<AppDeps, 'db' | 'store' | 'log'>;

/** Days within which a scheduled audit covers every object (issue 6: 90 by default). */
export const FIXITY_CYCLE_DAYS = 90;

/** The outcome for one object. */
export interface FixityResult {
  objectId: string;
  bookId: string;
  pageId: string | null;
  key: string;
  versionId: string | null;
  outcome: FixityOutcome;
  expectedSha256: string;
  actualSha256: string | null;
  expectedSize: number;
  actualSize: number | null;
  detail: string;
  /** With `repair`: what restoring it from a good copy did. */
  repair?: RestoreOutcome;
}

/**
 * How many objects one scheduled run checks so that runs every `everyMs` cover all `total`
 * objects within the cycle: the run's share of the cycle, with a quarter more as slack for runs
 * that were missed, at least one.
 */
export function fixitySampleLimit(total: number, everyMs: number, cycleDays: number): number {
  const runsPerCycle = Math.max(1, Math.floor((cycleDays * 86_400_000) / everyMs));
  return Math.max(1, Math.ceil((total / runsPerCycle) * 1.25));
}

/** What an audit run found. */
export interface FixityReport {
  runId: string;
  checked: number;
  ok: number;
  /** Every object that is not ok, for people to act on. */
  problems: FixityResult[];
}

/**
 * Which objects an audit covers: one book's, all of them, or (the scheduled default) those not
 * checked within the cycle, oldest check first, at most `limit` per run.
 */
export interface FixityScope {
  bookId?: string;
  all?: boolean;
  cycleDays?: number;
  limit?: number;
}

async function hashStream(stream: AsyncIterable<Buffer | Uint8Array | string>, signal?: AbortSignal): Promise<{ sha256: string; size: number }> {
  const h = createHash('sha256');
  let size = 0;
  for await (const chunk of stream) {
    signal?.throwIfAborted();
    const b = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    h.update(b);
    size += b.length;
  }
  return { sha256: h.digest('hex'), size };
}

/**
 * Re-reads whole objects from the store (streaming, memory stays bounded), recomputes their SHA-256
 * and compares hash and size with the database. The CURRENT version of the key is read, since that
 * is what a download serves: bytes written over a key behind the archive's back show as a mismatch,
 * and a deleted recorded version (or key) as missing. Records a PREMIS 'fixity check' event per object.
 */
export async function auditFixity(deps: Deps, scope: FixityScope = {}, opts: { signal?: AbortSignal; agent?: string; repair?: boolean } = {}): Promise<FixityReport> {
  const agent = opts.agent ?? 'arkiva fixity';
  const cycle = scope.cycleDays ?? FIXITY_CYCLE_DAYS;
  const objects = await objectsToAudit(deps.db, { bookId: scope.bookId ?? null, all: scope.all ?? false, cycleDays: cycle, limit: scope.limit ?? 1_000_000 });
  const runId = await startFixityRun(deps.db, scope);
  // Several rows may record one content-addressed object: it is read once.
  const seen = new Map<string, { sha256: string; size: number; currentVersion: string | undefined } | 'missing' | { error: string }>();
  const problems: FixityResult[] = [];
  let ok = 0;
  for (const o of objects) {
    opts.signal?.throwIfAborted();
    let read = seen.get(o.key);
    if (!read) {
      try {
        const head = await deps.store.head(o.key);
        if (!head) read = 'missing';
        else read = { ...(await hashStream(await deps.store.get(o.key), opts.signal)), currentVersion: head.versionId };
      } catch (e) {
        read = isAppError(e, 'ERR_OBJECT_NOT_FOUND') ? 'missing' : { error: (e as Error).message };
      }
      seen.set(o.key, read);
    }
    let result: FixityResult;
    if (read === 'missing') {
      result = { ...o, outcome: 'missing', actualSha256: null, actualSize: null, detail: 'object not found in the store' };
    } else if ('error' in read) {
      result = { ...o, outcome: 'error', actualSha256: null, actualSize: null, detail: `could not be read: ${read.error}` };
    } else if (read.sha256 !== o.expectedSha256 || read.size !== o.expectedSize) {
      result = { ...o, outcome: 'mismatch', actualSha256: read.sha256, actualSize: read.size, detail: `SHA-256 ${read.sha256} (${read.size} bytes) where ${o.expectedSha256} (${o.expectedSize} bytes) is recorded` };
    } else if (o.versionId && read.currentVersion && read.currentVersion !== o.versionId && !(await deps.store.head(o.key, { versionId: o.versionId }))) {
      result = { ...o, outcome: 'missing', actualSha256: read.sha256, actualSize: read.size, detail: `recorded version ${o.versionId} is gone (current ${read.currentVersion} has the right bytes)` };
    } else {
      result = { ...o, outcome: 'ok', actualSha256: read.sha256, actualSize: read.size, detail: 'SHA-256 and size match' };
    }
    await recordEvent(deps.db, {
      bookId: o.bookId, pageId: o.pageId, objectId: o.objectId, type: 'fixity check', agent,
      outcome: result.outcome === 'ok' ? 'success' : 'failure', detail: `${result.outcome}: ${result.detail}`,
    });
    let state = result.outcome;
    if (opts.repair && (result.outcome === 'mismatch' || result.outcome === 'missing')) {
      result.repair = await restoreObject(deps, o, { agent });
      await recordRestore(deps, o, result.repair, agent);
      if (result.repair.outcome === 'restored') {
        // Read back what a download now serves before calling it whole.
        const back = await hashStream(await deps.store.get(o.key, result.repair.newVersionId ? { versionId: result.repair.newVersionId } : {}));
        if (back.sha256 === o.expectedSha256 && back.size === o.expectedSize) {
          state = 'ok';
          seen.delete(o.key);
          const books = await booksOfStoreKey(deps.db, o.key);
          // The restored version carries the same retention and holds as the rest of the book.
          await syncObjectLocks(deps, { bookIds: books, repair: true });
        } else {
          result.repair = { ...result.repair, outcome: 'failed', detail: `${result.repair.detail}, but the read-back has SHA-256 ${back.sha256}` };
        }
      }
    }
    await recordFixityState(deps.db, o.objectId, state);
    if (result.outcome === 'ok') ok++;
    else problems.push(result);
  }
  const report: FixityReport = { runId, checked: objects.length, ok, problems };
  await finishFixityRun(deps.db, report);
  if (problems.length) deps.log.error({ runId, problems: problems.length }, 'fixity audit found damaged or missing objects');
  return report;
}
