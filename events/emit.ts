import { AppError } from '../common/index.ts';
import type { Db, Queryable } from '../db/index.ts';
import { OUTBOX_EVENT_TYPES, type OutboxEventType } from '../common/vocabulary.ts';
import { clearPersonalOfBook, insertOutboxEvent, lockAndFindSameEvent, type EventSubjects } from './outbox.store.ts';

/** A value an event's `data` may hold: identifiers and codes, flat. */
export type EventDataValue = string | number | boolean | null;

/** What happened, for other systems: the change's kind, its subjects (ids) and further codes. */
export interface ArchiveEvent {
  type: OutboxEventType;
  subjects: EventSubjects;
  /**
   * Identifiers and codes beyond the subjects (register type, municipality, year, status): flat,
   * never names, dates of persons or text read from a page.
   */
  data?: Record<string, EventDataValue>;
  /**
   * Personal data about the subject (e.g. an entry's keyed fields). Kept with the event but sent
   * only to subscriptions granted a purpose; cleared when the subject's book is disposed of.
   */
  personal?: Record<string, unknown> | null;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MAX_DATA_KEYS = 30;
const MAX_DATA_VALUE = 200;
const MAX_PERSONAL_BYTES = 64 * 1024;

/** Refuses an event a receiver could not rely on: unknown type, malformed ids, data that is not flat codes. */
export function checkEvent(e: ArchiveEvent): void {
  if (!OUTBOX_EVENT_TYPES.includes(e.type)) throw new AppError('ERR_VALIDATION', `event type must be one of ${OUTBOX_EVENT_TYPES.join(', ')}`, { field: 'type' });
  const s = e.subjects;
  for (const k of ['bookId', 'entryId', 'linkId', 'recordId'] as const) {
    const v = s[k];
    if (v !== undefined && v !== null && !UUID.test(v)) throw new AppError('ERR_VALIDATION', `event subject ${k} is not a uuid`, { field: k });
  }
  if (s.extractSerial !== undefined && s.extractSerial !== null && !/^[0-9A-Za-z-]{1,40}$/.test(s.extractSerial)) {
    throw new AppError('ERR_VALIDATION', 'event subject extractSerial is not a serial number', { field: 'extractSerial' });
  }
  if (!Object.values(s).some((v) => v !== undefined && v !== null)) throw new AppError('ERR_VALIDATION', 'an event names at least one subject', { field: 'subjects' });
  const data = e.data ?? {};
  if (Object.keys(data).length > MAX_DATA_KEYS) throw new AppError('ERR_VALIDATION', `event data holds at most ${MAX_DATA_KEYS} keys`, { field: 'data' });
  for (const [k, v] of Object.entries(data)) {
    const ok = v === null || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v)) || (typeof v === 'string' && v.length <= MAX_DATA_VALUE);
    if (!ok) throw new AppError('ERR_VALIDATION', `event data ${k} must be a short string, a number, a boolean or null`, { field: 'data' });
  }
  if (e.personal && Buffer.byteLength(JSON.stringify(e.personal)) > MAX_PERSONAL_BYTES) {
    throw new AppError('ERR_VALIDATION', `an event's personal data is at most ${MAX_PERSONAL_BYTES} bytes`, { field: 'personal' });
  }
}

/**
 * Writes `event` to the outbox through `q`: pass the transaction that makes the change, so the
 * event commits with it or not at all (a transactional outbox). Delivery is the `events.deliver`
 * job's. A 'book.disposed' event also clears the personal data held for that book's earlier events.
 * Returns the event's id, which every delivery of it carries.
 *
 * With `once`, an event equal to one already written (same type, subjects and data) is not
 * written again and that one's id is returned: for changes a job may report again when it runs
 * again (a book completed a second time with the same status). `q` must then be a transaction.
 */
export async function emit(q: Queryable, event: ArchiveEvent, opts: { once?: boolean } = {}): Promise<string> {
  checkEvent(event);
  if (opts.once) {
    const same = await lockAndFindSameEvent(q, { type: event.type, subjects: event.subjects, data: event.data ?? {} });
    if (same) return same;
  }
  const id = await insertOutboxEvent(q, { type: event.type, subjects: event.subjects, data: event.data ?? {}, personal: event.personal ?? null });
  if (event.type === 'book.disposed' && event.subjects.bookId) await clearPersonalOfBook(q, event.subjects.bookId);
  return id;
}

/** The name helper code (extracts) calls: an alias of `emit`, saying what it is for. */
export const emitArchiveEvent = emit;

function isDb(q: Queryable): q is Db {
  return typeof (q as Partial<Db>).transaction === 'function';
}

/**
 * Runs `fn` in a transaction when `q` is the database, or in `q` itself when it is already a
 * transaction: lets a function that takes a `Queryable` make its change and its event atomic
 * whichever it was given.
 */
export async function inTransaction<T>(q: Queryable, fn: (tx: Queryable) => Promise<T>): Promise<T> {
  return isDb(q) ? q.transaction(fn) : fn(q);
}
