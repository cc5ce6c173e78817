import { createHash } from 'node:crypto';
import { isAppError } from '../common/index.ts';
import type { FixityOutcome } from '../common/vocabulary.ts';
import type { AppDeps } from '../app/deps.ts';
import type { ObjectVersion } from '../storage/index.ts';
import { recordEvent } from '../archive/index.ts';
import { recordRestore, restoreObject, type RestoreOutcome } from './fixity-restore.ts';
import { syncObjectLocks } from './object-lock.ts';
import {
  booksOfStoreKey, finishFixityRun, intrusionsOfKey, objectsToAudit, recordedVersionsOfKey, recordFixityState, recordIntrusions, startFixityRun,
  type AuditedObject,
} from './fixity.store.ts';

type Deps = Pick<AppDeps, 'db' | 'store' | 'log'>;

/** Days within which a scheduled audit covers every object (issue 6: 90 by default). */
export const FIXITY_CYCLE_DAYS = 90;

/**
 * A version or delete marker the archive did not write, found above an object's recorded version:
 * someone wrote over the key, or deleted it, through the store behind the archive. An intrusion to
 * explain, not damage to the recorded version; the archive never removes it (it stays as evidence),
 * and audits report it until someone does.
 */
export interface Intrusion {
  versionId: string;
  deleteMarker: boolean;
  /** Bytes (0 for a delete marker). */
  size: number;
  /** When the store wrote it. */
  appearedAt: Date;
  /** When an audit first found it. */
  foundAt: Date;
}

/** One intrusion in words: what it is, its version id, size and when it was written. */
export function describeIntrusion(i: Pick<Intrusion, 'versionId' | 'deleteMarker' | 'size' | 'appearedAt'>): string {
  return `${intrusionKind(i)} ${i.versionId}${i.deleteMarker ? '' : ` (${i.size} bytes)`} written ${new Date(i.appearedAt).toISOString()}`;
}

function intrusionKind(i: Pick<Intrusion, 'deleteMarker'>): string {
  return i.deleteMarker ? 'delete marker' : 'foreign version';
}

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
  /**
   * Versions and delete markers above the recorded version that the archive did not write (versioned
   * stores), whatever the outcome of the recorded version itself: reported apart from damage.
   */
  intrusions: Intrusion[];
  /** With `repair`: what restoring it from a good copy did (only damage is repaired). */
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
  /** Objects whose recorded version was damaged, missing or unreadable when the run found them. */
  damaged: number;
  /** Objects with a version or delete marker above them that the archive did not write. */
  intruded: number;
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

type Read = { sha256: string; size: number } | 'missing' | { error: string };

/** The recorded version of an object (the current object on stores without versions), hashed whole. */
async function readRecorded(deps: Deps, o: AuditedObject, versioned: boolean, signal?: AbortSignal): Promise<Read> {
  try {
    return await hashStream(await deps.store.get(o.key, versioned && o.versionId ? { versionId: o.versionId } : {}), signal);
  } catch (e) {
    return isAppError(e, 'ERR_OBJECT_NOT_FOUND') ? 'missing' : { error: (e as Error).message };
  }
}

/**
 * The intrusions over an object's recorded version: every one found on the key that is still in the
 * store (a repair writing a restored version over one does not hide it), after keeping the new ones.
 */
async function intrusionsOver(deps: Deps, runId: string, o: AuditedObject, history: readonly ObjectVersion[], signal?: AbortSignal): Promise<Intrusion[]> {
  const top = history[0];
  // When the recorded version is what the key shows, nothing new sits above it.
  if (!(top && !top.deleteMarker && top.versionId === o.versionId)) await recordIntrusions(deps.db, runId, o.key, await foreignAbove(deps, o, history, signal));
  const present = new Set(history.map((v) => v.versionId));
  return (await intrusionsOfKey(deps.db, o.key)).filter((i) => present.has(i.versionId));
}

/**
 * Entries of the key's history written after the recorded version (after the row was recorded, when
 * that version is gone) that no row records and that do not hold the recorded bytes (a re-run writing
 * the same content-addressed key twice harms nothing).
 */
async function foreignAbove(deps: Deps, o: AuditedObject, history: readonly ObjectVersion[], signal?: AbortSignal): Promise<Omit<Intrusion, 'foundAt'>[]> {
  const at = history.findIndex((v) => !v.deleteMarker && v.versionId === o.versionId);
  const above = at >= 0 ? history.slice(0, at) : history.filter((v) => v.lastModified > o.recordedAt);
  const ours = await recordedVersionsOfKey(deps.db, o.key);
  const found: Omit<Intrusion, 'foundAt'>[] = [];
  for (const v of above) {
    if (!v.versionId || ours.has(v.versionId)) continue;
    if (!v.deleteMarker && v.size === o.expectedSize && (await holdsRecordedBytes(deps, o, v.versionId, signal))) continue;
    found.push({ versionId: v.versionId, deleteMarker: v.deleteMarker, size: v.size, appearedAt: v.lastModified });
  }
  return found;
}

/** Whether a version of the object's key hashes as recorded; one that cannot be read is not presumed to. */
async function holdsRecordedBytes(deps: Deps, o: AuditedObject, versionId: string, signal?: AbortSignal): Promise<boolean> {
  try {
    return (await hashStream(await deps.store.get(o.key, { versionId }), signal)).sha256 === o.expectedSha256;
  } catch (e) {
    signal?.throwIfAborted();
    deps.log.warn({ err: e, key: o.key, versionId }, 'a version above a recorded one could not be read; it is reported as an intrusion');
    return false;
  }
}

/** What a result's detail says of its intrusions, after what it says of the recorded version. */
function intrusionDetail(intrusions: readonly Intrusion[]): string {
  if (intrusions.length === 0) return '';
  const one = intrusions.length === 1;
  return `; above it, not written by the archive: ${intrusions.map(describeIntrusion).join(', ')}: an intrusion to explain, not damage; ${one ? 'it stays' : 'they stay'} in the store as evidence`;
}

/**
 * Re-reads whole objects from the store (streaming, memory stays bounded), recomputes their SHA-256
 * and compares hash and size with the database. On a versioned store the RECORDED version is read,
 * by its version id, since that is what downloads serve; the key's history is then listed, and a
 * version or delete marker above the recorded one that the archive did not write is reported as an
 * intrusion (`intruded` when the recorded version is whole), never as damage to the recorded version.
 * A store without versions keeps one object per key: the current object is read, and bytes written
 * over it cannot be told from damage. With `repair`, only damage (mismatch, missing) is restored;
 * an intrusion is never deleted or written over for its own sake. Records a PREMIS 'fixity check'
 * event per object.
 */
export async function auditFixity(
  deps: Deps, scope: FixityScope = {}, opts: { signal?: AbortSignal; agent?: string; repair?: boolean; onProgress?: (done: number, total: number) => void } = {},
): Promise<FixityReport> {
  const agent = opts.agent ?? 'arkiva fixity';
  const cycle = scope.cycleDays ?? FIXITY_CYCLE_DAYS;
  const objects = await objectsToAudit(deps.db, { bookId: scope.bookId ?? null, all: scope.all ?? false, cycleDays: cycle, limit: scope.limit ?? 1_000_000 });
  const runId = await startFixityRun(deps.db, scope);
  const versioned = deps.store.capabilities().versioning;
  // Several rows may record one content-addressed object: each version is read once, each key listed once.
  const reads = new Map<string, Read>();
  const histories = new Map<string, ObjectVersion[] | { error: string }>();
  // Keys a repair wrote a new version of in this run: every row of the key records that version now.
  const repointed = new Map<string, string | null>();
  const problems: FixityResult[] = [];
  let ok = 0;
  let damaged = 0;
  let intruded = 0;
  let checked = 0;
  for (const row of objects) {
    opts.signal?.throwIfAborted();
    opts.onProgress?.(checked++, objects.length);
    const o = repointed.has(row.key) ? { ...row, versionId: repointed.get(row.key)! } : row;
    const readKey = `${o.key}\u0000${o.versionId ?? ''}`;
    let read = reads.get(readKey);
    if (!read) {
      read = await readRecorded(deps, o, versioned, opts.signal);
      reads.set(readKey, read);
    }
    let intrusions: Intrusion[] = [];
    let listError: string | undefined;
    if (versioned && o.versionId) {
      let history = histories.get(o.key);
      if (!history) {
        history = await deps.store.keyHistory(o.key).catch((e: unknown) => ({ error: (e as Error).message }));
        histories.set(o.key, history);
      }
      if ('error' in history) listError = history.error;
      else intrusions = await intrusionsOver(deps, runId, o, history, opts.signal);
    }
    const recorded = o.versionId && versioned ? `recorded version ${o.versionId}` : 'object';
    const more = intrusionDetail(intrusions);
    let result: FixityResult;
    if (read === 'missing') {
      result = { ...o, outcome: 'missing', actualSha256: null, actualSize: null, intrusions, detail: `${recorded} not found in the store${more}` };
    } else if ('error' in read) {
      result = { ...o, outcome: 'error', actualSha256: null, actualSize: null, intrusions, detail: `${recorded} could not be read: ${read.error}${more}` };
    } else if (read.sha256 !== o.expectedSha256 || read.size !== o.expectedSize) {
      result = { ...o, outcome: 'mismatch', actualSha256: read.sha256, actualSize: read.size, intrusions, detail: `${recorded}: SHA-256 ${read.sha256} (${read.size} bytes) where ${o.expectedSha256} (${o.expectedSize} bytes) is recorded${more}` };
    } else if (listError !== undefined) {
      result = { ...o, outcome: 'error', actualSha256: read.sha256, actualSize: read.size, intrusions, detail: `${recorded}: SHA-256 and size match, but the key's versions could not be listed: ${listError}` };
    } else if (intrusions.length) {
      result = { ...o, outcome: 'intruded', actualSha256: read.sha256, actualSize: read.size, intrusions, detail: `${recorded}: SHA-256 and size match, and downloads read it${more}` };
    } else {
      result = { ...o, outcome: 'ok', actualSha256: read.sha256, actualSize: read.size, intrusions, detail: 'SHA-256 and size match' };
    }
    await recordEvent(deps.db, {
      bookId: o.bookId, pageId: o.pageId, objectId: o.objectId, type: 'fixity check', agent,
      outcome: result.outcome === 'ok' ? 'success' : 'failure', detail: `${result.outcome}: ${result.detail}`,
    });
    let state = result.outcome;
    if (opts.repair && (result.outcome === 'mismatch' || result.outcome === 'missing')) {
      const repair = await restoreObject(deps, o, { agent });
      // A restore writes a new version over the key, never deletes one: the intrusion stays, and is still reported.
      const evidence = intrusions.map((i) => `${intrusionKind(i)} ${i.versionId} stays in the store as evidence`);
      result.repair = evidence.length ? { ...repair, detail: `${repair.detail}; ${evidence.join('; ')}` } : repair;
      await recordRestore(deps, o, result.repair, agent);
      if (result.repair.outcome === 'restored') {
        // Read back what a download now serves before calling it whole.
        const back = await hashStream(await deps.store.get(o.key, result.repair.newVersionId ? { versionId: result.repair.newVersionId } : {}));
        if (back.sha256 === o.expectedSha256 && back.size === o.expectedSize) {
          state = intrusions.length ? 'intruded' : 'ok';
          reads.clear();
          histories.delete(o.key);
          repointed.set(o.key, result.repair.newVersionId ?? null);
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
    if (result.outcome === 'mismatch' || result.outcome === 'missing' || result.outcome === 'error') damaged++;
    if (intrusions.length) intruded++;
  }
  opts.onProgress?.(objects.length, objects.length);
  const report: FixityReport = { runId, checked: objects.length, ok, damaged, intruded, problems };
  await finishFixityRun(deps.db, report);
  if (problems.length) deps.log.error({ runId, damaged, intruded }, 'fixity audit found damaged objects or intrusions');
  return report;
}
