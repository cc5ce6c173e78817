import type { Queryable } from '../db/index.ts';
import type { AuditEvent, AuditQuery } from './chain.ts';

interface Row {
  seq: string | number;
  at: Date;
  actor_id: string | null;
  actor: string;
  action: string;
  target_type: string | null;
  target_id: string | null;
  from_addr: string | null;
  purpose: string | null;
  outcome: string;
  detail: Record<string, unknown> | null;
  prev_hash: string;
  hash: string;
}

const COLUMNS = 'seq, at, actor_id, actor, action, target_type, target_id, from_addr, purpose, outcome, detail, prev_hash, hash';

function fromRow(r: Row): AuditEvent {
  return {
    seq: Number(r.seq), at: new Date(r.at).toISOString(), actorId: r.actor_id, actor: r.actor, action: r.action, targetType: r.target_type,
    targetId: r.target_id, from: r.from_addr, purpose: r.purpose, outcome: r.outcome, detail: r.detail, prevHash: r.prev_hash, hash: r.hash,
  };
}

/** The newest event, or undefined on an empty trail. */
export async function auditHead(db: Queryable): Promise<{ seq: number; hash: string } | undefined> {
  const r = await db.query<{ seq: string; hash: string }>('SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1');
  return r.rows[0] ? { seq: Number(r.rows[0].seq), hash: r.rows[0].hash } : undefined;
}

/**
 * Locks the chain's head row FOR UPDATE (held until the transaction `tx` ends, so appends queue
 * up), then reads the newest event to link to.
 */
export async function lockAuditHead(tx: Queryable): Promise<{ seq: number; hash: string } | undefined> {
  await tx.query('SELECT id FROM audit_head WHERE id = 1 FOR UPDATE');
  return auditHead(tx);
}

/** Writes one event of the chain, hash included. */
export async function insertAuditEvent(tx: Queryable, event: AuditEvent): Promise<void> {
  await tx.query(
    `INSERT INTO audit_events (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
    [event.seq, event.at, event.actorId, event.actor, event.action, event.targetType, event.targetId, event.from, event.purpose, event.outcome,
      event.detail === null ? null : JSON.stringify(event.detail), event.prevHash, event.hash],
  );
}

/** Events after `q.afterSeq` and before `q.beforeSeq`, filtered, at most `limit`, in chain order or newest first. */
export async function selectAuditEvents(db: Queryable, q: AuditQuery, limit: number): Promise<AuditEvent[]> {
  const prefix = actionPrefix(q.action);
  const r = await db.query<Row>(
    `SELECT ${COLUMNS} FROM audit_events
      WHERE seq > $1 AND ($8::bigint IS NULL OR seq < $8) AND ($2::text IS NULL OR actor = $2) AND ($3::text IS NULL OR action = $3)
        AND ($4::text IS NULL OR target_type = $4) AND ($5::text IS NULL OR target_id = $5)
        AND ($7::text IS NULL OR left(action, length($7)) = $7)
      ORDER BY seq ${q.newestFirst ? 'DESC' : 'ASC'} LIMIT $6`,
    [q.afterSeq ?? 0, q.actor ?? null, prefix === null ? (q.action ?? null) : null, q.targetType ?? null, q.targetId ?? null, limit, prefix, q.beforeSeq ?? null],
  );
  return r.rows.map(fromRow);
}

/** The category an action filter names (`book.` or `book.*` → `book.`), or null for an exact name. */
export function actionPrefix(action: string | undefined): string | null {
  return action && /\.\*?$/.test(action) ? action.replace(/\*$/, '') : null;
}

/** Every action name in the trail with how many events it has, by name: what an auditor can filter on. */
export async function auditActionCounts(db: Queryable): Promise<{ action: string; count: number }[]> {
  const r = await db.query<{ action: string; count: number }>('SELECT action, count(*)::int AS count FROM audit_events GROUP BY action ORDER BY action LIMIT 1000');
  return r.rows;
}

/** The next batch (up to 1000) of events from `seq` on, in chain order: how the verifier walks the trail. */
export async function auditEventsFrom(db: Queryable, seq: number): Promise<AuditEvent[]> {
  const r = await db.query<Row>(`SELECT ${COLUMNS} FROM audit_events WHERE seq >= $1 ORDER BY seq LIMIT 1000`, [seq]);
  return r.rows.map(fromRow);
}
