import type { Readable } from 'node:stream';

/** Object Lock retention mode, as S3 defines it. */
export type LockMode = 'GOVERNANCE' | 'COMPLIANCE';

/** What the store behind the port can do; the archive uses locks only where they exist. */
export interface StoreCapabilities {
  versioning: boolean;
  objectLock: boolean;
}

/** Options of a write. */
export interface PutOptions {
  contentType?: string;
  /** When given, the adapter refuses (and leaves nothing behind) if the bytes hash differently. */
  expectedSha256?: string;
  /** Object Lock retention to apply at write time (ignored by stores without Object Lock). */
  retention?: { mode: LockMode; retainUntil: Date };
  legalHold?: boolean;
}

/** What was written: the archive records all of it. */
export interface PutResult {
  key: string;
  size: number;
  sha256: string;
  md5: string;
  /** Version id on versioned stores, otherwise undefined. */
  versionId?: string;
}

/** Metadata of a stored object. */
export interface ObjectHead {
  key: string;
  size: number;
  contentType?: string;
  versionId?: string;
  /** SHA-256 recorded as object metadata at write time (the store does not compute it). */
  sha256?: string;
  retention?: { mode: LockMode; retainUntil: Date };
  legalHold?: boolean;
}

/**
 * One entry of a key's history in the store: a version, or a delete marker that hides the versions
 * under it (a GET without `versionId` then finds nothing).
 */
export interface ObjectVersion {
  key: string;
  /** Undefined on stores without versioning; delete markers have one too. */
  versionId?: string;
  /** 0 for a delete marker. */
  size: number;
  deleteMarker: boolean;
  /** When the store wrote it. */
  lastModified: Date;
  /** Whether it is what the key shows now. */
  isLatest: boolean;
}

/** A byte range, inclusive, as in HTTP. */
export interface ByteRange {
  start: number;
  end?: number;
}

/**
 * The archive's object storage. Keys are opaque strings chosen by the archive (never user
 * file names). Writes are all-or-nothing: a reader never sees a half-written object.
 */
export interface ObjectStore {
  readonly kind: 's3' | 'fs';
  /** Creates the bucket/folder when missing and reports what the store supports. */
  init(): Promise<StoreCapabilities>;
  capabilities(): StoreCapabilities;
  /** Streams `body` to `key`, hashing while streaming; memory stays bounded for any size. */
  put(key: string, body: Readable | Buffer, opts?: PutOptions): Promise<PutResult>;
  /**
   * Streams `body` into a content-addressed key (`<prefix>/sha256/ab/cd/<sha256>`) whose hash is
   * known only at the end. Writing the same bytes twice yields the same key and one object.
   */
  putContentAddressed(prefix: string, body: Readable | Buffer, opts?: Omit<PutOptions, 'expectedSha256'>): Promise<PutResult>;
  get(key: string, opts?: { versionId?: string; range?: ByteRange }): Promise<Readable>;
  /** Undefined when the object does not exist. */
  head(key: string, opts?: { versionId?: string }): Promise<ObjectHead | undefined>;
  /** Removes the object (or one version). Locked versions are refused unless `bypassGovernance`. */
  delete(key: string, opts?: { versionId?: string; bypassGovernance?: boolean }): Promise<void>;
  list(prefix: string): AsyncIterable<{ key: string; size: number }>;
  /** Lists every version of the keys under `prefix` (versioned stores; otherwise the current objects). */
  listVersions(prefix: string): AsyncIterable<{ key: string; versionId?: string; size: number; deleteMarker: boolean }>;
  /**
   * The history of exactly `key` (not of longer keys it is a prefix of), newest first, versions and
   * delete markers in the order they were written: what sits above a recorded version. Without
   * versioning, the current object alone. Empty when nothing is stored under the key.
   */
  keyHistory(key: string): Promise<ObjectVersion[]>;
  setRetention(key: string, retention: { mode: LockMode; retainUntil: Date }, opts?: { versionId?: string; bypassGovernance?: boolean }): Promise<void>;
  setLegalHold(key: string, on: boolean, opts?: { versionId?: string }): Promise<void>;
  close(): Promise<void>;
}

/** The content-addressed key of a SHA-256 under a prefix. */
export function contentKey(prefix: string, sha256: string): string {
  if (!/^[0-9a-f]{64}$/.test(sha256)) throw new Error(`not a SHA-256 hex digest: ${sha256}`);
  const p = prefix.replace(/\/+$/, '');
  return `${p ? `${p}/` : ''}sha256/${sha256.slice(0, 2)}/${sha256.slice(2, 4)}/${sha256}`;
}
