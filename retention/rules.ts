import { AppError } from '../common/index.ts';
import type { Db, Queryable } from '../db/index.ts';
import { createBook, type Book, type RegisterType } from '../archive/index.ts';
import type { DispositionAction, RetentionTrigger, RuleKind } from '../common/vocabulary.ts';
import { addPeriod, partialDateEnd, toIsoDate, type IsoDate } from './dates.ts';
import {
  allBookIds, bookExists, booksOfRegisterType, clearStaleMark, getItemRetention, insertRuleVersion, listRules, listStaleMarks, lockBook,
  lockCurrentRule, readItemFacts, recordRetentionChange, supersedeRule, upsertItemRetention, type ComputedRetention, type ItemRetention,
} from './rules.store.ts';

// Rule kinds, triggers and actions are the vocabulary's (the schema's CHECKs, the API and the web interface share them).
export type { DispositionAction, RetentionTrigger, RuleKind } from '../common/vocabulary.ts';

/** What a records manager writes: one version of a rule. */
export interface RuleInput {
  kind: RuleKind;
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
 * Who the rules of the default disclosure schedule (migration 013: births closed 100 years, marriages
 * 75, deaths 50 after the register's last year) are recorded as written by. A records manager who
 * writes a rule's next version makes it theirs.
 */
export const DEFAULT_SCHEDULE_AUTHOR = 'arkiva default schedule';

/**
 * The one rule of a kind that governs an item: the most specific (municipality, then a year range,
 * then the narrower range); among equally specific ones a records manager's rule before a default
 * one, then by rule key, so the choice never depends on row order.
 */
export function selectRule<R extends RetentionRule>(rules: readonly R[], item: ItemFacts, kind: RuleInput['kind']): R | undefined {
  const score = (r: R) => (r.municipality ? 1_000_000 : 0) + (r.yearFrom != null || r.yearTo != null ? 100_000 - ((r.yearTo ?? 9999) - (r.yearFrom ?? 1000)) : 0);
  // A rule of the default schedule, as shipped, gives way to a records manager's rule for the same class.
  const shipped = (r: R) => (r.createdBy === DEFAULT_SCHEDULE_AUTHOR ? 1 : 0);
  return rules
    .filter((r) => r.kind === kind && r.supersededAt === null && ruleApplies(r, item))
    .sort((a, b) => score(b) - score(a) || shipped(a) - shipped(b) || a.ruleKey.localeCompare(b.ruleKey))[0];
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
    return { ruleId: rule.id, permanent: false, triggerDate: null, until: null, explanation: `${head}: ${period} after ${t.text}; ${rule.kind === 'closure' ? 'closed' : 'kept'} until the trigger is known` };
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

/**
 * Writes a rule: the first version of a new key, or a new version superseding the current one.
 * Does not recompute items; `saveRuleAndRecompute` does both.
 */
export async function saveRule(db: Db, ruleKey: string, input: RuleInput, by: { user: string; reason: string }): Promise<{ rule: RetentionRule; previous: RetentionRule | undefined }> {
  const r = validateRule(input);
  if (!by.user.trim()) throw new AppError('ERR_VALIDATION', 'who changes the rule must be named', { field: 'by' });
  if (!by.reason.trim()) throw new AppError('ERR_VALIDATION', 'a rule change needs a reason', { field: 'reason' });
  return db.transaction(async (tx) => {
    const previous = await lockCurrentRule(tx, ruleKey);
    if (previous) await supersedeRule(tx, previous.id);
    const rule = await insertRuleVersion(tx, ruleKey, nextVersion(previous), r, { user: by.user.trim(), reason: by.reason.trim() });
    return { rule, previous };
  });
}

const NO_RULE = 'no retention rule covers this record class: kept until a rule does';

/** The closed-until date of a closure whose trigger has not happened yet: the last day a date column holds. */
export const CLOSED_UNTIL_TRIGGER_KNOWN: IsoDate = '9999-12-31';

/** What the rules decide for a book: the governing retention and closure rules' periods, or none. */
export function decideRetention(rules: readonly RetentionRule[], facts: ItemFacts): ComputedRetention {
  const ret = selectRule(rules, facts, 'retention');
  const clo = selectRule(rules, facts, 'closure');
  const rp = ret ? computePeriod(ret, facts) : undefined;
  const cp = clo ? computePeriod(clo, facts) : undefined;
  return {
    ruleId: rp?.ruleId ?? null, permanent: rp?.permanent ?? false, triggerDate: rp?.triggerDate ?? null, until: rp?.until ?? null,
    action: rp && ret ? ret.action : null, explanation: rp?.explanation ?? NO_RULE,
    // A closure whose trigger has not happened (no linked record has the event yet) holds until it
    // has: the book is closed, not open for want of a date.
    closureRuleId: cp?.ruleId ?? null, closedUntil: cp ? cp.until ?? CLOSED_UNTIL_TRIGGER_KNOWN : null, closureExplanation: cp?.explanation ?? null,
  };
}

/** True when a recompute changed what retention_history records: the dates, permanence or governing rule. */
export function retentionChanged(old: ItemRetention | undefined, next: ComputedRetention): boolean {
  return !old || old.retainUntil !== next.until || old.permanent !== next.permanent || old.closedUntil !== next.closedUntil || old.ruleId !== next.ruleId;
}

/**
 * Computes and stores a book's retention and closure from the current rules, and records in
 * retention_history what changed and why. Returns the stored state.
 */
export async function recomputeItem(db: Db, bookId: string, reason: string, rules?: RetentionRule[]): Promise<ItemRetention> {
  const all = rules ?? (await listRules(db));
  return db.transaction((tx) => computeItemIn(tx, bookId, reason, all));
}

/** `recomputeItem` inside the caller's transaction. */
async function computeItemIn(tx: Queryable, bookId: string, reason: string, rules: readonly RetentionRule[]): Promise<ItemRetention> {
  // Serialises against disposal and hold placement of the same book.
  if (!(await lockBook(tx, bookId))) throw new AppError('ERR_BOOK_NOT_FOUND', `book ${bookId} not found`);
  const facts = (await readItemFacts(tx, bookId))!;
  const next = decideRetention(rules, facts);
  const old = await getItemRetention(tx, bookId);
  const stored = await upsertItemRetention(tx, bookId, next, reason);
  if (retentionChanged(old, next)) await recordRetentionChange(tx, bookId, old, next, reason);
  return stored;
}

/** Why a book's retention was first computed: it was archived. */
export const RETENTION_AT_ARCHIVING = 'book archived: retention and closure computed from the rules in force';

/**
 * Creates a book (archive/books.ts `createBook`) and computes its retention and closure in the same
 * transaction, so no book is ever readable before its closure is known. A duplicate upload returns
 * the existing book, and computes them only if that book has none yet (archived before they were
 * computed at creation).
 */
export async function createBookWithRetention(db: Db, input: Parameters<typeof createBook>[1]): Promise<{ book: Book; created: boolean }> {
  return db.transaction(async (tx) => {
    const r = await createBook(tx, input);
    if (r.created || !(await getItemRetention(tx, r.book.id))) await computeItemIn(tx, r.book.id, RETENTION_AT_ARCHIVING, await listRules(tx));
    return r;
  });
}

/** The books a rule's record class may cover (register type and year range; municipality compared in code). */
async function booksOfClass(db: Queryable, rules: RetentionRule[]): Promise<string[]> {
  const ids = new Set<string>();
  for (const rule of rules) {
    for (const b of await booksOfRegisterType(db, rule.registerType)) {
      if (ruleApplies(rule, { registerType: b.registerType, municipality: b.municipality, yearFrom: b.yearFrom, yearTo: b.yearTo, createdAt: new Date(0) })) ids.add(b.id);
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

/**
 * Recomputes every book (or the given ones); used by the recompute job and `arkiva retention run`
 * (which draws `onProgress` as a bar).
 */
export async function recomputeAll(db: Db, reason: string, bookIds?: string[], onProgress?: (done: number, total: number) => void): Promise<number> {
  const ids = bookIds ?? (await allBookIds(db));
  const rules = await listRules(db);
  for (const [i, id] of ids.entries()) {
    onProgress?.(i, ids.length);
    await recomputeItem(db, id, reason, rules);
  }
  onProgress?.(ids.length, ids.length);
  return ids.length;
}

/**
 * Recomputes the books the database marked stale (a registry link made or ended, or a linked
 * record's event date or type changed: triggers of migration 007 mark them whatever wrote the
 * link), recording the cause on each. A mark made again while its book is recomputed stays for
 * the next run. Returns the books recomputed (the caller syncs their locks).
 */
export async function recomputeStale(db: Db, opts: { limit?: number } = {}): Promise<string[]> {
  const stale = await listStaleMarks(db, opts.limit ?? 10_000);
  if (!stale.length) return [];
  const rules = await listRules(db);
  const done: string[] = [];
  for (const s of stale) {
    if (await bookExists(db, s.bookId)) {
      // Marks of registry links and records (migration 007) say what moved; the others (a book's
      // record class changed, the default schedule installed: migration 013) say why in full.
      await recomputeItem(db, s.bookId, s.reason.startsWith('registry ') ? `registry-event trigger re-read: ${s.reason}` : s.reason, rules);
      done.push(s.bookId);
    }
    await clearStaleMark(db, s);
  }
  return done;
}
