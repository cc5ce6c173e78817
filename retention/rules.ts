import { AppError } from '../common/index.ts';
import type { Db, Queryable } from '../db/index.ts';
import type { RegisterType } from '../archive/index.ts';
import { addPeriod, partialDateEnd, toIsoDate, type IsoDate } from './dates.ts';

/** What starts a retention or closure period. */
export type RetentionTrigger = 'creation' | 'closing-year' | 'registry-event';
/** What happens when a retention period ends. */
export type DispositionAction = 'review' | 'transfer' | 'destroy';

/** What a records manager writes: one version of a rule. */
export interface RuleInput {
  kind: 'retention' | 'closure';
  name: string;
  registerType: RegisterType;
  municipality?: string | null;
  yearFrom?: number | null;
  yearTo?: number | null;
  periodYears?: number;
  periodMonths?: number;
  permanent?: boolean;
  trigger: RetentionTrigger;
  /** Record type of linked registry records whose event date starts the period (trigger 'registry-event'). */
  triggerEvent?: string | null;
  /** Required for retention rules; closure rules have none. */
  action?: DispositionAction | null;
}

/** A stored rule version. */
export interface RetentionRule extends Required<RuleInput> {
  id: string;
  ruleKey: string;
  version: number;
  changeReason: string;
  createdBy: string;
  createdAt: Date;
  supersededAt: Date | null;
}

/** The facts about a book a rule needs. */
export interface ItemFacts {
  registerType: RegisterType;
  municipality: string;
  yearFrom: number;
  yearTo: number;
  createdAt: Date;
  /** Event dates (partial allowed) of linked registry records, by record type. */
  registryEvents?: Record<string, string[]>;
}

/** A computed date with its explanation. */
export interface ComputedPeriod {
  ruleId: string;
  permanent: boolean;
  triggerDate: IsoDate | null;
  /** Null when permanent, or when the trigger has not happened yet (then the item is kept). */
  until: IsoDate | null;
  explanation: string;
}

/** Refuses a rule that cannot be applied; returns it normalised. */
export function validateRule(r: RuleInput): RuleInput {
  const bad = (msg: string, field: string) => new AppError('ERR_VALIDATION', msg, { field });
  if (!r.name?.trim()) throw bad('a rule needs a name', 'name');
  const years = r.periodYears ?? 0;
  const months = r.periodMonths ?? 0;
  if (!Number.isInteger(years) || !Number.isInteger(months) || years < 0 || months < 0) throw bad('period years and months must be non-negative integers', 'periodYears');
  if (r.kind === 'retention' && !r.action) throw bad('a retention rule needs an action (review, transfer or destroy)', 'action');
  if (r.kind === 'closure' && r.action) throw bad('a closure rule has no action', 'action');
  if (r.kind === 'closure' && r.permanent) throw bad('a closure rule cannot be permanent', 'permanent');
  if (!r.permanent && years === 0 && months === 0) throw bad('a rule needs a period, or permanent', 'periodYears');
  if (r.trigger === 'registry-event' && !r.triggerEvent?.trim()) throw bad('a registry-event trigger names the record type (e.g. death)', 'triggerEvent');
  if (r.trigger !== 'registry-event' && r.triggerEvent) throw bad('triggerEvent only goes with the registry-event trigger', 'triggerEvent');
  if (r.yearFrom != null && r.yearTo != null && r.yearTo < r.yearFrom) throw bad('yearTo is before yearFrom', 'yearTo');
  return {
    ...r,
    name: r.name.trim(),
    municipality: r.municipality?.trim() || null,
    yearFrom: r.yearFrom ?? null,
    yearTo: r.yearTo ?? null,
    periodYears: years,
    periodMonths: months,
    permanent: r.permanent ?? false,
    triggerEvent: r.triggerEvent?.trim() || null,
    action: r.action ?? null,
  };
}

/** True when the rule's record class covers the item. */
export function ruleApplies(rule: Pick<RetentionRule, 'registerType' | 'municipality' | 'yearFrom' | 'yearTo'>, item: ItemFacts): boolean {
  if (rule.registerType !== item.registerType) return false;
  if (rule.municipality && rule.municipality.toLocaleLowerCase() !== item.municipality.toLocaleLowerCase()) return false;
  if (rule.yearFrom != null && item.yearFrom < rule.yearFrom) return false;
  if (rule.yearTo != null && item.yearTo > rule.yearTo) return false;
  return true;
}

/**
 * The one rule of a kind that governs an item: the most specific (municipality, then a year range,
 * then the narrower range), ties broken by rule key so the choice never depends on row order.
 */
export function selectRule<R extends RetentionRule>(rules: readonly R[], item: ItemFacts, kind: RuleInput['kind']): R | undefined {
  const score = (r: R) => (r.municipality ? 1_000_000 : 0) + (r.yearFrom != null || r.yearTo != null ? 100_000 - ((r.yearTo ?? 9999) - (r.yearFrom ?? 1000)) : 0);
  return rules
    .filter((r) => r.kind === kind && r.supersededAt === null && ruleApplies(r, item))
    .sort((a, b) => score(b) - score(a) || a.ruleKey.localeCompare(b.ruleKey))[0];
}

function describePeriod(r: Pick<RetentionRule, 'permanent' | 'periodYears' | 'periodMonths'>): string {
  if (r.permanent) return 'permanent';
  const parts = [];
  if (r.periodYears) parts.push(`${r.periodYears} year${r.periodYears === 1 ? '' : 's'}`);
  if (r.periodMonths) parts.push(`${r.periodMonths} month${r.periodMonths === 1 ? '' : 's'}`);
  return parts.join(' ');
}

/** When the rule's trigger happened for the item, and how that is said; null date when it has not (yet). */
export function triggerDate(rule: Pick<RetentionRule, 'trigger' | 'triggerEvent'>, item: ItemFacts): { date: IsoDate | null; text: string } {
  switch (rule.trigger) {
    case 'creation': {
      const d = toIsoDate(item.createdAt);
      return { date: d, text: `the item's creation in the archive on ${d}` };
    }
    case 'closing-year': {
      // A register closes at the end of its last year: the period runs from 31 December of it.
      const d = `${String(item.yearTo).padStart(4, '0')}-12-31`;
      return { date: d, text: `the register's closing year ${item.yearTo} (from ${d})` };
    }
    case 'registry-event': {
      const type = rule.triggerEvent ?? '';
      const dates = (item.registryEvents?.[type] ?? []).map(partialDateEnd).sort();
      // Every linked subject must have reached the period: the latest event counts.
      const d = dates.at(-1) ?? null;
      return d
        ? { date: d, text: `the latest linked '${type}' registry event on ${d} (${dates.length} linked record${dates.length === 1 ? '' : 's'})` }
        : { date: null, text: `a '${type}' registry event, but no linked record has one yet` };
    }
  }
}

/** Computes the date a rule gives an item, with a sentence saying which rule and which trigger. */
export function computePeriod(rule: RetentionRule, item: ItemFacts): ComputedPeriod {
  const head = `rule '${rule.name}' (${rule.ruleKey} v${rule.version})`;
  const period = describePeriod(rule);
  if (rule.permanent) {
    return { ruleId: rule.id, permanent: true, triggerDate: null, until: null, explanation: `${head}: kept permanently` };
  }
  const t = triggerDate(rule, item);
  if (!t.date) {
    return { ruleId: rule.id, permanent: false, triggerDate: null, until: null, explanation: `${head}: ${period} after ${t.text}; kept until the trigger is known` };
  }
  const until = addPeriod(t.date, rule.periodYears, rule.periodMonths);
  const verb = rule.kind === 'closure' ? 'closed until' : 'retained until';
  const end = rule.kind === 'retention' ? `, then ${rule.action}` : '';
  return { ruleId: rule.id, permanent: false, triggerDate: t.date, until, explanation: `${head}: ${verb} ${until}, ${period} after ${t.text}${end}` };
}

/** A new version of a rule: the input with the next version number, or the first version. */
export function nextVersion(current: Pick<RetentionRule, 'version'> | undefined): number {
  return (current?.version ?? 0) + 1;
}

interface RuleRow {
  id: string; rule_key: string; version: number; kind: 'retention' | 'closure'; name: string; register_type: RegisterType;
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

/** One rule version by id. */
export async function getRule(db: Queryable, id: string): Promise<RetentionRule | undefined> {
  const r = await db.query<RuleRow>('SELECT * FROM retention_rules WHERE id = $1', [id]);
  return r.rows[0] ? toRule(r.rows[0]) : undefined;
}

/**
 * Writes a rule: the first version of a new key, or a new version superseding the current one.
 * Does not recompute items; `saveRuleAndRecompute` does both.
 */
export async function saveRule(db: Db, ruleKey: string, input: RuleInput, by: { user: string; reason: string }): Promise<{ rule: RetentionRule; previous: RetentionRule | undefined }> {
  const r = validateRule(input);
  if (!by.user.trim()) throw new AppError('ERR_VALIDATION', 'who changes the rule must be named', { field: 'by' });
  if (!by.reason.trim()) throw new AppError('ERR_VALIDATION', 'a rule change needs a reason', { field: 'reason' });
  return db.transaction(async (tx) => {
    const cur = await tx.query<RuleRow>('SELECT * FROM retention_rules WHERE rule_key = $1 AND superseded_at IS NULL FOR UPDATE', [ruleKey]);
    const previous = cur.rows[0] ? toRule(cur.rows[0]) : undefined;
    if (previous) await tx.query('UPDATE retention_rules SET superseded_at = now() WHERE id = $1', [previous.id]);
    const ins = await tx.query<RuleRow>(
      `INSERT INTO retention_rules (rule_key, version, kind, name, register_type, municipality, year_from, year_to, period_years, period_months,
                                    permanent, trigger, trigger_event, action, change_reason, created_by)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) RETURNING *`,
      [ruleKey, nextVersion(previous), r.kind, r.name, r.registerType, r.municipality, r.yearFrom, r.yearTo, r.periodYears, r.periodMonths,
       r.permanent, r.trigger, r.triggerEvent, r.action, by.reason.trim(), by.user.trim()],
    );
    return { rule: toRule(ins.rows[0]!), previous };
  });
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

async function itemFacts(db: Queryable, bookId: string): Promise<ItemFacts | undefined> {
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

const NO_RULE = 'no retention rule covers this record class: kept until a rule does';

/**
 * Computes and stores a book's retention and closure from the current rules, and records in
 * retention_history what changed and why. Returns the stored state.
 */
export async function recomputeItem(db: Db, bookId: string, reason: string, rules?: RetentionRule[]): Promise<ItemRetention> {
  const all = rules ?? (await listRules(db));
  return db.transaction(async (tx) => {
    // Serialises against disposal and hold placement of the same book.
    const locked = await tx.query('SELECT id FROM books WHERE id = $1 FOR UPDATE', [bookId]);
    if (!locked.rows[0]) throw new AppError('ERR_BOOK_NOT_FOUND', `book ${bookId} not found`);
    const facts = (await itemFacts(tx, bookId))!;
    const ret = selectRule(all, facts, 'retention');
    const clo = selectRule(all, facts, 'closure');
    const rp = ret ? computePeriod(ret, facts) : undefined;
    const cp = clo ? computePeriod(clo, facts) : undefined;
    const before = await tx.query<ItemRow>('SELECT * FROM item_retention WHERE book_id = $1', [bookId]);
    const old = before.rows[0];
    const next = {
      ruleId: rp?.ruleId ?? null, permanent: rp?.permanent ?? false, triggerDate: rp?.triggerDate ?? null, until: rp?.until ?? null,
      action: rp && ret ? ret.action : null, explanation: rp?.explanation ?? NO_RULE,
      closureRuleId: cp?.ruleId ?? null, closedUntil: cp?.until ?? null, closureExplanation: cp?.explanation ?? null,
    };
    const r = await tx.query<ItemRow>(
      `INSERT INTO item_retention (book_id, rule_id, permanent, trigger_date, retain_until, action, explanation, closure_rule_id, closed_until, closure_explanation, computed_at, computed_reason)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, now(), $11)
       ON CONFLICT (book_id) DO UPDATE SET rule_id = $2, permanent = $3, trigger_date = $4, retain_until = $5, action = $6, explanation = $7,
         closure_rule_id = $8, closed_until = $9, closure_explanation = $10, computed_at = now(), computed_reason = $11
       RETURNING *`,
      [bookId, next.ruleId, next.permanent, next.triggerDate, next.until, next.action, next.explanation, next.closureRuleId, next.closedUntil, next.closureExplanation, reason],
    );
    const changed = !old || old.retain_until !== next.until || old.permanent !== next.permanent || old.closed_until !== next.closedUntil || old.rule_id !== next.ruleId;
    if (changed) {
      await tx.query(
        `INSERT INTO retention_history (book_id, rule_id, old_retain_until, new_retain_until, old_permanent, new_permanent, old_closed_until, new_closed_until, reason)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
        [bookId, next.ruleId, old?.retain_until ?? null, next.until, old?.permanent ?? null, next.permanent, old?.closed_until ?? null, next.closedUntil, reason],
      );
    }
    return toItem(r.rows[0]!);
  });
}

/** The books a rule's record class may cover (register type and year range; municipality compared in code). */
async function booksOfClass(db: Queryable, rules: RetentionRule[]): Promise<string[]> {
  const ids = new Set<string>();
  for (const rule of rules) {
    const r = await db.query<{ id: string; register_type: RegisterType; municipality: string; year_from: number; year_to: number }>(
      'SELECT id, register_type, municipality, year_from, year_to FROM books WHERE register_type = $1', [rule.registerType],
    );
    for (const b of r.rows) {
      if (ruleApplies(rule, { registerType: b.register_type, municipality: b.municipality, yearFrom: b.year_from, yearTo: b.year_to, createdAt: new Date(0) })) ids.add(b.id);
    }
  }
  return [...ids];
}

/**
 * Saves a rule version and recomputes every item its old or new record class covers, recording the
 * change's reason on each. Returns the ids of the books recomputed (the caller syncs their locks).
 */
export async function saveRuleAndRecompute(db: Db, ruleKey: string, input: RuleInput, by: { user: string; reason: string }): Promise<{ rule: RetentionRule; recomputed: string[] }> {
  const { rule, previous } = await saveRule(db, ruleKey, input, by);
  const affected = await booksOfClass(db, previous ? [previous, rule] : [rule]);
  const rules = await listRules(db);
  const why = previous
    ? `rule ${ruleKey} changed v${previous.version} → v${rule.version} by ${rule.createdBy}: ${rule.changeReason}`
    : `rule ${ruleKey} v1 created by ${rule.createdBy}: ${rule.changeReason}`;
  for (const id of affected) await recomputeItem(db, id, why, rules);
  return { rule, recomputed: affected };
}

/** Recomputes every book (or the given ones); used by the recompute job and `arkiva retention run`. */
export async function recomputeAll(db: Db, reason: string, bookIds?: string[]): Promise<number> {
  const ids = bookIds ?? (await db.query<{ id: string }>('SELECT id FROM books ORDER BY id')).rows.map((r) => r.id);
  const rules = await listRules(db);
  for (const id of ids) await recomputeItem(db, id, reason, rules);
  return ids.length;
}

/** The history of a book's computed dates, oldest first. */
export async function retentionHistory(db: Queryable, bookId: string): Promise<{ ruleId: string | null; oldRetainUntil: string | null; newRetainUntil: string | null; newPermanent: boolean; oldClosedUntil: string | null; newClosedUntil: string | null; reason: string; changedAt: Date }[]> {
  const r = await db.query<{ rule_id: string | null; old_retain_until: string | null; new_retain_until: string | null; new_permanent: boolean; old_closed_until: string | null; new_closed_until: string | null; reason: string; changed_at: Date }>(
    'SELECT * FROM retention_history WHERE book_id = $1 ORDER BY changed_at, id', [bookId],
  );
  return r.rows.map((x) => ({ ruleId: x.rule_id, oldRetainUntil: x.old_retain_until, newRetainUntil: x.new_retain_until, newPermanent: x.new_permanent, oldClosedUntil: x.old_closed_until, newClosedUntil: x.new_closed_until, reason: x.reason, changedAt: x.changed_at }));
}

/**
 * Recomputes the books the database marked stale (a registry link made or ended, or a linked
 * record's event date or type changed: triggers of migration 007 mark them whatever wrote the
 * link), recording the cause on each. A mark made again while its book is recomputed stays for
 * the next run. Returns the books recomputed (the caller syncs their locks).
 */
export async function recomputeStale(db: Db, opts: { limit?: number } = {}): Promise<string[]> {
  // marked_at as text: microseconds survive the round trip (a JS Date would drop them and never match).
  const stale = await db.query<{ book_id: string; reason: string; marked_at: string }>(
    'SELECT book_id, reason, marked_at::text AS marked_at FROM retention_stale ORDER BY retention_stale.marked_at LIMIT $1', [opts.limit ?? 10_000],
  );
  if (!stale.rows.length) return [];
  const rules = await listRules(db);
  const done: string[] = [];
  for (const s of stale.rows) {
    const exists = await db.query('SELECT 1 FROM books WHERE id = $1', [s.book_id]);
    if (exists.rows[0]) {
      await recomputeItem(db, s.book_id, `registry-event trigger re-read: ${s.reason}`, rules);
      done.push(s.book_id);
    }
    await db.query('DELETE FROM retention_stale WHERE book_id = $1 AND marked_at::text = $2', [s.book_id, s.marked_at]);
  }
  return done;
}
