/**
 * Writes the catalogue to the object store as the archive changes (docs/catalogue-format.md, "How
 * it is written"): each object the triggers noted gets a new version when its content changed, the
 * audit chain gets new segments, and a disposed book's folder is removed. Idempotent and safe to
 * run from several processes: a crash anywhere leaves the notes in place, and the store, not the
 * database, says which version is the newest.
 */
import { readFile } from 'node:fs/promises';
import type { AppDeps } from '../app/deps.ts';
import { PermanentError, sha256Hex } from '../common/index.ts';
import type { Queryable } from '../db/index.ts';
import { readObject } from '../storage/index.ts';
import { GENESIS_HASH } from '../audit/index.ts';
import {
  auditPending, auditRowsAfter, bookState, dirtyObjects, forgetDirty, lockWritten, markAllDirty, newestMigration, recordWritten, selectObjectData,
} from './catalogue.store.ts';
import {
  AUDIT_SEGMENT_MAX_EVENTS, CATALOGUE_FORMAT, CATALOGUE_FORMAT_DOC_KEY, CATALOGUE_FORMAT_VERSION, CATALOGUE_KINDS, auditSegmentKey, bookFolder,
  catalogueKey, contentSha256, parseAuditSegment, rowLines, serialiseAuditSegment, serialiseObject, type AuditSegmentHeader, type CatalogueData,
  type CatalogueKind, type CatalogueRef, type KindSpec,
} from './format.ts';
import { latestVersion } from './read.ts';

type Deps = Pick<AppDeps, 'db' | 'store' | 'log'>;

/** Who wrote an object, in its envelope. */
export const WRITTEN_BY = 'arkiva 0.1.0';
/** The kind under which the audit chain's progress is recorded in `catalogue_written`. */
export const AUDIT_KIND = 'audit-segment';
/** Years an audit segment is kept under Object Lock, as the anchors are. */
export const AUDIT_SEGMENT_LOCK_YEARS = 10;
/** A segment is written once this many events wait, or the oldest waiting is this old (unless forced). */
export const AUDIT_SEGMENT_MAX_AGE_MS = 15 * 60_000;
// Objects handled per round of the dirty list.
const BATCH = 200;

/** What one run of the writer did. */
export interface WriteReport {
  /** New versions written. */
  written: { kind: CatalogueKind; scope: string; version: number; key: string }[];
  /** Objects noted as changed whose content was already the newest version. */
  unchanged: number;
  /** Objects another writer was handling. */
  busy: number;
  /** Books whose catalogue folder was removed after their disposal. */
  removed: string[];
  /** Audit segments written, and the last event the store now holds. */
  audit: { segments: string[]; lastSeq: number };
  /** Objects that could not be written (they stay noted and are tried again). */
  failed: { kind: string; scope: string; error: string }[];
}

/** Options of a run. */
export interface WriteOptions {
  /** Note every object first: a full write-out (`arkiva catalogue write --all`). */
  all?: boolean;
  /** Write an audit segment however few events wait. */
  flushAudit?: boolean;
  signal?: AbortSignal;
}

const isKind = (k: string): k is CatalogueKind => Object.hasOwn(CATALOGUE_KINDS, k);

/**
 * Writes every noted object whose content changed, the audit chain's new segments, and the format
 * document once. Run after a book's stages, by the worker on an interval, and by
 * `arkiva catalogue write`.
 */
export async function writeCatalogue(deps: Deps, opts: WriteOptions = {}): Promise<WriteReport> {
  const report: WriteReport = { written: [], unchanged: 0, busy: 0, removed: [], audit: { segments: [], lastSeq: 0 }, failed: [] };
  await writeFormatDoc(deps);
  if (opts.all) await markAllDirty(deps.db);
  const migration = await newestMigration(deps.db);
  // Each object once per run: notes a concurrent change adds wait for the next run, so a busy
  // archive cannot keep one run going for ever.
  const seen = new Set<string>();
  for (;;) {
    opts.signal?.throwIfAborted();
    const batch = (await dirtyObjects(deps.db, BATCH + seen.size)).filter((d) => !seen.has(`${d.kind}\u0000${d.scope}`)).slice(0, BATCH);
    if (batch.length === 0) break;
    for (const d of batch) {
      opts.signal?.throwIfAborted();
      seen.add(`${d.kind}\u0000${d.scope}`);
      if (!isKind(d.kind)) {
        // Written by a newer Arkiva's trigger, or by hand: nothing this version can write.
        deps.log.warn({ kind: d.kind }, 'catalogue note of an unknown kind dropped');
        await forgetDirty(deps.db, d.kind, d.scope, d.maxId);
        continue;
      }
      try {
        await writeObject(deps, { kind: d.kind, scope: d.scope }, d.maxId, migration, report);
      } catch (e) {
        const error = e instanceof Error ? e.message : String(e);
        report.failed.push({ kind: d.kind, scope: d.scope, error });
        deps.log.error({ err: e, kind: d.kind, scope: d.scope }, 'catalogue object not written: it stays noted and is tried again');
      }
    }
  }
  try {
    await writeAuditSegments(deps, migration, report, opts);
  } catch (e) {
    report.failed.push({ kind: AUDIT_KIND, scope: '', error: e instanceof Error ? e.message : String(e) });
    deps.log.error({ err: e }, 'audit segment not written: it is tried again');
  }
  if (report.written.length || report.removed.length || report.audit.segments.length || report.failed.length) {
    deps.log.info({ written: report.written.length, unchanged: report.unchanged, removed: report.removed.length, segments: report.audit.segments.length, failed: report.failed.length }, 'catalogue written');
  }
  return report;
}

async function writeObject(deps: Deps, ref: CatalogueRef, maxId: number, migration: string, report: WriteReport): Promise<void> {
  const spec: KindSpec = CATALOGUE_KINDS[ref.kind];
  await deps.db.transaction(async (tx) => {
    const mine = await lockWritten(tx, ref.kind, ref.scope);
    if (!mine) {
      report.busy++;
      return;
    }
    if (spec.scope === 'book') {
      const state = await bookState(tx, ref.scope);
      if (!state.exists) {
        // A disposed book's catalogue goes with its content; the disposal object keeps what remains.
        if (ref.kind === 'book' && state.disposed) await removeBookFolder(deps, tx, ref.scope, report);
        await forgetDirty(tx, ref.kind, ref.scope, maxId);
        return;
      }
    }
    const data = await selectObjectData(tx, ref);
    const sha = contentSha256(ref.kind, data);
    const latest = await latestVersion(deps.store, ref);
    if (latest && latest.contentSha256 === sha) {
      await recordWritten(tx, ref.kind, ref.scope, { version: latest.version, contentSha256: sha, key: latest.key });
      report.unchanged++;
    } else if (!latest && isEmpty(data)) {
      // Nothing to say and nothing said before: no object (an absent object reads as no rows).
      await recordWritten(tx, ref.kind, ref.scope, { version: 0, contentSha256: null, key: null });
      report.unchanged++;
    } else {
      const version = (latest?.version ?? 0) + 1;
      const key = catalogueKey(ref, version, sha);
      const body = serialiseObject({
        format: CATALOGUE_FORMAT, formatVersion: CATALOGUE_FORMAT_VERSION, kind: ref.kind, scope: ref.scope, version, contentSha256: sha,
        previous: latest ? { key: latest.key, contentSha256: latest.contentSha256 } : null, migration, writtenAt: new Date().toISOString(), writtenBy: WRITTEN_BY,
      }, data);
      await putChecked(deps, key, body, spec.lines ? 'application/x-ndjson' : 'application/json');
      await recordWritten(tx, ref.kind, ref.scope, { version, contentSha256: sha, key });
      report.written.push({ kind: ref.kind, scope: ref.scope, version, key });
    }
    await forgetDirty(tx, ref.kind, ref.scope, maxId);
  });
}

const isEmpty = (data: CatalogueData) => Object.values(data).every((rows) => !rows || rows.length === 0);

// The adapter refuses bytes that hash differently (expectedSha256); the head read back catches a
// store that reports success for an object it did not keep whole.
async function putChecked(deps: Pick<Deps, 'store'>, key: string, body: Buffer, contentType: string, lock?: Date): Promise<void> {
  const put = await deps.store.put(key, body, {
    contentType,
    expectedSha256: sha256Hex(body),
    ...(lock && deps.store.capabilities().objectLock ? { retention: { mode: 'GOVERNANCE' as const, retainUntil: lock } } : {}),
  });
  const head = await deps.store.head(key, put.versionId ? { versionId: put.versionId } : {});
  if (!head || head.size !== body.length) throw new PermanentError(`catalogue object ${key} read back with ${head ? `${head.size} bytes` : 'nothing'}, ${body.length} were written`);
}

async function removeBookFolder(deps: Deps, tx: Queryable, bookId: string, report: WriteReport): Promise<void> {
  let n = 0;
  for await (const v of deps.store.listVersions(bookFolder(bookId))) {
    await deps.store.delete(v.key, { ...(v.versionId ? { versionId: v.versionId } : {}), bypassGovernance: true });
    n++;
  }
  for (const kind of Object.keys(CATALOGUE_KINDS) as CatalogueKind[]) {
    if ((CATALOGUE_KINDS[kind] as KindSpec).scope === 'book') await recordWritten(tx, kind, bookId, { version: 0, contentSha256: null, key: null });
  }
  if (n) report.removed.push(bookId);
}

/**
 * Appends the audit events not yet in the store as new segments. The segment key is named by its
 * first event, so after a crash between the write and the record the next run finds the segment
 * already there, reads it, and carries on from its end.
 */
async function writeAuditSegments(deps: Deps, migration: string, report: WriteReport, opts: WriteOptions): Promise<void> {
  for (;;) {
    opts.signal?.throwIfAborted();
    const more = await deps.db.transaction(async (tx) => {
      const mine = await lockWritten(tx, AUDIT_KIND, '');
      if (!mine) return false;
      const lastSeq = mine.version;
      const lastHash = mine.contentSha256 ?? GENESIS_HASH;
      report.audit.lastSeq = lastSeq;
      const nextKey = auditSegmentKey(lastSeq + 1);
      if (await deps.store.head(nextKey)) {
        const seg = parseAuditSegment(nextKey, await readObject(deps.store, nextKey, { maxBytes: 1024 * 1024 * 1024 }));
        if (seg.header.prevHash !== lastHash) throw new PermanentError(`audit segment ${nextKey} does not follow event ${lastSeq} (its prevHash is not that event's hash): the chain or the store was altered`);
        await recordWritten(tx, AUDIT_KIND, '', { version: seg.header.lastSeq, contentSha256: seg.header.lastHash, key: nextKey });
        report.audit.lastSeq = seg.header.lastSeq;
        return true;
      }
      const pending = await auditPending(tx, lastSeq);
      const waiting = pending.headSeq - lastSeq;
      if (waiting <= 0) return false;
      const old = pending.oldestPendingAt !== null && Date.now() - pending.oldestPendingAt.getTime() >= AUDIT_SEGMENT_MAX_AGE_MS;
      if (!opts.flushAudit && !opts.all && waiting < AUDIT_SEGMENT_MAX_EVENTS && !old) return false;
      const rows = await auditRowsAfter(tx, lastSeq, AUDIT_SEGMENT_MAX_EVENTS);
      const first = rows[0]!;
      if (first.seq !== lastSeq + 1 || first.prev_hash !== lastHash) {
        throw new PermanentError(`audit event ${lastSeq + 1} does not follow the last event written to the store (${lastSeq}): the chain was altered; run arkiva audit verify`);
      }
      const last = rows[rows.length - 1]!;
      const header: AuditSegmentHeader = {
        format: CATALOGUE_FORMAT, formatVersion: CATALOGUE_FORMAT_VERSION, kind: 'audit-segment', table: 'audit_events',
        firstSeq: lastSeq + 1, lastSeq: Number(last.seq), prevHash: lastHash, lastHash: String(last.hash), rows: rows.length,
        contentSha256: rowLines(rows).sha256, migration, writtenAt: new Date().toISOString(), writtenBy: WRITTEN_BY,
      };
      const until = new Date();
      until.setUTCFullYear(until.getUTCFullYear() + AUDIT_SEGMENT_LOCK_YEARS);
      await putChecked(deps, nextKey, serialiseAuditSegment(header, rows), 'application/x-ndjson', until);
      await recordWritten(tx, AUDIT_KIND, '', { version: header.lastSeq, contentSha256: header.lastHash, key: nextKey });
      report.audit.segments.push(nextKey);
      report.audit.lastSeq = header.lastSeq;
      return rows.length === AUDIT_SEGMENT_MAX_EVENTS || !!opts.flushAudit || !!opts.all;
    });
    if (!more) return;
  }
}

/** Writes this format's document into the store once, so the store explains itself. */
async function writeFormatDoc(deps: Deps): Promise<void> {
  if (await deps.store.head(CATALOGUE_FORMAT_DOC_KEY)) return;
  let doc: Buffer;
  try {
    doc = await readFile(new URL('../docs/catalogue-format.md', import.meta.url));
  } catch {
    // An image without the docs folder: the objects still describe their own tables.
    return;
  }
  await deps.store.put(CATALOGUE_FORMAT_DOC_KEY, doc, { contentType: 'text/markdown; charset=utf-8' }).catch((e: unknown) => {
    deps.log.warn({ err: e }, 'catalogue format document not written');
  });
}

/** Records, after a rebuild, that `ref`'s newest version in the store is the one given. */
export async function noteWritten(db: Queryable, ref: CatalogueRef, w: { version: number; contentSha256: string; key: string }): Promise<void> {
  await recordWritten(db, ref.kind, ref.scope, w);
}

/** Records, after a rebuild, the last audit event the store's segments hold. */
export async function noteAuditWritten(db: Queryable, w: { lastSeq: number; lastHash: string; key: string }): Promise<void> {
  await recordWritten(db, AUDIT_KIND, '', { version: w.lastSeq, contentSha256: w.lastHash, key: w.key });
}
