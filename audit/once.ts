import type { Db } from '../db/index.ts';
import { appendInTransaction, type AuditInput } from './chain.ts';
import { claimOnceKey, pruneOnceKeys } from './once.store.ts';

/**
 * Appends `input` unless an event under `keyHash` was written and has not expired: the key's row and
 * the event commit together, so a read is never left unrecorded because its key was taken by a
 * request whose event then failed, and concurrent requests (any number of processes) write one event.
 * Returns whether an event was written. Expired keys are pruned a hundred at a time on each write.
 */
export async function appendAuditEventOnce(db: Db, keyHash: string, expiresAt: Date, input: AuditInput): Promise<boolean> {
  return db.transaction(async (tx) => {
    if (!(await claimOnceKey(tx, keyHash, expiresAt))) return false;
    await appendInTransaction(tx, input);
    await pruneOnceKeys(tx);
    return true;
  });
}
