import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteBucketPolicyCommand,
  GetObjectLockConfigurationCommand,
  PutBucketPolicyCommand,
  PutObjectLockConfigurationCommand,
  DeleteObjectCommand,
  GetObjectRetentionCommand,
  ListMultipartUploadsCommand,
  AbortMultipartUploadCommand,
  ListObjectVersionsCommand,
  PutObjectCommand,
  PutObjectLegalHoldCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../common/logger.ts';
import { requireService, testServices } from '../test-support/services.ts';
import { FsObjectStore } from './fs.object-store.ts';
import { collect, describeObjectStoreConformance, failingStream, hashOf, MULTI_PART_BYTES, pseudoRandom, type StoreUnderTest } from './object-store.conformance.ts';
import { S3ObjectStore, type S3ObjectStoreOptions, type S3StoreConfig } from './s3.object-store.ts';
import { openObjectStore } from './index.ts';

const MiB = 1024 * 1024;

describeObjectStoreConformance(
  'filesystem',
  async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'arkiva-fs-store-'));
    const store = new FsObjectStore({ kind: 'fs', dir }, silentLogger());
    await store.init();
    return {
      store,
      cleanup: async () => {
        await store.close();
        await rm(dir, { recursive: true, force: true });
      },
    };
  },
  { versioning: false, objectLock: false },
);

// Under CI=true a missing RGW throws here, failing the file instead of skipping it.
const s3 = requireService('s3') ? testServices().s3 : undefined;

/** A client for what the adapter must not do for the test: make buckets, inspect uploads, clean up. */
function rawClient(): S3Client {
  return new S3Client({
    endpoint: s3!.endpoint,
    region: s3!.region,
    forcePathStyle: true,
    credentials: { accessKeyId: s3!.accessKeyId, secretAccessKey: s3!.secretAccessKey },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

function newBucketName(): string {
  return `${s3!.bucketPrefix}-${randomUUID().replace(/-/g, '').slice(0, 16)}`.toLowerCase().slice(0, 63);
}

function s3Config(bucket: string, objectLock: boolean): S3StoreConfig {
  return {
    kind: 's3',
    endpoint: s3!.endpoint,
    bucket,
    accessKeyId: s3!.accessKeyId,
    secretAccessKey: s3!.secretAccessKey,
    region: s3!.region,
    forcePathStyle: true,
    objectLock,
    // The smallest part S3 allows, so that modest bodies already take the multipart path.
    partSizeBytes: 5 * MiB,
  };
}

/** A store on a bucket of its own, which init() creates; cleanup empties and removes the bucket. */
async function makeS3Store(objectLock: boolean, options: S3ObjectStoreOptions = {}): Promise<StoreUnderTest & { bucket: string }> {
  const bucket = newBucketName();
  const store = new S3ObjectStore(s3Config(bucket, objectLock), silentLogger(), options);
  await store.init();
  return {
    store,
    bucket,
    cleanup: async () => {
      await store.close();
      await removeBucket(bucket);
    },
  };
}

/**
 * Deletes every upload, version and delete marker of a test bucket, then the bucket. Legal holds
 * are lifted and GOVERNANCE bypassed; a COMPLIANCE version is waited for when it expires within a
 * minute, otherwise the bucket is left (each run uses a new one, so the suite stays re-runnable).
 */
async function removeBucket(bucket: string): Promise<void> {
  const client = rawClient();
  try {
    const uploads = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
    for (const u of uploads.Uploads ?? []) {
      await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: u.Key!, UploadId: u.UploadId! }));
    }
    let keyMarker: string | undefined;
    let versionIdMarker: string | undefined;
    do {
      const page = await client.send(new ListObjectVersionsCommand({ Bucket: bucket, KeyMarker: keyMarker, VersionIdMarker: versionIdMarker }));
      for (const v of [...(page.Versions ?? []), ...(page.DeleteMarkers ?? [])]) await deleteVersion(client, bucket, v.Key!, v.VersionId!);
      keyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
      versionIdMarker = page.IsTruncated ? page.NextVersionIdMarker : undefined;
    } while (keyMarker !== undefined);
    await client.send(new DeleteBucketCommand({ Bucket: bucket }));
  } catch (e) {
    console.warn(`could not remove test bucket ${bucket}:`, e);
  } finally {
    client.destroy();
  }
}

async function deleteVersion(client: S3Client, bucket: string, key: string, versionId: string): Promise<void> {
  const del = () => client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key, VersionId: versionId, BypassGovernanceRetention: true }));
  try {
    await del();
    return;
  } catch (e) {
    if ((e as Error).name !== 'AccessDenied') throw e;
  }
  await client.send(new PutObjectLegalHoldCommand({ Bucket: bucket, Key: key, VersionId: versionId, LegalHold: { Status: 'OFF' } }));
  const retention = await client.send(new GetObjectRetentionCommand({ Bucket: bucket, Key: key, VersionId: versionId })).catch(() => undefined);
  const until = retention?.Retention?.Mode === 'COMPLIANCE' ? retention.Retention.RetainUntilDate : undefined;
  if (until && until.getTime() - Date.now() < 60_000) await new Promise((r) => setTimeout(r, Math.max(0, until.getTime() - Date.now() + 1000)));
  await del();
}

function md5Base64(bytes: Buffer): string {
  return createHash('md5').update(bytes).digest('base64');
}

describe.skipIf(!s3)('S3 object store on RGW', () => {
  // Tiny list pages, so that every listing in the suite crosses page boundaries.
  describeObjectStoreConformance('S3 with Object Lock', () => makeS3Store(true, { listPageSize: 2 }), {
    versioning: true,
    objectLock: true,
  });
  describeObjectStoreConformance('S3 without Object Lock', () => makeS3Store(false, { listPageSize: 3 }), { versioning: false, objectLock: false }, {
    largeObjectBytes: 24 * MiB,
  });

  describe('S3 adapter specifics', () => {
    const buckets: string[] = [];
    let client: S3Client;
    beforeAll(() => {
      client = rawClient();
    });
    afterAll(async () => {
      client.destroy();
      for (const b of buckets) await removeBucket(b);
    });

    /** A store whose SDK requests pass through `tap` before they are signed. */
    async function tappedStore(tap: (command: string, input: Record<string, unknown>, request: { headers: Record<string, string>; body: unknown }) => void, options: S3ObjectStoreOptions = {}) {
      const bucket = newBucketName();
      buckets.push(bucket);
      const store = new S3ObjectStore(s3Config(bucket, false), silentLogger(), {
        ...options,
        instrumentClient: (c) =>
          c.middlewareStack.add(
            (next, context) => async (args) => {
              tap(String(context.commandName), args.input as Record<string, unknown>, args.request as { headers: Record<string, string>; body: unknown });
              return next(args);
            },
            { step: 'build', name: 'conformanceTap' },
          ),
      });
      await store.init();
      return { store, bucket };
    }

    it('the server refuses a PutObject whose Content-MD5 does not match the body', async () => {
      const bucket = newBucketName();
      buckets.push(bucket);
      await client.send(new CreateBucketCommand({ Bucket: bucket }));
      const body = Buffer.from('the bytes that were sent');
      await expect(
        client.send(new PutObjectCommand({ Bucket: bucket, Key: 'x', Body: body, ContentMD5: md5Base64(Buffer.from('other bytes')) })),
      ).rejects.toMatchObject({ name: 'BadDigest' });
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'x', Body: body, ContentMD5: md5Base64(body) }));
    });

    it('every PutObject and UploadPart the adapter sends carries the Content-MD5 of its body', async () => {
      const seen: { command: string; header: string | undefined; actual: string | undefined }[] = [];
      const { store } = await tappedStore((command, _input, request) => {
        if (command === 'PutObjectCommand' || command === 'UploadPartCommand') {
          seen.push({
            command,
            header: request.headers['content-md5'],
            actual: Buffer.isBuffer(request.body) ? md5Base64(request.body) : undefined,
          });
        }
      });
      await store.put('small', Buffer.from('one part'));
      const direct = pseudoRandom(MULTI_PART_BYTES);
      await store.put('direct', direct.stream);
      await store.putContentAddressed('ca', pseudoRandom(MULTI_PART_BYTES).stream);
      expect(seen.filter((s) => s.command === 'PutObjectCommand')).toHaveLength(1);
      expect(seen.filter((s) => s.command === 'UploadPartCommand')).toHaveLength(6);
      for (const s of seen) {
        expect(s.header).toBeDefined();
        expect(s.header).toBe(s.actual);
      }
      await store.close();
    });

    it('a part the server refuses for a wrong Content-MD5 fails the put with ERR_STORAGE and the upload is aborted', async () => {
      const { store, bucket } = await tappedStore((command, input, request) => {
        if (command === 'UploadPartCommand' && input.PartNumber === 2) request.headers['content-md5'] = md5Base64(Buffer.from('not this part'));
      });
      await expect(store.put('corrupted', pseudoRandom(MULTI_PART_BYTES).stream)).rejects.toMatchObject({
        code: 'ERR_STORAGE',
        details: { storeCode: 'BadDigest' },
      });
      expect(await store.head('corrupted')).toBeUndefined();
      expect((await client.send(new ListMultipartUploadsCommand({ Bucket: bucket }))).Uploads ?? []).toEqual([]);
      await store.close();
    });

    it('failed multipart writes (wrong expectedSha256, body cut off) leave no incomplete upload', async () => {
      const { store, bucket } = await tappedStore(() => undefined);
      await expect(store.put('wrong', pseudoRandom(MULTI_PART_BYTES).stream, { expectedSha256: '00'.repeat(32) })).rejects.toMatchObject({ code: 'ERR_INTEGRITY' });
      const boom = new Error('cut off');
      await expect(store.put('cut', failingStream(MULTI_PART_BYTES - MiB, boom))).rejects.toBe(boom);
      await expect(store.putContentAddressed('ca', failingStream(MULTI_PART_BYTES - MiB, boom))).rejects.toBe(boom);
      expect((await client.send(new ListMultipartUploadsCommand({ Bucket: bucket }))).Uploads ?? []).toEqual([]);
      expect((await client.send(new ListObjectVersionsCommand({ Bucket: bucket }))).Versions ?? []).toEqual([]);
      await store.close();
    });

    it('a staged write above the single-copy limit is copied part by part and reads back intact', async () => {
      const commands: string[] = [];
      const { store } = await tappedStore((command) => commands.push(command), { maxCopyObjectBytes: 5 * MiB });
      const gen = pseudoRandom(MULTI_PART_BYTES);
      const put = await store.put('copied', gen.stream);
      const local = gen.digests();
      expect(put.sha256).toBe(local.sha256);
      expect(commands.filter((c) => c === 'UploadPartCopyCommand')).toHaveLength(3);
      expect(commands).not.toContain('CopyObjectCommand');
      expect(await hashOf(await store.get('copied'))).toEqual({ sha256: local.sha256, size: MULTI_PART_BYTES });
      await store.close();
    });

    it('init() creates a missing bucket with Object Lock, and reports an existing one without it as such', async () => {
      const locked = newBucketName();
      buckets.push(locked);
      const a = new S3ObjectStore(s3Config(locked, true), silentLogger());
      expect(await a.init()).toEqual({ versioning: true, objectLock: true });
      expect(await a.init()).toEqual({ versioning: true, objectLock: true });
      await a.close();

      const plain = newBucketName();
      buckets.push(plain);
      await client.send(new CreateBucketCommand({ Bucket: plain }));
      const b = new S3ObjectStore(s3Config(plain, true), silentLogger());
      expect(await b.init()).toEqual({ versioning: false, objectLock: false });
      await b.close();
    });

    it('Arkiva refuses to start on an existing bucket without Object Lock when S3_OBJECT_LOCK is on, naming the bucket', async () => {
      const plain = newBucketName();
      buckets.push(plain);
      await client.send(new CreateBucketCommand({ Bucket: plain }));
      await expect(openObjectStore(s3Config(plain, true), silentLogger())).rejects.toMatchObject({
        code: 'ERR_CONFIG',
        message: expect.stringContaining(`S3 bucket ${plain} exists without Object Lock`),
      });
      // archiving without Object Lock is a choice the operator can make, knowingly
      const unlocked = await openObjectStore(s3Config(plain, false), silentLogger());
      expect(unlocked.capabilities()).toEqual({ versioning: false, objectLock: false });
      await unlocked.close();
    });

    it('a store used before init() says so instead of guessing its capabilities', async () => {
      const store = new S3ObjectStore(s3Config(newBucketName(), true), silentLogger());
      expect(() => store.capabilities()).toThrow(/init\(\)/);
      await store.close();
    });

    describe('a default retention locks every version from its first byte (issue 17, point 4)', () => {
      const DAY = 86_400_000;

      /** A bucket of this test's own, and a store on it initialised with `defaultRetentionDays`. */
      async function storeWithDefault(defaultRetentionDays: number, options: S3ObjectStoreOptions = {}, bucket = newBucketName()) {
        if (!buckets.includes(bucket)) buckets.push(bucket);
        const store = new S3ObjectStore({ ...s3Config(bucket, true), defaultRetentionDays }, silentLogger(), options);
        await store.init();
        return { store, bucket };
      }
      const defaultRetentionOf = async (bucket: string) =>
        (await client.send(new GetObjectLockConfigurationCommand({ Bucket: bucket }))).ObjectLockConfiguration?.Rule?.DefaultRetention;
      const setDefault = (bucket: string, Mode: 'GOVERNANCE' | 'COMPLIANCE', Days: number) =>
        client.send(new PutObjectLockConfigurationCommand({ Bucket: bucket, ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode, Days } } } }));

      it('init() gives an Object Lock bucket without one a GOVERNANCE default retention, raises a shorter one, and keeps a longer or COMPLIANCE one', async () => {
        const { store, bucket } = await storeWithDefault(2);
        expect(await defaultRetentionOf(bucket)).toEqual({ Mode: 'GOVERNANCE', Days: 2 });
        await store.close();
        await setDefault(bucket, 'GOVERNANCE', 1);
        await (await storeWithDefault(2, {}, bucket)).store.close();
        expect(await defaultRetentionOf(bucket)).toEqual({ Mode: 'GOVERNANCE', Days: 2 });
        await setDefault(bucket, 'GOVERNANCE', 30);
        await (await storeWithDefault(2, {}, bucket)).store.close();
        expect(await defaultRetentionOf(bucket)).toEqual({ Mode: 'GOVERNANCE', Days: 30 });
        // The bucket's own rule is never weakened: a COMPLIANCE default, even shorter, stays as it is.
        await setDefault(bucket, 'COMPLIANCE', 1);
        await (await storeWithDefault(2, {}, bucket)).store.close();
        expect(await defaultRetentionOf(bucket)).toEqual({ Mode: 'COMPLIANCE', Days: 1 });
        await setDefault(bucket, 'GOVERNANCE', 1);
      });

      it('every write path (one PutObject, multipart, announced multipart, content-addressed staged then copied whole or part by part) is locked from its first byte with no lock asked for', async () => {
        const { store, bucket } = await storeWithDefault(1);
        const { store: partCopier } = await storeWithDefault(1, { maxCopyObjectBytes: 5 * MiB }, bucket);
        const seed = randomBytes(16);
        const announcedSha = (await hashOf(pseudoRandom(MULTI_PART_BYTES, seed).stream)).sha256;
        const announced = pseudoRandom(MULTI_PART_BYTES, seed);
        const before = Date.now();
        const writes = [
          await store.put('p/one-part', randomBytes(1000)),
          await store.put('p/multipart', pseudoRandom(MULTI_PART_BYTES).stream),
          await store.put('p/announced', announced.stream, { expectedSha256: announcedSha }),
          await store.putContentAddressed('p', randomBytes(1000)),
          await store.putContentAddressed('p', pseudoRandom(MULTI_PART_BYTES).stream),
          await partCopier.putContentAddressed('p', pseudoRandom(MULTI_PART_BYTES).stream),
        ];
        const after = Date.now();
        for (const w of writes) {
          const r = (await client.send(new GetObjectRetentionCommand({ Bucket: bucket, Key: w.key, VersionId: w.versionId }))).Retention;
          expect(r?.Mode, w.key).toBe('GOVERNANCE');
          expect(r!.RetainUntilDate!.getTime(), w.key).toBeGreaterThanOrEqual(before + DAY - 60_000);
          expect(r!.RetainUntilDate!.getTime(), w.key).toBeLessThanOrEqual(after + DAY + 60_000);
          expect((await store.head(w.key, { versionId: w.versionId }))?.retention?.mode, w.key).toBe('GOVERNANCE');
          await expect(store.delete(w.key, { versionId: w.versionId })).rejects.toMatchObject({ code: 'ERR_CONFLICT' });
        }
        // The staging objects of the staged writes are locked too: hidden from list(), kept until the default lapses.
        expect((await collect(store.list('p/'))).map((o) => o.key).sort()).toEqual([...new Set(writes.map((w) => w.key))].sort());
        await store.close();
        await partCopier.close();
      });

      it('staging leftovers older than an hour are swept by the next staged write under their prefix; younger or still-locked ones stay', async () => {
        const { store, bucket } = await storeWithDefault(0);
        const body = Buffer.from('leftover of a cut write');
        const leftover = async (key: string, lock?: Date) =>
          client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentMD5: md5Base64(body), ...(lock ? { ObjectLockMode: 'GOVERNANCE', ObjectLockRetainUntilDate: lock } : {}) }));
        await leftover('p/.staging/crashed');
        await leftover('p/.staging/locked', new Date(Date.now() + 3600_000));
        await leftover('q/.staging/elsewhere');
        const stagingKeys = async () => (await collect(store.listVersions(''))).filter((v) => v.key.includes('/.staging/')).map((v) => v.key).sort();

        // Now: the leftovers may be writes still in flight, so they stay.
        await store.putContentAddressed('p', pseudoRandom(MULTI_PART_BYTES).stream);
        expect(await stagingKeys()).toEqual(['p/.staging/crashed', 'p/.staging/locked', 'q/.staging/elsewhere']);
        // Two hours later: the unlocked one under the written prefix goes; the locked one and the other prefix's stay.
        const { store: later } = await storeWithDefault(0, { now: () => Date.now() + 2 * 3600_000 }, bucket);
        await later.putContentAddressed('p', pseudoRandom(MULTI_PART_BYTES).stream);
        expect(await stagingKeys()).toEqual(['p/.staging/locked', 'q/.staging/elsewhere']);
        await store.close();
        await later.close();
      });

      it("the README's bucket policy makes RGW refuse the governance bypass to the app's key, while writes and lock extensions go on", async () => {
        const { store, bucket } = await storeWithDefault(0);
        const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8');
        const block = /<!-- deny-governance-bypass-policy -->\s*```json\n([\s\S]*?)```/.exec(readme);
        expect(block, 'README: the policy denying s3:BypassGovernanceRetention, marked <!-- deny-governance-bypass-policy -->').not.toBeNull();
        // The test's key is the bucket owner; the README names the app's user, the test denies everyone.
        const policy = JSON.parse(block![1]!.replaceAll('arkiva-archive', bucket)) as { Statement: { Principal: unknown }[] };
        for (const st of policy.Statement) st.Principal = '*';
        const put = await store.put('kept', Buffer.from('kept'), { retention: { mode: 'GOVERNANCE', retainUntil: new Date(Date.now() + 3600_000) } });
        await client.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: JSON.stringify(policy) }));
        try {
          await expect(store.delete('kept', { versionId: put.versionId, bypassGovernance: true })).rejects.toMatchObject({ code: 'ERR_CONFLICT' });
          await expect(store.setRetention('kept', { mode: 'GOVERNANCE', retainUntil: new Date(Date.now() + 60_000) }, { versionId: put.versionId, bypassGovernance: true })).rejects.toMatchObject({ code: 'ERR_CONFLICT' });
          await store.setRetention('kept', { mode: 'GOVERNANCE', retainUntil: new Date(Date.now() + 7200_000) }, { versionId: put.versionId });
          await store.put('other', Buffer.from('still writable'));
          expect(await store.head('kept', { versionId: put.versionId })).toBeDefined();
        } finally {
          await client.send(new DeleteBucketPolicyCommand({ Bucket: bucket }));
          await store.close();
        }
      });
    });
  });
});
