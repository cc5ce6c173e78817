import type { Queryable } from '../db/index.ts';
import type { FixityReport } from './fixity.ts';

/** A fixity run as stored: what it covered, when it ran, and what it found. */
export interface FixityRun {
  id: string;
  scope: unknown;
  startedAt: Date;
  finishedAt: Date | null;
  checked: number;
  failed: number;
  report: FixityReport | null;
}

/** The most recent fixity runs, newest first, with their reports. */
export async function listFixityRuns(db: Queryable, limit: number): Promise<FixityRun[]> {
  const r = await db.query<{ id: string; scope: unknown; started_at: Date; finished_at: Date | null; checked: number; failed: number; report: FixityReport | null }>(
    'SELECT id, scope, started_at, finished_at, checked, failed, report FROM fixity_runs ORDER BY started_at DESC, id LIMIT $1',
    [limit],
  );
  return r.rows.map((x) => ({ id: x.id, scope: x.scope, startedAt: x.started_at, finishedAt: x.finished_at, checked: x.checked, failed: x.failed, report: x.report }));
}
