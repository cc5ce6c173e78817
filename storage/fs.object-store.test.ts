import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../common/logger.ts';
import { FsObjectStore } from './fs.object-store.ts';
import { collect, failingStream, pseudoRandom, readAll } from './object-store.conformance.ts';

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** Every file under `dir`, relative, so a test can see exactly what a write left on disk. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)))
    .sort();
}

describe('FsObjectStore', () => {
  let dir: string;
  let store: FsObjectStore;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'arkiva-fs-unit-'));
    store = new FsObjectStore({ kind: 'fs', dir }, silentLogger());
    await store.init();
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps each object as a file beside its sidecar, and nothing else', async () => {
    await store.put('books/1/page.tif', Buffer.from('tiff'), { contentType: 'image/tiff' });
    expect(await filesUnder(dir)).toEqual(['books/1/page.tif', 'books/1/page.tif.meta.json']);
    expect(await readFile(path.join(dir, 'books/1/page.tif'), 'utf8')).toBe('tiff');
    expect(JSON.parse(await readFile(path.join(dir, 'books/1/page.tif.meta.json'), 'utf8'))).toMatchObject({
      sha256: sha256(Buffer.from('tiff')),
      size: 4,
      contentType: 'image/tiff',
    });
  });

  it('a crash mid-write (a body that errors halfway) leaves no object and no temporary file', async () => {
    await store.put('books/1/kept', Buffer.from('old'));
    const boom = new Error('disk pulled');
    await expect(store.put('books/1/kept', failingStream(5 * 1024 * 1024, boom))).rejects.toBe(boom);
    await expect(store.put('books/1/new', failingStream(5 * 1024 * 1024, boom))).rejects.toBe(boom);
    await expect(store.putContentAddressed('originals', failingStream(100_000, boom))).rejects.toBe(boom);
    // The previous object is untouched: a reader never sees part of the new one.
    expect(await readAll(await store.get('books/1/kept'))).toEqual(Buffer.from('old'));
    expect(await filesUnder(dir)).toEqual(['books/1/kept', 'books/1/kept.meta.json']);
  });

  it('an expectedSha256 mismatch leaves no temporary file and keeps the previous object', async () => {
    await store.put('a/b', Buffer.from('before'));
    await expect(store.put('a/b', pseudoRandom(3 * 1024 * 1024).stream, { expectedSha256: '12'.repeat(32) })).rejects.toMatchObject({
      code: 'ERR_INTEGRITY',
    });
    expect(await readAll(await store.get('a/b'))).toEqual(Buffer.from('before'));
    expect(await filesUnder(dir)).toEqual(['a/b', 'a/b.meta.json']);
  });

  it('lists neither sidecars nor temporary files of writes in flight', async () => {
    await store.put('x/one', Buffer.from('1'));
    await writeFile(path.join(dir, 'x', '.tmp-leftover'), 'half');
    expect(await collect(store.list('x/'))).toEqual([{ key: 'x/one', size: 1 }]);
  });

  it('recomputes a sidecar that is missing or describes other bytes, instead of believing it', async () => {
    await store.put('p/q', Buffer.from('original'), { contentType: 'text/plain' });
    // A crash between the sidecar's rename and the data's, or a restore that changed the files.
    await writeFile(path.join(dir, 'p/q'), 'replaced!');
    expect(await store.head('p/q')).toMatchObject({ size: 9, sha256: sha256(Buffer.from('replaced!')), contentType: 'text/plain' });
    expect(JSON.parse(await readFile(path.join(dir, 'p/q.meta.json'), 'utf8'))).toMatchObject({ sha256: sha256(Buffer.from('replaced!')) });

    await unlink(path.join(dir, 'p/q.meta.json'));
    expect(await store.head('p/q')).toMatchObject({ size: 9, sha256: sha256(Buffer.from('replaced!')) });
  });

  it('concurrent writes of one key leave one whole object whose head() describes it', async () => {
    const bodies = Array.from({ length: 8 }, () => randomBytes(200_000));
    await Promise.all(bodies.map((b) => store.put('race/key', b)));
    const stored = await readAll(await store.get('race/key'));
    expect(bodies.some((b) => b.equals(stored))).toBe(true);
    expect((await store.head('race/key'))?.sha256).toBe(sha256(stored));
    expect(await filesUnder(dir)).toEqual(['race/key', 'race/key.meta.json']);
  });

  it('concurrent content-addressed writes of the same bytes give one object', async () => {
    const bytes = randomBytes(300_000);
    const results = await Promise.all(Array.from({ length: 6 }, () => store.putContentAddressed('ocr', bytes)));
    expect(new Set(results.map((r) => r.key)).size).toBe(1);
    expect((await collect(store.list('ocr/'))).map((o) => o.key)).toEqual([results[0]!.key]);
    expect((await store.head(results[0]!.key))?.sha256).toBe(sha256(bytes));
  });

  it('refuses to write an object where a folder of other objects is, and leaves both alone', async () => {
    await store.put('f/inner', Buffer.from('i'));
    await expect(store.put('f', Buffer.from('clash'))).rejects.toMatchObject({ code: 'ERR_CONFLICT' });
    expect(await filesUnder(dir)).toEqual(['f/inner', 'f/inner.meta.json']);
    expect(await store.head('f')).toBeUndefined();
  });

  it('a versionId names nothing: get() is not found, head() undefined, delete() removes nothing', async () => {
    await store.put('v/k', Buffer.from('k'));
    await expect(store.get('v/k', { versionId: 'abc' })).rejects.toMatchObject({ code: 'ERR_OBJECT_NOT_FOUND' });
    expect(await store.head('v/k', { versionId: 'abc' })).toBeUndefined();
    await store.delete('v/k', { versionId: 'abc' });
    expect(await store.head('v/k')).toBeDefined();
  });

  it('objects outlive the store instance that wrote them', async () => {
    const put = await store.put('durable/k', Buffer.from('still here'), { contentType: 'text/plain' });
    const again = new FsObjectStore({ kind: 'fs', dir }, silentLogger());
    await again.init();
    expect(await again.head('durable/k')).toMatchObject({ sha256: put.sha256, size: put.size, contentType: 'text/plain' });
  });
});
