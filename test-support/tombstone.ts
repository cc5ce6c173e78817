import { randomUUID } from 'node:crypto';
import type { Queryable } from '../db/index.ts';
import { certificateHash } from '../retention/index.ts';

/** What a seeded disposal left behind. */
export interface SeededDisposal {
  bookId: string;
  batchId: string;
  disposedAt: string;
}

/**
 * Writes what an executed disposal leaves of a book that never existed here: an executed batch
 * naming it, its tombstone and a certificate. For tests of screens and lists that show disposed
 * books, where running a real disposal (due rules, four eyes, object deletion) is beside the point.
 */
export async function seedDisposedBook(
  db: Queryable,
  book: { registerType: string; municipality: string; yearFrom: number; yearTo: number; volume?: string | null; pages?: number },
  opts: { proposedBy?: string; approvedBy?: string; disposedAt?: string } = {},
): Promise<SeededDisposal> {
  const bookId = randomUUID();
  const disposedAt = opts.disposedAt ?? '2026-03-02T10:00:00.000Z';
  const proposedBy = opts.proposedBy ?? 'rm-one';
  const approvedBy = opts.approvedBy ?? 'rm-two';
  const batch = await db.query<{ id: string }>(
    `INSERT INTO disposal_batches (status, proposed_by, decided_by, decided_at, executed_at) VALUES ('executed', $1, $2, $3, $3) RETURNING id::text`,
    [proposedBy, approvedBy, disposedAt],
  );
  const batchId = batch.rows[0]!.id;
  await db.query(`INSERT INTO disposal_batch_items (batch_id, book_id, outcome) VALUES ($1, $2, 'disposed')`, [batchId, bookId]);
  const pages = Array.from({ length: book.pages ?? 2 }, (_, i) => ({ id: randomUUID(), sequence: i + 1 }));
  const tombstone = {
    bookId,
    book: { ...book, volume: book.volume ?? null, sourceSha256: 'a'.repeat(64), sourceSize: 1, createdAt: '2020-01-01T00:00:00.000Z', pageCount: pages.length },
    pages, objects: [], cacheObjects: [], rule: null, retention: {},
    approvals: { batchId, proposedBy, approvedBy }, disposalStartedAt: disposedAt,
  };
  await db.query(`INSERT INTO disposal_tombstones (book_id, batch_id, status, tombstone, created_at, disposed_at) VALUES ($1, $2, 'disposed', $3, $4, $4)`,
    [bookId, batchId, JSON.stringify(tombstone), disposedAt]);
  const content = { bookId, book: tombstone.book, disposedAt, approvals: tombstone.approvals };
  await db.query('INSERT INTO disposal_certificates (book_id, certificate, sha256) VALUES ($1, $2, $3)', [bookId, JSON.stringify(content), certificateHash(content)]);
  return { bookId, batchId, disposedAt };
}
