/**
 * Issue 18, point 5, through the API on PostgreSQL and Ceph RGW: an admin does not act as anyone.
 * A token an admin makes for someone (`POST /users/{username}/tokens`) acts on their behalf: every
 * action through it is recorded with issued-by and on-behalf-of, and it cannot approve or execute
 * a disposal nor read a closed book; users make their own tokens (`POST /tokens`); nobody grants
 * themselves a role.
 */
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireService } from '../test-support/services.ts';
import { openRealDeps, realServicesEnv } from '../test-support/real-deps.ts';
import { insertPageWords } from '../test-support/seed-words.ts';
import { createBook, recordObject, upsertPage } from '../archive/index.ts';
import { listAuditEvents, type AuditEvent } from '../audit/index.ts';
import type { AppDeps } from '../app/deps.ts';
import { buildApp } from './index.ts';
import { asUser, userHeaders, type Injector } from './test-kit.ts';

const enabled = requireService('databaseUrl') && requireService('redisUrl') && requireService('s3');

describe.skipIf(!enabled)('tokens made for someone else, and roles (PostgreSQL, RGW)', () => {
  let real: Awaited<ReturnType<typeof openRealDeps>>;
  let deps: AppDeps;
  let app: FastifyInstance;
  let admin: Injector;
  let admin2: Injector;
  let rm: Injector;
  let rm2: Injector;
  let clerk: Injector;
  let closedBook: string;
  const bearer = (token: string) => asUser(app, { authorization: `Bearer ${token}` });
  const purpose = { 'x-access-purpose': 'court order 12/2026' };
  const headSeq = async () => (await listAuditEvents(deps.db, { limit: 1000 })).at(-1)?.seq ?? 0;
  const eventsAfter = (seq: number): Promise<AuditEvent[]> => listAuditEvents(deps.db, { afterSeq: seq, limit: 1000 });
  /** A token `by` makes for `username` through the API. */
  const tokenFor = async (by: Injector, username: string): Promise<{ token: string; issuedBy?: string }> => {
    const r = await by.inject({ method: 'POST', url: `/users/${username}/tokens`, payload: { days: 1 } });
    expect(r.statusCode, r.body).toBe(201);
    return r.json();
  };

  beforeAll(async () => {
    real = await openRealDeps(realServicesEnv());
    deps = real.deps;
    app = await buildApp(deps, { logRequests: false });
    admin = asUser(app, await userHeaders(deps.db, ['admin'], 'admin1'));
    admin2 = asUser(app, await userHeaders(deps.db, ['admin'], 'admin2'));
    rm = asUser(app, await userHeaders(deps.db, ['records_manager'], 'rm'));
    rm2 = asUser(app, await userHeaders(deps.db, ['records_manager'], 'rm2'));
    clerk = asUser(app, await userHeaders(deps.db, ['clerk'], 'clerk1'));
    // A closed book with a page, its OCR and a word to search for.
    ({ book: { id: closedBook } } = await createBook(deps.db, { registerType: 'birth', municipality: 'Gjakova', yearFrom: 2001, yearTo: 2001, languages: 'sqi', sourceFormat: 'tiff', sourceSha256: randomBytes(32).toString('hex'), sourceSize: 1 }));
    const page = await upsertPage(deps.db, closedBook, 1);
    const ocr = await deps.store.putContentAddressed(`books/${closedBook}`, Buffer.from(JSON.stringify({ text: 'Zenepe Berisha' })), { contentType: 'application/json' });
    await recordObject(deps.db, { bookId: closedBook, pageId: page.id, role: 'ocr', variant: 'ocr-json', revision: 1 }, ocr, 'application/json');
    await insertPageWords(deps.db, { bookId: closedBook, pageId: page.id, revision: 1 }, [{ text: 'Zenepe', confidence: 90, line: 0, block: 0, box: { x0: 1, y0: 1, x1: 50, y1: 20 } }]);
    await deps.db.query(
      `INSERT INTO item_retention (book_id, explanation, closed_until, computed_reason) VALUES ($1, 'test', current_date + 36500, 'test')
       ON CONFLICT (book_id) DO UPDATE SET closed_until = EXCLUDED.closed_until`,
      [closedBook],
    );
  });
  afterAll(async () => {
    await app?.close();
    await real?.cleanup();
  });

  it("refuses a token an admin made for rm2 to approve or execute rm's disposal, records issued-by and on-behalf-of on every action through it, and lets rm2's own credentials approve", async () => {
    const { book } = await createBook(deps.db, { registerType: 'death', municipality: 'Prizren', yearFrom: 1901, yearTo: 1901, languages: 'sqi', sourceFormat: 'tiff', sourceSha256: randomBytes(32).toString('hex'), sourceSize: 1 });
    await deps.db.query(
      `INSERT INTO item_retention (book_id, explanation, retain_until, action, computed_reason) VALUES ($1, 'test', current_date - 1, 'destroy', 'test')
       ON CONFLICT (book_id) DO UPDATE SET retain_until = EXCLUDED.retain_until, action = EXCLUDED.action, closed_until = NULL`,
      [book.id],
    );
    const proposed = await rm.inject({ method: 'POST', url: '/disposal/batches', payload: { bookIds: [book.id] } });
    expect(proposed.statusCode, proposed.body).toBe(201);
    const batchId = proposed.json().id as string;

    const before = await headSeq();
    const made = await tokenFor(admin, 'rm2');
    expect(made.issuedBy).toBe('admin1');
    const asRm2ByAdmin = bearer(made.token);
    const approve = await asRm2ByAdmin.inject({ method: 'POST', url: `/disposal/batches/${batchId}/approve`, payload: {} });
    expect(approve.statusCode).toBe(403);
    expect(approve.json().error.message).toMatch(/needs rm2's own credentials: the token in use was made by admin1 on rm2's behalf/);
    const execute = await asRm2ByAdmin.inject({ method: 'POST', url: `/disposal/batches/${batchId}/execute` });
    expect(execute.statusCode).toBe(403);
    // A second token made through the first is still the admin's: it cannot wash the first clean.
    const laundered = await asRm2ByAdmin.inject({ method: 'POST', url: '/tokens', payload: { days: 1 } });
    expect(laundered.statusCode, laundered.body).toBe(201);
    expect(laundered.json().issuedBy).toBe('admin1');
    expect((await bearer(laundered.json().token).inject({ method: 'POST', url: `/disposal/batches/${batchId}/approve`, payload: {} })).statusCode).toBe(403);
    // It still does what rm2 may do that needs no own credentials (the due list).
    expect((await asRm2ByAdmin.inject({ method: 'GET', url: '/retention/due' })).statusCode).toBe(200);

    const events = await eventsAfter(before);
    const created = events.filter((e) => e.action === 'token.create');
    expect(created.map((e) => [e.actor, e.targetId, e.detail?.issuedBy, e.detail?.onBehalfOf])).toEqual([['admin1', 'rm2', 'admin1', 'rm2'], ['rm2', 'rm2', 'admin1', 'rm2']]);
    // Every action through it, allowed or refused, names both.
    const through = events.filter((e) => e.actor === 'rm2');
    expect(through.map((e) => `${e.action} ${e.outcome}`)).toEqual(['disposal.approve denied', 'disposal.execute denied', 'token.create ok', 'disposal.approve denied']);
    for (const e of through) expect(e.detail, `${e.action} ${e.outcome}`).toMatchObject({ issuedBy: 'admin1', onBehalfOf: 'rm2' });

    // rm2 signed in with its own token approves: four eyes that are two people.
    const own = await rm2.inject({ method: 'POST', url: `/disposal/batches/${batchId}/approve`, payload: {} });
    expect(own.statusCode, own.body).toBe(200);
    expect(own.json()).toMatchObject({ status: 'approved', proposedBy: 'rm', decidedBy: 'rm2' });
  });

  it("refuses a clerk token an admin made to read a closed book's OCR or see its search hits, even with a purpose; the clerk's own token may", async () => {
    const byAdmin = bearer((await tokenFor(admin, 'clerk1')).token);
    const url = `/books/${closedBook}/pages/1/ocr`;
    const refused = await byAdmin.inject({ method: 'GET', url, headers: purpose });
    expect(refused.statusCode).toBe(403);
    expect(refused.json().error.message).toMatch(/closed for privacy; it is not read through a token admin1 made on clerk1's behalf/);
    const hidden = await byAdmin.inject({ method: 'GET', url: '/search?q=zenepe', headers: purpose });
    expect(hidden.statusCode).toBe(200);
    expect(hidden.json()).toMatchObject({ hits: [], withheld: 1 });

    const read = await clerk.inject({ method: 'GET', url, headers: purpose });
    expect(read.statusCode, read.body).toBe(200);
    expect((await clerk.inject({ method: 'GET', url: '/search?q=zenepe', headers: purpose })).json().hits.map((h: { bookId: string }) => h.bookId)).toEqual([closedBook]);
  });

  it('lets a user make their own token (POST /tokens), which reads closed books with a purpose; a token whose issuer was not recorded counts as made on behalf', async () => {
    const mine = await clerk.inject({ method: 'POST', url: '/tokens', payload: { name: 'laptop', days: 1 } });
    expect(mine.statusCode, mine.body).toBe(201);
    expect(mine.json()).not.toHaveProperty('issuedBy');
    expect((await bearer(mine.json().token).inject({ method: 'GET', url: `/books/${closedBook}/pages/1/ocr`, headers: purpose })).statusCode).toBe(200);
    // Only an admin makes tokens for others.
    expect((await clerk.inject({ method: 'POST', url: '/users/rm/tokens', payload: {} })).statusCode).toBe(403);

    // Tokens made before issuers were recorded were made by admins: they fail closed.
    await deps.db.query('UPDATE api_tokens SET issued_by = NULL WHERE id = $1', [mine.json().id]);
    const legacy = await bearer(mine.json().token).inject({ method: 'GET', url: `/books/${closedBook}/pages/1/ocr`, headers: purpose });
    expect(legacy.statusCode).toBe(403);
    expect(legacy.json().error.message).toMatch(/\(issuer not recorded\) made on clerk1's behalf/);
  });

  it('refuses granting oneself a role; another admin grants it', async () => {
    const self = await admin.inject({ method: 'POST', url: '/users/admin1/roles/grant', payload: { roles: ['auditor'] } });
    expect(self.statusCode).toBe(403);
    expect(self.json().error.message).toMatch(/admin1 may not grant roles to themselves: another admin must grant them/);
    const other = await admin2.inject({ method: 'POST', url: '/users/admin1/roles/grant', payload: { roles: ['auditor'] } });
    expect(other.statusCode, other.body).toBe(200);
    expect(other.json().roles).toEqual(['admin', 'auditor']);
  });
});
