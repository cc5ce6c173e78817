import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { AppDeps } from '../app/deps.ts';
import { recordEvent, type EventType } from '../archive/index.ts';
import { readTar } from '../preservation/tar.ts';
import { packagesOfBook, pointKeyAtVersion, twinKeys, type AuditedObject } from './fixity.store.ts';

type Deps = Pick<AppDeps, 'db' | 'store' | 'log'>;

// PREMIS 3 event type for restoring a damaged object from a good copy.
const RECOVERY: EventType = 'recovery';

/** A damaged or missing object the audit found. */
export type DamagedObject = AuditedObject;

/** What a restore attempt did. */
export interface RestoreOutcome {
  outcome: 'restored' | 'no-good-copy' | 'failed';
  /** Where the good bytes came from, when restored. */
  source?: string;
  /** The store version written by the restore (versioned stores). */
  newVersionId?: string | null;
  /** Every place looked at, in order, and what it held. */
  tried: string[];
  detail: string;
}

async function sha256Of(stream: AsyncIterable<Buffer | Uint8Array | string>): Promise<{ sha256: string; size: number }> {
  const h = createHash('sha256');
  let size = 0;
  for await (const c of stream) {
    const b = typeof c === 'string' ? Buffer.from(c) : c;
    h.update(b);
    size += b.length;
  }
  return { sha256: h.digest('hex'), size };
}

/**
 * Restores one damaged or missing object from a good copy, in this order: the recorded store
 * version (read again: the audit's read may have failed in transit), any other version of the key
 * that hashes as recorded (one with other bytes is skipped and left where it is: a restore only
 * adds a version, it never deletes one), another key holding the same bytes, and the book's preservation
 * packages (every generation, newest first), whose tar holds a copy of each payload file. A copy
 * counts only when its SHA-256 and size equal the recorded ones; the store write is checked
 * against the same hash, so wrong bytes are never written. The rows then point at the restored
 * version and a PREMIS 'recovery' event records the source, or that no good copy exists.
 */
export async function restoreObject(deps: Deps, o: DamagedObject, opts: { agent: string }): Promise<RestoreOutcome> {
  const tried: string[] = [];
  const good = (r: { sha256: string; size: number }) => r.sha256 === o.expectedSha256 && r.size === o.expectedSize;
  const write = async (body: Readable, source: string): Promise<RestoreOutcome> => {
    const put = await deps.store.put(o.key, body, { expectedSha256: o.expectedSha256 });
    // Rows recording this key now name the version that holds the good bytes.
    await pointKeyAtVersion(deps.db, o.key, put.versionId ?? null);
    return { outcome: 'restored', source, newVersionId: put.versionId ?? null, tried, detail: `restored from ${source}` };
  };

  try {
    const versioned = deps.store.capabilities().versioning;
    // 1. The recorded version, then every other version of the key.
    if (versioned) {
      const versions: string[] = [];
      if (o.versionId) versions.push(o.versionId);
      for await (const v of deps.store.listVersions(o.key)) {
        if (v.key === o.key && !v.deleteMarker && v.versionId && !versions.includes(v.versionId)) versions.push(v.versionId);
      }
      for (const v of versions) {
        const label = v === o.versionId ? `recorded version ${v}` : `version ${v}`;
        const head = await deps.store.head(o.key, { versionId: v });
        if (!head) {
          tried.push(`${label}: gone`);
          continue;
        }
        const r = await sha256Of(await deps.store.get(o.key, { versionId: v }));
        if (!good(r)) {
          tried.push(`${label}: SHA-256 ${r.sha256}`);
          continue;
        }
        tried.push(`${label}: good`);
        return await write(await deps.store.get(o.key, { versionId: v }), label);
      }
    }
    // 2. Another key recorded with the same bytes (content-addressed under another prefix).
    for (const t of await twinKeys(deps.db, o.expectedSha256, o.key)) {
      const v = t.versionId ? { versionId: t.versionId } : {};
      if (!(await deps.store.head(t.key, v))) {
        tried.push(`key ${t.key}: gone`);
        continue;
      }
      const r = await sha256Of(await deps.store.get(t.key, v));
      tried.push(`key ${t.key}: ${good(r) ? 'good' : `SHA-256 ${r.sha256}`}`);
      if (good(r)) return await write(await deps.store.get(t.key, v), `key ${t.key}`);
    }
    // 3. The book's preservation packages: a payload file whose bytes hash as recorded.
    for (const p of await packagesOfBook(deps.db, o.bookId, o.key)) {
      const label = `package generation ${p.revision}`;
      const v = p.versionId ? { versionId: p.versionId } : {};
      if (!(await deps.store.head(p.key, v))) {
        tried.push(`${label}: gone`);
        continue;
      }
      const found = await findInTar(deps, p.key, v, o);
      tried.push(`${label}: ${found ? `good copy at ${found.path}` : 'no entry with the recorded SHA-256'}`);
      if (found) return await write(Readable.from([found.bytes]), `${label} (${found.path})`);
    }
    return {
      outcome: 'no-good-copy', tried,
      detail: `no good copy of the object exists: looked at ${tried.length ? tried.join('; ') : 'nothing (no versions, no twin keys, no packages)'}`,
    };
  } catch (e) {
    deps.log.error({ err: e, objectId: o.objectId }, 'restore of a damaged object failed');
    return { outcome: 'failed', tried, detail: `restore failed: ${(e as Error).message}` };
  }
}

/**
 * The bytes of the tar entry holding the object, if one does. Only entries of the recorded size
 * are hashed, and a match is held in memory once (payload files are page-sized, and the store
 * write needs the bytes after the tar stream has moved on).
 */
async function findInTar(deps: Deps, key: string, v: { versionId?: string }, o: DamagedObject): Promise<{ path: string; bytes: Buffer } | undefined> {
  for await (const e of readTar((await deps.store.get(key, v)) as AsyncIterable<Buffer>)) {
    // Unread bodies are skipped by readTar.
    if (e.type !== 'file' || e.size !== o.expectedSize) continue;
    const parts: Buffer[] = [];
    for await (const c of e.body) parts.push(c);
    const bytes = Buffer.concat(parts);
    if (createHash('sha256').update(bytes).digest('hex') === o.expectedSha256) return { path: e.path, bytes };
  }
  return undefined;
}

/** Records the PREMIS 'recovery' event of a restore attempt on the object. */
export async function recordRestore(deps: Pick<AppDeps, 'db'>, o: DamagedObject, r: RestoreOutcome, agent: string): Promise<void> {
  await recordEvent(deps.db, {
    bookId: o.bookId, pageId: o.pageId, objectId: o.objectId, type: RECOVERY, agent,
    outcome: r.outcome === 'restored' ? 'success' : 'failure',
    detail: r.outcome === 'restored' ? `${r.detail}; new version ${r.newVersionId ?? '-'}` : r.detail,
  });
}
