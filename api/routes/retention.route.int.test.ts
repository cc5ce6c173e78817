import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { requireService } from '../../test-support/services.ts';
import { openRetentionDeps } from '../../retention/test-deps.ts';
import { createBook } from '../../archive/index.ts';
import { buildApp } from '../index.ts';

const enabled = requireService('databaseUrl') && requireService('redisUrl') && requireService('s3');

describe.skipIf(!enabled)('retention routes', () => {
  let app: FastifyInstance;
  let cleanup: () => Promise<void>;
  let bookId: string;
  beforeAll(async () => {
    const o = await openRetentionDeps();
    cleanup = o.cleanup;
    app = await buildApp(o.deps, { logRequests: false });
    bookId = (await createBook(o.deps.db, { registerType: 'birth', municipality: 'Peja', yearFrom: 1900, yearTo: 1901, languages: 'sqi', sourceFormat: 'images', sourceSha256: 'a'.repeat(64), sourceSize: 1 })).book.id;
  });
  afterAll(async () => {
    await app?.close();
    await cleanup?.();
  });

  it('writes a rule version, explains the book, proposes a batch and refuses self-approval', async () => {
    const put = await app.inject({ method: 'PUT', url: '/retention/rules/births', payload: { kind: 'retention', name: 'Births', registerType: 'birth', trigger: 'closing-year', periodYears: 100, action: 'destroy', by: 'ana', reason: 'schedule 2025' } });
    expect(put.statusCode).toBe(200);
    expect(put.json().recomputed).toEqual([bookId]);
    const ret = await app.inject({ method: 'GET', url: `/books/${bookId}/retention` });
    expect(ret.json().retention.explanation).toBe("rule 'Births' (births v1): retained until 2001-12-31, 100 years after the register's closing year 1901 (from 1901-12-31), then destroy");
    expect((await app.inject({ method: 'GET', url: '/retention/due' })).json().due.map((d: { bookId: string }) => d.bookId)).toEqual([bookId]);
    const batch = await app.inject({ method: 'POST', url: '/disposal/batches', payload: { bookIds: [bookId], by: 'ana' } });
    expect(batch.statusCode).toBe(201);
    const self = await app.inject({ method: 'POST', url: `/disposal/batches/${batch.json().id}/approve`, payload: { by: 'Ana' } });
    expect(self.statusCode).toBe(409);
    expect(self.json().error.message).toMatch(/four eyes/);
    const other = await app.inject({ method: 'POST', url: `/disposal/batches/${batch.json().id}/approve`, payload: { by: 'besa' } });
    expect(other.json()).toMatchObject({ status: 'approved', decidedBy: 'besa' });
  });
});
