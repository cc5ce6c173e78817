/**
 * `arkiva catalogue rebuild`: the catalogue recreated from the object store alone, into a database
 * whose schema is migrated and which holds no catalogue (docs/catalogue-format.md says what the
 * store holds and where). The store is read as a stream: keys are listed page by page and a
 * book's objects are read while its keys go by (a book's keys are listed together, in key order),
 * so memory holds one book at a time whatever the archive's size.
 *
 * Resumable: each book is written in one transaction with the note that it is done, the global
 * objects in transactions that write rows again without harm (`ON CONFLICT DO NOTHING`, ids kept),
 * so a rebuild killed anywhere is finished by running it again, with the same result.
 */
import type { AppDeps } from '../app/deps.ts';
import { AppError } from '../common/index.ts';
import type { Queryable } from '../db/index.ts';
import { readObject } from '../storage/index.ts';
import { isIndexedWord, listPendingPages, listUnfinishedBooks, replacePageWords, type ArchivedOcr } from '../archive/index.ts';
import { newRunId, queueBookSplit, queuePages } from '../pipeline/index.ts';
import { normaliseWord } from '../search/normalise.ts';
import { ANCHOR_PREFIX, eventHash, GENESIS_HASH, type AuditEvent } from '../audit/index.ts';
import {
  applyWordCorrections, auditTail, bookRebuilt, booksWithPagesBehindIndex, catalogueRows, correctionsSince, dropSeededLayouts, dropSeededRules,
  existingBooks, finishRebuild, forgetIndexedRevision, forgetRebuildNotes, indexedPagesWithoutReading, isDisposed, markAllRetentionStale, noteBookRebuilt, notePhaseDone,
  openRebuild, pagesBehindIndex, pagesToIndex, rebuiltCounts, resetIdentities, restoreRows, startRebuild, tableColumns, unrecordedKeys, type RebuildRow, type RestoredTable,
} from './rebuild.store.ts';
import { CATALOGUE_PREFIX, CatalogueFormatError, parseCatalogueKey, parseCatalogueObject, type CatalogueKind, type CatalogueRow } from './format.ts';
import { readAuditSegments } from './read.ts';
import { noteAuditWritten, noteWritten } from './write.ts';

type Deps = Pick<AppDeps, 'db' | 'store' | 'queue' | 'log' | 'config'>;

const BOOKS_PREFIX = `${CATALOGUE_PREFIX}books/`;
const DISPOSED_PREFIX = `${CATALOGUE_PREFIX}disposed/`;
const GLOBAL_PREFIX = `${CATALOGUE_PREFIX}global/`;

// Rows written per statement: one JSON parameter each, well below any message limit.
const ROW_BATCH = 500;
// OCR readings fetched ahead of the page being indexed.
const READS_AHEAD = 8;
// Unplaced keys listed by name in the report; beyond that they are counted.
const UNPLACED_LISTED = 200;
// A catalogue object is one book's rows, a registry shard or an audit segment of at most 10 000 events.
const MAX_OBJECT_BYTES = 256 * 1024 * 1024;

/** The reason given for an object in the store that no row of the rebuilt catalogue names. */
export const UNRECORDED_OBJECT = 'an object no book object of the catalogue names';
/**
 * The start of the reason given for a book's processing events that name a page or an object its
 * book object does not hold. Each object is read from the database on its own, so a book's
 * `events` object can be newer than its `book` object: it then logs work (a page's master, its
 * OCR) done after the rows the `book` object holds, and the loss took that work. Those events are
 * left out (their references could not hold); the page is queued again and logs them anew.
 */
export const LATER_EVENTS = 'processing events of work the book object does not hold';

/** Something the rebuild found in the store and could not put into the catalogue, and why. */
export interface Unplaced {
  key: string;
  reason: string;
}

/** How far a rebuild is: what the progress bar shows. */
export interface RebuildProgress {
  phase: string;
  booksDone: number;
  booksTotal: number;
  pagesDone: number;
}

/** What a rebuild did, and what it could not place. */
export interface RebuildReport {
  rebuildId: string;
  /** True when this run finished a rebuild an earlier run had started. */
  resumed: boolean;
  books: number;
  pages: number;
  /** Books of this run (the rest were written by the run before it). */
  booksThisRun: number;
  /** What the rebuilt catalogue holds (however many runs it took): disposed books' tombstones, records, holds, audit events. */
  disposed: number;
  registryRecords: number;
  holds: number;
  auditEvents: number;
  /** Pages whose words were indexed again from their archived OCR reading. */
  pagesIndexed: number;
  requeued: { books: number; pages: number };
  /** Objects in the store no row names, and catalogue objects that could not be read or placed. */
  unplaced: Unplaced[];
  unplacedCount: number;
  seconds: number;
}

/** Options of a rebuild. */
export interface RebuildOptions {
  /** Called after each phase and each book. */
  onProgress?: (p: RebuildProgress) => void;
  /** Stops the rebuild between two books (what a kill does, without the kill): run again to finish. */
  signal?: AbortSignal;
  /**
   * Empties the job queue first. Jobs left from before the loss name rows the rebuild restores as
   * they were at the last write-out: an old `page.index` whose OCR row is not in the store fails its
   * page for good, and the page is then lost to the work the rebuild queues again. Without this the
   * rebuild refuses a queue that holds work.
   */
  emptyQueue?: boolean;
}

/** One version of a catalogue object, as its key names it. */
interface CatalogueKey {
  key: string;
  kind: CatalogueKind;
  scope: string;
  version: number;
}

type Rows = Partial<Record<RestoredTable, CatalogueRow[]>>;

/** A catalogue object read and checked (envelope, key, content hash: catalogue/format.ts), with the version it is. */
interface ReadObject {
  key: string;
  kind: CatalogueKind;
  scope: string;
  version: number;
  contentSha256: string;
  data: Rows;
}

async function readChecked(deps: Deps, k: CatalogueKey): Promise<ReadObject> {
  const o = parseCatalogueObject(k.key, await readObject(deps.store, k.key, { maxBytes: MAX_OBJECT_BYTES }));
  return { key: k.key, kind: k.kind, scope: k.scope, version: o.header.version, contentSha256: o.header.contentSha256, data: o.data as Rows };
}

/**
 * Lists catalogue objects under `prefix` grouped by scope (a book id, a shard) or, for the global
 * objects, by kind, one group at a time: listing is in key order, so a group's keys come together
 * and only one group is held, whatever the archive's size.
 */
async function* groupsUnder(
  deps: Deps, prefix: string, by: 'scope' | 'kind', unplaced: (u: Unplaced) => void,
): AsyncGenerator<{ id: string; objects: Map<CatalogueKind, CatalogueKey[]> }> {
  let current: { id: string; objects: Map<CatalogueKind, CatalogueKey[]> } | undefined;
  for await (const o of deps.store.list(prefix)) {
    const named = parseCatalogueKey(o.key);
    if (!named) {
      unplaced({ key: o.key, reason: 'not a key Arkiva writes in the catalogue (<version>-<sha256>.json[l] of a known kind)' });
      continue;
    }
    const id = by === 'scope' ? named.ref.scope : named.ref.kind;
    if (current && current.id !== id) {
      yield current;
      current = undefined;
    }
    current ??= { id, objects: new Map() };
    const versions = current.objects.get(named.ref.kind) ?? [];
    versions.push({ key: o.key, kind: named.ref.kind, scope: named.ref.scope, version: named.version });
    current.objects.set(named.ref.kind, versions);
  }
  if (current) yield current;
}

/**
 * The newest readable version of an object (its versions in any order): a damaged newest version
 * is reported and the one before it used, as is a version number found twice.
 */
async function newestReadable(deps: Deps, versions: readonly CatalogueKey[] | undefined, unplaced: (u: Unplaced) => void): Promise<ReadObject | undefined> {
  const sorted = [...(versions ?? [])].sort((a, b) => b.version - a.version);
  for (const [i, k] of sorted.entries()) {
    if (sorted.some((o, j) => j !== i && o.version === k.version)) {
      unplaced({ key: k.key, reason: `version ${k.version} of ${k.kind} ${k.scope || '(archive-wide)'} is in the store twice: neither is used` });
      continue;
    }
    try {
      return await readChecked(deps, k);
    } catch (e) {
      if (!(e instanceof CatalogueFormatError)) throw e;
      unplaced({ key: k.key, reason: `${e.message}; the version before it is used if there is one` });
    }
  }
  return undefined;
}

/** Notes the version read as the store's newest (what `catalogue check` and the writer compare with). */
async function noteRead(tx: Queryable, o: ReadObject | undefined): Promise<void> {
  if (o) await noteWritten(tx, { kind: o.kind, scope: o.scope }, { version: o.version, contentSha256: o.contentSha256, key: o.key });
}

/** What may be rebuilt into: an empty catalogue, or the one an unfinished rebuild from the same store is filling. */
async function beginOrResume(deps: Deps, storeName: string): Promise<{ rebuild: RebuildRow; resumed: boolean }> {
  const open = await openRebuild(deps.db);
  if (open) {
    if (open.store !== storeName) {
      throw new AppError('ERR_CONFLICT', `an unfinished rebuild from ${open.store} is in this database; this one reads ${storeName}: finish it against its own store, or start again from an empty database`);
    }
    return { rebuild: open, resumed: true };
  }
  const held = await catalogueRows(deps.db);
  if (held.length > 0) {
    throw new AppError(
      'ERR_CONFLICT',
      `the database already holds a catalogue (${held.map((h) => `${h.table}: ${h.rows >= 1000 ? '1000+' : h.rows} rows`).join(', ')}): a rebuild goes into an empty database (schema migrated, no rows), or resumes its own unfinished rebuild`,
    );
  }
  return { rebuild: await startRebuild(deps.db, storeName), resumed: false };
}

function storeName(deps: Deps): string {
  const s = deps.config.store;
  return s.kind === 's3' ? `s3://${s.bucket}` : `file://${s.dir}`;
}

/**
 * Recreates the catalogue from the store: users and roles, rule and layout versions, registry
 * records, disposal batches and what remains of disposed books, holds, every book with its pages,
 * objects, events, entries, keying, links, corrections, retention and extracts, its pages' words
 * indexed again from their archived OCR, the audit chain; then queues the unfinished work again and
 * lists what it could not place. Ids are the stored ones, so every reference holds as it did.
 */
export async function rebuildCatalogue(deps: Deps, opts: RebuildOptions = {}): Promise<RebuildReport> {
  const started = Date.now();
  const { rebuild, resumed } = await beginOrResume(deps, storeName(deps));
  const columns = await tableColumns(deps.db);
  const unplacedList: Unplaced[] = [];
  let unplacedCount = 0;
  const unplaced = (u: Unplaced) => {
    unplacedCount++;
    if (unplacedList.length < UNPLACED_LISTED) unplacedList.push(u);
    deps.log.warn({ key: u.key, reason: u.reason }, 'catalogue rebuild: could not place');
  };
  const write: WriteRows = async (tx, data, tables) => {
    let n = 0;
    for (const t of tables) {
      const rows = data[t] ?? [];
      for (let i = 0; i < rows.length; i += ROW_BATCH) n += await restoreRows(tx, t, columns.get(t)!, rows.slice(i, i + ROW_BATCH));
    }
    return n;
  };
  const phases = new Set(rebuild.phasesDone);
  if (!phases.has('queue')) await clearQueueOfLostWork(deps, opts.emptyQueue ?? false);
  const counts = { books: rebuild.booksDone, pages: rebuild.pagesDone, booksThisRun: 0, disposed: 0, registryRecords: 0, holds: 0, auditEvents: 0, pagesIndexed: 0 };
  let booksTotal = 0;
  const progress = (phase: string) => opts.onProgress?.({ phase, booksDone: counts.books, booksTotal, pagesDone: counts.pages });
  const stopIfAsked = () => {
    if (opts.signal?.aborted) throw new AppError('ERR_CONFLICT', 'catalogue rebuild stopped before it finished: run it again to resume');
  };
  /** A phase in one transaction with its note: done once, whatever happens to the process. */
  const phase = async (name: string, fn: (tx: Queryable) => Promise<void>) => {
    if (phases.has(name)) return;
    stopIfAsked();
    await deps.db.transaction(async (tx) => {
      await fn(tx);
      await notePhaseDone(tx, rebuild.id, name);
    });
    phases.add(name);
    progress(name);
  };

  // The archive-wide objects' versions (a handful of keys each; registry records are read by shard below).
  const globals = new Map<CatalogueKind, CatalogueKey[]>();
  for await (const g of groupsUnder(deps, GLOBAL_PREFIX, 'kind', unplaced)) {
    if (g.id !== 'registry-records') globals.set(g.id as CatalogueKind, g.objects.get(g.id as CatalogueKind) ?? []);
  }
  const global = async (tx: Queryable, kind: CatalogueKind): Promise<Rows> => {
    const o = await newestReadable(deps, globals.get(kind), unplaced);
    await noteRead(tx, o);
    return o?.data ?? {};
  };

  await phase('users', async (tx) => {
    await write(tx, await global(tx, 'users'), ['users', 'user_roles']);
  });
  await phase('rules', async (tx) => {
    const rules = await global(tx, 'rules');
    if (rules.retention_rules?.length) await dropSeededRules(tx);
    await write(tx, rules, ['retention_rules']);
  });
  await phase('layouts', async (tx) => {
    const layouts = await global(tx, 'layouts');
    if (layouts.register_layouts?.length) await dropSeededLayouts(tx);
    await write(tx, layouts, ['register_layouts']);
  });
  if (!phases.has('registry-records')) {
    // One transaction per shard: a shard written again by a resumed run adds nothing.
    for await (const shard of groupsUnder(deps, `${GLOBAL_PREFIX}registry-records/`, 'scope', unplaced)) {
      stopIfAsked();
      await deps.db.transaction(async (tx) => {
        const o = await newestReadable(deps, shard.objects.get('registry-records'), unplaced);
        counts.registryRecords += await write(tx, o?.data ?? {}, ['registry_records']);
        await noteRead(tx, o);
      });
    }
    await phase('registry-records', async () => undefined);
  }
  await phase('disposal-batches', async (tx) => {
    await write(tx, await global(tx, 'disposal-batches'), ['disposal_batches', 'disposal_batch_items']);
  });
  if (!phases.has('disposed')) {
    for await (const d of groupsUnder(deps, DISPOSED_PREFIX, 'scope', unplaced)) {
      stopIfAsked();
      await deps.db.transaction(async (tx) => {
        const o = await newestReadable(deps, d.objects.get('disposal'), unplaced);
        if (!o) return;
        await write(tx, o.data, ['disposal_tombstones', 'disposal_certificates', 'record_links', 'record_link_tombstones']);
        await noteRead(tx, o);
        counts.disposed++;
      });
    }
    await phase('disposed', async () => undefined);
  }
  // The holds themselves now; what they cover once the books are there.
  let holdItems: CatalogueRow[] = [];
  await phase('holds', async (tx) => {
    const holds = await global(tx, 'holds');
    counts.holds = await write(tx, holds, ['legal_holds']);
  });

  if (!phases.has('books')) {
    // A first pass over the keys alone gives the bar its total.
    let last = '';
    for await (const o of deps.store.list(BOOKS_PREFIX)) {
      const id = o.key.slice(BOOKS_PREFIX.length).split('/')[0]!;
      if (id !== last) booksTotal++;
      last = id;
    }
    progress('books');
    for await (const b of groupsUnder(deps, BOOKS_PREFIX, 'scope', unplaced)) {
      stopIfAsked();
      if (await bookRebuilt(deps.db, rebuild.id, b.id)) continue;
      const done = await rebuildBook(deps, b, { rebuildId: rebuild.id, write, unplaced, columns });
      if (done) {
        counts.books++;
        counts.booksThisRun++;
        counts.pages += done.pages;
        counts.pagesIndexed += done.indexed;
      }
      progress('books');
    }
    await phase('books', async () => undefined);
  }
  booksTotal = Math.max(booksTotal, counts.books);

  await phase('hold-items', async (tx) => {
    holdItems = (await newestReadable(deps, globals.get('holds'), () => undefined))?.data.legal_hold_items ?? [];
    const present = await existingBooks(tx, [...new Set(holdItems.map((i) => String(i.book_id)))]);
    for (const i of holdItems.filter((x) => !present.has(String(x.book_id)))) {
      unplaced({ key: `${GLOBAL_PREFIX}holds/`, reason: `hold ${String(i.hold_id)} covers book ${String(i.book_id)}, of which the store holds no book object` });
    }
    await write(tx, { legal_hold_items: holdItems.filter((x) => present.has(String(x.book_id))) }, ['legal_hold_items']);
  });

  if (!phases.has('audit')) {
    progress('audit');
    counts.auditEvents = await rebuildAuditChain(deps, columns.get('audit_events')!, unplaced, stopIfAsked);
    await phase('audit', async () => undefined);
  }

  await phase('finish', async (tx) => {
    await resetIdentities(tx);
    await markAllRetentionStale(tx, 'catalogue rebuilt from the object store: retention and closure computed again and compared');
    // The rows written above noted their objects as changed; the store holds them as they are.
    await forgetRebuildNotes(tx);
  });
  let requeued = { books: 0, pages: 0 };
  if (!phases.has('queue')) {
    requeued = await requeueUnfinished(deps);
    await phase('queue', async () => undefined);
  }
  progress('unplaced objects');
  await findUnrecordedObjects(deps, unplaced);

  const report: RebuildReport = {
    rebuildId: rebuild.id, resumed, ...counts, ...(await rebuiltCounts(deps.db)), requeued, unplaced: unplacedList, unplacedCount, seconds: Math.round((Date.now() - started) / 100) / 10,
  };
  await finishRebuild(deps.db, rebuild.id, { ...report, unplaced: unplacedList.slice(0, 50) });
  deps.log.info({ books: counts.books, pages: counts.pages, unplaced: unplacedCount }, 'catalogue rebuilt');
  return report;
}

type WriteRows = (tx: Queryable, data: Rows, tables: readonly RestoredTable[]) => Promise<number>;

/** Per-book kinds after `book` and the tables each writes, in an order the foreign keys allow. */
const BOOK_KINDS: readonly (readonly [CatalogueKind, readonly RestoredTable[]])[] = [
  ['entries', ['entries', 'entry_names']],
  ['keying', ['entry_zones', 'entry_zone_changes', 'keyings', 'keying_decisions']],
  ['links', ['record_links', 'record_link_tombstones']],
  ['corrections', ['ocr_corrections', 'page_reviews']],
  ['retention', ['item_retention', 'retention_history']],
  ['extracts', ['extracts']],
];

/**
 * One book in one transaction: its rows, its events, its pages' words from their archived OCR
 * with the corrections made since laid over, and the note that it is done. Undefined when the
 * book is not placed (disposed of, or no readable `book` object).
 */
async function rebuildBook(
  deps: Deps,
  b: { id: string; objects: Map<CatalogueKind, CatalogueKey[]> },
  ctx: { rebuildId: string; write: WriteRows; unplaced: (u: Unplaced) => void; columns: Map<RestoredTable, Set<string>> },
): Promise<{ pages: number; indexed: number } | undefined> {
  const where = `${BOOKS_PREFIX}${b.id}/`;
  if (await isDisposed(deps.db, b.id)) {
    ctx.unplaced({ key: where, reason: `book ${b.id} was disposed of (its disposal object is in the store): its leftover catalogue objects are not made a book again` });
    return undefined;
  }
  const book = await newestReadable(deps, b.objects.get('book'), ctx.unplaced);
  if (!book?.data.books?.length) {
    ctx.unplaced({ key: where, reason: `no readable book object for book ${b.id}: its other catalogue objects are not placed` });
    return undefined;
  }
  const pageCount = book.data.pages?.length ?? 0;
  // The book's other objects are read together, before its transaction opens.
  const [events, ...others] = await Promise.all([
    newestReadable(deps, b.objects.get('events'), ctx.unplaced),
    ...BOOK_KINDS.map(([kind]) => newestReadable(deps, b.objects.get(kind), ctx.unplaced)),
  ]);
  return deps.db.transaction(async (tx) => {
    await ctx.write(tx, book.data, ['books', 'pages', 'stored_objects']);
    await noteRead(tx, book);
    if (events) {
      const pages = new Set((book.data.pages ?? []).map((p) => String(p.id)));
      const objects = new Set((book.data.stored_objects ?? []).map((o) => String(o.id)));
      const all = events.data.processing_events ?? [];
      const placed = all.filter((e) => (e.page_id == null || pages.has(String(e.page_id))) && (e.object_id == null || objects.has(String(e.object_id))));
      if (placed.length < all.length) {
        ctx.unplaced({ key: events.key, reason: `${LATER_EVENTS} (${all.length - placed.length} of ${all.length}): they log work done after it was written, which the loss took; the pages are queued again` });
      }
      await ctx.write(tx, { processing_events: placed }, ['processing_events']);
      await noteRead(tx, events);
    }
    for (const [i, [, tables]] of BOOK_KINDS.entries()) {
      const o = others[i];
      if (!o) continue;
      await ctx.write(tx, o.data, tables);
      await noteRead(tx, o);
    }
    const indexed = await indexPages(deps, tx, b.id, ctx.unplaced);
    await noteBookRebuilt(tx, ctx.rebuildId, b.id, pageCount);
    return { pages: pageCount, indexed };
  });
}

/** The words of each indexed page again, as page.index made them, with the later corrections laid over (as review does). */
async function indexPages(deps: Deps, tx: Queryable, bookId: string, unplaced: (u: Unplaced) => void): Promise<number> {
  for (const p of await indexedPagesWithoutReading(tx, bookId)) {
    unplaced({ key: `${BOOKS_PREFIX}${bookId}/book/`, reason: `page ${p.sequence} was indexed but no OCR reading of it is recorded: it is queued to be read again` });
    await forgetIndexedRevision(tx, p.id);
  }
  const pages = await pagesToIndex(tx, bookId);
  // Readings are fetched a few pages ahead while earlier pages' words are written: the store's
  // latency, not the database, is what a page costs otherwise.
  const fetch = (p: (typeof pages)[number]) => readObject(deps.store, p.storeKey, { expectedSha256: p.sha256 })
    .then((b) => ({ ocr: JSON.parse(b.toString('utf8')) as ArchivedOcr }), (e: unknown) => ({ error: e }))
    .catch((e: unknown) => ({ error: e }));
  const ahead = pages.slice(0, READS_AHEAD).map(fetch);
  let n = 0;
  for (const [i, p] of pages.entries()) {
    const got: { ocr?: ArchivedOcr; error?: unknown } = await ahead[i]!;
    if (i + READS_AHEAD < pages.length) ahead.push(fetch(pages[i + READS_AHEAD]!));
    if (!got.ocr) {
      const e = got.error;
      if (e instanceof AppError && e.code !== 'ERR_OBJECT_NOT_FOUND' && e.code !== 'ERR_INTEGRITY') throw e;
      unplaced({ key: p.storeKey, reason: `the OCR reading of page ${p.pageId} is missing or damaged (${(e as Error).message}): the page is queued to be read again` });
      await forgetIndexedRevision(tx, p.pageId);
      continue;
    }
    const words = got.ocr.words.filter(isIndexedWord);
    await replacePageWords(tx, { bookId, pageId: p.pageId, revision: p.revision }, words.map((w) => ({ ...w, norm: normaliseWord(w.text) })));
    const latest = new Map<number, string>();
    for (const c of await correctionsSince(tx, p.pageId, p.revision, p.readAt)) latest.set(c.wordIndex, c.after);
    await applyWordCorrections(tx, p, [...latest].map(([wordIndex, text]) => ({ wordIndex, text, norm: normaliseWord(text) })));
    n++;
  }
  return n;
}

/**
 * The audit chain from its segments (checked and checked to follow each other by catalogue/read.ts),
 * each event also checked as `arkiva audit verify` checks the table (it hashes to its hash) before
 * it is written. A damaged or missing segment ends the chain there, reported: nothing after it
 * could link. One transaction per segment; a segment written by an earlier run is read past.
 */
async function rebuildAuditChain(deps: Deps, cols: Set<string>, unplaced: (u: Unplaced) => void, stopIfAsked: () => void): Promise<number> {
  const tail = await auditTail(deps.db);
  let expected = (tail?.seq ?? 0) + 1;
  let prevHash = tail?.hash ?? GENESIS_HASH;
  let n = 0;
  try {
    for await (const seg of readAuditSegments(deps.store, { afterSeq: tail?.seq ?? 0 })) {
      stopIfAsked();
      const fresh = seg.rows.filter((r) => Number(r.seq) >= expected);
      for (const r of fresh) {
        const e = toAuditEvent(r);
        if (e.seq !== expected) throw new CatalogueFormatError(seg.key, `event ${expected} is missing (next is ${e.seq})`);
        if (e.prevHash !== prevHash) throw new CatalogueFormatError(seg.key, `event ${e.seq} does not link to the event before it`);
        const { hash, ...rest } = e;
        if (eventHash(rest) !== hash) throw new CatalogueFormatError(seg.key, `event ${e.seq} was altered (it does not hash to its hash)`);
        prevHash = hash;
        expected++;
      }
      await deps.db.transaction(async (tx) => {
        for (let i = 0; i < fresh.length; i += ROW_BATCH) n += await restoreRows(tx, 'audit_events', cols, fresh.slice(i, i + ROW_BATCH));
        await noteAuditWritten(tx, { lastSeq: seg.header.lastSeq, lastHash: seg.header.lastHash, key: seg.key });
      });
    }
  } catch (e) {
    if (!(e instanceof CatalogueFormatError)) throw e;
    unplaced({ key: e.key, reason: `${e.message}: the audit chain is rebuilt up to the segment before it` });
  }
  return n;
}

/** An audit_events row as audit/chain.ts hashes it (`at` in milliseconds, as the chain writes it). */
function toAuditEvent(r: CatalogueRow): AuditEvent {
  const s = (v: unknown) => (v === null || v === undefined ? null : String(v));
  return {
    seq: Number(r.seq), at: new Date(String(r.at)).toISOString(), actorId: s(r.actor_id), actor: String(r.actor), action: String(r.action),
    targetType: s(r.target_type), targetId: s(r.target_id), from: s(r.from_addr), purpose: s(r.purpose), outcome: String(r.outcome),
    detail: (r.detail as Record<string, unknown> | null) ?? null, prevHash: String(r.prev_hash), hash: String(r.hash),
  };
}

/**
 * The queue's unfinished work, as `arkiva resume` finds it in the rebuilt rows: books not yet
 * split, pages whose stages had not finished, and done pages whose words are not indexed (their
 * reading was missing). Every stage skips what is already archived, so queuing is always safe.
 */
/** Refuses (or, asked to, empties) a queue that still holds jobs from before the catalogue was lost. */
async function clearQueueOfLostWork(deps: Deps, empty: boolean): Promise<void> {
  if (empty) {
    await deps.queue.obliterate();
    return;
  }
  // A schedule's next run does not count: drained() leaves those out.
  const busy = await deps.queue.drained({ timeoutMs: 300 }).then(() => false, () => true);
  if (busy) {
    throw new AppError('ERR_CONFLICT', 'the job queue still holds work from before the catalogue was lost: stop every worker, then rebuild with --empty-queue (its jobs name rows as they were, and would fail pages the rebuild queues again)');
  }
}

async function requeueUnfinished(deps: Deps): Promise<{ books: number; pages: number }> {
  const run = newRunId('rebuild');
  let books = 0;
  let pages = 0;
  for (const b of await listUnfinishedBooks(deps.db)) {
    books++;
    if (b.status !== 'processing') {
      await queueBookSplit(deps.queue, b.id, run);
      continue;
    }
    const pending = await listPendingPages(deps.db, b.id);
    pages += pending.length;
    await queuePages(deps.queue, b.id, pending, run);
  }
  for (const bookId of await booksWithPagesBehindIndex(deps.db)) {
    const p = await pagesBehindIndex(deps.db, bookId);
    books++;
    pages += p.length;
    await queuePages(deps.queue, bookId, p, run, 'index');
  }
  return { books, pages };
}

/**
 * Objects in the store that no stored_objects row names (the catalogue's own objects and the audit
 * anchors aside), listed page by page and looked up a thousand at a time.
 */
async function findUnrecordedObjects(deps: Deps, unplaced: (u: Unplaced) => void): Promise<void> {
  let keys: string[] = [];
  const flush = async () => {
    for (const k of await unrecordedKeys(deps.db, keys)) unplaced({ key: k, reason: UNRECORDED_OBJECT });
    keys = [];
  };
  for await (const o of deps.store.list('')) {
    if (o.key.startsWith(CATALOGUE_PREFIX) || o.key.startsWith(ANCHOR_PREFIX)) continue;
    keys.push(o.key);
    if (keys.length >= 1000) await flush();
  }
  await flush();
}
