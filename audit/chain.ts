import { sha256Hex } from '../common/index.ts';
import type { Db, Queryable } from '../db/index.ts';
import { auditActionCounts, auditEventsFrom, insertAuditEvent, lockAuditHead, selectAuditEvents } from './chain.store.ts';

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
  /** Only events before this one (paging back from the newest). */
  beforeSeq?: number;
  /** Newest first rather than in chain order: what a screen of recent activity shows. */
  newestFirst?: boolean;
  actor?: string;
  /** An exact action name, or a category ending in `.` or `.*` (`book.*`: every book event). */
  action?: string;
  targetType?: string;
  targetId?: string;
  limit?: number;
}

/** The action names in the trail with their number of events: the names an auditor filters by. */
export async function listAuditActions(db: Queryable): Promise<{ action: string; count: number }[]> {
  return auditActionCounts(db);
}

/** Events in chain order (or newest first), filtered. */
export async function listAuditEvents(db: Queryable, q: AuditQuery = {}): Promise<AuditEvent[]> {
  return selectAuditEvents(db, q, Math.min(Math.max(q.limit ?? 100, 1), 1000));
}

/** One version of one anchor object: a chain head (`seq`, `hash`) as written to object storage at `at`. */
export interface AnchorClaim {
  seq: number;
  hash: string;
  at: string;
  key: string;
  /** The version read, on a versioned store. */
  versionId?: string;
}

/** The first problem `verifyChain` found. */
export interface ChainBreak {
  /** The event at fault; 0 for an object under the anchor prefix that names no event. */
  seq: number;
  reason: string;
  /** The anchor object the problem was found against (or in). */
  anchor?: { key: string; versionId?: string; seq: number };
  /** The hash the anchor holds for `seq`... */
  expected?: string;
  /** ...and the chain's hash there (null: the event is gone). */
  found?: string | null;
}

/** What `verifyChain` found. */
export interface ChainReport {
  ok: boolean;
  checked: number;
  head: { seq: number; hash: string } | null;
  broken: ChainBreak | null;
  /** The newest anchor the chain was checked against. */
  anchor: AnchorClaim | null;
  /** How many anchors (every version of every anchor object) the chain was checked against. */
  anchors: number;
}

const anchorRef = (a: AnchorClaim): NonNullable<ChainBreak['anchor']> => ({ key: a.key, ...(a.versionId ? { versionId: a.versionId } : {}), seq: a.seq });
const anchorName = (a: AnchorClaim) => `${a.key}${a.versionId ? ` (version ${a.versionId})` : ''}`;

/**
 * Walks the whole chain once from seq 1: sequence without gaps, each `prev_hash` the hash before
 * it, each `hash` recomputed. Every anchor (a head written to object storage earlier) must find
 * the event at its seq with the anchored hash: checking only the newest would let a database owner
 * rewrite an old event, recompute the hashes to the head and anchor the forged head beside the
 * honest anchors. Reports the first problem in chain order.
 */
export async function verifyChain(db: Queryable, anchors: readonly AnchorClaim[] = []): Promise<ChainReport> {
  const bySeq = new Map<number, AnchorClaim[]>();
  for (const a of [...anchors].sort((x, y) => x.seq - y.seq || x.key.localeCompare(y.key) || (x.versionId ?? '').localeCompare(y.versionId ?? ''))) {
    bySeq.set(a.seq, [...(bySeq.get(a.seq) ?? []), a]);
  }
  const newest = anchors.reduce<AnchorClaim | null>((n, a) => (!n || a.seq > n.seq || (a.seq === n.seq && a.at > n.at) ? a : n), null);
  let prevHash = GENESIS_HASH;
  let expected = 1;
  let checked = 0;
  let head: { seq: number; hash: string } | null = null;
  const report = (broken: ChainBreak | null): ChainReport => ({ ok: broken === null, checked, head, broken, anchor: newest, anchors: anchors.length });
  const fail = (seq: number, reason: string) => report({ seq, reason });
  for (;;) {
    const batch = await auditEventsFrom(db, expected);
    if (batch.length === 0) break;
    for (const e of batch) {
      if (e.seq !== expected) return fail(expected, `event ${expected} is missing (next is ${e.seq})`);
      if (e.prevHash !== prevHash) return fail(e.seq, `event ${e.seq} does not link to the event before it (prev_hash differs)`);
      const { hash, ...rest } = e;
      if (eventHash(rest) !== hash) return fail(e.seq, `event ${e.seq} was altered (its hash does not match its contents)`);
      for (const a of bySeq.get(e.seq) ?? []) {
        if (a.hash !== e.hash) {
          return report({
            seq: e.seq, anchor: anchorRef(a), expected: a.hash, found: e.hash,
            reason: `event ${e.seq} differs from the anchor ${anchorName(a)} written to object storage at ${a.at} (anchored ${a.hash}, the chain has ${e.hash}): the table was rewritten`,
          });
        }
      }
      prevHash = e.hash;
      head = { seq: e.seq, hash: e.hash };
      expected++;
      checked++;
    }
  }
  // Map keys are in insertion order, sorted by seq above: the first anchor past the head.
  const beyond = [...bySeq.values()].flat().find((a) => a.seq > (head?.seq ?? 0));
  if (beyond) {
    return report({
      seq: beyond.seq, anchor: anchorRef(beyond), expected: beyond.hash, found: null,
      reason: `event ${beyond.seq} is missing but was anchored to object storage at ${beyond.at} (${anchorName(beyond)}): the trail was cut short`,
    });
  }
  return report(null);
}
