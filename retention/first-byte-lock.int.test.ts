/**
 * Issue 17, point 4: a fresh book's objects used to carry no retention and no legal hold until the
 * first `retention run` (28 s later on the reported book, or the daily job). The bucket's default
 * retention, which Arkiva gives the bucket at start, now locks each version from its first byte.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateFixtureFiles } from '../fixtures/index.ts';
import { ingestBook } from '../ingest/index.ts';
import { listObjects } from '../archive/index.ts';
import { startWorkers } from '../workers/index.ts';
import { waitForBook } from '../cli/wait.ts';
import { requireService } from '../test-support/services.ts';
import { openRealDeps, realServicesEnv } from '../test-support/real-deps.ts';
import { getItemRetention } from './rules.store.ts';

const ready = requireService('databaseUrl') && requireService('redisUrl') && requireService('s3');

describe.skipIf(!ready)('a fresh book on PostgreSQL + BullMQ + RGW is locked from its first byte', () => {
  let dir: string;
  let env: Awaited<ReturnType<typeof openRealDeps>>;
  beforeAll(async () => {
    dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'arkiva-first-lock-'));
    // The smallest part size, so the original (a multi-page TIFF) goes through the staged multipart upload and server-side copy.
    env = await openRealDeps(realServicesEnv({ OCR_POOL_SIZE: '1', S3_PART_SIZE_MB: '5' }));
  });
  afterAll(async () => {
    await env?.cleanup();
    if (dir) await fs.promises.rm(dir, { recursive: true, force: true });
  });

  it('the original, every master and every other object of a book just ingested carry GOVERNANCE retention before any retention run', async () => {
    const { deps } = env;
    const files = await generateFixtureFiles({ outDir: path.join(dir, 'in'), pages: 2, seed: 17, formats: ['tiff'], scale: 0.4, style: 'printed' });
    const t = files.truth.book;
    const workers = await startWorkers(deps);
    const before = Date.now();
    let bookId: string;
    try {
      const { book } = await ingestBook(deps, { kind: 'file', path: files.tiff!.path }, { registerType: 'birth', municipality: t.municipality, yearFrom: t.yearFrom, yearTo: t.yearTo, languages: 'sqi' });
      // Right after ingest: the original alone is stored.
      const [original] = await listObjects(deps.db, book.id);
      expect(original?.role).toBe('original');
      const head = await deps.store.head(original!.storeKey, { versionId: original!.versionId! });
      expect(head?.retention?.mode).toBe('GOVERNANCE');
      expect(head!.retention!.retainUntil.getTime()).toBeGreaterThan(before + 23 * 3600_000);
      bookId = book.id;
      await waitForBook(deps.db, book.id, { progress: false, timeoutMs: 180_000 });
    } finally {
      await workers.close();
    }
    const objects = await listObjects(deps.db, bookId);
    expect(objects.filter((o) => o.role === 'master')).toHaveLength(2);
    for (const o of objects) {
      const h = await deps.store.head(o.storeKey, { versionId: o.versionId! });
      expect(h?.retention?.mode, `${o.role} ${o.storeKey}`).toBe('GOVERNANCE');
      expect(h!.retention!.retainUntil.getTime(), `${o.role} ${o.storeKey}`).toBeGreaterThan(before + 23 * 3600_000);
      await expect(deps.store.delete(o.storeKey, { versionId: o.versionId! }), `${o.role} ${o.storeKey}`).rejects.toMatchObject({ code: 'ERR_CONFLICT' });
    }
    // No lock sync happened: the locks are the bucket's. (The book's retention itself is computed
    // when it is archived, issue 18, but writing it to the store's locks is the retention run's.)
    expect(await getItemRetention(deps.db, bookId)).toMatchObject({ computedReason: 'book archived: retention and closure computed from the rules in force', lockUntil: null });
  }, 240_000);
});
