import type { Db } from '../db/index.ts';

/**
 * Removes search forms no page holds any more (after pages were re-indexed, corrected or disposed),
 * so a disposed book's names do not linger in the vocabulary. The SHARE lock waits for indexing
 * transactions in flight and holds new ones back for the short delete: without it, a form whose
 * page_terms row is not yet committed could be removed from under it.
 */
export async function pruneSearchTerms(db: Db): Promise<number> {
  return db.transaction(async (tx) => {
    await tx.query('LOCK TABLE page_terms IN SHARE MODE');
    const r = await tx.query('DELETE FROM search_terms s WHERE NOT EXISTS (SELECT 1 FROM page_terms t WHERE t.norm = s.norm)');
    return r.rowCount ?? 0;
  });
}
