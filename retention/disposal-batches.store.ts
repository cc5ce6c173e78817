import type { Queryable } from '../db/index.ts';
import type { DisposalBatch } from './disposal.ts';

/** A listed batch: each item also says how many pages its book has (or had, from its tombstone), null if unknown. */
export type ListedDisposalBatch = Omit<DisposalBatch, 'items'> & { items: (DisposalBatch['items'][number] & { pageCount: number | null })[] };

/**
 * Disposal batches with their items, newest first, optionally of one status: a second records
 * manager finds a proposed batch here to approve it, and the one executing it sees what will be
 * destroyed. One query, items gathered per batch.
 */
export async function listDisposalBatches(db: Queryable, filter: { status?: DisposalBatch['status'] | undefined; limit: number }): Promise<ListedDisposalBatch[]> {
  const r = await db.query<{
    id: string; status: DisposalBatch['status']; note: string | null; proposed_by: string; proposed_at: Date; decided_by: string | null;
    decided_at: Date | null; decision_note: string | null; executed_at: Date | null; items: ListedDisposalBatch['items'];
  }>(
    `SELECT b.id, b.status, b.note, b.proposed_by, b.proposed_at, b.decided_by, b.decided_at, b.decision_note, b.executed_at,
            COALESCE((SELECT json_agg(json_build_object('bookId', i.book_id, 'outcome', i.outcome, 'detail', i.detail, 'pageCount',
                        COALESCE((SELECT bk.page_count FROM books bk WHERE bk.id = i.book_id),
                                 (SELECT (t.tombstone #>> '{book,pageCount}')::int FROM disposal_tombstones t WHERE t.book_id = i.book_id))) ORDER BY i.book_id)
                        FROM disposal_batch_items i WHERE i.batch_id = b.id), '[]'::json) AS items
       FROM disposal_batches b
      WHERE ($1::text IS NULL OR b.status = $1)
      ORDER BY b.proposed_at DESC, b.id LIMIT $2`,
    [filter.status ?? null, filter.limit],
  );
  return r.rows.map((row) => ({
    id: row.id, status: row.status, note: row.note, proposedBy: row.proposed_by, proposedAt: row.proposed_at, decidedBy: row.decided_by,
    decidedAt: row.decided_at, decisionNote: row.decision_note, executedAt: row.executed_at, items: row.items,
  }));
}
