import { createCipheriv, createHash, randomBytes, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contentKey, type ObjectStore, type StoreCapabilities } from './object-store.ts';

/** A store built for one conformance run, and how to remove everything it created. */
export interface StoreUnderTest {
  store: ObjectStore;
  cleanup: () => Promise<void>;
}

/** Tuning of a conformance run. */
export interface ConformanceOptions {
  /** Size of the large streamed round trip. Default 100 MiB. */
  largeObjectBytes?: number;
}

const MiB = 1024 * 1024;
/** Larger than twice the smallest S3 part size (5 MiB), so an adapter that splits bodies sends several parts. */
export const MULTI_PART_BYTES = 12 * MiB;

/**
 * The behaviour every ObjectStore adapter must show, as one vitest suite. `expected` is what the
 * adapter under test must report from init(); it decides which Object Lock and versioning tests
 * are registered, so a store that silently lost a capability fails instead of skipping them.
 */
export function describeObjectStoreConformance(
  name: string,
  makeStore: () => Promise<StoreUnderTest>,
  expected: StoreCapabilities,
  options: ConformanceOptions = {},
): void {
  const largeBytes = options.largeObjectBytes ?? 100 * MiB;

  describe(`ObjectStore conformance: ${name}`, () => {
    let store: ObjectStore;
    let cleanup: (() => Promise<void>) | undefined;
    beforeAll(async () => {
      ({ store, cleanup } = await makeStore());
    });
    afterAll(async () => {
      await cleanup?.();
    });
    const newPrefix = () => `conformance/${randomUUID()}`;

    it('init() reports the expected capabilities, and again when it runs twice', async () => {
      expect(store.capabilities()).toEqual(expected);
      expect(await store.init()).toEqual(expected);
    });

    it('round trip: put, head and get agree with the locally computed SHA-256 and MD5', async () => {
      const key = `${newPrefix()}/page.bin`;
      const bytes = randomBytes(64 * 1024 + 123);
      const local = digestsOf(bytes);
      const put = await store.put(key, bytes, { contentType: 'image/tiff' });
      expect(put).toMatchObject({ key, size: bytes.length, sha256: local.sha256, md5: local.md5 });
      expect(put.versionId !== undefined).toBe(expected.versioning);
      const head = await store.head(key);
      expect(head).toMatchObject({ key, size: bytes.length, sha256: local.sha256, contentType: 'image/tiff' });
      if (expected.versioning) expect(head?.versionId).toBe(put.versionId);
      expect(await readAll(await store.get(key))).toEqual(bytes);
    });

    it('a body given as a stream of many chunks is stored byte for byte', async () => {
      const key = `${newPrefix()}/streamed.bin`;
      const gen = pseudoRandom(3 * MiB + 7);
      const put = await store.put(key, gen.stream);
      const local = gen.digests();
      expect(put).toMatchObject({ size: 3 * MiB + 7, sha256: local.sha256, md5: local.md5 });
      expect(await hashOf(await store.get(key))).toEqual({ sha256: local.sha256, size: 3 * MiB + 7 });
    });

    it('an empty object round trips', async () => {
      const key = `${newPrefix()}/empty`;
      const put = await store.put(key, Readable.from([]));
      expect(put).toMatchObject({ size: 0, ...digestsOf(Buffer.alloc(0)) });
      expect(await store.head(key)).toMatchObject({ size: 0, sha256: digestsOf(Buffer.alloc(0)).sha256 });
      expect((await readAll(await store.get(key))).length).toBe(0);
    });

    it('content-addressed: the same bytes written twice give one key and one object', async () => {
      const prefix = newPrefix();
      const bytes = randomBytes(10_000);
      const local = digestsOf(bytes);
      const a = await store.putContentAddressed(prefix, bytes, { contentType: 'image/png' });
      const b = await store.putContentAddressed(`${prefix}/`, Readable.from([bytes.subarray(0, 4000), bytes.subarray(4000)]), { contentType: 'image/png' });
      expect(a).toMatchObject({ key: contentKey(prefix, local.sha256), size: bytes.length, sha256: local.sha256, md5: local.md5 });
      expect(b).toEqual(a);
      expect(await collect(store.listVersions(`${prefix}/`))).toEqual([{ key: a.key, versionId: a.versionId, size: bytes.length, deleteMarker: false }]);
      expect(await store.head(a.key)).toMatchObject({ sha256: local.sha256, contentType: 'image/png' });
    });

    it('content-addressed: a body of several parts is deduplicated too, and no staging object is left', async () => {
      const prefix = newPrefix();
      const seed = randomBytes(16);
      const first = pseudoRandom(MULTI_PART_BYTES, seed);
      const a = await store.putContentAddressed(prefix, first.stream);
      const local = first.digests();
      const b = await store.putContentAddressed(prefix, pseudoRandom(MULTI_PART_BYTES, seed).stream);
      expect(a).toMatchObject({ key: contentKey(prefix, local.sha256), size: MULTI_PART_BYTES, sha256: local.sha256, md5: local.md5 });
      expect(b).toEqual(a);
      expect(await collect(store.listVersions(`${prefix}/`))).toEqual([{ key: a.key, versionId: a.versionId, size: MULTI_PART_BYTES, deleteMarker: false }]);
      expect(await hashOf(await store.get(a.key))).toEqual({ sha256: local.sha256, size: MULTI_PART_BYTES });
    });

    it('expectedSha256: a mismatch is refused with ERR_INTEGRITY and leaves nothing behind; a match is stored', async () => {
      const prefix = newPrefix();
      const wrong = 'ab'.repeat(32);
      await expect(store.put(`${prefix}/small`, randomBytes(1000), { expectedSha256: wrong })).rejects.toMatchObject({ code: 'ERR_INTEGRITY' });
      await expect(store.put(`${prefix}/large`, pseudoRandom(MULTI_PART_BYTES).stream, { expectedSha256: wrong })).rejects.toMatchObject({ code: 'ERR_INTEGRITY' });
      expect(await store.head(`${prefix}/small`)).toBeUndefined();
      expect(await store.head(`${prefix}/large`)).toBeUndefined();
      expect(await collect(store.listVersions(`${prefix}/`))).toEqual([]);

      const seed = randomBytes(16);
      const gen = pseudoRandom(MULTI_PART_BYTES, seed);
      await hashOf(gen.stream);
      const { sha256 } = gen.digests();
      const put = await store.put(`${prefix}/large`, pseudoRandom(MULTI_PART_BYTES, seed).stream, { expectedSha256: sha256.toUpperCase() });
      expect(put.sha256).toBe(sha256);
      expect(await store.head(`${prefix}/large`)).toMatchObject({ size: MULTI_PART_BYTES, sha256 });
    });

    it('range get returns the inclusive byte range; a range past the end is refused', async () => {
      const key = `${newPrefix()}/ranged`;
      const bytes = randomBytes(10_000);
      await store.put(key, bytes);
      expect(await readAll(await store.get(key, { range: { start: 100, end: 199 } }))).toEqual(bytes.subarray(100, 200));
      expect(await readAll(await store.get(key, { range: { start: 9000 } }))).toEqual(bytes.subarray(9000));
      expect(await readAll(await store.get(key, { range: { start: 9990, end: 20_000 } }))).toEqual(bytes.subarray(9990));
      expect(await readAll(await store.get(key, { range: { start: 0, end: 0 } }))).toEqual(bytes.subarray(0, 1));
      await expect(store.get(key, { range: { start: 10_000 } })).rejects.toMatchObject({ code: 'ERR_VALIDATION' });
      await expect(store.get(key, { range: { start: 5, end: 4 } })).rejects.toMatchObject({ code: 'ERR_VALIDATION' });
    });

    it('list and listVersions: the keys under a prefix, in byte order, and nothing else', async () => {
      const prefix = newPrefix();
      const keys = [`${prefix}/b`, `${prefix}/a-b`, `${prefix}/a/c`, `${prefix}/a/d/e`, `${prefix}/ä`, `${prefix}/Z`];
      for (const [i, key] of keys.entries()) await store.put(key, Buffer.alloc(i + 1, i));
      await store.put(`${prefix}-sibling/x`, Buffer.from('x'));
      await store.putContentAddressed(`${prefix}-sibling`, Buffer.from('y'));
      const sorted = [...keys].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
      const sizeOf = (k: string) => keys.indexOf(k) + 1;

      expect(await collect(store.list(`${prefix}/`))).toEqual(sorted.map((key) => ({ key, size: sizeOf(key) })));
      expect((await collect(store.list(`${prefix}/a`))).map((o) => o.key)).toEqual([`${prefix}/a-b`, `${prefix}/a/c`, `${prefix}/a/d/e`]);
      expect((await collect(store.list(prefix))).map((o) => o.key)).toEqual(
        [...sorted, `${prefix}-sibling/x`, contentKey(`${prefix}-sibling`, digestsOf(Buffer.from('y')).sha256)].sort((x, y) =>
          Buffer.compare(Buffer.from(x), Buffer.from(y)),
        ),
      );
      expect(await collect(store.list(`${prefix}/nothing/`))).toEqual([]);

      const versions = await collect(store.listVersions(`${prefix}/`));
      expect(versions.map((v) => ({ key: v.key, size: v.size, deleteMarker: v.deleteMarker }))).toEqual(
        sorted.map((key) => ({ key, size: sizeOf(key), deleteMarker: false })),
      );
      for (const v of versions) expect(v.versionId !== undefined).toBe(expected.versioning);
    });

    it('delete removes the object; deleting a missing key succeeds', async () => {
      const prefix = newPrefix();
      const key = `${prefix}/doomed`;
      const put = await store.put(key, Buffer.from('bye'));
      await store.delete(key);
      expect(await store.head(key)).toBeUndefined();
      await expect(store.get(key)).rejects.toMatchObject({ code: 'ERR_OBJECT_NOT_FOUND' });
      expect(await collect(store.list(`${prefix}/`))).toEqual([]);
      await store.delete(key);
      await store.delete(`${prefix}/never-written`);

      if (expected.versioning) {
        // A delete without versionId only hides the object behind a delete marker.
        const versions = await collect(store.listVersions(`${prefix}/`));
        expect(versions.filter((v) => !v.deleteMarker)).toEqual([{ key, versionId: put.versionId, size: 3, deleteMarker: false }]);
        expect(versions.filter((v) => v.deleteMarker).length).toBeGreaterThan(0);
        expect(await readAll(await store.get(key, { versionId: put.versionId }))).toEqual(Buffer.from('bye'));
        for (const v of versions) await store.delete(v.key, { versionId: v.versionId });
        expect(await collect(store.listVersions(`${prefix}/`))).toEqual([]);
      } else {
        expect(await collect(store.listVersions(`${prefix}/`))).toEqual([]);
      }
    });

    it('a missing key: get() is ERR_OBJECT_NOT_FOUND and head() is undefined', async () => {
      const key = `${newPrefix()}/missing`;
      await expect(store.get(key)).rejects.toMatchObject({ code: 'ERR_OBJECT_NOT_FOUND' });
      await expect(store.get(key, { range: { start: 0, end: 10 } })).rejects.toMatchObject({ code: 'ERR_OBJECT_NOT_FOUND' });
      expect(await store.head(key)).toBeUndefined();
    });

    it('refuses keys that could leave the store or clash with its bookkeeping', async () => {
      const bad = ['', '/abs', 'a/../b', '..', 'a/./b', 'a//b', 'a/', 'a\\b', 'a\u0000b', 'a/.staging/x', 'a/.tmp-1', 'a.meta.json', 'x'.repeat(1025)];
      for (const key of bad) {
        await expect(store.put(key, Buffer.from('x')), JSON.stringify(key)).rejects.toMatchObject({ code: 'ERR_VALIDATION' });
        await expect(store.get(key), JSON.stringify(key)).rejects.toMatchObject({ code: 'ERR_VALIDATION' });
        await expect(store.head(key), JSON.stringify(key)).rejects.toMatchObject({ code: 'ERR_VALIDATION' });
        await expect(store.delete(key), JSON.stringify(key)).rejects.toMatchObject({ code: 'ERR_VALIDATION' });
      }
      await expect(store.putContentAddressed('../up', Buffer.from('x'))).rejects.toMatchObject({ code: 'ERR_VALIDATION' });
      await expect(collect(store.list('../'))).rejects.toMatchObject({ code: 'ERR_VALIDATION' });
    });

    it('a body stream that fails halfway stores nothing, and its own error reaches the caller', async () => {
      const prefix = newPrefix();
      for (const [what, okBytes] of [['small', 1000], ['multipart', MULTI_PART_BYTES - MiB]] as const) {
        const boom = new Error(`client went away (${what})`);
        await expect(store.put(`${prefix}/${what}`, failingStream(okBytes, boom))).rejects.toBe(boom);
        await expect(store.putContentAddressed(`${prefix}/ca-${what}`, failingStream(okBytes, boom))).rejects.toBe(boom);
      }
      expect(await collect(store.listVersions(`${prefix}/`))).toEqual([]);
      expect(await collect(store.list(`${prefix}/`))).toEqual([]);
    });

    it(`a ${Math.round(largeBytes / MiB)} MiB object round trips through a streamed write; the SHA-256 of get() matches`, async () => {
      const key = `${newPrefix()}/large.bin`;
      const gen = pseudoRandom(largeBytes);
      const put = await store.put(key, gen.stream, { contentType: 'image/tiff' });
      const local = gen.digests();
      expect(put).toMatchObject({ key, size: largeBytes, sha256: local.sha256, md5: local.md5 });
      expect(await store.head(key)).toMatchObject({ size: largeBytes, sha256: local.sha256, contentType: 'image/tiff' });
      expect(await hashOf(await store.get(key, { versionId: put.versionId }))).toEqual({ sha256: local.sha256, size: largeBytes });
      await store.delete(key, { versionId: put.versionId });
    });

    // Registered only where they apply, so a run reports no skipped tests.
    if (expected.versioning) describe('versioning', () => {
      it('overwriting a key keeps the previous version readable by its versionId', async () => {
        const key = `${newPrefix()}/twice`;
        const v1 = await store.put(key, Buffer.from('first'));
        const v2 = await store.put(key, Buffer.from('second'));
        expect(v2.versionId).not.toBe(v1.versionId);
        expect(await readAll(await store.get(key))).toEqual(Buffer.from('second'));
        expect(await readAll(await store.get(key, { versionId: v1.versionId }))).toEqual(Buffer.from('first'));
        expect(await store.head(key, { versionId: v1.versionId })).toMatchObject({ versionId: v1.versionId, sha256: digestsOf(Buffer.from('first')).sha256 });
        const versions = await collect(store.listVersions(key));
        expect(versions.map((v) => v.versionId).sort()).toEqual([v1.versionId, v2.versionId].sort());
      });

      it('keyHistory() gives one key\'s versions and delete markers newest first, interleaved as written, and nothing of longer keys', async () => {
        const key = `${newPrefix()}/history`;
        const v1 = await store.put(key, Buffer.from('first'));
        await store.delete(key);
        const v2 = await store.put(key, Buffer.from('second!'));
        await store.delete(key);
        await store.put(`${key}-longer`, Buffer.from('x'));
        const history = await store.keyHistory(key);
        const name = (id: string | undefined) => (id === v1.versionId ? 'v1' : id === v2.versionId ? 'v2' : 'marker');
        expect(history.map((v) => [name(v.versionId), v.size, v.deleteMarker, v.isLatest])).toEqual([
          ['marker', 0, true, true], ['v2', 7, false, false], ['marker', 0, true, false], ['v1', 5, false, false],
        ]);
        for (const [i, v] of history.entries()) {
          expect(v.key).toBe(key);
          expect(v.versionId).toBeDefined();
          if (i > 0) expect(v.lastModified.getTime()).toBeLessThanOrEqual(history[i - 1]!.lastModified.getTime());
        }
        expect(await store.keyHistory(`${key}-never`)).toEqual([]);
      });
    });

    if (!expected.versioning) describe('without versioning', () => {
      it('overwriting a key replaces the object; listVersions() gives the current objects without versionId', async () => {
        const key = `${newPrefix()}/twice`;
        await store.put(key, Buffer.from('first'));
        const put = await store.put(key, Buffer.from('second'), { contentType: 'text/plain' });
        expect(put.versionId).toBeUndefined();
        expect(await readAll(await store.get(key))).toEqual(Buffer.from('second'));
        expect(await store.head(key)).toMatchObject({ size: 6, sha256: digestsOf(Buffer.from('second')).sha256, contentType: 'text/plain' });
        expect(await collect(store.listVersions(key))).toEqual([{ key, size: 6, deleteMarker: false }]);
      });

      it('keyHistory() gives the current object alone, and nothing once it is deleted', async () => {
        const key = `${newPrefix()}/history`;
        const before = Date.now();
        await store.put(key, Buffer.from('first'));
        await store.put(key, Buffer.from('second'));
        await store.put(`${key}-longer`, Buffer.from('x'));
        const history = await store.keyHistory(key);
        expect(history).toEqual([{ key, size: 6, deleteMarker: false, lastModified: expect.any(Date), isLatest: true }]);
        // The store's clock may differ a little from the test's (S3 lists whole seconds).
        expect(Math.abs(history[0]!.lastModified.getTime() - before)).toBeLessThan(60_000);
        await store.delete(key);
        expect(await store.keyHistory(key)).toEqual([]);
      });
    });

    if (expected.objectLock) describe('Object Lock', () => {
      const inAnHour = () => new Date(Date.now() + 3600_000);

      it('retention and legal hold given at write time are read back by head(), for every write path', async () => {
        const prefix = newPrefix();
        const retention = { mode: 'GOVERNANCE' as const, retainUntil: inAnHour() };
        const seed = randomBytes(16);
        const announced = pseudoRandom(MULTI_PART_BYTES, seed);
        await hashOf(announced.stream);
        const writes = [
          await store.put(`${prefix}/one-part`, randomBytes(1000), { retention, legalHold: true }),
          await store.put(`${prefix}/multipart`, pseudoRandom(MULTI_PART_BYTES).stream, { retention, legalHold: true }),
          await store.put(`${prefix}/multipart-announced`, pseudoRandom(MULTI_PART_BYTES, seed).stream, {
            retention,
            legalHold: true,
            expectedSha256: announced.digests().sha256,
          }),
          await store.putContentAddressed(prefix, randomBytes(1000), { retention, legalHold: true }),
          await store.putContentAddressed(prefix, pseudoRandom(MULTI_PART_BYTES).stream, { retention, legalHold: true }),
        ];
        for (const w of writes) {
          const head = await store.head(w.key, { versionId: w.versionId });
          expect(head?.legalHold, w.key).toBe(true);
          expect(head?.retention?.mode, w.key).toBe('GOVERNANCE');
          expect(Math.abs(head!.retention!.retainUntil.getTime() - retention.retainUntil.getTime()), w.key).toBeLessThan(1000);
        }
        const plain = await store.put(`${prefix}/plain`, Buffer.from('p'));
        expect(await store.head(plain.key)).toMatchObject({ legalHold: false });
        expect((await store.head(plain.key))?.retention).toBeUndefined();
      });

      it('a version under GOVERNANCE retention cannot be deleted, except with bypassGovernance', async () => {
        const key = `${newPrefix()}/governed`;
        const put = await store.put(key, Buffer.from('kept'), { retention: { mode: 'GOVERNANCE', retainUntil: inAnHour() } });
        await expect(store.delete(key, { versionId: put.versionId })).rejects.toMatchObject({ code: 'ERR_CONFLICT', details: { storeCode: 'AccessDenied' } });
        expect(await store.head(key, { versionId: put.versionId })).toBeDefined();
        await store.delete(key, { versionId: put.versionId, bypassGovernance: true });
        expect(await store.head(key, { versionId: put.versionId })).toBeUndefined();
      });

      it('a legal hold set later is read back and blocks deletion, even with bypassGovernance, until lifted', async () => {
        const key = `${newPrefix()}/held`;
        const put = await store.put(key, Buffer.from('evidence'));
        await store.setLegalHold(key, true, { versionId: put.versionId });
        expect(await store.head(key, { versionId: put.versionId })).toMatchObject({ legalHold: true });
        await expect(store.delete(key, { versionId: put.versionId, bypassGovernance: true })).rejects.toMatchObject({ code: 'ERR_CONFLICT' });
        await store.setLegalHold(key, false, { versionId: put.versionId });
        expect(await store.head(key, { versionId: put.versionId })).toMatchObject({ legalHold: false });
        await store.delete(key, { versionId: put.versionId });
        expect(await store.head(key, { versionId: put.versionId })).toBeUndefined();
      });

      it('setRetention is read back by head(); rewriting content-addressed bytes extends the lock of the existing object', async () => {
        const prefix = newPrefix();
        const put = await store.put(`${prefix}/later`, Buffer.from('later'));
        const retainUntil = inAnHour();
        await store.setRetention(put.key, { mode: 'GOVERNANCE', retainUntil }, { versionId: put.versionId });
        const head = await store.head(put.key);
        expect(head?.retention?.mode).toBe('GOVERNANCE');
        expect(Math.abs(head!.retention!.retainUntil.getTime() - retainUntil.getTime())).toBeLessThan(1000);

        const bytes = randomBytes(2000);
        const a = await store.putContentAddressed(prefix, bytes);
        expect((await store.head(a.key))?.retention).toBeUndefined();
        const b = await store.putContentAddressed(prefix, bytes, { retention: { mode: 'GOVERNANCE', retainUntil }, legalHold: true });
        expect(b).toEqual(a);
        expect(await store.head(a.key)).toMatchObject({ versionId: a.versionId, legalHold: true, retention: { mode: 'GOVERNANCE' } });
      });

      it('a version under COMPLIANCE retention cannot be deleted, even with bypassGovernance, until it expires', async () => {
        const key = `${newPrefix()}/compliance`;
        // A short retention, so the test and its bucket can still be cleaned up; long enough that a
        // slow machine still tries the delete before it expires.
        const retainUntil = new Date(Date.now() + 4000);
        const put = await store.put(key, Buffer.from('sealed'), { retention: { mode: 'COMPLIANCE', retainUntil } });
        expect((await store.head(key))?.retention?.mode).toBe('COMPLIANCE');
        await expect(store.delete(key, { versionId: put.versionId, bypassGovernance: true })).rejects.toMatchObject({
          code: 'ERR_CONFLICT',
          details: { storeCode: 'AccessDenied' },
        });
        await new Promise((r) => setTimeout(r, Math.max(0, retainUntil.getTime() - Date.now() + 1000)));
        await store.delete(key, { versionId: put.versionId });
        expect(await store.head(key, { versionId: put.versionId })).toBeUndefined();
      });
    });

    if (!expected.objectLock) describe('without Object Lock', () => {
      it('retention and legal hold are ignored at write time; setRetention and setLegalHold are no-ops', async () => {
        const key = `${newPrefix()}/unlocked`;
        const retention = { mode: 'COMPLIANCE' as const, retainUntil: new Date(Date.now() + 3600_000) };
        const put = await store.put(key, Buffer.from('free'), { retention, legalHold: true });
        await store.setRetention(key, retention, { versionId: put.versionId });
        await store.setLegalHold(key, true, { versionId: put.versionId });
        const head = await store.head(key);
        expect(head?.retention).toBeUndefined();
        expect(head?.legalHold ?? false).toBe(false);
        await store.delete(key);
        expect(await store.head(key)).toBeUndefined();
      });
    });
  });
}

/** SHA-256 and MD5 hex of a buffer. */
export function digestsOf(bytes: Buffer): { sha256: string; md5: string } {
  return { sha256: createHash('sha256').update(bytes).digest('hex'), md5: createHash('md5').update(bytes).digest('hex') };
}

/**
 * A stream of `size` pseudo-random bytes (an AES-CTR keystream, so the same seed gives the same
 * bytes) generated as it is read, so a large object never sits in memory. `digests()` is valid once
 * the stream has ended.
 */
export function pseudoRandom(size: number, seed: Buffer = randomBytes(16)): { stream: Readable; digests: () => { sha256: string; md5: string } } {
  const cipher = createCipheriv('aes-128-ctr', seed, Buffer.alloc(16));
  const zeros = Buffer.alloc(MiB);
  const sha = createHash('sha256');
  const md5 = createHash('md5');
  let left = size;
  const stream = new Readable({
    read() {
      if (left === 0) {
        this.push(null);
        return;
      }
      // Uneven chunk sizes, so adapters meet chunks that straddle their part boundaries.
      const n = Math.min(left, zeros.length - (left % 4099));
      const chunk = cipher.update(zeros.subarray(0, n));
      left -= n;
      sha.update(chunk);
      md5.update(chunk);
      this.push(chunk);
    },
  });
  return { stream, digests: () => ({ sha256: sha.digest('hex'), md5: md5.digest('hex') }) };
}

/** A stream that gives `okBytes` bytes and then fails with `error`, like an upload cut off halfway. */
export function failingStream(okBytes: number, error: Error): Readable {
  let sent = 0;
  return new Readable({
    read() {
      if (sent >= okBytes) {
        this.destroy(error);
        return;
      }
      const n = Math.min(64 * 1024, okBytes - sent);
      sent += n;
      this.push(randomBytes(n));
    },
  });
}

/** Every byte of a stream (small objects only). */
export async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream as AsyncIterable<Buffer>) chunks.push(c);
  return Buffer.concat(chunks);
}

/** SHA-256 and size of a stream, computed while it is read. */
export async function hashOf(stream: Readable): Promise<{ sha256: string; size: number }> {
  const sha = createHash('sha256');
  let size = 0;
  for await (const c of stream as AsyncIterable<Buffer>) {
    sha.update(c);
    size += c.length;
  }
  return { sha256: sha.digest('hex'), size };
}

/** The items of an async iterable, in order. */
export async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}
