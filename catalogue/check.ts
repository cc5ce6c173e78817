/**
 * `arkiva catalogue check`: compares the live catalogue with what the object store holds and lists
 * every difference — a book in one and not the other, an object whose newest version is behind
 * the database (or was never written out), a stored object a page names that the store lacks,
 * audit events not yet in a segment, a catalogue object that is damaged.
 */
import type { AppDeps } from '../app/deps.ts';
import { isAppError } from '../common/index.ts';
import { auditPending, auditRowsAfter, catalogueBookIds, registryShards, selectObjectData } from './catalogue.store.ts';
import {
  AUDIT_SEGMENT_MAX_EVENTS, CATALOGUE_KINDS, CatalogueFormatError, contentSha256, rowLines, type CatalogueKind, type CatalogueRef, type KindSpec,
} from './format.ts';
import { latestObjects, readAuditSegments, type LatestObject } from './read.ts';

type Deps = Pick<AppDeps, 'db' | 'store'>;

/** What kind of difference. */
export type DifferenceType =
  | 'book-missing-in-store'
  | 'book-missing-in-database'
  | 'disposal-not-written'
  | 'disposed-book-in-database'
  | 'disposed-book-folder-remains'
  | 'not-written'
  | 'behind'
  | 'extra-in-store'
  | 'object-missing'
  | 'object-size'
  | 'audit-not-written'
  | 'audit-differs'
  | 'damaged';

/** One difference between the database and the store. */
export interface Difference {
  type: DifferenceType;
  /** The catalogue object concerned, when there is one. */
  kind?: string;
  scope?: string;
  /** The store key concerned, when there is one. */
  key?: string;
  detail: string;
}

/** What the check found. */
export interface CheckReport {
  equal: boolean;
  books: { database: number; store: number };
  objects: number;
  storedObjectsChecked: number;
  auditEvents: { database: number; store: number };
  differences: Difference[];
}

/** Options of the check. */
export interface CheckOptions {
  /** Skip the existence check of every stored object the pages name (HEAD per object). */
  skipObjects?: boolean;
  signal?: AbortSignal;
}

// HEAD requests in flight at once when checking the stored objects.
const HEADS_AT_ONCE = 16;

const refKey = (kind: string, scope: string) => `${kind}\u0000${scope}`;

/** Compares the database's catalogue with the store's; `equal` when there is no difference. */
export async function checkCatalogue(deps: Deps, opts: CheckOptions = {}): Promise<CheckReport> {
  const differences: Difference[] = [];
  const latest = new Map<string, LatestObject>();
  for await (const o of latestObjects(deps.store, { onProblem: (p) => differences.push({ type: 'damaged', key: p.key, detail: p.reason }) })) {
    latest.set(refKey(o.ref.kind, o.ref.scope), o);
  }
  const { books, disposed } = await catalogueBookIds(deps.db);
  const bookSet = new Set(books);
  const disposedSet = new Set(disposed);
  const storeBooks = new Set<string>();
  const storeDisposed = new Set<string>();
  const storeBookFolders = new Set<string>();
  for (const o of latest.values()) {
    const spec: KindSpec = CATALOGUE_KINDS[o.ref.kind];
    if (o.ref.kind === 'book') storeBooks.add(o.ref.scope);
    if (spec.scope === 'book') storeBookFolders.add(o.ref.scope);
    if (o.ref.kind === 'disposal') storeDisposed.add(o.ref.scope);
  }

  for (const id of books) if (!storeBooks.has(id)) differences.push({ type: 'book-missing-in-store', kind: 'book', scope: id, detail: `book ${id} is in the database but has no book object in the store (not written out yet)` });
  for (const id of storeBooks) {
    if (!bookSet.has(id) && !disposedSet.has(id)) differences.push({ type: 'book-missing-in-database', kind: 'book', scope: id, key: latest.get(refKey('book', id))?.key, detail: `book ${id} is in the store but not in the database` });
  }
  for (const id of disposed) if (!storeDisposed.has(id)) differences.push({ type: 'disposal-not-written', kind: 'disposal', scope: id, detail: `disposed book ${id} has no disposal object in the store` });
  for (const id of storeDisposed) if (bookSet.has(id)) differences.push({ type: 'disposed-book-in-database', kind: 'disposal', scope: id, detail: `the store says book ${id} was disposed of, but the database still holds it` });
  for (const id of storeBookFolders) {
    if (disposedSet.has(id) || storeDisposed.has(id)) differences.push({ type: 'disposed-book-folder-remains', scope: id, detail: `book ${id} was disposed of, but its catalogue folder in the store was not removed` });
  }

  // Every object the database implies, compared by content hash with the store's newest version.
  const refs: CatalogueRef[] = [];
  for (const kind of Object.keys(CATALOGUE_KINDS) as CatalogueKind[]) {
    const spec: KindSpec = CATALOGUE_KINDS[kind];
    if (spec.scope === 'global') refs.push({ kind, scope: '' });
    else if (spec.scope === 'book') for (const id of books) refs.push({ kind, scope: id });
    else if (spec.scope === 'disposed') for (const id of disposed) refs.push({ kind, scope: id });
  }
  const shards = new Set(await registryShards(deps.db));
  for (const o of latest.values()) if (o.ref.kind === 'registry-records') shards.add(o.ref.scope);
  for (const s of [...shards].sort()) refs.push({ kind: 'registry-records', scope: s });

  let storedObjectsChecked = 0;
  const heads: { key: string; versionId?: string; size: number; bookId: string }[] = [];
  const implied = new Set<string>();
  for (const ref of refs) {
    opts.signal?.throwIfAborted();
    implied.add(refKey(ref.kind, ref.scope));
    const data = await selectObjectData(deps.db, ref);
    const sha = contentSha256(ref.kind, data);
    const empty = Object.values(data).every((rows) => !rows || rows.length === 0);
    const inStore = latest.get(refKey(ref.kind, ref.scope));
    // `book` objects are reported above, per book; an empty object need not exist.
    if (!inStore) {
      if (!empty && ref.kind !== 'book' && ref.kind !== 'disposal') differences.push({ type: 'not-written', kind: ref.kind, scope: ref.scope, detail: `${describe(ref)} is not written out to the store` });
    } else if (inStore.contentSha256 !== sha) {
      differences.push({ type: 'behind', kind: ref.kind, scope: ref.scope, key: inStore.key, detail: `${describe(ref)}: the store's newest version (${inStore.version}) differs from the database (a change not yet written out)` });
    }
    if (ref.kind === 'book' && !opts.skipObjects) {
      for (const o of data.stored_objects ?? []) {
        if (o.superseded_at !== null) continue;
        heads.push({ key: String(o.store_key), ...(o.version_id ? { versionId: String(o.version_id) } : {}), size: Number(o.size), bookId: ref.scope });
      }
    }
  }
  for (const o of latest.values()) {
    if (implied.has(refKey(o.ref.kind, o.ref.scope))) continue;
    const spec: KindSpec = CATALOGUE_KINDS[o.ref.kind];
    // Books missing in the database were reported above; their other objects say nothing more.
    if (spec.scope === 'book' && !bookSet.has(o.ref.scope)) continue;
    if (spec.scope === 'disposed' && !disposedSet.has(o.ref.scope)) {
      differences.push({ type: 'extra-in-store', kind: o.ref.kind, scope: o.ref.scope, key: o.key, detail: `the store has a disposal object for book ${o.ref.scope}, which the database has no tombstone of` });
      continue;
    }
    if (spec.scope === 'book' || spec.scope === 'disposed') continue;
    differences.push({ type: 'extra-in-store', kind: o.ref.kind, scope: o.ref.scope, key: o.key, detail: `${describe(o.ref)} is in the store but the database has nothing for it` });
  }

  for (let i = 0; i < heads.length; i += HEADS_AT_ONCE) {
    opts.signal?.throwIfAborted();
    await Promise.all(heads.slice(i, i + HEADS_AT_ONCE).map(async (h) => {
      const head = await deps.store.head(h.key, h.versionId ? { versionId: h.versionId } : {}).catch((e: unknown) => {
        if (isAppError(e, 'ERR_NOT_FOUND')) return undefined;
        throw e;
      });
      storedObjectsChecked++;
      if (!head) differences.push({ type: 'object-missing', scope: h.bookId, key: h.key, detail: `book ${h.bookId}: stored object ${h.key}${h.versionId ? ` (version ${h.versionId})` : ''} is missing from the store` });
      else if (head.size !== h.size) differences.push({ type: 'object-size', scope: h.bookId, key: h.key, detail: `book ${h.bookId}: stored object ${h.key} has ${head.size} bytes in the store, the database recorded ${h.size}` });
    }));
  }

  const audit = await checkAudit(deps, differences);
  differences.sort((a, b) => a.type.localeCompare(b.type) || (a.scope ?? '').localeCompare(b.scope ?? '') || (a.kind ?? '').localeCompare(b.kind ?? ''));
  return {
    equal: differences.length === 0,
    books: { database: books.length, store: storeBooks.size },
    objects: latest.size,
    storedObjectsChecked,
    auditEvents: audit,
    differences,
  };
}

function describe(ref: CatalogueRef): string {
  const spec: KindSpec = CATALOGUE_KINDS[ref.kind];
  if (spec.scope === 'book') return `the ${ref.kind} object of book ${ref.scope}`;
  if (spec.scope === 'disposed') return `the disposal object of book ${ref.scope}`;
  if (spec.scope === 'shard') return `registry records shard ${ref.scope}`;
  return `the ${ref.kind} object`;
}

// Each segment against the database's events of the same range (their row hash), then the events
// no segment holds yet.
async function checkAudit(deps: Deps, differences: Difference[]): Promise<{ database: number; store: number }> {
  let storeLast = 0;
  try {
    for await (const seg of readAuditSegments(deps.store)) {
      const rows = await auditRowsAfter(deps.db, seg.header.firstSeq - 1, seg.header.rows);
      if (rows.length !== seg.header.rows || rowLines(rows).sha256 !== seg.header.contentSha256) {
        differences.push({ type: 'audit-differs', key: seg.key, detail: `audit segment ${seg.key} (events ${seg.header.firstSeq}–${seg.header.lastSeq}) differs from the database's events` });
      }
      storeLast = seg.header.lastSeq;
    }
  } catch (e) {
    if (!(e instanceof CatalogueFormatError)) throw e;
    differences.push({ type: 'damaged', key: e.key, detail: e.message });
  }
  const { headSeq: head } = await auditPending(deps.db, storeLast);
  if (head > storeLast) {
    differences.push({ type: 'audit-not-written', kind: 'audit-segment', detail: `audit events ${storeLast + 1}–${head} are not yet in a segment in the store (written every ${AUDIT_SEGMENT_MAX_EVENTS} events or 15 minutes, or by arkiva catalogue write)` });
  }
  return { database: head, store: storeLast };
}
