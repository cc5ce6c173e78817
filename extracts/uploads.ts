/**
 * An extract's signed PDF is stored before the transaction that registers it (the register row
 * names its hash and place): the PDF is noted first, and a note left behind (the transaction
 * failed, the process died) is how a PDF that no row names is found and removed again.
 */
import type { AppDeps } from '../app/deps.ts';
import { keyRecorded, lockUpload, staleUploads, takeUpload, uploadNoted } from './extracts.store.ts';

/** Key prefix of the extracts' PDFs in the object store (content-addressed under it). */
export const EXTRACTS_PREFIX = 'extracts';
/**
 * How long a noted upload may stay unregistered before the sweep takes it for abandoned: far
 * longer than an issue takes (seconds), so an issue in progress is never swept under it.
 */
export const UPLOAD_GRACE_MS = 15 * 60_000;
/** Notes looked at by one sweep, so an issue never waits long behind one. */
const SWEEP_BATCH = 20;

type Deps = Pick<AppDeps, 'db' | 'store'>;

/**
 * Removes the PDF of a noted upload that no stored object row names, every version of it (it was
 * never a record: the register never named it, so the governance lock it was written under is
 * bypassed), then forgets the note. Holds the note's row meanwhile, so the register transaction
 * of the same upload waits and then finds the note gone. Returns what it did; 'busy' when an issue
 * in progress holds the note, 'gone' when there is none.
 */
export async function discardUpload(deps: Deps, storeKey: string): Promise<'removed' | 'recorded' | 'gone' | 'busy'> {
  return deps.db.transaction(async (tx) => {
    const note = await lockUpload(tx, storeKey);
    if (!note) {
      return (await uploadNoted(tx, storeKey)) ? 'busy' : 'gone';
    }
    // A commit whose answer was lost looks like a failure to the issuer: a recorded PDF stays.
    const recorded = await keyRecorded(tx, storeKey);
    if (!recorded) {
      for (const v of await deps.store.keyHistory(storeKey)) {
        await deps.store.delete(storeKey, { ...(v.versionId ? { versionId: v.versionId } : {}), bypassGovernance: true });
      }
    }
    await takeUpload(tx, storeKey);
    return recorded ? 'recorded' : 'removed';
  });
}

/**
 * Removes the PDFs of uploads noted more than `graceMs` ago and never registered (see
 * `discardUpload`); returns how many PDFs were removed.
 */
export async function sweepAbandonedUploads(deps: Deps, opts: { graceMs?: number; now?: Date } = {}): Promise<number> {
  const before = new Date((opts.now ?? new Date()).getTime() - (opts.graceMs ?? UPLOAD_GRACE_MS));
  let removed = 0;
  for (const key of await staleUploads(deps.db, before, SWEEP_BATCH)) if ((await discardUpload(deps, key)) === 'removed') removed++;
  return removed;
}
