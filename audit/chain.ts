import { AppError, sha256Hex } from '../common/index.ts';
import type { Db, Queryable } from '../db/index.ts';

/** The `prev_hash` of the first event. */
export const GENESIS_HASH = '0'.repeat(64);

/** What is recorded about one action (who, what, when, from where, why, how it ended). */
export interface AuditInput {
  actorId?: string | null;
  /** Username, or `anonymous` / `system`. */
  actor: string;
  /** Event type, e.g. `page.read`, `search.results`, `user.create`. */
  action: string;
  targetType?: string | null;
  targetId?: string | null;
  /** Client address (HTTP) or `cli`. */
  from?: string | null;
  purpose?: string | null;
  /** `ok`, `denied`, `failed`, or an HTTP status class. */
  outcome: string;
  detail?: Record<string, unknown> | null;
}

/** An event of the chain. */
export interface AuditEvent extends Required<{ [K in keyof AuditInput]: Exclude<AuditInput[K], undefined> }> {
  seq: number;
  at: string;
  prevHash: string;
  hash: string;
}

/** Sorts object keys at every level, so jsonb (which reorders keys) reads back to the same text. */
function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v && typeof v === 'object' && !(v instanceof Date)) {
    return Object.fromEntries(Object.keys(v).sort().map((k) => [k, canonical((v as Record<string, unknown>)[k])]));
  }
  // jsonb refuses NUL; control characters are dropped so every detail can be stored.
  // eslint-disable-next-line no-control-regex
  if (typeof v === 'string') return v.replace(/\u0000/g, '');
  return v;
}

/** The canonical serialisation an event's hash covers: every column but `hash`, in a fixed order. */
export function serialiseEvent(e: Omit<AuditEvent, 'hash'>): string {
  return JSON.stringify([
    e.seq, e.at, e.actorId, e.actor, e.action, e.targetType, e.targetId, e.from, e.purpose, e.outcome, e.detail === null ? null : canonical(e.detail), e.prevHash,
  ]);
}

/** The hash of an event: SHA-256 of the previous hash, a newline, and its canonical serialisation. */
export function eventHash(e: Omit<AuditEvent, 'hash'>): string {
  return sha256Hex(`${e.prevHash}\n${serialiseEvent(e)}`);
}

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

/**
 * Appends one event to the chain. The head row is locked FOR UPDATE, so concurrent appends (any
 * number of API and CLI processes) queue up and each links to the one before it.
 */
export async function appendAuditEvent(db: Db, input: AuditInput): Promise<AuditEvent> {
  return db.transaction((tx) => appendInTransaction(tx, input));
}

/** `appendAuditEvent` inside a transaction the caller runs (the event commits or rolls back with it). */
export async function appendInTransaction(tx: Queryable, input: AuditInput): Promise<AuditEvent> {
  await tx.query('SELECT id FROM audit_head WHERE id = 1 FOR UPDATE');
  const last = await tx.query<{ seq: string; hash: string }>('SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1');
  const prev = last.rows[0];
  // Milliseconds: what a JavaScript Date and timestamptz both hold exactly.
  const at = new Date(Math.floor(Date.now()));
  const event: Omit<AuditEvent, 'hash'> = {
    seq: prev ? Number(prev.seq) + 1 : 1,
    at: at.toISOString(),
    actorId: input.actorId ?? null,
    actor: input.actor,
    action: input.action,
    targetType: input.targetType ?? null,
    targetId: input.targetId ?? null,
    from: input.from ?? null,
    purpose: input.purpose ?? null,
    outcome: input.outcome,
    detail: input.detail ? (canonical(input.detail) as Record<string, unknown>) : null,
    prevHash: prev?.hash ?? GENESIS_HASH,
  };
  const hash = eventHash(event);
  await tx.query(
    `INSERT INTO audit_events (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
    [event.seq, event.at, event.actorId, event.actor, event.action, event.targetType, event.targetId, event.from, event.purpose, event.outcome,
      event.detail === null ? null : JSON.stringify(event.detail), event.prevHash, hash],
  );
  return { ...event, hash };
}

/** The newest event, or undefined on an empty trail. */
export async function auditHead(db: Queryable): Promise<{ seq: number; hash: string } | undefined> {
  const r = await db.query<{ seq: string; hash: string }>('SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1');
  return r.rows[0] ? { seq: Number(r.rows[0].seq), hash: r.rows[0].hash } : undefined;
}

/** Filters of `listAuditEvents`. */
export interface AuditQuery {
  afterSeq?: number;
  actor?: string;
  action?: string;
  targetType?: string;
  targetId?: string;
  limit?: number;
}

/** Events in chain order, filtered. */
export async function listAuditEvents(db: Queryable, q: AuditQuery = {}): Promise<AuditEvent[]> {
  const limit = Math.min(Math.max(q.limit ?? 100, 1), 1000);
  const r = await db.query<Row>(
    `SELECT ${COLUMNS} FROM audit_events
      WHERE seq > $1 AND ($2::text IS NULL OR actor = $2) AND ($3::text IS NULL OR action = $3)
        AND ($4::text IS NULL OR target_type = $4) AND ($5::text IS NULL OR target_id = $5)
      ORDER BY seq LIMIT $6`,
    [q.afterSeq ?? 0, q.actor ?? null, q.action ?? null, q.targetType ?? null, q.targetId ?? null, limit],
  );
  return r.rows.map(fromRow);
}

/** The first problem `verifyChain` found. */
export interface ChainBreak {
  seq: number;
  reason: string;
}

/** What `verifyChain` found. */
export interface ChainReport {
  ok: boolean;
  checked: number;
  head: { seq: number; hash: string } | null;
  broken: ChainBreak | null;
  anchor: { seq: number; hash: string; at: string; key: string } | null;
}

/**
 * Walks the whole chain from seq 1: sequence without gaps, each `prev_hash` the hash before it,
 * each `hash` recomputed. With an anchor (a head written to object storage earlier) it also checks
 * that the event at the anchor's seq still has the anchored hash, so a table rewritten with
 * recomputed hashes, or cut short, is detected.
 */
export async function verifyChain(db: Queryable, anchor?: { seq: number; hash: string; at: string; key: string }): Promise<ChainReport> {
  let prevHash = GENESIS_HASH;
  let expected = 1;
  let checked = 0;
  let head: { seq: number; hash: string } | null = null;
  let anchorSeen = false;
  const fail = (seq: number, reason: string): ChainReport => ({ ok: false, checked, head, broken: { seq, reason }, anchor: anchor ?? null });
  for (;;) {
    const r = await db.query<Row>(`SELECT ${COLUMNS} FROM audit_events WHERE seq >= $1 ORDER BY seq LIMIT 1000`, [expected]);
    if (r.rows.length === 0) break;
    for (const row of r.rows) {
      const e = fromRow(row);
      if (e.seq !== expected) return fail(expected, `event ${expected} is missing (next is ${e.seq})`);
      if (e.prevHash !== prevHash) return fail(e.seq, `event ${e.seq} does not link to the event before it (prev_hash differs)`);
      const { hash, ...rest } = e;
      if (eventHash(rest) !== hash) return fail(e.seq, `event ${e.seq} was altered (its hash does not match its contents)`);
      if (anchor && e.seq === anchor.seq) {
        anchorSeen = true;
        if (e.hash !== anchor.hash) return fail(e.seq, `event ${e.seq} differs from the anchor written to object storage at ${anchor.at}: the table was rewritten`);
      }
      prevHash = e.hash;
      head = { seq: e.seq, hash: e.hash };
      expected++;
      checked++;
    }
  }
  if (anchor && !anchorSeen) return fail(anchor.seq, `event ${anchor.seq} is missing but was anchored to object storage at ${anchor.at}: the trail was cut short`);
  return { ok: true, checked, head, broken: null, anchor: anchor ?? null };
}

/** Throws when the chain is broken (used where a broken trail must stop work). */
export async function assertChain(db: Queryable): Promise<void> {
  const r = await verifyChain(db);
  if (!r.ok) throw new AppError('ERR_INTEGRITY', r.broken!.reason);
}
