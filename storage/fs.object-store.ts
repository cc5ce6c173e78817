import { randomUUID } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm, stat, unlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type { ServiceConfig } from '../config/env.ts';
import { AppError } from '../common/errors.ts';
import type { Logger } from '../common/logger.ts';
import { bodyChunks, Digest, integrityError, SourceError } from './body.ts';
import { assertValidKey, assertValidPrefix, assertValidRange, normaliseSha256, SIDECAR_SUFFIX, TEMP_PREFIX } from './keys.ts';
import {
  contentKey,
  type ByteRange,
  type LockMode,
  type ObjectHead,
  type ObjectStore,
  type ObjectVersion,
  type PutOptions,
  type PutResult,
  type StoreCapabilities,
} from './object-store.ts';

/** The filesystem part of the configuration, as config/env.ts parses it. */
export type FsStoreConfig = Extract<ServiceConfig['store'], { kind: 'fs' }>;

/**
 * What the sidecar `<file>.meta.json` records. `size`, `mtimeMs` and `ino` fingerprint the data
 * file it describes: rename keeps a file's mtime and inode, so a sidecar that does not match its file
 * (a crash between the two renames of a write, or two writers of one key whose renames interleaved
 * within the same millisecond) is detected and repaired instead of believed.
 */
interface Sidecar {
  sha256: string;
  md5: string;
  size: number;
  mtimeMs: number;
  /** Absent in sidecars written before it was recorded. */
  ino?: number;
  contentType?: string;
}

interface TempFile {
  path: string;
  sha256: string;
  md5: string;
  size: number;
  mtimeMs: number;
  ino: number;
}

const CAPABILITIES: StoreCapabilities = Object.freeze({ versioning: false, objectLock: false });

/**
 * The object store on a local folder, for embedded mode and development. Each key is a file under
 * the root; every write goes to a temporary file in the same folder, is fsynced and then renamed, so a
 * reader sees the old object or the new one, never part of one. SHA-256, MD5 and content type live
 * in a sidecar `<file>.meta.json`. There are no versions and no Object Lock: `setRetention` and
 * `setLegalHold` succeed without doing anything, as `capabilities()` announces, and a `versionId`
 * never names anything here. A key cannot be both an object and a folder of other keys.
 */
export class FsObjectStore implements ObjectStore {
  readonly kind = 'fs' as const;
  private readonly root: string;

  constructor(
    config: FsStoreConfig,
    private readonly log: Logger,
  ) {
    this.root = path.resolve(config.dir);
  }

  async init(): Promise<StoreCapabilities> {
    try {
      await mkdir(this.root, { recursive: true });
    } catch (e) {
      throw this.fail('create folder', '', e);
    }
    return CAPABILITIES;
  }

  capabilities(): StoreCapabilities {
    return CAPABILITIES;
  }

  async put(key: string, body: Readable | Buffer, opts: PutOptions = {}): Promise<PutResult> {
    assertValidKey(key);
    const expectedSha256 = normaliseSha256(opts.expectedSha256);
    const file = this.pathOf(key);
    const tmp = await this.writeTemp(path.dirname(file), body, key);
    try {
      if (expectedSha256 && tmp.sha256 !== expectedSha256) throw integrityError(key, tmp.sha256, expectedSha256);
      await this.commit(tmp, file, key, opts.contentType);
    } catch (e) {
      await removeQuietly(tmp.path);
      throw e;
    }
    return { key, size: tmp.size, sha256: tmp.sha256, md5: tmp.md5 };
  }

  async putContentAddressed(prefix: string, body: Readable | Buffer, opts: Omit<PutOptions, 'expectedSha256'> = {}): Promise<PutResult> {
    const p = prefix.replace(/\/+$/, '');
    assertValidPrefix(p);
    // The final folder is known only once the hash is; the prefix folder is on the same filesystem.
    const tmp = await this.writeTemp(p ? this.pathOf(p) : this.root, body, `${p}/sha256/…`);
    try {
      const key = contentKey(p, tmp.sha256);
      const existing = await this.head(key);
      if (existing && existing.sha256 === tmp.sha256 && existing.size === tmp.size) {
        await removeQuietly(tmp.path);
        return { key, size: tmp.size, sha256: tmp.sha256, md5: tmp.md5 };
      }
      await this.commit(tmp, this.pathOf(key), key, opts.contentType);
      return { key, size: tmp.size, sha256: tmp.sha256, md5: tmp.md5 };
    } catch (e) {
      await removeQuietly(tmp.path);
      throw e;
    }
  }

  async get(key: string, opts: { versionId?: string; range?: ByteRange } = {}): Promise<Readable> {
    assertValidKey(key);
    if (opts.range) assertValidRange(opts.range);
    const notFound = (cause?: unknown) =>
      new AppError('ERR_OBJECT_NOT_FOUND', `object ${key} not found`, { key, versionId: opts.versionId }, { cause });
    if (opts.versionId !== undefined) throw notFound();
    let fh: FileHandle;
    try {
      fh = await open(this.pathOf(key), 'r');
    } catch (e) {
      if (isMissing(e)) throw notFound(e);
      throw this.fail('open', key, e);
    }
    try {
      const st = await fh.stat();
      if (!st.isFile()) throw notFound();
      // The same rule as S3's 416, so both adapters refuse the same ranges.
      if (opts.range && opts.range.start >= st.size) {
        throw new AppError('ERR_VALIDATION', `byte range starting at ${opts.range.start} is outside object ${key} (${st.size} bytes)`, { key, range: opts.range });
      }
      return fh.createReadStream({ start: opts.range?.start, end: opts.range?.end, autoClose: true });
    } catch (e) {
      await fh.close().catch(() => undefined);
      throw this.fail('read', key, e);
    }
  }

  async head(key: string, opts: { versionId?: string } = {}): Promise<ObjectHead | undefined> {
    assertValidKey(key);
    if (opts.versionId !== undefined) return undefined;
    const file = this.pathOf(key);
    let st;
    try {
      st = await stat(file);
    } catch (e) {
      if (isMissing(e)) return undefined;
      throw this.fail('stat', key, e);
    }
    if (!st.isFile()) return undefined;
    let meta = await this.readSidecar(file);
    if (!meta || meta.size !== st.size || meta.mtimeMs !== st.mtimeMs || (meta.ino !== undefined && meta.ino !== st.ino)) meta = await this.repairSidecar(file, key, meta);
    if (!meta) return undefined;
    return { key, size: meta.size, contentType: meta.contentType, sha256: meta.sha256 };
  }

  /** Removes the object and its sidecar. A `versionId` names nothing here, so nothing is removed. */
  async delete(key: string, opts: { versionId?: string; bypassGovernance?: boolean } = {}): Promise<void> {
    assertValidKey(key);
    if (opts.versionId !== undefined) return;
    const file = this.pathOf(key);
    try {
      await unlinkIfPresent(file);
      await unlinkIfPresent(file + SIDECAR_SUFFIX);
    } catch (e) {
      throw this.fail('delete', key, e);
    }
  }

  /** Keys under `prefix` in S3's order (byte order of the UTF-8 key), skipping temporary files and sidecars. */
  async *list(prefix: string): AsyncIterable<{ key: string; size: number }> {
    assertValidPrefix(prefix);
    const folder = prefix.slice(0, prefix.lastIndexOf('/') + 1);
    yield* this.walk(folder ? this.pathOf(folder.slice(0, -1)) : this.root, folder, prefix);
  }

  /** The current objects: a folder has no versions. */
  async *listVersions(prefix: string): AsyncIterable<{ key: string; versionId?: string; size: number; deleteMarker: boolean }> {
    for await (const o of this.list(prefix)) yield { key: o.key, size: o.size, deleteMarker: false };
  }

  /** The current object alone (a folder keeps no versions), written when its file was. */
  async keyHistory(key: string): Promise<ObjectVersion[]> {
    const head = await this.head(key);
    if (!head) return [];
    let st;
    try {
      st = await stat(this.pathOf(key));
    } catch (e) {
      // Deleted between the two reads: nothing is stored under the key now.
      if (isMissing(e)) return [];
      throw this.fail('stat', key, e);
    }
    return [{ key, size: head.size, deleteMarker: false, lastModified: st.mtime, isLatest: true }];
  }

  /** A no-op: a folder has no Object Lock (capabilities().objectLock is false). */
  async setRetention(key: string, _retention: { mode: LockMode; retainUntil: Date }, _opts?: { versionId?: string; bypassGovernance?: boolean }): Promise<void> {
    assertValidKey(key);
  }

  /** A no-op: a folder has no Object Lock (capabilities().objectLock is false). */
  async setLegalHold(key: string, _on: boolean, _opts?: { versionId?: string }): Promise<void> {
    assertValidKey(key);
  }

  async close(): Promise<void> {}

  private pathOf(key: string): string {
    const file = path.join(this.root, ...key.split('/'));
    // assertValidKey already refuses every way out; this guards against a future change to it.
    if (!file.startsWith(this.root + path.sep)) throw new AppError('ERR_VALIDATION', `object key ${JSON.stringify(key)} leaves the store`);
    return file;
  }

  /** Streams the body into a new temporary file in `dir`, fsynced; nothing is left behind on failure. */
  private async writeTemp(dir: string, body: Readable | Buffer, key: string): Promise<TempFile> {
    const tmpPath = path.join(dir, `${TEMP_PREFIX}${randomUUID()}`);
    const digest = new Digest();
    let fh: FileHandle | undefined;
    try {
      await mkdir(dir, { recursive: true });
      fh = await open(tmpPath, 'wx');
      for await (const chunk of bodyChunks(body)) {
        digest.update(chunk);
        await writeAll(fh, chunk);
      }
      await fh.sync();
      const st = await fh.stat();
      await fh.close();
      fh = undefined;
      return { path: tmpPath, ...digest.result(), mtimeMs: st.mtimeMs, ino: st.ino };
    } catch (e) {
      await fh?.close().catch(() => undefined);
      await removeQuietly(tmpPath);
      if (e instanceof SourceError) throw e.original;
      throw this.fail('write', key, e);
    }
  }

  /** Publishes a temporary file as `file`: sidecar first, then the data, each by an atomic rename. */
  private async commit(tmp: TempFile, file: string, key: string, contentType: string | undefined): Promise<void> {
    try {
      await mkdir(path.dirname(file), { recursive: true });
      const there = await stat(file).catch(() => undefined);
      if (there?.isDirectory()) {
        throw new AppError('ERR_CONFLICT', `object key ${key} names a folder of other objects in the filesystem store`, { key });
      }
      await this.writeSidecar(file, { sha256: tmp.sha256, md5: tmp.md5, size: tmp.size, mtimeMs: tmp.mtimeMs, ino: tmp.ino, contentType });
      await rename(tmp.path, file);
      await fsyncFolder(path.dirname(file));
    } catch (e) {
      throw this.fail('commit', key, e);
    }
  }

  private async writeSidecar(file: string, meta: Sidecar): Promise<void> {
    const tmpPath = path.join(path.dirname(file), `${TEMP_PREFIX}${randomUUID()}`);
    try {
      const fh = await open(tmpPath, 'wx');
      try {
        await fh.writeFile(JSON.stringify(meta));
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(tmpPath, file + SIDECAR_SUFFIX);
    } catch (e) {
      await removeQuietly(tmpPath);
      throw e;
    }
  }

  private async readSidecar(file: string): Promise<Sidecar | undefined> {
    try {
      const m = JSON.parse(await readFile(file + SIDECAR_SUFFIX, 'utf8')) as Partial<Sidecar>;
      if (typeof m.sha256 !== 'string' || typeof m.md5 !== 'string' || typeof m.size !== 'number' || typeof m.mtimeMs !== 'number') return undefined;
      return { sha256: m.sha256, md5: m.md5, size: m.size, mtimeMs: m.mtimeMs, ino: typeof m.ino === 'number' ? m.ino : undefined, contentType: typeof m.contentType === 'string' ? m.contentType : undefined };
    } catch {
      return undefined;
    }
  }

  /**
   * Recomputes the digests of a file whose sidecar is missing or describes other bytes (a crash
   * between the renames of a write, or a restore that did not keep mtimes) and records them, so the
   * store never reports a SHA-256 that is not its content's. Undefined when the file vanished.
   */
  private async repairSidecar(file: string, key: string, stale: Sidecar | undefined): Promise<Sidecar | undefined> {
    let fh: FileHandle;
    try {
      fh = await open(file, 'r');
    } catch (e) {
      if (isMissing(e)) return undefined;
      throw this.fail('open', key, e);
    }
    try {
      // Fingerprint and bytes both come from this handle, so a concurrent replace cannot mix them.
      const st = await fh.stat();
      const digest = new Digest();
      for await (const chunk of fh.createReadStream({ autoClose: false })) digest.update(chunk as Buffer);
      const meta: Sidecar = { ...digest.result(), mtimeMs: st.mtimeMs, ino: st.ino, contentType: stale?.contentType };
      this.log.warn({ key }, 'object sidecar was missing or stale; recomputed it');
      // Recording the repair only saves the next reader the work; a read-only store still answers.
      await this.writeSidecar(file, meta).catch((err: unknown) => this.log.warn({ err, key }, 'could not record the recomputed sidecar'));
      return meta;
    } catch (e) {
      throw this.fail('repair metadata of', key, e);
    } finally {
      await fh.close().catch(() => undefined);
    }
  }

  private async *walk(dir: string, keyPrefix: string, prefix: string): AsyncGenerator<{ key: string; size: number }> {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (e) {
      if (isMissing(e)) return;
      throw this.fail('list', prefix, e);
    }
    // A folder sorts as its name plus '/', which puts its keys where S3's byte order puts them.
    const named = entries
      .filter((e) => e.isDirectory() || (e.isFile() && !e.name.startsWith(TEMP_PREFIX) && !e.name.endsWith(SIDECAR_SUFFIX)))
      .map((e) => ({ entry: e, sortKey: Buffer.from(e.isDirectory() ? `${e.name}/` : e.name) }))
      .sort((a, b) => Buffer.compare(a.sortKey, b.sortKey));
    for (const { entry } of named) {
      const key = keyPrefix + entry.name;
      if (entry.isDirectory()) {
        const folder = `${key}/`;
        if (folder.startsWith(prefix) || prefix.startsWith(folder)) yield* this.walk(path.join(dir, entry.name), folder, prefix);
      } else if (key.startsWith(prefix)) {
        try {
          yield { key, size: (await stat(path.join(dir, entry.name))).size };
        } catch (e) {
          // Deleted while listing: it is simply no longer there.
          if (!isMissing(e)) throw this.fail('list', prefix, e);
        }
      }
    }
  }

  private fail(operation: string, key: string, e: unknown): unknown {
    if (e instanceof AppError || e instanceof SourceError) return e;
    const storeCode = (e as NodeJS.ErrnoException | undefined)?.code;
    return new AppError('ERR_STORAGE', `filesystem store: ${operation} ${key} failed${storeCode ? ` (${storeCode})` : ''}`, { operation, key, storeCode }, { cause: e });
  }
}

function isMissing(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR';
}

async function writeAll(fh: FileHandle, chunk: Buffer): Promise<void> {
  let offset = 0;
  while (offset < chunk.length) offset += (await fh.write(chunk, offset, chunk.length - offset)).bytesWritten;
}

async function unlinkIfPresent(file: string): Promise<void> {
  try {
    await unlink(file);
  } catch (e) {
    if (!isMissing(e)) throw e;
  }
}

async function removeQuietly(file: string): Promise<void> {
  await rm(file, { force: true }).catch(() => undefined);
}

/** Makes a rename durable; platforms that cannot fsync a folder are left to their own guarantees. */
async function fsyncFolder(dir: string): Promise<void> {
  let fh: FileHandle | undefined;
  try {
    fh = await open(dir, 'r');
    await fh.sync();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'EISDIR' && code !== 'EPERM' && code !== 'EINVAL' && code !== 'EBADF') throw e;
  } finally {
    await fh?.close().catch(() => undefined);
  }
}
