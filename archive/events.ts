import type { Queryable } from '../db/index.ts';
import type { ProcessingEventOutcome } from '../common/vocabulary.ts';

/** PREMIS event types used by the pipeline (PREMIS 3 controlled vocabulary where one exists). */
export type EventType =
  | 'ingestion'
  | 'message digest calculation'
  | 'capture'
  | 'normalization'
  | 'creation'
  | 'ocr'
  | 'indexing'
  | 'replacement'
  | 'validation'
  | 'fixity check'
  | 'recovery'
  | 'ocr correction'
  | 'accession';

/** A processing event, PREMIS-style: what happened, to what, by which agent, with what outcome. */
export interface ProcessingEvent {
  bookId: string;
  pageId?: string | null;
  objectId?: string | null;
  type: EventType;
  agent: string;
  outcome: ProcessingEventOutcome;
  detail?: string;
  durationMs?: number;
}

/** Appends an event. Details must not contain personal data (no names, no OCR text). */
export async function recordEvent(db: Queryable, e: ProcessingEvent): Promise<void> {
  await db.query(
    `INSERT INTO processing_events (book_id, page_id, object_id, event_type, agent, outcome, detail, duration_ms)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [e.bookId, e.pageId ?? null, e.objectId ?? null, e.type, e.agent, e.outcome, e.detail?.slice(0, 4000) ?? null,
     e.durationMs === undefined ? null : Math.round(e.durationMs)],
  );
}

/** The events of a book in order. */
export async function listEvents(db: Queryable, bookId: string, opts: { pageId?: string } = {}): Promise<
  { id: number; pageId: string | null; objectId: string | null; type: string; agent: string; outcome: string; detail: string | null; durationMs: number | null; occurredAt: Date }[]
> {
  const r = await db.query<{ id: number | string; page_id: string | null; object_id: string | null; event_type: string; agent: string; outcome: string; detail: string | null; duration_ms: number | null; occurred_at: Date }>(
    `SELECT * FROM processing_events WHERE book_id = $1 AND ($2::uuid IS NULL OR page_id = $2) ORDER BY occurred_at, id`,
    [bookId, opts.pageId ?? null],
  );
  return r.rows.map((x) => ({ id: Number(x.id), pageId: x.page_id, objectId: x.object_id, type: x.event_type, agent: x.agent, outcome: x.outcome, detail: x.detail, durationMs: x.duration_ms, occurredAt: x.occurred_at }));
}

/** A processing failure recorded for a book or one of its pages, as the overview of processing lists it. */
export interface RecentFailure {
  bookId: string | null;
  /** The page's number in its book, for a page's failure. */
  sequence: number | null;
  /** The stage that recorded it, e.g. `page.ocr`, `book.split`. */
  stage: string;
  reason: string | null;
  occurredAt: Date;
}

/** The newest processing failures across every book, newest first. */
export async function listRecentFailures(db: Queryable, limit = 20): Promise<RecentFailure[]> {
  const r = await db.query<{ book_id: string | null; sequence: number | null; agent: string; detail: string | null; occurred_at: Date }>(
    `SELECT e.book_id, p.sequence, e.agent, e.detail, e.occurred_at FROM processing_events e LEFT JOIN pages p ON p.id = e.page_id
     WHERE e.outcome = 'failure' ORDER BY e.id DESC LIMIT $1`,
    [limit],
  );
  // Stages record themselves as the agent `arkiva <stage>`.
  return r.rows.map((x) => ({ bookId: x.book_id, sequence: x.sequence, stage: x.agent.replace(/^arkiva /, ''), reason: x.detail, occurredAt: x.occurred_at }));
}
