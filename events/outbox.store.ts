import { randomBytes } from 'node:crypto';
import type { Queryable } from '../db/index.ts';
import type { EventDeliveryStatus, OutboxEventType } from '../common/vocabulary.ts';

/** The identifiers an event is about; any may be absent. */
export interface EventSubjects {
  bookId?: string | null;
  entryId?: string | null;
  linkId?: string | null;
  recordId?: string | null;
  extractSerial?: string | null;
}

/** An outbox row as the admin API and the delivery job read it. */
export interface OutboxEvent {
  id: string;
  seq: number;
  type: OutboxEventType;
  occurredAt: Date;
  subjects: Required<EventSubjects>;
  data: Record<string, unknown>;
  /** Whether personal data is held for subscriptions granted a purpose (never the data itself here). */
  hasPersonal: boolean;
  fannedOutAt: Date | null;
}

interface OutboxRow {
  id: string; seq: number | string; type: OutboxEventType; occurred_at: Date; book_id: string | null; entry_id: string | null; link_id: string | null;
  record_id: string | null; extract_serial: string | null; data: Record<string, unknown>; has_personal: boolean; fanned_out_at: Date | null;
}

const OUTBOX_COLUMNS = `o.id, o.seq, o.type, o.occurred_at, o.book_id, o.entry_id, o.link_id, o.record_id, o.extract_serial, o.data,
  (o.personal IS NOT NULL) AS has_personal, o.fanned_out_at`;

function toEvent(r: OutboxRow): OutboxEvent {
  return {
    id: r.id, seq: Number(r.seq), type: r.type, occurredAt: r.occurred_at,
    subjects: { bookId: r.book_id, entryId: r.entry_id, linkId: r.link_id, recordId: r.record_id, extractSerial: r.extract_serial },
    data: r.data, hasPersonal: r.has_personal, fannedOutAt: r.fanned_out_at,
  };
}

/** Writes one outbox row in the caller's transaction; returns its id. */
export async function insertOutboxEvent(
  q: Queryable,
  e: { type: OutboxEventType; subjects: EventSubjects; data: Record<string, unknown>; personal: Record<string, unknown> | null },
): Promise<string> {
  const s = e.subjects;
  const r = await q.query<{ id: string }>(
    `INSERT INTO event_outbox (type, book_id, entry_id, link_id, record_id, extract_serial, data, personal)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
    [e.type, s.bookId ?? null, s.entryId ?? null, s.linkId ?? null, s.recordId ?? null, s.extractSerial ?? null, JSON.stringify(e.data),
      e.personal === null ? null : JSON.stringify(e.personal)],
  );
  return r.rows[0]!.id;
}

/**
 * The id of an event already written with this type, these subjects and this data, or null; takes
 * a transaction-scoped advisory lock on the combination first, so two transactions reporting the
 * same change one after the other write it once (the second waits for the first to commit).
 */
export async function lockAndFindSameEvent(
  tx: Queryable,
  e: { type: OutboxEventType; subjects: EventSubjects; data: Record<string, unknown> },
): Promise<string | null> {
  const s = e.subjects;
  const key = JSON.stringify([e.type, s.bookId ?? null, s.entryId ?? null, s.linkId ?? null, s.recordId ?? null, s.extractSerial ?? null]);
  await tx.query(`SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, [`arkiva event ${key}`]);
  const r = await tx.query<{ id: string }>(
    `SELECT id FROM event_outbox
      WHERE type = $1 AND book_id IS NOT DISTINCT FROM $2 AND entry_id IS NOT DISTINCT FROM $3 AND link_id IS NOT DISTINCT FROM $4
        AND record_id IS NOT DISTINCT FROM $5 AND extract_serial IS NOT DISTINCT FROM $6 AND data = $7::jsonb
      ORDER BY seq DESC LIMIT 1`,
    [e.type, s.bookId ?? null, s.entryId ?? null, s.linkId ?? null, s.recordId ?? null, s.extractSerial ?? null, JSON.stringify(e.data)],
  );
  return r.rows[0]?.id ?? null;
}

/** Clears the personal data held for a book's events (the book was disposed of). Returns how many events held some. */
export async function clearPersonalOfBook(q: Queryable, bookId: string): Promise<number> {
  const r = await q.query(`UPDATE event_outbox SET personal = NULL WHERE book_id = $1 AND personal IS NOT NULL`, [bookId]);
  return r.rowCount;
}

/** Events newest first, optionally of one type, one book, or before a sequence number (keyset). */
export async function selectOutboxEvents(q: Queryable, f: { type?: OutboxEventType; bookId?: string; beforeSeq?: number; limit: number }): Promise<OutboxEvent[]> {
  const r = await q.query<OutboxRow>(
    `SELECT ${OUTBOX_COLUMNS} FROM event_outbox o
      WHERE ($1::text IS NULL OR o.type = $1) AND ($2::uuid IS NULL OR o.book_id = $2) AND ($3::bigint IS NULL OR o.seq < $3)
      ORDER BY o.seq DESC LIMIT $4`,
    [f.type ?? null, f.bookId ?? null, f.beforeSeq ?? null, f.limit],
  );
  return r.rows.map(toEvent);
}

/** One event, with its personal data when `withPersonal` (for a delivery to a subscription granted a purpose). */
export async function selectOutboxEvent(q: Queryable, id: string): Promise<(OutboxEvent & { personal: Record<string, unknown> | null }) | null> {
  const r = await q.query<OutboxRow & { personal: Record<string, unknown> | null }>(`SELECT ${OUTBOX_COLUMNS}, o.personal FROM event_outbox o WHERE o.id = $1`, [id]);
  const row = r.rows[0];
  return row ? { ...toEvent(row), personal: row.personal } : null;
}

/**
 * Fans out up to `limit` events not yet fanned out, oldest first: a delivery row for every active
 * subscription to the event's type that existed when the event occurred. Rows are locked (SKIP
 * LOCKED) so concurrent sweeps share the work; run it in a transaction. Returns deliveries made.
 */
export async function fanOutEvents(tx: Queryable, limit: number): Promise<{ events: number; deliveries: number }> {
  const picked = await tx.query<{ id: string }>(
    `SELECT id FROM event_outbox WHERE fanned_out_at IS NULL ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED`,
    [limit],
  );
  if (picked.rows.length === 0) return { events: 0, deliveries: 0 };
  const ids = picked.rows.map((r) => r.id);
  const made = await tx.query(
    `INSERT INTO event_deliveries (event_id, subscription_id)
     SELECT o.id, s.id FROM event_outbox o JOIN event_subscriptions s ON s.active AND o.type = ANY (s.event_types) AND s.created_at <= o.occurred_at
      WHERE o.id = ANY ($1::uuid[])
     ON CONFLICT DO NOTHING`,
    [ids],
  );
  await tx.query(`UPDATE event_outbox SET fanned_out_at = now() WHERE id = ANY ($1::uuid[])`, [ids]);
  return { events: ids.length, deliveries: made.rowCount };
}

/** A delivery claimed for one attempt, with what the attempt needs. */
export interface ClaimedDelivery {
  eventId: string;
  subscriptionId: string;
  /** This attempt's number (1 on the first). */
  attempt: number;
}

/**
 * Claims up to `limit` due deliveries for job `jobId`: pending, due, to an active subscription, and
 * not leased to a live claim (a lease that ran out, or one held by this same job, which means an
 * earlier run of it died). Each claim counts an attempt and holds the lease for `leaseMs`.
 */
export async function claimDueDeliveries(q: Queryable, jobId: string, leaseMs: number, limit: number): Promise<ClaimedDelivery[]> {
  const r = await q.query<{ event_id: string; subscription_id: string; attempts: number }>(
    `UPDATE event_deliveries d
        SET attempts = d.attempts + 1, lease_until = now() + make_interval(secs => $2::double precision / 1000), lease_job = $1, last_attempt_at = now()
      WHERE (d.event_id, d.subscription_id) IN (
              SELECT x.event_id, x.subscription_id FROM event_deliveries x JOIN event_subscriptions s ON s.id = x.subscription_id AND s.active
               WHERE x.status = 'pending' AND x.next_attempt_at <= now() AND (x.lease_until IS NULL OR x.lease_until < now() OR x.lease_job = $1)
               ORDER BY x.next_attempt_at LIMIT $3 FOR UPDATE OF x SKIP LOCKED)
      RETURNING d.event_id, d.subscription_id, d.attempts`,
    [jobId, leaseMs, limit],
  );
  return r.rows.map((x) => ({ eventId: x.event_id, subscriptionId: x.subscription_id, attempt: x.attempts }));
}

/** Records a delivery the receiver acknowledged (2xx). Only the claim's own job may; false when it lost the claim. */
export async function markDelivered(q: Queryable, d: ClaimedDelivery, jobId: string, httpStatus: number): Promise<boolean> {
  const r = await q.query(
    `UPDATE event_deliveries SET status = 'delivered', delivered_at = now(), last_status = $4, last_error = NULL, lease_until = NULL, lease_job = NULL
      WHERE event_id = $1 AND subscription_id = $2 AND status = 'pending' AND lease_job = $3`,
    [d.eventId, d.subscriptionId, jobId, httpStatus],
  );
  return r.rowCount > 0;
}

/** Records a failed attempt: due again at `nextAttemptAt`, or dead-lettered when `dead`. */
export async function markFailed(q: Queryable, d: ClaimedDelivery, jobId: string, f: { httpStatus: number | null; error: string; nextAttemptAt: Date | null }): Promise<boolean> {
  const dead = f.nextAttemptAt === null;
  const r = await q.query(
    `UPDATE event_deliveries
        SET status = CASE WHEN $6 THEN 'dead' ELSE 'pending' END, dead_lettered_at = CASE WHEN $6 THEN now() END,
            next_attempt_at = COALESCE($5, next_attempt_at), last_status = $4, last_error = left($7, 1000), lease_until = NULL, lease_job = NULL
      WHERE event_id = $1 AND subscription_id = $2 AND status = 'pending' AND lease_job = $3`,
    [d.eventId, d.subscriptionId, jobId, f.httpStatus, f.nextAttemptAt, dead, f.error],
  );
  return r.rowCount > 0;
}

/** Gives a claim back without counting its attempt (the worker is shutting down mid-delivery). */
export async function releaseClaim(q: Queryable, d: ClaimedDelivery, jobId: string): Promise<void> {
  await q.query(
    `UPDATE event_deliveries SET attempts = greatest(attempts - 1, 0), lease_until = NULL, lease_job = NULL
      WHERE event_id = $1 AND subscription_id = $2 AND status = 'pending' AND lease_job = $3`,
    [d.eventId, d.subscriptionId, jobId],
  );
}

/** How many deliveries are pending and due now (the sweep runs again while some are). */
export async function countDue(q: Queryable): Promise<number> {
  const r = await q.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM event_deliveries d JOIN event_subscriptions s ON s.id = d.subscription_id AND s.active
      WHERE d.status = 'pending' AND d.next_attempt_at <= now() AND (d.lease_until IS NULL OR d.lease_until < now())`,
  );
  return r.rows[0]!.n;
}

/** A delivery as the admin API lists it. */
export interface Delivery {
  eventId: string;
  eventType: OutboxEventType;
  subscriptionId: string;
  subscriptionName: string;
  status: EventDeliveryStatus;
  attempts: number;
  nextAttemptAt: Date;
  lastAttemptAt: Date | null;
  lastStatus: number | null;
  lastError: string | null;
  deliveredAt: Date | null;
  deadLetteredAt: Date | null;
}

/** Deliveries of one status (dead letters: newest first), optionally of one event or subscription. */
export async function selectDeliveries(q: Queryable, f: { status?: EventDeliveryStatus; eventId?: string; subscriptionId?: string; limit: number }): Promise<Delivery[]> {
  const r = await q.query<{
    event_id: string; type: OutboxEventType; subscription_id: string; name: string; status: EventDeliveryStatus; attempts: number; next_attempt_at: Date;
    last_attempt_at: Date | null; last_status: number | null; last_error: string | null; delivered_at: Date | null; dead_lettered_at: Date | null;
  }>(
    `SELECT d.event_id, o.type, d.subscription_id, s.name, d.status, d.attempts, d.next_attempt_at, d.last_attempt_at, d.last_status, d.last_error,
            d.delivered_at, d.dead_lettered_at
       FROM event_deliveries d JOIN event_outbox o ON o.id = d.event_id JOIN event_subscriptions s ON s.id = d.subscription_id
      WHERE ($1::text IS NULL OR d.status = $1) AND ($2::uuid IS NULL OR d.event_id = $2) AND ($3::uuid IS NULL OR d.subscription_id = $3)
      ORDER BY COALESCE(d.dead_lettered_at, d.last_attempt_at, d.created_at) DESC, o.seq DESC LIMIT $4`,
    [f.status ?? null, f.eventId ?? null, f.subscriptionId ?? null, f.limit],
  );
  return r.rows.map((x) => ({
    eventId: x.event_id, eventType: x.type, subscriptionId: x.subscription_id, subscriptionName: x.name, status: x.status, attempts: x.attempts,
    nextAttemptAt: x.next_attempt_at, lastAttemptAt: x.last_attempt_at, lastStatus: x.last_status, lastError: x.last_error, deliveredAt: x.delivered_at,
    deadLetteredAt: x.dead_lettered_at,
  }));
}

/**
 * Makes deliveries due again with a fresh count of attempts: those of one event (every
 * subscription that wanted it, delivered or not, and subscriptions added since that want its type
 * when `event` is given), or every dead letter (optionally of one subscription). Returns how many.
 */
export async function requeueDeliveries(q: Queryable, f: { eventId: string } | { dead: true; subscriptionId?: string }): Promise<number> {
  if ('eventId' in f) {
    const r = await q.query(
      `UPDATE event_deliveries SET status = 'pending', attempts = 0, next_attempt_at = now(), delivered_at = NULL, dead_lettered_at = NULL,
              lease_until = NULL, lease_job = NULL
        WHERE event_id = $1`,
      [f.eventId],
    );
    return r.rowCount;
  }
  const r = await q.query(
    `UPDATE event_deliveries SET status = 'pending', attempts = 0, next_attempt_at = now(), dead_lettered_at = NULL, lease_until = NULL, lease_job = NULL
      WHERE status = 'dead' AND ($1::uuid IS NULL OR subscription_id = $1)`,
    [f.subscriptionId ?? null],
  );
  return r.rowCount;
}

/** Makes (or resets to due) the delivery of one event to one subscription. */
export async function upsertDelivery(q: Queryable, eventId: string, subscriptionId: string): Promise<void> {
  await q.query(
    `INSERT INTO event_deliveries (event_id, subscription_id) VALUES ($1, $2)
     ON CONFLICT (event_id, subscription_id) DO UPDATE SET status = 'pending', attempts = 0, next_attempt_at = now(), delivered_at = NULL,
       dead_lettered_at = NULL, lease_until = NULL, lease_job = NULL`,
    [eventId, subscriptionId],
  );
}

/** A subscription row, its secret still sealed. */
export interface SubscriptionRow {
  id: string;
  name: string;
  url: string;
  eventTypes: OutboxEventType[];
  secretSealed: Buffer;
  purpose: string | null;
  purposeGrantedBy: string | null;
  active: boolean;
  createdBy: string;
  createdAt: Date;
  updatedAt: Date;
}

interface SubRow {
  id: string; name: string; url: string; event_types: OutboxEventType[]; secret_sealed: Uint8Array; purpose: string | null; purpose_granted_by: string | null;
  active: boolean; created_by: string; created_at: Date; updated_at: Date;
}

function toSub(r: SubRow): SubscriptionRow {
  return {
    id: r.id, name: r.name, url: r.url, eventTypes: r.event_types, secretSealed: Buffer.from(r.secret_sealed), purpose: r.purpose,
    purposeGrantedBy: r.purpose_granted_by, active: r.active, createdBy: r.created_by, createdAt: r.created_at, updatedAt: r.updated_at,
  };
}

/** Stores a new subscription. */
export async function insertSubscription(
  q: Queryable,
  s: { name: string; url: string; eventTypes: readonly OutboxEventType[]; secretSealed: Buffer; purpose: string | null; purposeGrantedBy: string | null; createdBy: string },
): Promise<SubscriptionRow> {
  const r = await q.query<SubRow>(
    `INSERT INTO event_subscriptions (name, url, event_types, secret_sealed, purpose, purpose_granted_by, created_by)
     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *`,
    [s.name, s.url, [...s.eventTypes], s.secretSealed, s.purpose, s.purposeGrantedBy, s.createdBy],
  );
  return toSub(r.rows[0]!);
}

/** Every subscription (inactive ones too), oldest first. */
export async function selectSubscriptions(q: Queryable): Promise<SubscriptionRow[]> {
  const r = await q.query<SubRow>(`SELECT * FROM event_subscriptions ORDER BY created_at, id`);
  return r.rows.map(toSub);
}

/** One subscription, or null. */
export async function selectSubscription(q: Queryable, id: string): Promise<SubscriptionRow | null> {
  const r = await q.query<SubRow>(`SELECT * FROM event_subscriptions WHERE id = $1`, [id]);
  return r.rows[0] ? toSub(r.rows[0]) : null;
}

/** Changes the given fields of a subscription; null when there is none. */
export async function updateSubscription(
  q: Queryable,
  id: string,
  c: { name?: string; url?: string; eventTypes?: readonly OutboxEventType[]; secretSealed?: Buffer; purpose?: { purpose: string | null; grantedBy: string | null }; active?: boolean },
): Promise<SubscriptionRow | null> {
  const r = await q.query<SubRow>(
    `UPDATE event_subscriptions SET
        name = COALESCE($2, name), url = COALESCE($3, url), event_types = COALESCE($4, event_types), secret_sealed = COALESCE($5, secret_sealed),
        purpose = CASE WHEN $6 THEN $7 ELSE purpose END, purpose_granted_by = CASE WHEN $6 THEN $8 ELSE purpose_granted_by END,
        active = COALESCE($9, active), updated_at = now()
      WHERE id = $1 RETURNING *`,
    [id, c.name ?? null, c.url ?? null, c.eventTypes ? [...c.eventTypes] : null, c.secretSealed ?? null, c.purpose !== undefined,
      c.purpose?.purpose ?? null, c.purpose?.grantedBy ?? null, c.active ?? null],
  );
  return r.rows[0] ? toSub(r.rows[0]) : null;
}

/**
 * The 32-byte key named `name` in `server_keys`, made at first use; concurrent first uses keep the
 * first insert, and every caller reads that one back.
 */
export async function eventsServerKey(q: Queryable, name: string): Promise<Buffer> {
  await q.query('INSERT INTO server_keys (name, key) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING', [name, randomBytes(32)]);
  const r = await q.query<{ key: Uint8Array }>('SELECT key FROM server_keys WHERE name = $1', [name]);
  return Buffer.from(r.rows[0]!.key);
}
