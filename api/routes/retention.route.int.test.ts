import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { requireService } from '../../test-support/services.ts';
import { openRetentionDeps } from '../../test-support/retention-deps.ts';
import { createBook } from '../../archive/index.ts';
import { buildApp } from '../index.ts';
import { snapshotDue } from '../../retention/index.ts';
import { asUser, userHeaders, type Injector } from '../test-kit.ts';

const enabled = requireService('databaseUrl') && requireService('redisUrl') && requireService('s3');

describe.skipIf(!enabled)('retention routes', () => {
  let app: FastifyInstance;
  let ana: Injector;
  let besa: Injector;
  let cleanup: () => Promise<void>;
  let bookId: string;
  let db: Awaited<ReturnType<typeof openRetentionDeps>>['deps']['db'];
  beforeAll(async () => {
    const o = await openRetentionDeps();
    db = o.deps.db;
    cleanup = o.cleanup;
    app = await buildApp(o.deps, { logRequests: false });
    ana = asUser(app, await userHeaders(o.deps.db, ['records_manager'], 'ana'));
    besa = asUser(app, await userHeaders(o.deps.db, ['records_manager'], 'besa'));
    bookId = (await createBook(o.deps.db, { registerType: 'birth', municipality: 'Peja', yearFrom: 1900, yearTo: 1901, languages: 'sqi', sourceFormat: 'images', sourceSha256: 'a'.repeat(64), sourceSize: 1 })).book.id;
  });
  afterAll(async () => {
    await app?.close();
    await cleanup?.();
  });

  it('writes a rule version, explains the book, proposes a batch and refuses self-approval', async () => {
    const put = await ana.inject({ method: 'PUT', url: '/retention/rules/births', payload: { kind: 'retention', name: 'Births', registerType: 'birth', trigger: 'closing-year', periodYears: 100, action: 'destroy', reason: 'schedule 2025' } });
    expect(put.statusCode).toBe(200);
    expect(put.json().recomputed).toEqual([bookId]);
    const ret = await ana.inject({ method: 'GET', url: `/books/${bookId}/retention` });
    expect(ret.json().retention.explanation).toBe("rule 'Births' (births v1): retained until 2001-12-31, 100 years after the register's closing year 1901 (from 1901-12-31), then destroy");
    expect((await ana.inject({ method: 'GET', url: '/retention/due' })).json().due.map((d: { bookId: string }) => d.bookId)).toEqual([bookId]);
    const batch = await ana.inject({ method: 'POST', url: '/disposal/batches', payload: { bookIds: [bookId], by: 'ana' } });
    expect(batch.statusCode).toBe(201);
    const self = await ana.inject({ method: 'POST', url: `/disposal/batches/${batch.json().id}/approve`, payload: {} });
    expect(self.statusCode).toBe(409);
    expect(self.json().error.message).toMatch(/four eyes/);
    // Acting in someone else's name is refused: who acts is the signed-in user.
    const forged = await besa.inject({ method: 'POST', url: `/disposal/batches/${batch.json().id}/approve`, payload: { by: 'carl' } });
    expect(forged.statusCode).toBe(400);
    const other = await besa.inject({ method: 'POST', url: `/disposal/batches/${batch.json().id}/approve`, payload: { by: 'besa' } });
    expect(other.json()).toMatchObject({ status: 'approved', decidedBy: 'besa' });
  });

  it('places a hold on the results of a search, lists due-list snapshots, and serves a certificate PDF only once one exists', async () => {
    const page = (await db.query<{ id: string }>('INSERT INTO pages (book_id, sequence, status) VALUES ($1, 1, $2) RETURNING id', [bookId, 'done'])).rows[0]!;
    await db.query(
      `INSERT INTO page_words (page_id, revision, word_index, book_id, text, confidence, line_index, block_index, x0, y0, x1, y1, norm)
       VALUES ($1, 1, 0, $2, 'Gjon', 90, 0, 0, 1, 1, 5, 5, 'gjon')`, [page.id, bookId],
    );
    const hold = await ana.inject({ method: 'POST', url: '/retention/holds/search', payload: { name: 'Search hold', reason: 'court order', authority: 'Basic Court Peja', scope: 'books', search: { q: 'Gjon', bookId } } });
    expect(hold.statusCode).toBe(201);
    expect(hold.json()).toMatchObject({ matchedPages: 1, hold: { items: [{ bookId, pageId: null }], createdBy: 'ana', query: { scope: 'books', search: { q: 'Gjon' } } } });
    const due = await ana.inject({ method: 'GET', url: '/disposal/due-lists' });
    expect(due.statusCode).toBe(200);
    const before = due.json().snapshots.length;
    await snapshotDue(db);
    const after = (await ana.inject({ method: 'GET', url: '/disposal/due-lists?limit=5' })).json().snapshots;
    expect(after).toHaveLength(before + 1);
    expect(after[0].items.map((d: { bookId: string; blockedBy: string[] }) => [d.bookId, d.blockedBy])).toEqual([[bookId, ['hold']]]);
    const pdf = await ana.inject({ method: 'GET', url: `/disposal/certificates/${bookId}/pdf` });
    expect(pdf.statusCode).toBe(404);
  });

  it('refuses to propose the disposal of a held book with 409, naming the hold', async () => {
    // The book is due (births v1 of the first test) and under the search hold of the second.
    const holds = (await ana.inject({ method: 'GET', url: '/retention/holds' })).json().holds as { id: string; name: string }[];
    const hold = holds.find((h) => h.name === 'Search hold')!;
    const proposed = await ana.inject({ method: 'POST', url: '/disposal/batches', payload: { bookIds: [bookId], by: 'ana' } });
    expect(proposed.statusCode).toBe(409);
    expect(proposed.json().error).toMatchObject({
      code: 'ERR_CONFLICT',
      message: `book ${bookId} is under legal hold 'Search hold' (hold ${hold.id}, Basic Court Peja: court order): a held book cannot be proposed for disposal until the hold is released`,
    });
  });
});
