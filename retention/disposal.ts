import { createHash } from 'node:crypto';
import { AppError } from '../common/index.ts';
import type { DispositionAction, DisposalBatchStatus, DisposalItemOutcome, TombstoneStatus } from '../common/vocabulary.ts';
import type { AppDeps } from '../app/deps.ts';
import type { Db, Queryable } from '../db/index.ts';
import { toIsoDate, type IsoDate } from './dates.ts';
import { activeHoldsOn, listHolds } from './holds.store.ts';
import { getItemRetention, type ItemRetention } from './rules.store.ts';
import { pruneSearchTerms } from '../search/index.ts';
import { authorize, type AuthUser } from '../auth/index.ts';
import { appendAuditEvent } from '../audit/index.ts';
import { emit } from '../events/index.ts';
import {
  cachedImagesOfBook, deleteBookRows, finishBatchRun, findTombstone, getBatch, insertCertificate, insertDueSnapshot, insertProposedBatch,
  insertTombstone, keysSharedWithOtherBooks, listDueRetention, lockBookForDisposal, markBatchExecuting, markTombstoneDisposed, objectsOfBook,
  pagesOfBook, recordBatchDecision, recordItemFailure, recordItemOutcome, ruleSnapshot, tableExists, tombstoneStatus,
  type DisposalTombstone, type DisposedBook,
} from './disposal.store.ts';

type Deps = Pick<AppDeps, 'db' | 'store' | 'log'>;

/**
 * JSON with object keys sorted at every level and no whitespace, so the same content always
 * gives the same bytes (and the same certificate hash) whatever order it was built in.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value)) throw new Error('canonical JSON has no NaN or Infinity');
    return JSON.stringify(value ?? null);
  }
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/** SHA-256 (hex) of a certificate's canonical JSON. */
export function certificateHash(content: unknown): string {
  return createHash('sha256').update(canonicalJson(content), 'utf8').digest('hex');
}

/** True when a stored certificate still matches its hash. */
export function verifyCertificate(cert: { content: unknown; sha256: string }): boolean {
  return certificateHash(cert.content) === cert.sha256;
}

/**
 * Four eyes: the person approving a disposal must not be the one who proposed it. Names are
 * compared trimmed and case-insensitively so 'Ana' cannot approve what 'ana ' proposed.
 */
export function assertFourEyes(proposedBy: string, decidedBy: string): void {
  const norm = (s: string) => s.trim().toLocaleLowerCase();
  if (!norm(decidedBy)) throw new AppError('ERR_VALIDATION', 'the approver must be named', { field: 'by' });
  if (norm(proposedBy) === norm(decidedBy)) {
    throw new AppError('ERR_CONFLICT', 'four eyes: a disposal batch must be approved by a different records manager than the one who proposed it', { field: 'by' });
  }
}

/** A book whose retention period has ended. */
export interface DueItem {
  bookId: string;
  registerType: string;
  municipality: string;
  yearFrom: number;
  yearTo: number;
  retainUntil: IsoDate;
  action: DispositionAction;
  explanation: string;
  holds: { id: string; name: string }[];
  closedUntil: IsoDate | null;
  /** Why it cannot be disposed of now, if it cannot. */
  blockedBy: ('hold' | 'closure')[];
}

/** Books whose retention ended on or before `today`, with what would block their disposal. */
export async function listDue(db: Queryable, today: IsoDate = toIsoDate(new Date())): Promise<DueItem[]> {
  const out: DueItem[] = [];
  for (const x of await listDueRetention(db, today)) {
    const holds = await activeHoldsOn(db, x.bookId);
    const closed = x.closedUntil !== null && x.closedUntil > today;
    out.push({
      bookId: x.bookId, registerType: x.registerType, municipality: x.municipality, yearFrom: x.yearFrom, yearTo: x.yearTo,
      retainUntil: x.retainUntil, action: x.action, explanation: x.explanation, holds, closedUntil: x.closedUntil,
      blockedBy: [...(holds.length ? ['hold' as const] : []), ...(closed ? ['closure' as const] : [])],
    });
  }
  return out;
}

/** A stored snapshot of the due list (what the scheduled job saw). */
export interface DueSnapshot {
  id: string;
  listedAt: Date;
  asOf: IsoDate;
  due: number;
  blocked: number;
  items: DueItem[];
}

/** Lists what is due now and stores it as a snapshot (the scheduled `disposal.due` job). */
export async function snapshotDue(db: Queryable, today: IsoDate = toIsoDate(new Date())): Promise<DueSnapshot> {
  const items = await listDue(db, today);
  const blocked = items.filter((d) => d.blockedBy.length).length;
  const { id, listedAt } = await insertDueSnapshot(db, { asOf: today, due: items.length, blocked, items });
  return { id, listedAt, asOf: today, due: items.length, blocked, items };
}

/** A disposal batch and its items. */
export interface DisposalBatch {
  id: string;
  status: DisposalBatchStatus;
  note: string | null;
  proposedBy: string;
  proposedAt: Date;
  decidedBy: string | null;
  decidedAt: Date | null;
  decisionNote: string | null;
  executedAt: Date | null;
  items: { bookId: string; outcome: DisposalItemOutcome; detail: string | null }[];
}

/**
 * Proposes a batch of due books whose action is 'destroy'; anything else is refused, and so is a
 * book under a legal hold (named in the refusal): a held book is not proposed only for execution to
 * skip it. A hold placed after the proposal is still caught when the batch executes.
 */
export async function proposeBatch(deps: Pick<AppDeps, 'db'>, input: { bookIds: string[]; by: string; note?: string; today?: IsoDate }): Promise<DisposalBatch> {
  if (!input.by?.trim()) throw new AppError('ERR_VALIDATION', 'the proposer must be named', { field: 'by' });
  const ids = [...new Set(input.bookIds.map((s) => s.toLowerCase()))];
  if (ids.length === 0) throw new AppError('ERR_VALIDATION', 'a disposal batch needs at least one book', { field: 'bookIds' });
  const due = new Map((await listDue(deps.db, input.today)).map((d) => [d.bookId, d]));
  for (const id of ids) {
    const d = due.get(id);
    if (!d) throw new AppError('ERR_CONFLICT', `book ${id} is not due for disposal`, { bookId: id });
    if (d.action !== 'destroy') throw new AppError('ERR_CONFLICT', `book ${id} is due for ${d.action}, not destruction`, { bookId: id });
    if (d.holds.length) throw await heldBookRefusal(deps.db, id, d.holds);
  }
  const batchId = await deps.db.transaction((tx) => insertProposedBatch(tx, { note: input.note ?? null, proposedBy: input.by.trim(), bookIds: ids }));
  return getBatch(deps.db, batchId);
}

/** The refusal of a held book's proposal, naming each hold with its authority and reason. */
async function heldBookRefusal(db: Queryable, bookId: string, holds: DueItem['holds']): Promise<AppError> {
  const full = new Map((await listHolds(db, { bookId })).map((h) => [h.id, h]));
  const named = holds.map((h) => {
    const f = full.get(h.id);
    return `'${h.name}' (hold ${h.id}${f ? `, ${f.authority}: ${f.reason}` : ''})`;
  });
  return new AppError(
    'ERR_CONFLICT',
    `book ${bookId} is under legal hold ${named.join(', ')}: a held book cannot be proposed for disposal until the hold is released`,
    { bookId, holds },
  );
}

/** Approves or rejects a proposed batch; the decider must differ from the proposer. */
export async function decideBatch(deps: Pick<AppDeps, 'db'>, id: string, decision: 'approve' | 'reject', by: { user: string; note?: string }): Promise<DisposalBatch> {
  const batch = await getBatch(deps.db, id);
  if (batch.status !== 'proposed') throw new AppError('ERR_CONFLICT', `disposal batch ${id} is ${batch.status}, not proposed`);
  assertFourEyes(batch.proposedBy, by.user);
  const decided = await recordBatchDecision(deps.db, id, { status: decision === 'approve' ? 'approved' : 'rejected', by: by.user.trim(), note: by.note ?? null });
  if (!decided) throw new AppError('ERR_CONFLICT', `disposal batch ${id} was decided meanwhile`);
  return getBatch(deps.db, id);
}

/** The tombstone and certificate of a disposed book. */
export interface DisposalRecord {
  bookId: string;
  status: TombstoneStatus;
  tombstone: Record<string, unknown>;
  certificate: { content: Record<string, unknown>; sha256: string } | null;
}

/** What executing a batch did, per book. */
export interface DisposalReport {
  batchId: string;
  disposed: string[];
  skipped: { bookId: string; reason: string }[];
  failed: { bookId: string; reason: string }[];
}

/**
 * Executes an approved batch. Per book, with the book row locked: items under a hold or closure,
 * or no longer due, are skipped and reported. A book whose stored versions are still under Object
 * Lock (a lock longer than its retention: the rolling horizon of a book whose retention was not
 * known yet, a rule since shortened, the bucket's default retention on recent writes) fails with
 * the lock named and nothing deleted; the archive never bypasses GOVERNANCE retention here (see
 * `executeBatchBypassingGovernance`). Otherwise: the tombstone is committed first (so an
 * interrupted run can resume from it), then every version of every object only this book uses is
 * deleted from the store, then every database row of the book goes and the certificate is
 * written, in one transaction. Safe to run again.
 */
export async function executeBatch(deps: Deps, batchId: string, opts: { today?: IsoDate; agent?: string } = {}): Promise<DisposalReport> {
  return runBatch(deps, batchId, opts.today, undefined);
}

/** Who had a disposal delete versions still under GOVERNANCE retention, and why. */
export interface GovernanceBypass {
  by: string;
  reason: string;
}

/** The audit action of the one operation that bypasses GOVERNANCE retention. */
export const GOVERNANCE_BYPASS_ACTION = 'disposal.governance-bypass';

/**
 * The one operation in which the archive deletes object versions still under GOVERNANCE retention:
 * an approved batch executed by an admin, with a reason, recorded in the audit trail before
 * anything is deleted and named in each certificate. Everything else about the batch (holds,
 * closure, due dates, four eyes) is checked as in `executeBatch`. Where the app's S3 key is denied
 * `s3:BypassGovernanceRetention` (README), the store refuses it too unless the admin runs it with
 * a key that may bypass.
 */
export async function executeBatchBypassingGovernance(
  deps: Deps, batchId: string, admin: AuthUser, opts: { reason: string; today?: IsoDate },
): Promise<DisposalReport> {
  authorize(admin, { roles: ['admin'] }, 'deleting object versions under GOVERNANCE retention');
  const reason = opts.reason?.trim();
  if (!reason) throw new AppError('ERR_VALIDATION', 'bypassing GOVERNANCE retention needs a reason', { field: 'reason' });
  await appendAuditEvent(deps.db, {
    actorId: admin.id, actor: admin.username, action: GOVERNANCE_BYPASS_ACTION, targetType: 'disposal_batch', targetId: batchId, outcome: 'ok', detail: { reason },
  });
  return runBatch(deps, batchId, opts.today, { by: admin.username, reason });
}

/** executeBatch, with or without the governance bypass. */
async function runBatch(deps: Deps, batchId: string, on: IsoDate | undefined, bypass: GovernanceBypass | undefined): Promise<DisposalReport> {
  const today = on ?? toIsoDate(new Date());
  const batch = await getBatch(deps.db, batchId);
  if (batch.status !== 'approved' && batch.status !== 'executing') throw new AppError('ERR_CONFLICT', `disposal batch ${batchId} is ${batch.status}, not approved`);
  await markBatchExecuting(deps.db, batchId);
  const report: DisposalReport = { batchId, disposed: [], skipped: [], failed: [] };
  for (const item of batch.items) {
    if (item.outcome === 'disposed' || item.outcome === 'skipped') continue;
    try {
      const r = await disposeBook(deps, batch, item.bookId, today, bypass);
      if (r.outcome === 'skipped') report.skipped.push({ bookId: item.bookId, reason: r.reason });
      else report.disposed.push(item.bookId);
      await recordItemOutcome(deps.db, batchId, item.bookId, r.outcome, r.outcome === 'skipped' ? r.reason : null);
    } catch (e) {
      const reason = (e as Error).message;
      deps.log.error({ err: e, batchId, bookId: item.bookId }, 'disposal of a book failed');
      report.failed.push({ bookId: item.bookId, reason });
      await recordItemFailure(deps.db, batchId, item.bookId, reason.slice(0, 2000));
    }
  }
  // A batch with failures stays 'executing' so it can be run again.
  const done = report.failed.length === 0;
  await finishBatchRun(deps.db, batchId, done, report);
  return report;
}

/** Why a book may not be destroyed now. */
type Skip = { skip: string };

/** What one book's disposal came to. */
type BookDisposal = { outcome: 'disposed' } | { outcome: 'skipped'; reason: string };

/** Store versions a disposal deleted, and the keys it left because another book still records them. */
interface StoreRemoval {
  deleted: { key: string; versionId: string | null }[];
  shared: Set<string>;
}

/**
 * Disposes of one book of an approved batch. The order is what makes an interrupted run safe to
 * resume: the tombstone is committed before anything is deleted, the store is emptied next, and
 * the rows go (with the certificate written) last, in one transaction.
 */
async function disposeBook(deps: Deps, batch: DisposalBatch, bookId: string, today: IsoDate, bypass: GovernanceBypass | undefined): Promise<BookDisposal> {
  if ((await tombstoneStatus(deps.db, bookId)) === 'disposed') return { outcome: 'disposed' };
  const lockCheck = bypass ? undefined : (tx: Queryable, tomb: DisposalTombstone) => refuseLockedVersions(deps, tx, batch, tomb);
  const plan = await deps.db.transaction((tx) => checkAndWriteTombstone(tx, batch, bookId, today, lockCheck));
  if ('skip' in plan) return { outcome: 'skipped', reason: plan.skip };
  const removed = await deleteStoreObjects(deps, bookId, plan.tombstone, bypass);
  await deleteRowsAndCertify(deps.db, batch, bookId, plan.tombstone, removed, bypass);
  await pruneVocabulary(deps.db);
  deps.log.info({ batchId: batch.id, bookId, versions: removed.deleted.length }, 'book disposed of');
  return { outcome: 'disposed' };
}

/** A check of the tombstone about to be committed; throwing leaves no tombstone (the book stays as it was). */
type TombstoneCheck = (tx: Queryable, tomb: DisposalTombstone) => Promise<void>;

/**
 * Phase 1, in the caller's transaction: the checks and the tombstone, with the book locked against
 * a hold being placed meanwhile. A tombstone already there is an interrupted run: it is resumed.
 */
async function checkAndWriteTombstone(tx: Queryable, batch: DisposalBatch, bookId: string, today: IsoDate, check?: TombstoneCheck): Promise<Skip | { tombstone: DisposalTombstone }> {
  const existing = await findTombstone(tx, bookId);
  if (existing) return { tombstone: existing };
  const eligible = await checkDisposable(tx, bookId, today);
  if ('skip' in eligible) return eligible;
  return { tombstone: await writeTombstone(tx, batch, bookId, eligible, check) };
}

/** Locks the book, then says why it may not be destroyed today (gone, held, no longer due, closed), if it may not. */
async function checkDisposable(tx: Queryable, bookId: string, today: IsoDate): Promise<Skip | { book: DisposedBook; retention: ItemRetention }> {
  const book = await lockBookForDisposal(tx, bookId);
  if (!book) return { skip: 'book not found' };
  const holds = await activeHoldsOn(tx, bookId);
  if (holds.length) return { skip: `under legal hold: ${holds.map((h) => h.name).join(', ')}` };
  const ret = await getItemRetention(tx, bookId);
  if (!ret || ret.permanent || ret.retainUntil === null || ret.retainUntil > today || ret.action !== 'destroy') return { skip: 'no longer due for destruction' };
  if (ret.closedUntil !== null && ret.closedUntil > today) return { skip: `under privacy closure until ${ret.closedUntil}` };
  return { book, retention: ret };
}

/** Records all the certificate will need (book, pages, objects, rule, approvals) and commits it as the tombstone. */
async function writeTombstone(
  tx: Queryable, batch: DisposalBatch, bookId: string, { book, retention }: { book: DisposedBook; retention: ItemRetention }, check?: TombstoneCheck,
): Promise<DisposalTombstone> {
  const rule = retention.ruleId ? await ruleSnapshot(tx, retention.ruleId) : null;
  const objects = await objectsOfBook(tx, bookId);
  const pages = await pagesOfBook(tx, bookId);
  const cacheObjects = await cachedImagesOfBook(tx, bookId);
  const tombstone: DisposalTombstone = {
    bookId,
    book: {
      registerType: book.registerType, municipality: book.municipality, yearFrom: book.yearFrom, yearTo: book.yearTo, volume: book.volume,
      sourceSha256: book.sourceSha256, sourceSize: book.sourceSize, createdAt: book.createdAt.toISOString(), pageCount: pages.length,
    },
    pages: pages.map((p) => ({ id: p.id, sequence: p.sequence })),
    objects,
    cacheObjects,
    rule, retention: { retainUntil: retention.retainUntil, action: retention.action, explanation: retention.explanation, closedUntil: retention.closedUntil },
    approvals: { batchId: batch.id, proposedBy: batch.proposedBy, proposedAt: batch.proposedAt.toISOString(), approvedBy: batch.decidedBy, approvedAt: batch.decidedAt?.toISOString() ?? null },
    disposalStartedAt: new Date().toISOString(),
  };
  await check?.(tx, tombstone);
  await insertTombstone(tx, batch.id, tombstone);
  return tombstone;
}

/** Every store version of the keys the tombstone names that only this book uses, and the keys another book still records. */
async function storeVersionsOf(deps: Deps, q: Queryable, tomb: DisposalTombstone): Promise<{ versions: { key: string; versionId?: string }[]; shared: Set<string> }> {
  const keys = [...new Set([...tomb.objects.map((o) => o.key), ...tomb.cacheObjects.map((c) => c.key)])];
  // Content addressing shares keys between books: another book's key is left alone.
  const shared = await keysSharedWithOtherBooks(q, keys, tomb.bookId);
  const versions: { key: string; versionId?: string }[] = [];
  for (const key of keys) {
    if (shared.has(key)) continue;
    for await (const v of deps.store.listVersions(key)) if (v.key === key) versions.push({ key, ...(v.versionId ? { versionId: v.versionId } : {}) });
  }
  return { versions, shared };
}

/**
 * Refuses, before the tombstone is committed and anything deleted, a book whose stored versions
 * the store still locks (GOVERNANCE retention not yet lapsed, or a legal hold only the store has):
 * the store would refuse their deletion halfway through, and only the admin's bypass may cut a lock.
 */
async function refuseLockedVersions(deps: Deps, tx: Queryable, batch: DisposalBatch, tomb: DisposalTombstone): Promise<void> {
  if (!deps.store.capabilities().objectLock) return;
  const now = new Date();
  const { versions } = await storeVersionsOf(deps, tx, tomb);
  let locked = 0;
  let held = 0;
  let latest: Date | undefined;
  for (const v of versions) {
    const h = await deps.store.head(v.key, v.versionId ? { versionId: v.versionId } : {});
    const until = h?.retention && h.retention.retainUntil > now ? h.retention.retainUntil : undefined;
    if (h?.legalHold) held++;
    if (until || h?.legalHold) locked++;
    if (until && (!latest || until > latest)) latest = until;
  }
  if (!locked) return;
  const what = [latest ? `retention until ${latest.toISOString()}` : '', held ? `${held} under a legal hold only the store has` : ''].filter(Boolean).join('; ');
  throw new AppError(
    'ERR_CONFLICT',
    `book ${tomb.bookId}: ${locked} of its ${versions.length} stored object version(s) are still under Object Lock (${what}), past its retention (ended ${tomb.retention.retainUntil}); nothing was deleted. ` +
      `Run the batch again once the lock has lapsed, or have an admin execute it with the governance bypass: arkiva disposal execute ${batch.id} --bypass-governance --reason R, signed in as that admin`,
    { bookId: tomb.bookId, lockedVersions: locked, lockedUntil: latest?.toISOString() ?? null, legalHolds: held },
  );
}

/**
 * Phase 2, the store: every version of every key the tombstone names is deleted, with the
 * governance bypass only when an admin asked for it. Keys another book still records are left alone.
 */
async function deleteStoreObjects(deps: Deps, bookId: string, tomb: DisposalTombstone, bypass: GovernanceBypass | undefined): Promise<StoreRemoval> {
  const { versions, shared } = await storeVersionsOf(deps, deps.db, tomb);
  const deleted: StoreRemoval['deleted'] = [];
  for (const v of versions) {
    await deps.store.delete(v.key, { ...(v.versionId ? { versionId: v.versionId } : {}), ...(bypass ? { bypassGovernance: true } : {}) });
    deleted.push({ key: v.key, versionId: v.versionId ?? null });
  }
  deps.log.debug({ bookId, versions: deleted.length }, 'store versions of a disposed book deleted');
  return { deleted, shared };
}

/** Phase 3, in one transaction: every row of the book goes, the tombstone is marked disposed and the certificate written. */
async function deleteRowsAndCertify(db: Db, batch: DisposalBatch, bookId: string, tomb: DisposalTombstone, removed: StoreRemoval, bypass: GovernanceBypass | undefined): Promise<void> {
  const disposedAt = new Date().toISOString();
  await db.transaction(async (tx) => {
    await deleteBookRows(tx, bookId, tomb.pages.map((p) => p.id), { disposedAt, batchId: batch.id });
    const content = certificateContent(bookId, tomb, removed, disposedAt, bypass);
    await markTombstoneDisposed(tx, bookId, disposedAt);
    await insertCertificate(tx, bookId, content, certificateHash(content));
    // Other systems hear of it with the deletion; emitting it also clears the personal data the book's earlier events held.
    await emit(tx, { type: 'book.disposed', subjects: { bookId }, data: { batchId: batch.id, disposedAt } });
  });
}

/** The disposal certificate of a book: what was destroyed, under which rule and approvals, and when. */
function certificateContent(bookId: string, tomb: DisposalTombstone, removed: StoreRemoval, disposedAt: string, bypass: GovernanceBypass | undefined): Record<string, unknown> {
  return {
    type: 'arkiva-disposal-certificate',
    version: 1,
    bookId,
    book: tomb.book,
    rule: tomb.rule,
    retention: tomb.retention,
    approvals: tomb.approvals,
    objects: tomb.objects.map((o) => ({ key: o.key, versionId: o.versionId, sha256: o.sha256, size: o.size, role: o.role })),
    storeVersionsDeleted: removed.deleted.length,
    sharedKeysKept: [...removed.shared].sort(),
    disposedAt,
    agent: 'arkiva disposal',
    // Only when an admin had versions deleted under GOVERNANCE retention (earlier certificates keep their bytes).
    ...(bypass ? { governanceBypass: { by: bypass.by, reason: bypass.reason } } : {}),
  };
}

/** The search vocabulary keeps forms (names among them) until no page has them: drops those the disposed book alone had. */
async function pruneVocabulary(db: Db): Promise<void> {
  if (await tableExists(db, 'search_terms')) await pruneSearchTerms(db);
}
