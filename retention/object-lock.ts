import type { AppDeps } from '../app/deps.ts';
import type { Queryable } from '../db/index.ts';
import { addPeriod, parseIsoDate, toIsoDate, type IsoDate } from './dates.ts';
import { lockTargetRows, recordLockSync } from './object-lock.store.ts';

type Deps = Pick<AppDeps, 'db' | 'store' | 'log'>;

/**
 * Years ahead an item with no end date (permanent, or trigger not yet known) is locked. The lock is
 * rolled forward by every sync, so a missed run can never let it lapse for long.
 */
export const LOCK_HORIZON_YEARS = 10;

/** The instant a retain-until date ends: the start of the next day, UTC. */
export function endOfDay(d: IsoDate): Date {
  const { y, m, day } = parseIsoDate(d);
  return new Date(Date.UTC(y, m - 1, day + 1));
}

/**
 * The Object Lock retain-until an item's retention asks for: its end date, or the rolling horizon
 * when it has none. Undefined when the date has passed (the item is due; nothing to lock).
 */
export function lockUntilFor(item: { retainUntil: IsoDate | null; permanent: boolean } | undefined, today: IsoDate): Date | undefined {
  if (!item || item.permanent || item.retainUntil === null) return endOfDay(addPeriod(today, LOCK_HORIZON_YEARS, 0));
  return item.retainUntil >= today ? endOfDay(item.retainUntil) : undefined;
}

/** One drift between what the database asks of a stored object version and what the store holds. */
export interface LockDrift {
  key: string;
  versionId: string | null;
  kind: 'object-missing' | 'retention-missing' | 'retention-short' | 'retention-later' | 'legal-hold-missing' | 'legal-hold-extra';
  expected: string | null;
  actual: string | null;
  repaired: boolean;
}

/** What a sync or reconcile found and did. */
export interface LockReport {
  objectLock: boolean;
  objects: number;
  drift: LockDrift[];
}

interface KeyTarget {
  key: string;
  versionId: string | null;
  until: Date | undefined;
  hold: boolean;
}

/**
 * What every stored object version of the given books must carry. A content-addressed key can be
 * shared by several books, so a key's target is the latest date and any hold over ALL books
 * referencing it, not only the ones asked about.
 */
export async function lockTargets(db: Queryable, bookIds: string[] | undefined, today: IsoDate): Promise<KeyTarget[]> {
  const rows = await lockTargetRows(db, bookIds);
  const byVersion = new Map<string, KeyTarget>();
  for (const row of rows) {
    const id = `${row.key}\n${row.versionId ?? ''}`;
    const until = lockUntilFor(row.computed ? { retainUntil: row.retainUntil, permanent: row.permanent ?? false } : undefined, today);
    const t = byVersion.get(id) ?? { key: row.key, versionId: row.versionId, until: undefined, hold: false };
    if (until && (!t.until || until > t.until)) t.until = until;
    t.hold ||= row.held;
    byVersion.set(id, t);
  }
  return [...byVersion.values()].sort((a, b) => a.key.localeCompare(b.key));
}

/**
 * Compares the store's Object Lock state of the books' objects (all books when `bookIds` is
 * undefined) with what the database asks, and with `repair` brings the store in line: retention in
 * GOVERNANCE mode is only ever extended (a later date in the store is reported, never shortened:
 * only disposal bypasses governance), and legal holds are set or lifted.
 */
export async function syncObjectLocks(deps: Deps, opts: { bookIds?: string[]; repair: boolean; today?: IsoDate }): Promise<LockReport> {
  const objectLock = deps.store.capabilities().objectLock;
  const today = opts.today ?? toIsoDate(new Date());
  const targets = await lockTargets(deps.db, opts.bookIds, today);
  const drift: LockDrift[] = [];
  if (!objectLock) return { objectLock, objects: targets.length, drift };
  for (const t of targets) {
    const v = t.versionId ? { versionId: t.versionId } : {};
    const head = await deps.store.head(t.key, v);
    if (!head) {
      drift.push({ key: t.key, versionId: t.versionId, kind: 'object-missing', expected: null, actual: null, repaired: false });
      continue;
    }
    const actual = head.retention?.retainUntil;
    if (t.until) {
      const expected = t.until.toISOString();
      if (!actual || actual < t.until) {
        if (opts.repair) await deps.store.setRetention(t.key, { mode: 'GOVERNANCE', retainUntil: t.until }, v);
        drift.push({ key: t.key, versionId: t.versionId, kind: actual ? 'retention-short' : 'retention-missing', expected, actual: actual?.toISOString() ?? null, repaired: opts.repair });
      } else if (actual > t.until) {
        drift.push({ key: t.key, versionId: t.versionId, kind: 'retention-later', expected, actual: actual.toISOString(), repaired: false });
      }
    }
    if (t.hold !== (head.legalHold ?? false)) {
      if (opts.repair) await deps.store.setLegalHold(t.key, t.hold, v);
      drift.push({ key: t.key, versionId: t.versionId, kind: t.hold ? 'legal-hold-missing' : 'legal-hold-extra', expected: String(t.hold), actual: String(head.legalHold ?? false), repaired: opts.repair });
    }
  }
  if (opts.repair && opts.bookIds) {
    await recordLockSync(deps.db, opts.bookIds, endOfDay(addPeriod(today, LOCK_HORIZON_YEARS, 0)).toISOString());
  }
  return { objectLock, objects: targets.length, drift };
}
