/**
 * Double blind keying and arbitration: the queue hands each zone to at most two different keyers,
 * who never see each other's answers; the second keying is compared with the first at once, and
 * the zone is verified (equal answers) or disputed (the columns that differ), for an arbitrator who
 * keyed neither to settle field by field. A verified zone becomes an ordinary, verified entry.
 */
import { AppError } from '../common/index.ts';
import type { Db, Queryable } from '../db/index.ts';
import { getBook, type Book } from '../archive/index.ts';
import { createEntry, verifyEntry } from '../entries/index.ts';
import { emit } from '../events/index.ts';
import { KEYING_ANSWERS, type ArbitrationChoice, type KeyingAnswer } from '../common/vocabulary.ts';
import { dateWarnings, differingColumns, entryFieldsFrom, sameAnswer, type FieldAnswer, type KeyedFields, type KeyingWarning, type LayoutColumn } from './answers.ts';
import { layoutById } from './layouts.store.ts';
import type { RegisterLayout } from './layouts.ts';
import { requireZone, type EntryZone, type Keying } from './zones.ts';
import {
  booksWithZonesFor, claimZone, insertDecision, insertKeying, joinTransaction, keyingsOfZone, lockZone, markZoneEmpty, markZoneVerified, nextZoneId, setKeyingsAgreed,
  setZoneStatus, disputedZones, decisionsOfZone,
} from './zones.store.ts';

/** How long a zone handed out by the queue stays the keyer's before others may be sent to it. */
export const CLAIM_MINUTES = 30;

/** Longest keyed value. */
export const MAX_VALUE_LENGTH = 500;

/** Which books' zones a reader may not be sent to (closed books without a stated purpose). */
export type BookWithholding = (bookIds: readonly string[]) => Promise<ReadonlySet<string>>;

/** What a keyer is given to key: where the row is and the layout's columns; never anyone's answers. */
export interface KeyingTask {
  zone: { id: string; bookId: string; pageSequence: number; box: EntryZone['box']; cells: EntryZone['cells']; layoutKey: string; layoutVersion: number };
  layout: { key: string; version: number; name: string; columns: LayoutColumn[] };
  book: { registerType: Book['registerType']; municipality: string; yearFrom: number; yearTo: number };
}

async function requireLayoutOf(db: Queryable, id: string): Promise<RegisterLayout> {
  const l = await layoutById(db, id);
  if (!l) throw new AppError('ERR_INTEGRITY', `layout ${id} is gone`);
  return l;
}

async function requireBookOf(db: Queryable, id: string): Promise<Book> {
  const b = await getBook(db, id);
  if (!b) throw new AppError('ERR_BOOK_NOT_FOUND', `no book ${id}`);
  return b;
}

/**
 * The next zone for `keyer`: a live zone short of two keyings that they have not keyed and that
 * no two others are keying, in the longest-archived book first, then page and row order (a zone
 * they were handed earlier comes back first). The zone is claimed for them for CLAIM_MINUTES.
 * Null when there is nothing to key.
 */
export async function nextZone(db: Db, keyer: string, opts: { bookId?: string; withhold?: BookWithholding } = {}): Promise<KeyingTask | null> {
  const books = await booksWithZonesFor(db, keyer, CLAIM_MINUTES, { ...(opts.bookId ? { bookId: opts.bookId } : {}), limit: 100 });
  const withheld = opts.withhold ? await opts.withhold(books) : new Set<string>();
  const allowed = books.filter((b) => !withheld.has(b));
  const skip: string[] = [];
  // Two keyers asking at once may pick the same zone; the claim, under the zone's lock, decides.
  for (let attempt = 0; attempt < 5 && allowed.length > 0; attempt++) {
    const id = await nextZoneId(db, keyer, CLAIM_MINUTES, allowed, skip);
    if (!id) return null;
    if (await db.transaction((tx) => claimZone(tx, id, keyer, CLAIM_MINUTES))) {
      const zone = await requireZone(db, id);
      const layout = await requireLayoutOf(db, zone.layoutId);
      const book = await requireBookOf(db, zone.bookId);
      return {
        zone: { id: zone.id, bookId: zone.bookId, pageSequence: zone.pageSequence, box: zone.box, cells: zone.cells, layoutKey: zone.layoutKey, layoutVersion: zone.layoutVersion },
        layout: { key: layout.key, version: layout.version, name: layout.name, columns: layout.columns },
        book: { registerType: book.registerType, municipality: book.municipality, yearFrom: book.yearFrom, yearTo: book.yearTo },
      };
    }
    skip.push(id);
  }
  return null;
}

function checkAnswers(columns: readonly LayoutColumn[], fields: KeyedFields): KeyedFields {
  const known = new Set(columns.map((c) => c.key));
  for (const key of Object.keys(fields)) if (!known.has(key)) throw new AppError('ERR_VALIDATION', `the layout has no column ${JSON.stringify(key)}`, { field: 'fields' });
  const out: KeyedFields = {};
  for (const c of columns) {
    const f = fields[c.key];
    if (!f) throw new AppError('ERR_VALIDATION', `column ${c.key} has no answer: type what is written, or answer illegible or blank`, { field: 'fields' });
    if ('answer' in f) {
      if (!(KEYING_ANSWERS as readonly string[]).includes(f.answer)) throw new AppError('ERR_VALIDATION', `column ${c.key}: answer must be ${KEYING_ANSWERS.join(' or ')}`, { field: 'fields' });
      out[c.key] = { answer: f.answer };
    } else {
      if (typeof f.value !== 'string' || f.value.trim() === '') throw new AppError('ERR_VALIDATION', `column ${c.key}: an empty value; answer blank for an empty cell`, { field: 'fields' });
      if (f.value.length > MAX_VALUE_LENGTH) throw new AppError('ERR_VALIDATION', `column ${c.key}: at most ${MAX_VALUE_LENGTH} characters`, { field: 'fields' });
      // As typed (Latin or Cyrillic), only the ends trimmed: names are normalised for search, never in the keyed value.
      out[c.key] = { value: f.value.trim() };
    }
  }
  return out;
}

/** Makes the verified entry of a zone, inside the caller's transaction, and marks the zone verified. */
async function verifyZone(tx: Queryable, kind: Db['kind'], zone: EntryZone, layout: RegisterLayout, final: KeyedFields, by: string): Promise<string> {
  const inTx = joinTransaction(tx, kind);
  const entry = await createEntry(inTx, zone.pageId, entryFieldsFrom(layout.columns, final, layout.registerType, zone.box), { user: by, source: 'keyed' });
  await verifyEntry(tx, entry.id, { user: by });
  await markZoneVerified(tx, zone.id, final, entry.id, by);
  // Told to other systems with the verification, in its transaction; the keyed answers go only to those granted a purpose.
  await emit(tx, {
    type: 'entry.verified',
    subjects: { bookId: zone.bookId, entryId: entry.id },
    data: { pageId: zone.pageId, registerType: layout.registerType, source: 'keyed' },
    personal: { layout: layout.key, fields: final },
  });
  return entry.id;
}

/** Whether settled answers say the row is empty: every column answered blank (nothing written, nothing illegible). */
export function isEmptyRow(columns: readonly LayoutColumn[], final: KeyedFields): boolean {
  return columns.length > 0 && columns.every((c) => {
    const f = final[c.key];
    return f !== undefined && 'answer' in f && f.answer === 'blank';
  });
}

/**
 * Settles a zone whose answers are agreed or decided: an empty ruled row is closed as 'empty' with
 * no entry (no event, nothing to package); any other row becomes its verified entry.
 */
async function settleZone(tx: Queryable, kind: Db['kind'], zone: EntryZone, layout: RegisterLayout, final: KeyedFields, by: string): Promise<string | null> {
  if (isEmptyRow(layout.columns, final)) {
    await markZoneEmpty(tx, zone.id, final, by);
    return null;
  }
  return verifyZone(tx, kind, zone, layout, final, by);
}

/** What a keyer learns after keying: their warnings and where the zone went; never the other keying. */
export interface KeyingReceipt {
  keying: { id: string; zoneId: string; slot: 1 | 2; warnings: KeyingWarning[]; submittedAt: Date };
  zoneStatus: EntryZone['status'];
}

/**
 * Stores `keyer`'s answers for a zone (every column answered: a value as typed, or illegible or
 * blank), with warnings about its dates. The second keying is compared with the first: equal
 * answers verify the zone and make its entry (equal answers all blank: an empty row, no entry);
 * any difference makes it disputed.
 */
export async function submitKeying(db: Db, zoneId: string, keyer: string, fields: KeyedFields): Promise<KeyingReceipt> {
  return db.transaction(async (tx) => {
    const zone = await lockZone(tx, zoneId);
    if (!zone) throw new AppError('ERR_NOT_FOUND', `no zone ${zoneId}`);
    if (zone.retiredAt) throw new AppError('ERR_CONFLICT', `zone ${zoneId} was retired (replaced by a split or merge, or its page's image was replaced); key the zones that replaced it`);
    const before = await keyingsOfZone(tx, zoneId);
    if (before.some((k) => k.keyer === keyer)) throw new AppError('ERR_CONFLICT', `you have keyed zone ${zoneId} already; a zone is keyed by two different people`);
    if (before.length >= 2 || (zone.status !== 'open' && zone.status !== 'keyed-once')) throw new AppError('ERR_CONFLICT', `zone ${zoneId} has its two keyings`);
    const layout = await requireLayoutOf(tx, zone.layoutId);
    const book = await requireBookOf(tx, zone.bookId);
    const answers = checkAnswers(layout.columns, fields);
    const warnings = dateWarnings(layout.columns, answers, book);
    const slot = (before.length + 1) as 1 | 2;
    const keying = await insertKeying(tx, { zoneId, slot, keyer, layoutId: layout.id, fields: answers, warnings });
    let status: EntryZone['status'];
    if (slot === 1) {
      status = 'keyed-once';
      await setZoneStatus(tx, zoneId, status);
    } else {
      const first = before[0]!;
      const differences = differingColumns(layout.columns, first.fields, answers);
      await setKeyingsAgreed(tx, zoneId, differences.length === 0);
      if (differences.length === 0) {
        // Equal up to case, spaces and script: the first keying's text stands, as typed.
        status = (await settleZone(tx, db.kind, zone, layout, first.fields, keyer)) === null ? 'empty' : 'verified';
      } else {
        status = 'disputed';
        await setZoneStatus(tx, zoneId, status, differences);
      }
    }
    return { keying: { id: keying.id, zoneId, slot, warnings, submittedAt: keying.submittedAt }, zoneStatus: status };
  });
}

/** A disputed zone as an arbitrator sees it: both keyings (as A and B, without their keyers' names) and what differs. */
export interface Dispute {
  zone: EntryZone;
  layout: { key: string; version: number; name: string; columns: LayoutColumn[] };
  differences: string[];
  a: { fields: KeyedFields; warnings: KeyingWarning[]; submittedAt: Date };
  b: { fields: KeyedFields; warnings: KeyingWarning[]; submittedAt: Date };
}

/** Disputed zones an arbitrator may settle (none they keyed), oldest book first. */
export async function listDisputes(db: Queryable, arbitrator: string, opts: { bookId?: string; limit?: number; withhold?: BookWithholding } = {}): Promise<Dispute[]> {
  const zones = await disputedZones(db, { notKeyedBy: arbitrator, ...(opts.bookId ? { bookId: opts.bookId } : {}), limit: Math.min(opts.limit ?? 50, 200) });
  const withheld = opts.withhold ? await opts.withhold([...new Set(zones.map((z) => z.bookId))]) : new Set<string>();
  const out: Dispute[] = [];
  for (const zone of zones.filter((z) => !withheld.has(z.bookId))) {
    const [a, b] = await keyingsOfZone(db, zone.id);
    const layout = await requireLayoutOf(db, zone.layoutId);
    if (!a || !b) throw new AppError('ERR_INTEGRITY', `disputed zone ${zone.id} lacks its two keyings`);
    const side = (k: Keying) => ({ fields: k.fields, warnings: k.warnings, submittedAt: k.submittedAt });
    out.push({ zone: { ...zone, finalFields: null }, layout: { key: layout.key, version: layout.version, name: layout.name, columns: layout.columns }, differences: zone.differences, a: side(a), b: side(b) });
  }
  return out;
}

/** An arbitrator's decision on one field: keying A's answer, keying B's, or a value or answer of their own. */
export type FieldDecision = { pick: 'a' | 'b' } | { value: string } | { answer: KeyingAnswer };

/** What a decision did: the zone verified and its entry, or settled as an empty row (no entry). */
export interface DecisionReceipt {
  zoneId: string;
  zoneStatus: 'verified' | 'empty';
  entryId: string | null;
  decided: Record<string, ArbitrationChoice>;
}

/**
 * Settles a disputed zone: a decision for every differing column and none other, by someone who
 * keyed neither keying. Each decision is kept with both answers before it and the keyers it
 * overruled; the zone is then verified and its entry made from the agreed and decided answers
 * (or, when every column ends up blank, settled as an empty row with no entry).
 */
export async function decideZone(db: Db, zoneId: string, arbitrator: string, decisions: Record<string, FieldDecision>): Promise<DecisionReceipt> {
  return db.transaction(async (tx) => {
    const zone = await lockZone(tx, zoneId);
    if (!zone) throw new AppError('ERR_NOT_FOUND', `no zone ${zoneId}`);
    if (zone.retiredAt || zone.status !== 'disputed') throw new AppError('ERR_CONFLICT', `zone ${zoneId} is not disputed (it is ${zone.retiredAt ? 'retired' : zone.status})`);
    const [a, b] = await keyingsOfZone(tx, zoneId);
    if (!a || !b) throw new AppError('ERR_INTEGRITY', `disputed zone ${zoneId} lacks its two keyings`);
    if (a.keyer === arbitrator || b.keyer === arbitrator) throw new AppError('ERR_FORBIDDEN', `you keyed zone ${zoneId}; its differences go to an arbitrator who keyed neither version`);
    const differing = new Set(zone.differences);
    for (const key of Object.keys(decisions)) {
      if (!differing.has(key)) throw new AppError('ERR_VALIDATION', `column ${key} is not one the keyings differ on (${zone.differences.join(', ')})`, { field: 'fields' });
    }
    const missing = zone.differences.filter((k) => !decisions[k]);
    if (missing.length) throw new AppError('ERR_VALIDATION', `decide every differing column; missing: ${missing.join(', ')}`, { field: 'fields' });
    const layout = await requireLayoutOf(tx, zone.layoutId);
    const final: KeyedFields = { ...a.fields };
    const decided: Record<string, ArbitrationChoice> = {};
    for (const key of zone.differences) {
      const d = decisions[key]!;
      let answer: FieldAnswer;
      let choice: ArbitrationChoice;
      if ('pick' in d) {
        choice = d.pick;
        answer = (d.pick === 'a' ? a : b).fields[key]!;
      } else {
        choice = 'typed';
        answer = checkAnswers([{ key, field: 'other' }], { [key]: d })[key]!;
      }
      final[key] = answer;
      decided[key] = choice;
      const overruled = [a, b].filter((k) => !sameAnswer(k.fields[key], answer)).map((k) => k.keyer);
      await insertDecision(tx, { zoneId, column: key, choice, answer, before: { a: a.fields[key] ?? null, b: b.fields[key] ?? null }, overruled, by: arbitrator });
    }
    const entryId = await settleZone(tx, db.kind, zone, layout, final, arbitrator);
    return { zoneId, zoneStatus: entryId === null ? 'empty' : 'verified', entryId, decided };
  });
}

/** A zone's keyings and decisions as a reviewer or records manager reads them afterwards. */
export interface ZoneKeyingRecord {
  zoneId: string;
  status: EntryZone['status'];
  /** Answers are null while the zone is still being keyed (keying stays blind); keyers are null while it is disputed, for arbitrators (A and B stay anonymous). */
  keyings: { slot: 1 | 2; keyer: string | null; fields: KeyedFields | null; warnings: KeyingWarning[]; agreed: boolean | null; startedAt: Date | null; submittedAt: Date }[];
  decisions: { column: string; choice: ArbitrationChoice; answer: FieldAnswer; overruled: string[]; decidedBy: string; decidedAt: Date }[];
}

/**
 * Every keying and decision of a zone, for review. While the zone still waits for a keying, the
 * answers are withheld (a reader who keys could otherwise see keying A before keying B); while it
 * is disputed, the keyers' names are withheld unless `namesWhileDisputed` (records managers, who
 * do not arbitrate).
 */
export async function zoneKeyingRecord(db: Queryable, zoneId: string, opts: { namesWhileDisputed: boolean }): Promise<ZoneKeyingRecord> {
  const zone = await requireZone(db, zoneId);
  const stillKeyed = !zone.retiredAt && (zone.status === 'open' || zone.status === 'keyed-once');
  const hideNames = zone.status === 'disputed' && !zone.retiredAt && !opts.namesWhileDisputed;
  const keyings = await keyingsOfZone(db, zoneId);
  return {
    zoneId, status: zone.status,
    keyings: keyings.map((k) => ({
      slot: k.slot, keyer: hideNames ? null : k.keyer, fields: stillKeyed ? null : k.fields, warnings: stillKeyed ? [] : k.warnings,
      agreed: k.agreed, startedAt: k.startedAt, submittedAt: k.submittedAt,
    })),
    decisions: await decisionsOfZone(db, zoneId),
  };
}
