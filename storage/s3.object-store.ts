import { createHash, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetBucketVersioningCommand,
  GetObjectCommand,
  GetObjectLegalHoldCommand,
  GetObjectLockConfigurationCommand,
  GetObjectRetentionCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  PutObjectCommand,
  PutObjectLegalHoldCommand,
  PutObjectLockConfigurationCommand,
  PutObjectRetentionCommand,
  S3Client,
  UploadPartCommand,
  UploadPartCopyCommand,
  type CompletedPart,
  type CreateMultipartUploadCommandInput,
  type DefaultRetention,
} from '@aws-sdk/client-s3';
import type { ServiceConfig } from '../config/env.ts';
import { AppError } from '../common/errors.ts';
import type { Logger } from '../common/logger.ts';
import { bodyParts, Digest, integrityError, SourceError } from './body.ts';
import { assertValidKey, assertValidPrefix, assertValidRange, isStagingKey, normaliseSha256, STAGING_SEGMENT } from './keys.ts';
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

/** The S3 part of the configuration, as config/env.ts parses it. */
export type S3StoreConfig = Extract<ServiceConfig['store'], { kind: 's3' }>;

/** Knobs tests and diagnostics need; production leaves them unset. */
export interface S3ObjectStoreOptions {
  /** Largest object copied with one CopyObject; larger ones are copied part by part. S3 caps it at 5 GiB. */
  maxCopyObjectBytes?: number;
  /** Keys per list request (S3's maximum, 1000, by default); small values exercise pagination. */
  listPageSize?: number;
  /** Called once with the SDK client the store built, so a test can observe or tamper with requests. */
  instrumentClient?: (client: S3Client) => void;
  /** The time (ms since the epoch) the staging sweep measures ages against; the system clock by default. */
  now?: () => number;
}

type Retention = { mode: LockMode; retainUntil: Date };
type Digests = { sha256: string; md5: string; size: number };
type Target = { key: string } | { prefix: string };

const MIN_PART_BYTES = 5 * 1024 * 1024;
const MAX_PARTS = 10_000;
const MAX_COPY_OBJECT_BYTES = 5 * 1024 ** 3;
const COPY_CONCURRENCY = 4;
/**
 * Age after which a staging object is swept. A younger one may belong to a write still in flight
 * (its copy to the final key not yet done); a write's staged copy takes seconds, not an hour.
 */
const STAGING_SWEEP_AGE_MS = 3600_000;
/** Bounds of every S3 call when the configuration names none (the defaults of config/env.ts). */
export const S3_DEFAULT_TIMEOUTS = Object.freeze({ requestMs: 60_000, connectMs: 5_000, maxAttempts: 4 });

/**
 * The object store on S3: AWS, MinIO or Ceph RGW, through one client. Every write carries
 * Content-MD5 (per part for multipart uploads, which this class drives itself so that each part's
 * MD5 is known before it is sent), records the SHA-256 as `x-amz-meta-sha256`, and is read back
 * (size, SHA-256 metadata, Object Lock) before it is reported as stored.
 */
export class S3ObjectStore implements ObjectStore {
  readonly kind = 's3' as const;
  private readonly client: S3Client;
  private readonly bucket: string;
  private readonly partSize: number;
  private readonly maxCopyObjectBytes: number;
  private readonly listPageSize: number;
  private readonly now: () => number;
  private caps: StoreCapabilities | undefined;

  constructor(
    private readonly config: S3StoreConfig,
    private readonly log: Logger,
    options: S3ObjectStoreOptions = {},
  ) {
    if (config.partSizeBytes < MIN_PART_BYTES) throw new AppError('ERR_VALIDATION', `S3 part size must be at least ${MIN_PART_BYTES} bytes`);
    this.bucket = config.bucket;
    this.partSize = config.partSizeBytes;
    this.maxCopyObjectBytes = Math.min(options.maxCopyObjectBytes ?? MAX_COPY_OBJECT_BYTES, MAX_COPY_OBJECT_BYTES);
    this.listPageSize = options.listPageSize ?? 1000;
    this.now = options.now ?? Date.now;
    const timeouts = config.timeouts ?? S3_DEFAULT_TIMEOUTS;
    this.client = new S3Client({
      endpoint: config.endpoint,
      region: config.region,
      forcePathStyle: config.forcePathStyle,
      // Without keys the SDK's default chain applies (instance roles, AWS_* variables, profiles).
      credentials:
        config.accessKeyId !== undefined && config.secretAccessKey !== undefined
          ? { accessKeyId: config.accessKeyId, secretAccessKey: config.secretAccessKey }
          : undefined,
      // The SDK's default CRC32 trailers are refused by Ceph RGW; Content-MD5 is sent by hand instead.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      // Without bounds a call to a store whose placement groups are stuck waits forever (a disposal
      // once hung 11 minutes on one DELETE). A call that times out is retried with backoff, then
      // fails with a named error, so the operation around it resumes or reports instead of hanging.
      maxAttempts: timeouts.maxAttempts,
      requestHandler: {
        connectionTimeout: timeouts.connectMs,
        requestTimeout: timeouts.requestMs,
        throwOnRequestTimeout: true,
        socketTimeout: timeouts.requestMs,
      },
    });
    options.instrumentClient?.(this.client);
  }

  async init(): Promise<StoreCapabilities> {
    const Bucket = this.bucket;
    try {
      await this.client.send(new HeadBucketCommand({ Bucket }));
    } catch (e) {
      if (statusOf(e) !== 404) throw this.fail('HeadBucket', Bucket, e);
      try {
        // Object Lock can only be switched on when a bucket is created; it also turns on versioning.
        await this.client.send(new CreateBucketCommand({ Bucket, ObjectLockEnabledForBucket: this.config.objectLock || undefined }));
        this.log.info({ bucket: Bucket, objectLock: this.config.objectLock }, 'created the S3 bucket');
      } catch (e2) {
        if (nameOf(e2) !== 'BucketAlreadyOwnedByYou') throw this.fail('CreateBucket', Bucket, e2);
      }
    }
    let versioning: boolean;
    try {
      versioning = (await this.client.send(new GetBucketVersioningCommand({ Bucket }))).Status === 'Enabled';
    } catch (e) {
      throw this.fail('GetBucketVersioning', Bucket, e);
    }
    let objectLock = false;
    let defaultRetention: DefaultRetention | undefined;
    try {
      const r = await this.client.send(new GetObjectLockConfigurationCommand({ Bucket }));
      objectLock = r.ObjectLockConfiguration?.ObjectLockEnabled === 'Enabled';
      defaultRetention = r.ObjectLockConfiguration?.Rule?.DefaultRetention;
    } catch (e) {
      // "Not configured" comes back as 404 (AWS, RGW) or, from stores without the feature, 400/501.
      const status = statusOf(e);
      if (status !== 404 && status !== 400 && status !== 501) throw this.fail('GetObjectLockConfiguration', Bucket, e);
    }
    if (this.config.objectLock && !objectLock) {
      this.log.warn({ bucket: Bucket }, 'S3_OBJECT_LOCK is on but the existing bucket has no Object Lock: retention and legal holds will not be applied');
    }
    if (objectLock && this.config.defaultRetentionDays) await this.ensureDefaultRetention(defaultRetention, this.config.defaultRetentionDays);
    this.caps = Object.freeze({ versioning: versioning || objectLock, objectLock });
    return this.caps;
  }

  /**
   * Gives the bucket a GOVERNANCE default retention of `days` when it has none or a shorter one.
   * The store then locks every new version from its first byte, multipart uploads and server-side
   * copies included (RGW ignores the Object Lock headers of both, measured; it applies the bucket's
   * default to them), before the retention sync gives the object its book's date. A COMPLIANCE or
   * longer default the bucket already has is the operator's and is kept. A bucket that cannot be
   * given one does not start the archive: objects would lie unlocked until the first sync.
   */
  private async ensureDefaultRetention(existing: DefaultRetention | undefined, days: number): Promise<void> {
    const Bucket = this.bucket;
    const existingDays = (existing?.Days ?? 0) + (existing?.Years ?? 0) * 365;
    if (existing?.Mode === 'COMPLIANCE' || (existing?.Mode && existingDays >= days)) {
      this.log.debug({ bucket: Bucket, mode: existing.Mode, days: existingDays }, 'the bucket keeps its own default retention');
      return;
    }
    try {
      await this.client.send(
        new PutObjectLockConfigurationCommand({
          Bucket,
          ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: days } } },
        }),
      );
      this.log.info({ bucket: Bucket, days, before: existing ? existingDays : null }, 'set the bucket default retention: every new version is locked from its first byte');
    } catch (e) {
      if (nameOf(e) !== 'AccessDenied') throw this.fail('PutObjectLockConfiguration', Bucket, e);
      throw new AppError(
        'ERR_CONFIG',
        `S3 bucket ${Bucket} has ${existing ? `a default retention of ${existingDays} day(s)` : 'no default retention'} and setting GOVERNANCE ${days} day(s) was refused: ` +
          'allow the key s3:PutBucketObjectLockConfiguration, or give the bucket that default yourself (or set S3_DEFAULT_RETENTION_DAYS=0 to archive without it knowingly)',
        { bucket: Bucket, storeCode: 'AccessDenied' },
        { cause: e },
      );
    }
  }

  capabilities(): StoreCapabilities {
    if (!this.caps) throw new AppError('ERR_INTERNAL', 'S3ObjectStore.init() must run before the store is used');
    return this.caps;
  }

  async put(key: string, body: Readable | Buffer, opts: PutOptions = {}): Promise<PutResult> {
    assertValidKey(key);
    const expectedSha256 = normaliseSha256(opts.expectedSha256);
    return this.write({ key }, body, { ...opts, expectedSha256 });
  }

  async putContentAddressed(prefix: string, body: Readable | Buffer, opts: Omit<PutOptions, 'expectedSha256'> = {}): Promise<PutResult> {
    const p = prefix.replace(/\/+$/, '');
    assertValidPrefix(p);
    return this.write({ prefix: p }, body, { ...opts, expectedSha256: undefined });
  }

  async get(key: string, opts: { versionId?: string; range?: ByteRange } = {}): Promise<Readable> {
    assertValidKey(key);
    if (opts.range) assertValidRange(opts.range);
    const range = opts.range ? `bytes=${opts.range.start}-${opts.range.end ?? ''}` : undefined;
    try {
      const r = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key, VersionId: opts.versionId, Range: range }));
      if (r.Body instanceof Readable) return r.Body;
      throw new AppError('ERR_STORAGE', `S3 GetObject of ${key} returned no readable body`, { operation: 'GetObject', key });
    } catch (e) {
      if (isNotFound(e)) throw new AppError('ERR_OBJECT_NOT_FOUND', `object ${key} not found`, { key, versionId: opts.versionId }, { cause: e });
      if (statusOf(e) === 416) throw new AppError('ERR_VALIDATION', `byte range ${range} is outside object ${key}`, { key, range: opts.range }, { cause: e });
      throw this.fail('GetObject', key, e);
    }
  }

  async head(key: string, opts: { versionId?: string } = {}): Promise<ObjectHead | undefined> {
    assertValidKey(key);
    return this.headOf(key, opts.versionId);
  }

  async delete(key: string, opts: { versionId?: string; bypassGovernance?: boolean } = {}): Promise<void> {
    assertValidKey(key);
    try {
      await this.client.send(
        new DeleteObjectCommand({ Bucket: this.bucket, Key: key, VersionId: opts.versionId, BypassGovernanceRetention: opts.bypassGovernance || undefined }),
      );
    } catch (e) {
      throw this.failLocked('DeleteObject', key, e);
    }
  }

  async *list(prefix: string): AsyncIterable<{ key: string; size: number }> {
    assertValidPrefix(prefix);
    let token: string | undefined;
    do {
      let r;
      try {
        r = await this.client.send(
          new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token, MaxKeys: this.listPageSize }),
        );
      } catch (e) {
        throw this.fail('ListObjectsV2', prefix, e);
      }
      for (const o of r.Contents ?? []) {
        // Staging objects are writes in flight (or leftovers of a crash), not archive objects.
        if (o.Key !== undefined && !isStagingKey(o.Key)) yield { key: o.Key, size: o.Size ?? 0 };
      }
      token = r.IsTruncated ? r.NextContinuationToken : undefined;
    } while (token);
  }

  /** Every version and delete marker under `prefix`, staging leftovers included so that cleanup finds them. */
  async *listVersions(prefix: string): AsyncIterable<{ key: string; versionId?: string; size: number; deleteMarker: boolean }> {
    assertValidPrefix(prefix);
    for await (const v of this.versionsUnder(prefix)) yield { key: v.key, versionId: v.versionId, size: v.size, deleteMarker: v.deleteMarker };
  }

  /** listVersions(), with each entry's write time and whether it is current, where the store gives them (the staging sweep and keyHistory need them). */
  private async *versionsUnder(prefix: string): AsyncIterable<{ key: string; versionId?: string; size: number; deleteMarker: boolean; lastModified?: Date; isLatest?: boolean }> {
    if (!this.capabilities().versioning) {
      for await (const o of this.list(prefix)) yield { key: o.key, size: o.size, deleteMarker: false };
      return;
    }
    let keyMarker: string | undefined;
    let versionIdMarker: string | undefined;
    do {
      let r;
      try {
        r = await this.client.send(
          new ListObjectVersionsCommand({
            Bucket: this.bucket,
            Prefix: prefix,
            KeyMarker: keyMarker,
            VersionIdMarker: versionIdMarker,
            MaxKeys: this.listPageSize,
          }),
        );
      } catch (e) {
        throw this.fail('ListObjectVersions', prefix, e);
      }
      const page = [
        ...(r.Versions ?? []).map((v) => ({ key: v.Key ?? '', versionId: v.VersionId, size: v.Size ?? 0, deleteMarker: false, lastModified: v.LastModified, isLatest: v.IsLatest })),
        ...(r.DeleteMarkers ?? []).map((m) => ({ key: m.Key ?? '', versionId: m.VersionId, size: 0, deleteMarker: true, lastModified: m.LastModified, isLatest: m.IsLatest })),
      ];
      // S3 returns versions and delete markers in two lists; merge them back into key order.
      page.sort((a, b) => Buffer.compare(Buffer.from(a.key), Buffer.from(b.key)));
      yield* page;
      keyMarker = r.IsTruncated ? r.NextKeyMarker : undefined;
      versionIdMarker = r.IsTruncated ? r.NextVersionIdMarker : undefined;
    } while (keyMarker !== undefined);
  }

  /**
   * One key's versions and delete markers, newest first. S3 returns them in two lists, each newest
   * first; they are merged by write time (RGW gives milliseconds), the current entry first on a tie.
   * Without versioning, the current object from a one-key listing.
   */
  async keyHistory(key: string): Promise<ObjectVersion[]> {
    assertValidKey(key);
    if (!this.capabilities().versioning) {
      let r;
      try {
        // The key itself sorts before every longer key it prefixes.
        r = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: key, MaxKeys: 1 }));
      } catch (e) {
        throw this.fail('ListObjectsV2', key, e);
      }
      const o = r.Contents?.[0];
      return o?.Key === key ? [{ key, size: o.Size ?? 0, deleteMarker: false, lastModified: o.LastModified ?? new Date(0), isLatest: true }] : [];
    }
    const history: ObjectVersion[] = [];
    for await (const v of this.versionsUnder(key)) {
      // Longer keys the key is a prefix of are listed too; content-addressed keys have none.
      if (v.key === key) history.push({ key, versionId: v.versionId, size: v.size, deleteMarker: v.deleteMarker, lastModified: v.lastModified ?? new Date(0), isLatest: v.isLatest ?? false });
    }
    // A stable sort keeps each list's own newest-first order among entries written in the same millisecond.
    return history.sort((a, b) => b.lastModified.getTime() - a.lastModified.getTime() || Number(b.isLatest) - Number(a.isLatest));
  }

  /** Sets retention; a no-op when the bucket has no Object Lock (capabilities() says so). */
  async setRetention(key: string, retention: Retention, opts: { versionId?: string; bypassGovernance?: boolean } = {}): Promise<void> {
    assertValidKey(key);
    if (!this.capabilities().objectLock) return;
    assertValidRetention(retention);
    try {
      await this.client.send(
        new PutObjectRetentionCommand({
          Bucket: this.bucket,
          Key: key,
          VersionId: opts.versionId,
          Retention: { Mode: retention.mode, RetainUntilDate: retention.retainUntil },
          BypassGovernanceRetention: opts.bypassGovernance || undefined,
        }),
      );
    } catch (e) {
      throw this.failLocked('PutObjectRetention', key, e);
    }
  }

  /** Sets or lifts a legal hold; a no-op when the bucket has no Object Lock (capabilities() says so). */
  async setLegalHold(key: string, on: boolean, opts: { versionId?: string } = {}): Promise<void> {
    assertValidKey(key);
    if (!this.capabilities().objectLock) return;
    try {
      await this.client.send(
        new PutObjectLegalHoldCommand({ Bucket: this.bucket, Key: key, VersionId: opts.versionId, LegalHold: { Status: on ? 'ON' : 'OFF' } }),
      );
    } catch (e) {
      throw this.failLocked('PutObjectLegalHold', key, e);
    }
  }

  async close(): Promise<void> {
    this.client.destroy();
  }

  /**
   * One write path for both kinds of put. A body that fits in one part is in memory when its end is
   * seen, so its hash is known before anything is sent and it goes as one PutObject straight to its
   * key. A larger body goes as a multipart upload: straight to its key when the caller announced the
   * SHA-256 (so the metadata can be set up front and a mismatch aborts the upload), otherwise to a
   * staging key, then server-side copied to its key with the metadata once the hash is known.
   */
  private async write(target: Target, body: Readable | Buffer, opts: PutOptions): Promise<PutResult> {
    const label = 'key' in target ? target.key : `${target.prefix}/sha256/…`;
    const digest = new Digest();
    const parts = bodyParts(body, this.partSize, digest);
    try {
      // Two parts are read before deciding, so that a body of exactly one part still goes as one PutObject.
      const held: Buffer[] = [];
      while (held.length < 2) {
        const r = await parts.next();
        if (r.done) break;
        held.push(r.value);
      }
      if (held.length < 2) return await this.writeSmall(target, held[0] ?? Buffer.alloc(0), digest.result(), opts);
      // prepend() empties `held` as it goes, so no part outlives its upload.
      const all = prepend(held, parts);
      if ('key' in target && opts.expectedSha256) return await this.writeLargeDirect(target.key, all, digest, opts, opts.expectedSha256);
      return await this.writeLargeStaged(target, all, digest, opts);
    } catch (e) {
      if (e instanceof SourceError) throw e.original;
      throw this.fail('put', label, e);
    } finally {
      // Stops reading (and destroys) the caller's stream when the write ended early.
      await parts.return(undefined);
    }
  }

  private async writeSmall(target: Target, bytes: Buffer, d: Digests, opts: PutOptions): Promise<PutResult> {
    const key = 'key' in target ? target.key : contentKey(target.prefix, d.sha256);
    if (opts.expectedSha256 && opts.expectedSha256 !== d.sha256) throw integrityError(key, d.sha256, opts.expectedSha256);
    if ('prefix' in target) {
      const existing = await this.existingCopy(key, d, opts);
      if (existing) return existing;
    }
    let versionId: string | undefined;
    try {
      const r = await this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: key,
          Body: bytes,
          ContentLength: bytes.length,
          ContentMD5: Buffer.from(d.md5, 'hex').toString('base64'),
          ContentType: opts.contentType,
          Metadata: { sha256: d.sha256 },
          ...this.lockParams(opts),
        }),
      );
      versionId = r.VersionId;
    } catch (e) {
      throw this.fail('PutObject', key, e);
    }
    await this.verifyWritten(key, versionId, d);
    await this.ensureLock(key, versionId, opts);
    return { key, size: d.size, sha256: d.sha256, md5: d.md5, versionId };
  }

  private async writeLargeDirect(key: string, parts: AsyncIterable<Buffer>, digest: Digest, opts: PutOptions, expectedSha256: string): Promise<PutResult> {
    let d: Digests | undefined;
    const versionId = await this.multipart(
      key,
      { ContentType: opts.contentType, Metadata: { sha256: expectedSha256 }, ...this.lockParams(opts) },
      (uploadId) => this.uploadParts(key, uploadId, parts),
      () => {
        d = digest.result();
        if (d.sha256 !== expectedSha256) throw integrityError(key, d.sha256, expectedSha256);
      },
    );
    const done = d!;
    await this.verifyWritten(key, versionId, done);
    await this.ensureLock(key, versionId, opts);
    return { key, size: done.size, sha256: done.sha256, md5: done.md5, versionId };
  }

  private async writeLargeStaged(target: Target, parts: AsyncIterable<Buffer>, digest: Digest, opts: PutOptions): Promise<PutResult> {
    const parent = 'key' in target ? target.key.slice(0, Math.max(0, target.key.lastIndexOf('/'))) : target.prefix;
    const stagingKey = `${parent ? `${parent}/` : ''}${STAGING_SEGMENT}/${randomUUID()}`;
    let d: Digests | undefined;
    // No Object Lock asked for on the staging object, so that it can be removed at once; under a
    // bucket default retention the store locks it anyway, and the sweep removes it once that lapses.
    const stagingVersionId = await this.multipart(
      stagingKey,
      { ContentType: opts.contentType },
      (uploadId) => this.uploadParts(stagingKey, uploadId, parts),
      () => {
        d = digest.result();
      },
    );
    const done = d!;
    try {
      await this.verifyWritten(stagingKey, stagingVersionId, { ...done, sha256: undefined });
      const key = 'key' in target ? target.key : contentKey(target.prefix, done.sha256);
      if ('prefix' in target) {
        const existing = await this.existingCopy(key, done, opts);
        if (existing) return existing;
      }
      const copied = await this.copy(stagingKey, stagingVersionId, key, done, opts);
      // RGW's CopyObject returns no version id; then the read-back of the current version supplies
      // it, and its size and SHA-256 check keeps a concurrent writer's other bytes from passing.
      const versionId = await this.verifyWritten(key, copied, done);
      await this.ensureLock(key, versionId, opts);
      return { key, size: done.size, sha256: done.sha256, md5: done.md5, versionId };
    } finally {
      await this.removeStaging(stagingKey);
      await this.sweepStaging(parent);
    }
  }

  /** The content-addressed object already holding these bytes, with any requested lock added to it. */
  private async existingCopy(key: string, d: Digests, opts: PutOptions): Promise<PutResult | undefined> {
    const h = await this.headOf(key, undefined, { lock: false });
    if (!h) return undefined;
    if (h.sha256 !== d.sha256 || h.size !== d.size) {
      this.log.warn({ key, size: h.size, sha256: h.sha256 }, 'content-addressed object does not match its key; writing it again');
      return undefined;
    }
    await this.ensureLock(key, h.versionId, opts);
    return { key, size: d.size, sha256: d.sha256, md5: d.md5, versionId: h.versionId };
  }

  /** Creates a multipart upload, runs `send` to add its parts, completes it; aborts it on any failure. */
  private async multipart(
    key: string,
    init: Omit<CreateMultipartUploadCommandInput, 'Bucket' | 'Key'>,
    send: (uploadId: string) => Promise<CompletedPart[]>,
    beforeComplete: () => void,
  ): Promise<string | undefined> {
    let uploadId: string | undefined;
    try {
      uploadId = (await this.client.send(new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: key, ...init }))).UploadId;
      if (!uploadId) throw new Error('CreateMultipartUpload returned no UploadId');
      const parts = await send(uploadId);
      beforeComplete();
      const r = await this.client.send(
        new CompleteMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId, MultipartUpload: { Parts: parts } }),
      );
      return r.VersionId;
    } catch (e) {
      if (uploadId) {
        await this.client
          .send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId }))
          .catch((err: unknown) => this.log.warn({ err, key }, 'could not abort a failed multipart upload; a lifecycle rule must remove it'));
      }
      throw this.fail('multipart upload', key, e);
    }
  }

  /** Uploads parts one at a time while the next one is read, each with its own Content-MD5. */
  private async uploadParts(key: string, uploadId: string, parts: AsyncIterable<Buffer>): Promise<CompletedPart[]> {
    const done: CompletedPart[] = [];
    let inFlight: Promise<void> | undefined;
    try {
      for await (const part of parts) {
        if (inFlight) await inFlight;
        const partNumber = done.length + 1;
        if (partNumber > MAX_PARTS) {
          throw new AppError('ERR_PAYLOAD_TOO_LARGE', `object ${key} needs more than ${MAX_PARTS} parts of ${this.partSize} bytes`);
        }
        done.push({ PartNumber: partNumber });
        inFlight = this.client
          .send(
            new UploadPartCommand({
              Bucket: this.bucket,
              Key: key,
              UploadId: uploadId,
              PartNumber: partNumber,
              Body: part,
              ContentLength: part.length,
              ContentMD5: createHash('md5').update(part).digest('base64'),
            }),
          )
          .then((r) => {
            done[partNumber - 1] = { PartNumber: partNumber, ETag: r.ETag };
          });
        // Observed at the next await; until then this keeps a failure from counting as unhandled.
        inFlight.catch(() => undefined);
      }
      if (inFlight) await inFlight;
      return done;
    } finally {
      // An abort racing a part still uploading could leave that part behind.
      await inFlight?.catch(() => undefined);
    }
  }

  /** Server-side copy with the final metadata and lock; part by part above the single-copy limit. */
  private async copy(src: string, srcVersionId: string | undefined, key: string, d: Digests, opts: PutOptions): Promise<string | undefined> {
    const copySource = `${this.bucket}/${src.split('/').map(encodeURIComponent).join('/')}${
      srcVersionId ? `?versionId=${encodeURIComponent(srcVersionId)}` : ''
    }`;
    const dest = { ContentType: opts.contentType, Metadata: { sha256: d.sha256 }, ...this.lockParams(opts) };
    if (d.size <= this.maxCopyObjectBytes) {
      try {
        const r = await this.client.send(
          new CopyObjectCommand({ Bucket: this.bucket, Key: key, CopySource: copySource, MetadataDirective: 'REPLACE', ...dest }),
        );
        return r.VersionId;
      } catch (e) {
        throw this.fail('CopyObject', key, e);
      }
    }
    const partSize = Math.max(this.partSize, Math.ceil(d.size / MAX_PARTS));
    const ranges: { partNumber: number; start: number; end: number }[] = [];
    for (let start = 0; start < d.size; start += partSize) {
      ranges.push({ partNumber: ranges.length + 1, start, end: Math.min(start + partSize, d.size) - 1 });
    }
    return this.multipart(
      key,
      dest,
      async (uploadId) => {
        const parts: CompletedPart[] = [];
        let next = 0;
        const worker = async () => {
          while (next < ranges.length) {
            const r = ranges[next++]!;
            const res = await this.client.send(
              new UploadPartCopyCommand({
                Bucket: this.bucket,
                Key: key,
                UploadId: uploadId,
                PartNumber: r.partNumber,
                CopySource: copySource,
                CopySourceRange: `bytes=${r.start}-${r.end}`,
              }),
            );
            parts[r.partNumber - 1] = { PartNumber: r.partNumber, ETag: res.CopyPartResult?.ETag };
          }
        };
        // allSettled, so no copy is still running when a failure leads to the abort.
        const results = await Promise.allSettled(Array.from({ length: Math.min(COPY_CONCURRENCY, ranges.length) }, worker));
        const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
        if (failed) throw failed.reason;
        return parts;
      },
      () => undefined,
    );
  }

  /** Removes every version of a staging object; a plain delete would only hide it behind a marker. */
  private async removeStaging(key: string): Promise<void> {
    try {
      if (this.capabilities().versioning) {
        for await (const v of this.versionsUnder(key)) {
          if (v.key === key && v.versionId !== undefined) {
            await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key, VersionId: v.versionId }));
          }
        }
      } else {
        await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
      }
    } catch (err) {
      // A bucket default retention locks staging objects too: expected, and the sweep's to remove later.
      if (this.isLockRefusal(err)) this.log.debug({ key }, 'staging object kept under the bucket default retention until it lapses');
      else this.log.warn({ err, key }, 'could not remove a staging object; the staging sweep removes it later');
    }
  }

  /**
   * Removes the staging objects under `parent` written more than an hour ago: leftovers of writes
   * cut short by a crash, and staged copies a bucket default retention kept. A younger one may be
   * a write in flight, and one still locked is refused by the store: both stay for a later sweep.
   * Runs after each staged write under that prefix (one listing), so nothing else has to schedule it.
   */
  private async sweepStaging(parent: string): Promise<void> {
    if (!this.capabilities().versioning) return;
    const prefix = `${parent ? `${parent}/` : ''}${STAGING_SEGMENT}/`;
    const before = this.now() - STAGING_SWEEP_AGE_MS;
    try {
      for await (const v of this.versionsUnder(prefix)) {
        if (!v.lastModified || v.lastModified.getTime() > before || !isStagingKey(v.key)) continue;
        try {
          await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: v.key, VersionId: v.versionId }));
        } catch (e) {
          if (!this.isLockRefusal(e)) throw e;
        }
      }
    } catch (err) {
      this.log.warn({ err, prefix }, 'could not sweep staging leftovers; the next staged write under this prefix tries again');
    }
  }

  /** True when the store refused a change because Object Lock (retention or legal hold) protects the version. */
  private isLockRefusal(e: unknown): boolean {
    return nameOf(e) === 'AccessDenied' && this.caps?.objectLock === true;
  }

  /** Reads back what was written: a store that lost or truncated a part must not be reported as success. */
  private async verifyWritten(key: string, versionId: string | undefined, d: { size: number; sha256?: string | undefined }): Promise<string | undefined> {
    const h = await this.headOf(key, versionId, { lock: false });
    if (!h) throw new AppError('ERR_INTEGRITY', `object ${key} is missing right after it was written`, { key, versionId });
    if (h.size !== d.size) {
      throw new AppError('ERR_INTEGRITY', `object ${key} has ${h.size} bytes in the store, ${d.size} were sent`, { key, versionId, size: h.size, sent: d.size });
    }
    if (d.sha256 !== undefined && h.sha256 !== d.sha256) {
      throw new AppError('ERR_INTEGRITY', `object ${key} records SHA-256 ${h.sha256 ?? 'none'}, ${d.sha256} was sent`, { key, versionId });
    }
    return h.versionId;
  }

  /**
   * Makes sure the version carries at least the requested retention and legal hold. RGW ignores the
   * Object Lock headers of CreateMultipartUpload and CopyObject, and an existing content-addressed
   * object may have been written with less, so what the headers did is read back and completed.
   * Retention is only ever extended here, and a legal hold never lifted.
   */
  private async ensureLock(key: string, versionId: string | undefined, opts: PutOptions): Promise<void> {
    if (!this.capabilities().objectLock || (!opts.retention && !opts.legalHold)) return;
    const [retention, legalHold] = await Promise.all([this.retentionOf(key, versionId), this.legalHoldOf(key, versionId)]);
    const want = opts.retention;
    if (want) {
      assertValidRetention(want);
      const mode: LockMode = retention?.mode === 'COMPLIANCE' || want.mode === 'COMPLIANCE' ? 'COMPLIANCE' : 'GOVERNANCE';
      const until = retention && retention.retainUntil >= want.retainUntil ? retention.retainUntil : want.retainUntil;
      if (!retention || retention.mode !== mode || retention.retainUntil.getTime() !== until.getTime()) {
        await this.setRetention(key, { mode, retainUntil: until }, { versionId });
      }
    }
    if (opts.legalHold && !legalHold) await this.setLegalHold(key, true, { versionId });
  }

  private async headOf(key: string, versionId: string | undefined, o: { lock: boolean } = { lock: true }): Promise<ObjectHead | undefined> {
    let h;
    try {
      h = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key, VersionId: versionId }));
    } catch (e) {
      // 405 is AWS's answer for a version that is a delete marker.
      if (isNotFound(e) || statusOf(e) === 405) return undefined;
      throw this.fail('HeadObject', key, e);
    }
    const head: ObjectHead = {
      key,
      size: h.ContentLength ?? 0,
      contentType: h.ContentType,
      versionId: h.VersionId,
      sha256: h.Metadata?.sha256,
    };
    if (o.lock && this.capabilities().objectLock) {
      const [retention, legalHold] = await Promise.all([this.retentionOf(key, h.VersionId), this.legalHoldOf(key, h.VersionId)]);
      if (retention) head.retention = retention;
      head.legalHold = legalHold;
    }
    return head;
  }

  private async retentionOf(key: string, versionId: string | undefined): Promise<Retention | undefined> {
    try {
      const r = await this.client.send(new GetObjectRetentionCommand({ Bucket: this.bucket, Key: key, VersionId: versionId }));
      const mode = r.Retention?.Mode;
      const until = r.Retention?.RetainUntilDate;
      return (mode === 'GOVERNANCE' || mode === 'COMPLIANCE') && until ? { mode, retainUntil: new Date(until) } : undefined;
    } catch (e) {
      // "No retention" is a 404 (AWS: NoSuchObjectLockConfiguration, RGW: ObjectLockConfigurationNotFoundError).
      if (statusOf(e) === 404) return undefined;
      throw this.fail('GetObjectRetention', key, e);
    }
  }

  private async legalHoldOf(key: string, versionId: string | undefined): Promise<boolean> {
    try {
      const r = await this.client.send(new GetObjectLegalHoldCommand({ Bucket: this.bucket, Key: key, VersionId: versionId }));
      return r.LegalHold?.Status === 'ON';
    } catch (e) {
      if (statusOf(e) === 404) return false;
      throw this.fail('GetObjectLegalHold', key, e);
    }
  }

  /** Object Lock headers of a write, only where the bucket has Object Lock (elsewhere the store would refuse them). */
  private lockParams(opts: PutOptions): Pick<CreateMultipartUploadCommandInput, 'ObjectLockMode' | 'ObjectLockRetainUntilDate' | 'ObjectLockLegalHoldStatus'> {
    if (!this.capabilities().objectLock) return {};
    if (opts.retention) assertValidRetention(opts.retention);
    return {
      ObjectLockMode: opts.retention?.mode,
      ObjectLockRetainUntilDate: opts.retention?.retainUntil,
      ObjectLockLegalHoldStatus: opts.legalHold ? 'ON' : undefined,
    };
  }

  /** Like fail(), but an AccessDenied on a locked bucket is the lock refusing, which retrying cannot change. */
  private failLocked(operation: string, key: string, e: unknown): unknown {
    if (this.isLockRefusal(e)) {
      return new AppError('ERR_CONFLICT', `S3 ${operation} of ${key} refused by Object Lock (retention or legal hold)`, { operation, key, storeCode: 'AccessDenied' }, { cause: e });
    }
    return this.fail(operation, key, e);
  }

  /**
   * What to throw for a failure: the archive's own errors and the caller's stream errors (unwrapped
   * by write()) pass through, anything else becomes ERR_STORAGE naming the operation and key.
   */
  private fail(operation: string, key: string, e: unknown): unknown {
    if (e instanceof AppError || e instanceof SourceError) return e;
    const storeCode = nameOf(e);
    return new AppError('ERR_STORAGE', `S3 ${operation} of ${key} failed${storeCode ? ` (${storeCode})` : ''}`, { operation, key, storeCode, httpStatus: statusOf(e) }, { cause: e });
  }
}

function statusOf(e: unknown): number | undefined {
  return (e as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode;
}

function nameOf(e: unknown): string | undefined {
  return e instanceof Error ? e.name : undefined;
}

function isNotFound(e: unknown): boolean {
  const name = nameOf(e);
  if (name === 'NoSuchBucket') return false;
  return name === 'NotFound' || name === 'NoSuchKey' || name === 'NoSuchVersion' || statusOf(e) === 404;
}

function assertValidRetention(r: Retention): void {
  if (!(r.retainUntil instanceof Date) || Number.isNaN(r.retainUntil.getTime()) || (r.mode !== 'GOVERNANCE' && r.mode !== 'COMPLIANCE')) {
    throw new AppError('ERR_VALIDATION', `invalid retention ${JSON.stringify(r)}`);
  }
}

async function* prepend(first: Buffer[], rest: AsyncIterator<Buffer>): AsyncGenerator<Buffer> {
  for (let b = first.shift(); b !== undefined; b = first.shift()) yield b;
  while (true) {
    const r = await rest.next();
    if (r.done) return;
    yield r.value;
  }
}
