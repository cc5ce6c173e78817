import { createHash } from 'node:crypto';
import { isAppError } from '../common/index.ts';
import type { AppDeps } from '../app/deps.ts';
import { recordEvent } from '../archive/index.ts';
import { recordRestore, restoreObject, type RestoreOutcome } from './fixity-restore.ts';
import { syncObjectLocks } from './object-lock.ts';

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
  outcome: 'ok' | 'mismatch' | 'missing' | 'error';
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
  const r = await deps.db.query<{ id: string; book_id: string; page_id: string | null; store_key: string; version_id: string | null; sha256: string; size: number | string }>(
    `SELECT o.id, o.book_id, o.page_id, o.store_key, o.version_id, o.sha256, o.size
       FROM stored_objects o LEFT JOIN fixity_state f ON f.object_id = o.id
      WHERE ($1::uuid IS NULL OR o.book_id = $1)
        AND ($2 OR $1::uuid IS NOT NULL OR f.checked_at IS NULL OR f.checked_at < now() - make_interval(days => $3))
      ORDER BY f.checked_at NULLS FIRST, o.id
      LIMIT $4`,
    [scope.bookId ?? null, scope.all ?? false, cycle, scope.limit ?? 1_000_000],
  );
  const run = await deps.db.query<{ id: string }>('INSERT INTO fixity_runs (scope) VALUES ($1) RETURNING id', [JSON.stringify(scope)]);
  const runId = run.rows[0]!.id;
  // Several rows may record one content-addressed object: it is read once.
  const seen = new Map<string, { sha256: string; size: number; currentVersion: string | undefined } | 'missing' | { error: string }>();
  const problems: FixityResult[] = [];
  let ok = 0;
  for (const o of r.rows) {
    opts.signal?.throwIfAborted();
    const base = { objectId: o.id, bookId: o.book_id, pageId: o.page_id, key: o.store_key, versionId: o.version_id, expectedSha256: o.sha256, expectedSize: Number(o.size) };
    let read = seen.get(o.store_key);
    if (!read) {
      try {
        const head = await deps.store.head(o.store_key);
        if (!head) read = 'missing';
        else read = { ...(await hashStream(await deps.store.get(o.store_key), opts.signal)), currentVersion: head.versionId };
      } catch (e) {
        read = isAppError(e, 'ERR_OBJECT_NOT_FOUND') ? 'missing' : { error: (e as Error).message };
      }
      seen.set(o.store_key, read);
    }
    let result: FixityResult;
    if (read === 'missing') {
      result = { ...base, outcome: 'missing', actualSha256: null, actualSize: null, detail: 'object not found in the store' };
    } else if ('error' in read) {
      result = { ...base, outcome: 'error', actualSha256: null, actualSize: null, detail: `could not be read: ${read.error}` };
    } else if (read.sha256 !== o.sha256 || read.size !== Number(o.size)) {
      result = { ...base, outcome: 'mismatch', actualSha256: read.sha256, actualSize: read.size, detail: `SHA-256 ${read.sha256} (${read.size} bytes) where ${o.sha256} (${Number(o.size)} bytes) is recorded` };
    } else if (o.version_id && read.currentVersion && read.currentVersion !== o.version_id && !(await deps.store.head(o.store_key, { versionId: o.version_id }))) {
      result = { ...base, outcome: 'missing', actualSha256: read.sha256, actualSize: read.size, detail: `recorded version ${o.version_id} is gone (current ${read.currentVersion} has the right bytes)` };
    } else {
      result = { ...base, outcome: 'ok', actualSha256: read.sha256, actualSize: read.size, detail: 'SHA-256 and size match' };
    }
    await recordEvent(deps.db, {
      bookId: o.book_id, pageId: o.page_id, objectId: o.id, type: 'fixity check', agent,
      outcome: result.outcome === 'ok' ? 'success' : 'failure', detail: `${result.outcome}: ${result.detail}`,
    });
    let state = result.outcome;
    if (opts.repair && (result.outcome === 'mismatch' || result.outcome === 'missing')) {
      const damaged = { objectId: o.id, bookId: o.book_id, pageId: o.page_id, key: o.store_key, versionId: o.version_id, expectedSha256: o.sha256, expectedSize: Number(o.size) };
      result.repair = await restoreObject(deps, damaged, { agent });
      await recordRestore(deps, damaged, result.repair, agent);
      if (result.repair.outcome === 'restored') {
        // Read back what a download now serves before calling it whole.
        const back = await hashStream(await deps.store.get(o.store_key, result.repair.newVersionId ? { versionId: result.repair.newVersionId } : {}));
        if (back.sha256 === o.sha256 && back.size === Number(o.size)) {
          state = 'ok';
          seen.delete(o.store_key);
          const books = await deps.db.query<{ book_id: string }>('SELECT DISTINCT book_id FROM stored_objects WHERE store_key = $1', [o.store_key]);
          // The restored version carries the same retention and holds as the rest of the book.
          await syncObjectLocks(deps, { bookIds: books.rows.map((b) => b.book_id), repair: true });
        } else {
          result.repair = { ...result.repair, outcome: 'failed', detail: `${result.repair.detail}, but the read-back has SHA-256 ${back.sha256}` };
        }
      }
    }
    await deps.db.query(
      `INSERT INTO fixity_state (object_id, checked_at, outcome) VALUES ($1, now(), $2) ON CONFLICT (object_id) DO UPDATE SET checked_at = now(), outcome = $2`,
      [o.id, state],
    );
    if (result.outcome === 'ok') ok++;
    else problems.push(result);
  }
  const report: FixityReport = { runId, checked: r.rows.length, ok, problems };
  await deps.db.query('UPDATE fixity_runs SET finished_at = now(), checked = $2, failed = $3, report = $4 WHERE id = $1',
    [runId, report.checked, problems.length, JSON.stringify(report)]);
  if (problems.length) deps.log.error({ runId, problems: problems.length }, 'fixity audit found damaged or missing objects');
  return report;
}

/** A stored fixity run. */
export async function getFixityRun(deps: Pick<AppDeps, 'db'>, id: string): Promise<{ id: string; scope: unknown; startedAt: Date; finishedAt: Date | null; checked: number; failed: number; report: FixityReport | null } | undefined> {
  const r = await deps.db.query<{ id: string; scope: unknown; started_at: Date; finished_at: Date | null; checked: number; failed: number; report: FixityReport | null }>(
    'SELECT * FROM fixity_runs WHERE id = $1', [id],
  );
  const x = r.rows[0];
  return x ? { id: x.id, scope: x.scope, startedAt: x.started_at, finishedAt: x.finished_at, checked: x.checked, failed: x.failed, report: x.report } : undefined;
}
