/**
 * Reading the catalogue back from the object store: the newest version of each object, one object
 * checked against its hash, the audit segments in chain order. Used by `catalogue check` and by the
 * rebuild; nothing here needs the database.
 */
import type { ObjectStore } from '../storage/index.ts';
import { readObject } from '../storage/index.ts';
import {
  AUDIT_SEGMENT_PREFIX, CATALOGUE_PREFIX, CatalogueFormatError, catalogueFolder, parseAuditSegment, parseAuditSegmentKey,
  parseCatalogueKey, parseCatalogueObject, type AuditSegment, type CatalogueObject, type CatalogueRef,
} from './format.ts';

// A catalogue object is rows of one book or one archive-wide list; far beyond this is not one Arkiva wrote.
const MAX_OBJECT_BYTES = 1024 * 1024 * 1024;

/** The newest version of one object, as the listing shows it. */
export interface LatestObject {
  ref: CatalogueRef;
  key: string;
  version: number;
  contentSha256: string;
  size: number;
}

/** A key under the catalogue prefix that could not be taken as an object version. */
export interface CatalogueProblem {
  key: string;
  reason: string;
}

/**
 * Streams the newest version of every object under `prefix`, in key order. The store lists keys in
 * byte order, so the versions of one object are contiguous and the last is the newest; memory stays
 * one folder whatever the size of the store. A key Arkiva does not write, or two versions with one
 * number, goes to `onProblem` (and the object is skipped: neither version is chosen blindly).
 */
export async function* latestObjects(
  store: Pick<ObjectStore, 'list'>,
  opts: { prefix?: string; onProblem?: (p: CatalogueProblem) => void } = {},
): AsyncIterable<LatestObject> {
  const prefix = opts.prefix ?? CATALOGUE_PREFIX;
  const problem = opts.onProblem ?? (() => undefined);
  let folder: string | undefined;
  let newest: LatestObject | undefined;
  let clash = false;
  const flush = function* (): Generator<LatestObject> {
    if (newest && !clash) yield newest;
    newest = undefined;
    clash = false;
  };
  for await (const o of store.list(prefix)) {
    if (o.key === `${CATALOGUE_PREFIX}format/` || o.key.startsWith(`${CATALOGUE_PREFIX}format/`) || o.key.startsWith(AUDIT_SEGMENT_PREFIX)) continue;
    const named = parseCatalogueKey(o.key);
    if (!named) {
      problem({ key: o.key, reason: 'not a catalogue object Arkiva writes (catalogue/…/<version>-<sha256>.json[l])' });
      continue;
    }
    const here = o.key.slice(0, o.key.lastIndexOf('/') + 1);
    if (here !== folder) {
      yield* flush();
      folder = here;
    }
    if (newest && newest.version === named.version) {
      clash = true;
      problem({ key: o.key, reason: `two versions numbered ${named.version} (${newest.key} and ${o.key}): the object is not read until one is removed` });
    }
    if (!newest || named.version >= newest.version) newest = { ref: named.ref, key: o.key, version: named.version, contentSha256: named.contentSha256, size: o.size };
  }
  yield* flush();
}

/** Reads one catalogue object and checks it (envelope, key, content hash). */
export async function readCatalogueObject(store: ObjectStore, key: string): Promise<CatalogueObject> {
  return parseCatalogueObject(key, await readObject(store, key, { maxBytes: MAX_OBJECT_BYTES }));
}

/** The newest version of one object in the store (listing its folder), undefined when it has none. */
export async function latestVersion(store: Pick<ObjectStore, 'list'>, ref: CatalogueRef, onProblem?: (p: CatalogueProblem) => void): Promise<LatestObject | undefined> {
  let found: LatestObject | undefined;
  const problems: CatalogueProblem[] = [];
  for await (const o of latestObjects(store, { prefix: catalogueFolder(ref), onProblem: (p) => problems.push(p) })) {
    if (o.ref.kind === ref.kind && o.ref.scope === ref.scope) found = o;
  }
  for (const p of problems) onProblem?.(p);
  const clash = problems.find((p) => p.reason.startsWith('two versions'));
  if (clash && !onProblem) throw new CatalogueFormatError(clash.key, clash.reason);
  return found;
}

/** The newest version of one object, read and checked; undefined when it has none. */
export async function readLatest(store: ObjectStore, ref: CatalogueRef): Promise<CatalogueObject | undefined> {
  const latest = await latestVersion(store, ref);
  return latest ? readCatalogueObject(store, latest.key) : undefined;
}

async function* bookIdsUnder(store: Pick<ObjectStore, 'list'>, prefix: string, kind: string): AsyncIterable<string> {
  let last: string | undefined;
  for await (const o of store.list(prefix)) {
    const named = parseCatalogueKey(o.key);
    if (!named || named.ref.kind !== kind || named.ref.scope === last) continue;
    last = named.ref.scope;
    yield last;
  }
}

/** Book ids that have a `book` object in the store (disposed books' folders are removed), in key order. */
export function listCatalogueBooks(store: Pick<ObjectStore, 'list'>): AsyncIterable<string> {
  return bookIdsUnder(store, `${CATALOGUE_PREFIX}books/`, 'book');
}

/** Book ids that have a `disposal` object: books a rebuild must never recreate. */
export function listDisposedBooks(store: Pick<ObjectStore, 'list'>): AsyncIterable<string> {
  return bookIdsUnder(store, `${CATALOGUE_PREFIX}disposed/`, 'disposal');
}

/**
 * Every audit segment after `afterSeq`, in chain order, each checked and checked to follow the one
 * before (no gap, `prevHash` is the previous `lastHash`). Throws CatalogueFormatError on the first
 * problem, naming the segment.
 */
export async function* readAuditSegments(store: ObjectStore, opts: { afterSeq?: number } = {}): AsyncIterable<AuditSegment> {
  let prev: AuditSegment['header'] | undefined;
  for await (const o of store.list(AUDIT_SEGMENT_PREFIX)) {
    const first = parseAuditSegmentKey(o.key);
    if (first === undefined) throw new CatalogueFormatError(o.key, 'is under the audit segment prefix but is not a segment');
    const seg = parseAuditSegment(o.key, await readObject(store, o.key, { maxBytes: MAX_OBJECT_BYTES }));
    if (prev) {
      if (seg.header.firstSeq !== prev.lastSeq + 1) throw new CatalogueFormatError(o.key, `starts at event ${seg.header.firstSeq}, but the segment before ended at ${prev.lastSeq}: events are missing`);
      if (seg.header.prevHash !== prev.lastHash) throw new CatalogueFormatError(o.key, 'does not follow the segment before it (prevHash is not its lastHash)');
    } else if (seg.header.firstSeq !== 1) {
      throw new CatalogueFormatError(o.key, `the first segment starts at event ${seg.header.firstSeq}, not 1: earlier segments are missing`);
    }
    prev = seg.header;
    if (seg.header.lastSeq > (opts.afterSeq ?? 0)) yield seg;
  }
}
