import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { requireService } from '../../test-support/services.ts';
import { openRetentionDeps } from '../../test-support/retention-deps.ts';
import { createBook, recordObject } from '../../archive/index.ts';
import type { AppDeps } from '../../app/deps.ts';
import { buildApp } from '../index.ts';
import { asUser, userHeaders, type Injector } from '../test-kit.ts';

const enabled = requireService('databaseUrl') && requireService('redisUrl') && requireService('s3');

describe.skipIf(!enabled)('fixity routes on PostgreSQL + RGW', () => {
  let app: FastifyInstance;
  let deps: AppDeps;
  let ana: Injector;
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    ({ deps, cleanup } = await openRetentionDeps());
    app = await buildApp(deps, { logRequests: false });
    ana = asUser(app, await userHeaders(deps.db, ['records_manager'], 'ana'));
  });
  afterAll(async () => {
    await app?.close();
    await cleanup?.();
  });

  it('POST /fixity/runs and GET /fixity/runs/{id} report 26 bytes written over a master\'s key as an intrusion with the foreign version, not as damage', async () => {
    const { book } = await createBook(deps.db, {
      registerType: 'birth', municipality: 'Peja', yearFrom: 1900, yearTo: 1901, languages: 'sqi', sourceFormat: 'images', sourceSha256: randomBytes(32).toString('hex'), sourceSize: 1,
    });
    const page = (await deps.db.query<{ id: string }>('INSERT INTO pages (book_id, sequence, status) VALUES ($1, 1, $2) RETURNING id', [book.id, 'done'])).rows[0]!;
    const put = await deps.store.putContentAddressed(`books/${book.id}`, randomBytes(2048), { contentType: 'image/tiff' });
    const { object: master } = await recordObject(deps.db, { bookId: book.id, pageId: page.id, role: 'master' }, put, 'image/tiff');
    const foreign = await deps.store.put(put.key, randomBytes(26));

    const run = await ana.inject({ method: 'POST', url: '/fixity/runs', payload: { bookId: book.id, repair: true } });
    expect(run.statusCode).toBe(200);
    const report = run.json();
    expect(report).toMatchObject({ checked: 1, ok: 0, damaged: 0, intruded: 1 });
    expect(report.problems).toEqual([expect.objectContaining({
      objectId: master.id, outcome: 'intruded', versionId: put.versionId, actualSha256: put.sha256,
      intrusions: [{ versionId: foreign.versionId, deleteMarker: false, size: 26, appearedAt: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/), foundAt: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/) }],
    })]);
    expect(report.problems[0].repair).toBeUndefined();

    // The stored run says the same; the foreign version is still what the key shows.
    const stored = await ana.inject({ method: 'GET', url: `/fixity/runs/${report.runId}` });
    expect(stored.json().report.problems[0]).toMatchObject({ outcome: 'intruded', intrusions: [{ versionId: foreign.versionId, size: 26 }] });
    expect((await deps.store.head(put.key))?.versionId).toBe(foreign.versionId);
  });
});
