import { sha256Hex } from '../common/index.ts';
import type { Db, Queryable } from '../db/index.ts';
import { auditEventsFrom, insertAuditEvent, lockAuditHead, selectAuditEvents } from './chain.store.ts';

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

/**
 * Appends one event to the chain. The head row is locked FOR UPDATE, so concurrent appends (any
 * number of API and CLI processes) queue up and each links to the one before it.
 */
export async function appendAuditEvent(db: Db, input: AuditInput): Promise<AuditEvent> {
  return db.transaction((tx) => appendInTransaction(tx, input));
}

/** `appendAuditEvent` inside a transaction the caller runs (the event commits or rolls back with it). */
export async function appendInTransaction(tx: Queryable, input: AuditInput): Promise<AuditEvent> {
  const prev = await lockAuditHead(tx);
  // Milliseconds: what a JavaScript Date and timestamptz both hold exactly.
  const at = new Date(Math.floor(Date.now()));
  const event: Omit<AuditEvent, 'hash'> = {
    seq: prev ? prev.seq + 1 : 1,
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
  const written = { ...event, hash: eventHash(event) };
  await insertAuditEvent(tx, written);
  return written;
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
  return selectAuditEvents(db, q, Math.min(Math.max(q.limit ?? 100, 1), 1000));
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
    const batch = await auditEventsFrom(db, expected);
    if (batch.length === 0) break;
    for (const e of batch) {
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
