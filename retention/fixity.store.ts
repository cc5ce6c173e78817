import type { Queryable } from '../db/index.ts';
import type { FixityReport, FixityResult, Intrusion } from './fixity.ts';
import type { FixityRun } from './fixity-report.store.ts';

/** A stored object as the fixity audit checks it: where it is and what it must hash to. */
export interface AuditedObject {
  objectId: string;
  bookId: string;
  pageId: string | null;
  key: string;
  versionId: string | null;
  expectedSha256: string;
  expectedSize: number;
  /** When the row was recorded (just after the store write): what "above" means once the recorded version is gone. */
  recordedAt: Date;
}

/**
 * The objects an audit covers: one book's (`bookId`), all of them (`all`), or those not checked
 * within `cycleDays`, never-checked and oldest checks first, at most `limit`.
 */
export async function objectsToAudit(db: Queryable, q: { bookId: string | null; all: boolean; cycleDays: number; limit: number }): Promise<AuditedObject[]> {
  const r = await db.query<{ id: string; book_id: string; page_id: string | null; store_key: string; version_id: string | null; sha256: string; size: number | string; created_at: Date }>(
    `SELECT o.id, o.book_id, o.page_id, o.store_key, o.version_id, o.sha256, o.size, o.created_at
       FROM stored_objects o LEFT JOIN fixity_state f ON f.object_id = o.id
      WHERE ($1::uuid IS NULL OR o.book_id = $1)
        AND ($2 OR $1::uuid IS NOT NULL OR f.checked_at IS NULL OR f.checked_at < now() - make_interval(days => $3))
      ORDER BY f.checked_at NULLS FIRST, o.id
      LIMIT $4`,
    [q.bookId, q.all, q.cycleDays, q.limit],
  );
  return r.rows.map((o) => ({ objectId: o.id, bookId: o.book_id, pageId: o.page_id, key: o.store_key, versionId: o.version_id, expectedSha256: o.sha256, expectedSize: Number(o.size), recordedAt: o.created_at }));
}

/** How many stored object rows there are (what a full fixity cycle covers). */
export async function countStoredObjects(db: Queryable): Promise<number> {
  return Number((await db.query<{ n: string }>('SELECT count(*) AS n FROM stored_objects')).rows[0]?.n ?? 0);
}

/** Opens a fixity run for the scope (stored as given) and returns its id. */
export async function startFixityRun(db: Queryable, scope: unknown): Promise<string> {
  const run = await db.query<{ id: string }>('INSERT INTO fixity_runs (scope) VALUES ($1) RETURNING id', [JSON.stringify(scope)]);
  return run.rows[0]!.id;
}

/** Closes a fixity run with its counts and report. */
export async function finishFixityRun(db: Queryable, report: FixityReport): Promise<void> {
  await db.query('UPDATE fixity_runs SET finished_at = now(), checked = $2, failed = $3, report = $4 WHERE id = $1',
    [report.runId, report.checked, report.problems.length, JSON.stringify(report)]);
}

/** Records when an object was last checked and with what outcome (what the next scheduled run goes by). */
export async function recordFixityState(db: Queryable, objectId: string, outcome: FixityResult['outcome']): Promise<void> {
  await db.query(
    `INSERT INTO fixity_state (object_id, checked_at, outcome) VALUES ($1, now(), $2) ON CONFLICT (object_id) DO UPDATE SET checked_at = now(), outcome = $2`,
    [objectId, outcome],
  );
}

/** A stored fixity run by id. */
export async function getFixityRun(db: Queryable, id: string): Promise<FixityRun | undefined> {
  const r = await db.query<{ id: string; scope: unknown; started_at: Date; finished_at: Date | null; checked: number; failed: number; report: FixityReport | null }>(
    'SELECT * FROM fixity_runs WHERE id = $1', [id],
  );
  const x = r.rows[0];
  return x ? { id: x.id, scope: x.scope, startedAt: x.started_at, finishedAt: x.finished_at, checked: x.checked, failed: x.failed, report: x.report } : undefined;
}

/** The books recording a store key (a content-addressed key may be shared). */
export async function booksOfStoreKey(db: Queryable, key: string): Promise<string[]> {
  const books = await db.query<{ book_id: string }>('SELECT DISTINCT book_id FROM stored_objects WHERE store_key = $1', [key]);
  return books.rows.map((b) => b.book_id);
}

/** Points every row recording a key at the store version now holding its good bytes. */
export async function pointKeyAtVersion(db: Queryable, key: string, versionId: string | null): Promise<void> {
  await db.query('UPDATE stored_objects SET version_id = $2 WHERE store_key = $1', [key, versionId]);
}

/** Other keys recorded with the same bytes (content-addressed under another prefix), with their versions. */
export async function twinKeys(db: Queryable, sha256: string, exceptKey: string): Promise<{ key: string; versionId: string | null }[]> {
  const twins = await db.query<{ store_key: string; version_id: string | null }>(
    'SELECT DISTINCT store_key, version_id FROM stored_objects WHERE sha256 = $1 AND store_key <> $2', [sha256, exceptKey],
  );
  return twins.rows.map((t) => ({ key: t.store_key, versionId: t.version_id }));
}

/** A book's preservation packages (other than `exceptKey`), newest generation first. */
export async function packagesOfBook(db: Queryable, bookId: string, exceptKey: string): Promise<{ id: string; key: string; versionId: string | null; revision: number }[]> {
  const pkgs = await db.query<{ id: string; store_key: string; version_id: string | null; revision: number }>(
    `SELECT id, store_key, version_id, revision FROM stored_objects
      WHERE book_id = $1 AND page_id IS NULL AND role = 'package' AND store_key <> $2 ORDER BY revision DESC`,
    [bookId, exceptKey],
  );
  return pkgs.rows.map((p) => ({ id: p.id, key: p.store_key, versionId: p.version_id, revision: p.revision }));
}

/** The store versions of a key that rows record: versions the archive wrote, never intrusions. */
export async function recordedVersionsOfKey(db: Queryable, key: string): Promise<Set<string>> {
  const r = await db.query<{ version_id: string }>('SELECT DISTINCT version_id FROM stored_objects WHERE store_key = $1 AND version_id IS NOT NULL', [key]);
  return new Set(r.rows.map((x) => x.version_id));
}

/** Keeps intrusions found on a key by a run; one found before keeps its first finding. */
export async function recordIntrusions(db: Queryable, runId: string, key: string, found: readonly Omit<Intrusion, 'foundAt'>[]): Promise<void> {
  if (found.length === 0) return;
  await db.query(
    `INSERT INTO fixity_intrusions (store_key, version_id, delete_marker, size, appeared_at, found_by_run)
     SELECT $1, f.version_id, f.delete_marker, f.size, f.appeared_at, $2
       FROM unnest($3::text[], $4::boolean[], $5::bigint[], $6::timestamptz[]) AS f (version_id, delete_marker, size, appeared_at)
     ON CONFLICT (store_key, version_id) DO NOTHING`,
    [key, runId, found.map((i) => i.versionId), found.map((i) => i.deleteMarker), found.map((i) => i.size), found.map((i) => i.appearedAt.toISOString())],
  );
}

/** Every intrusion ever found on a key, newest write first. */
export async function intrusionsOfKey(db: Queryable, key: string): Promise<Intrusion[]> {
  const r = await db.query<{ version_id: string; delete_marker: boolean; size: number | string; appeared_at: Date; found_at: Date }>(
    'SELECT version_id, delete_marker, size, appeared_at, found_at FROM fixity_intrusions WHERE store_key = $1 ORDER BY appeared_at DESC, version_id',
    [key],
  );
  return r.rows.map((x) => ({ versionId: x.version_id, deleteMarker: x.delete_marker, size: Number(x.size), appearedAt: x.appeared_at, foundAt: x.found_at }));
}
