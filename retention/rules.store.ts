import type { Queryable } from '../db/index.ts';
import type { RegisterType } from '../archive/index.ts';
import type { IsoDate } from './dates.ts';
import type { DispositionAction, ItemFacts, RetentionRule, RetentionTrigger, RuleInput, RuleKind } from './rules.ts';

interface RuleRow {
  id: string; rule_key: string; version: number; kind: RuleKind; name: string; register_type: RegisterType;
  municipality: string | null; year_from: number | null; year_to: number | null; period_years: number; period_months: number;
  permanent: boolean; trigger: RetentionTrigger; trigger_event: string | null; action: DispositionAction | null;
  change_reason: string; created_by: string; created_at: Date; superseded_at: Date | null;
}

function toRule(r: RuleRow): RetentionRule {
  return {
    id: r.id, ruleKey: r.rule_key, version: r.version, kind: r.kind, name: r.name, registerType: r.register_type,
    municipality: r.municipality, yearFrom: r.year_from, yearTo: r.year_to, periodYears: r.period_years, periodMonths: r.period_months,
    permanent: r.permanent, trigger: r.trigger, triggerEvent: r.trigger_event, action: r.action, changeReason: r.change_reason,
    createdBy: r.created_by, createdAt: r.created_at, supersededAt: r.superseded_at,
  };
}

/** The current version of every rule (or every version of one key). */
export async function listRules(db: Queryable, opts: { ruleKey?: string; allVersions?: boolean } = {}): Promise<RetentionRule[]> {
  const r = await db.query<RuleRow>(
    `SELECT * FROM retention_rules WHERE ($1::text IS NULL OR rule_key = $1) AND ($2 OR superseded_at IS NULL) ORDER BY rule_key, version`,
    [opts.ruleKey ?? null, opts.allVersions ?? false],
  );
  return r.rows.map(toRule);
}

/** The current version of a rule key, locked until the transaction ends so two writers cannot both supersede it. */
export async function lockCurrentRule(tx: Queryable, ruleKey: string): Promise<RetentionRule | undefined> {
  const cur = await tx.query<RuleRow>('SELECT * FROM retention_rules WHERE rule_key = $1 AND superseded_at IS NULL FOR UPDATE', [ruleKey]);
  return cur.rows[0] ? toRule(cur.rows[0]) : undefined;
}

/** Marks a rule version superseded now. */
export async function supersedeRule(tx: Queryable, ruleId: string): Promise<void> {
  await tx.query('UPDATE retention_rules SET superseded_at = now() WHERE id = $1', [ruleId]);
}

/** Stores one version of a rule (already validated and normalised), with who wrote it and why. */
export async function insertRuleVersion(
  tx: Queryable, ruleKey: string, version: number, r: RuleInput, by: { user: string; reason: string },
): Promise<RetentionRule> {
  const ins = await tx.query<RuleRow>(
    `INSERT INTO retention_rules (rule_key, version, kind, name, register_type, municipality, year_from, year_to, period_years, period_months,
                                  permanent, trigger, trigger_event, action, change_reason, created_by)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) RETURNING *`,
    [ruleKey, version, r.kind, r.name, r.registerType, r.municipality, r.yearFrom, r.yearTo, r.periodYears, r.periodMonths,
     r.permanent, r.trigger, r.triggerEvent, r.action, by.reason, by.user],
  );
  return toRule(ins.rows[0]!);
}

/** The computed retention of a book, as stored. */
export interface ItemRetention {
  bookId: string;
  ruleId: string | null;
  permanent: boolean;
  triggerDate: IsoDate | null;
  retainUntil: IsoDate | null;
  action: DispositionAction | null;
  explanation: string;
  closureRuleId: string | null;
  closedUntil: IsoDate | null;
  closureExplanation: string | null;
  computedAt: Date;
  computedReason: string;
  lockUntil: Date | null;
}

/** What a recompute decided for a book: its retention and closure, before they are stored. */
export interface ComputedRetention {
  ruleId: string | null;
  permanent: boolean;
  triggerDate: IsoDate | null;
  until: IsoDate | null;
  action: DispositionAction | null;
  explanation: string;
  closureRuleId: string | null;
  closedUntil: IsoDate | null;
  closureExplanation: string | null;
}

interface ItemRow {
  book_id: string; rule_id: string | null; permanent: boolean; trigger_date: string | null; retain_until: string | null;
  action: DispositionAction | null; explanation: string; closure_rule_id: string | null; closed_until: string | null;
  closure_explanation: string | null; computed_at: Date; computed_reason: string; lock_until: Date | null;
}

function toItem(r: ItemRow): ItemRetention {
  return {
    bookId: r.book_id, ruleId: r.rule_id, permanent: r.permanent, triggerDate: r.trigger_date, retainUntil: r.retain_until, action: r.action,
    explanation: r.explanation, closureRuleId: r.closure_rule_id, closedUntil: r.closed_until, closureExplanation: r.closure_explanation,
    computedAt: r.computed_at, computedReason: r.computed_reason, lockUntil: r.lock_until,
  };
}

/** A book's computed retention, if computed. */
export async function getItemRetention(db: Queryable, bookId: string): Promise<ItemRetention | undefined> {
  const r = await db.query<ItemRow>('SELECT * FROM item_retention WHERE book_id = $1', [bookId]);
  return r.rows[0] ? toItem(r.rows[0]) : undefined;
}

/** Writes a book's computed retention (inserting or replacing it), stamped now with the reason. */
export async function upsertItemRetention(tx: Queryable, bookId: string, next: ComputedRetention, reason: string): Promise<ItemRetention> {
  const r = await tx.query<ItemRow>(
    `INSERT INTO item_retention (book_id, rule_id, permanent, trigger_date, retain_until, action, explanation, closure_rule_id, closed_until, closure_explanation, computed_at, computed_reason)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, now(), $11)
     ON CONFLICT (book_id) DO UPDATE SET rule_id = $2, permanent = $3, trigger_date = $4, retain_until = $5, action = $6, explanation = $7,
       closure_rule_id = $8, closed_until = $9, closure_explanation = $10, computed_at = now(), computed_reason = $11
     RETURNING *`,
    [bookId, next.ruleId, next.permanent, next.triggerDate, next.until, next.action, next.explanation, next.closureRuleId, next.closedUntil, next.closureExplanation, reason],
  );
  return toItem(r.rows[0]!);
}

/** Appends to retention_history how a book's dates went from `old` (none when first computed) to `next`, and why. */
export async function recordRetentionChange(tx: Queryable, bookId: string, old: ItemRetention | undefined, next: ComputedRetention, reason: string): Promise<void> {
  await tx.query(
    `INSERT INTO retention_history (book_id, rule_id, old_retain_until, new_retain_until, old_permanent, new_permanent, old_closed_until, new_closed_until, reason)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
    [bookId, next.ruleId, old?.retainUntil ?? null, next.until, old?.permanent ?? null, next.permanent, old?.closedUntil ?? null, next.closedUntil, reason],
  );
}

/** One entry of a book's retention history. */
export interface RetentionChange {
  ruleId: string | null;
  oldRetainUntil: string | null;
  newRetainUntil: string | null;
  newPermanent: boolean;
  oldClosedUntil: string | null;
  newClosedUntil: string | null;
  reason: string;
  changedAt: Date;
}

/** The history of a book's computed dates, oldest first. */
export async function retentionHistory(db: Queryable, bookId: string): Promise<RetentionChange[]> {
  const r = await db.query<{ rule_id: string | null; old_retain_until: string | null; new_retain_until: string | null; new_permanent: boolean; old_closed_until: string | null; new_closed_until: string | null; reason: string; changed_at: Date }>(
    'SELECT * FROM retention_history WHERE book_id = $1 ORDER BY changed_at, id', [bookId],
  );
  return r.rows.map((x) => ({ ruleId: x.rule_id, oldRetainUntil: x.old_retain_until, newRetainUntil: x.new_retain_until, newPermanent: x.new_permanent, oldClosedUntil: x.old_closed_until, newClosedUntil: x.new_closed_until, reason: x.reason, changedAt: x.changed_at }));
}

/**
 * Locks a book's row until the transaction ends, serialising recompute, hold placement and
 * disposal of the same book. False when the book does not exist.
 */
export async function lockBook(tx: Queryable, bookId: string): Promise<boolean> {
  const locked = await tx.query('SELECT id FROM books WHERE id = $1 FOR UPDATE', [bookId]);
  return locked.rows[0] !== undefined;
}

/** The facts about a book its rules are decided on, with the event dates of its live registry links; undefined when no such book. */
export async function readItemFacts(db: Queryable, bookId: string): Promise<ItemFacts | undefined> {
  const b = await db.query<{ register_type: RegisterType; municipality: string; year_from: number; year_to: number; created_at: Date }>(
    'SELECT register_type, municipality, year_from, year_to, created_at FROM books WHERE id = $1', [bookId],
  );
  const row = b.rows[0];
  if (!row) return undefined;
  const registryEvents: Record<string, string[]> = {};
  // The registry-event trigger reads live links of the book, its pages or entries (records/ owns them).
  const ev = await db.query<{ record_type: string; event_date: string }>(
    `SELECT DISTINCT r.record_type, r.event_date FROM record_links l JOIN registry_records r ON r.id = l.record_id
      WHERE l.book_id = $1 AND l.unlinked_at IS NULL AND r.event_date IS NOT NULL`, [bookId],
  );
  for (const e of ev.rows) (registryEvents[e.record_type] ??= []).push(e.event_date);
  return { registerType: row.register_type, municipality: row.municipality, yearFrom: row.year_from, yearTo: row.year_to, createdAt: row.created_at, registryEvents };
}

/** A book's record class: what decides whether a rule covers it. */
export interface BookClass {
  id: string;
  registerType: RegisterType;
  municipality: string;
  yearFrom: number;
  yearTo: number;
}

/** Every book of a register type, with its record class. */
export async function booksOfRegisterType(db: Queryable, registerType: RegisterType): Promise<BookClass[]> {
  const r = await db.query<{ id: string; register_type: RegisterType; municipality: string; year_from: number; year_to: number }>(
    'SELECT id, register_type, municipality, year_from, year_to FROM books WHERE register_type = $1', [registerType],
  );
  return r.rows.map((b) => ({ id: b.id, registerType: b.register_type, municipality: b.municipality, yearFrom: b.year_from, yearTo: b.year_to }));
}

/** The ids of every book, in id order. */
export async function allBookIds(db: Queryable): Promise<string[]> {
  return (await db.query<{ id: string }>('SELECT id FROM books ORDER BY id')).rows.map((r) => r.id);
}

/** True when the book exists. */
export async function bookExists(db: Queryable, bookId: string): Promise<boolean> {
  const exists = await db.query('SELECT 1 FROM books WHERE id = $1', [bookId]);
  return exists.rows[0] !== undefined;
}

/** A book the database marked stale for recompute, and why. */
export interface StaleMark {
  bookId: string;
  reason: string;
  /** As text: microseconds survive the round trip (a JS Date would drop them and never match). */
  markedAt: string;
}

/** The oldest stale marks, at most `limit`. */
export async function listStaleMarks(db: Queryable, limit: number): Promise<StaleMark[]> {
  const stale = await db.query<{ book_id: string; reason: string; marked_at: string }>(
    'SELECT book_id, reason, marked_at::text AS marked_at FROM retention_stale ORDER BY retention_stale.marked_at LIMIT $1', [limit],
  );
  return stale.rows.map((s) => ({ bookId: s.book_id, reason: s.reason, markedAt: s.marked_at }));
}

/** Removes one stale mark, only as it was read: a mark made again meanwhile has another time and stays. */
export async function clearStaleMark(db: Queryable, mark: Pick<StaleMark, 'bookId' | 'markedAt'>): Promise<void> {
  await db.query('DELETE FROM retention_stale WHERE book_id = $1 AND marked_at::text = $2', [mark.bookId, mark.markedAt]);
}
