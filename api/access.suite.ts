/**
 * Access control on every route: a table-driven walk of the registered routes (every one has a
 * policy; 401 without credentials; 403 for each role the policy leaves out), sessions with CSRF,
 * login throttling, token revocation and expiry, privacy closure with stated purpose, and the audit
 * events all of it writes.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import Fastify from 'fastify';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBook, recordObject, setPageImageInfo, upsertPage } from '../archive/index.ts';
import { insertPageWords } from '../test-support/seed-words.ts';
import { setClosure } from '../test-support/closure.ts';
import { createEntry } from '../entries/index.ts';
import { ROLES, createApiToken, createUser, type Policy, type Role } from '../auth/index.ts';
import { listAuditEvents, verifyChain } from '../audit/index.ts';
import { silentLogger } from '../common/index.ts';
import { installAccessControl } from './access.ts';
import { installErrorHandling } from './errors.ts';
import { METADATA, multiPageTiff, multipart, userHeaders, type TestApp } from './test-kit.ts';
import { createLink, upsertRecord } from '../records/index.ts';
import { pageZones, proposeZones, requireLayout, submitKeying, type KeyedFields } from '../keying/index.ts';
import { recomputeItem, recomputeStale } from '../retention/index.ts';
import type { BuildAppOptions } from './index.ts';

/** The app options the suite needs: low login limits. */
export const ACCESS_SUITE_OPTIONS: BuildAppOptions = { loginLimits: { perUserAddress: { max: 3, windowMs: 60_000 }, perIp: { max: 6, windowMs: 60_000 } } };

const SAMPLE: Record<string, string> = { sequence: '1', variant: 'thumb-jpeg', generation: '1', username: 'nobody', ruleKey: 'rule-x' };
/** A concrete URL for a route pattern: every param filled with a value of the right shape. */
function fill(url: string): string {
  return url.replace(/:([A-Za-z]+)/g, (_, p: string) => SAMPLE[p] ?? randomUUID()).replace(/\*$/, 'x');
}

/** The access-control suite, run on the embedded deps (access.test.ts) and on PostgreSQL/RGW (access.int.test.ts). */
export function accessSuite(name: string, open: (opts: BuildAppOptions) => Promise<TestApp>, enabled = true): void {
  describe.skipIf(!enabled)(`access control (${name})`, () => {
    let t: TestApp;
    const asRole = {} as Record<Role, Record<string, string>>;

    beforeAll(async () => {
      t = await open(ACCESS_SUITE_OPTIONS);
      for (const role of ROLES) asRole[role] = await userHeaders(t.deps.db, [role], `only-${role.replace('_', '-')}`);
    });
    afterAll(async () => t?.close());

    /** A one-page book uploaded through the API by a digitiser, as every book is archived; returns its id. */
    const uploadBook = async (registerType: string, year: string, label: string): Promise<string> => {
      const form = multipart([['registerType', registerType], ['municipality', 'Prizren'], ['year', year], ['languages', 'eng'], { data: await multiPageTiff(1, label) }]);
      const res = await t.app.inject({ method: 'POST', url: '/books', headers: { ...asRole.digitiser, ...form.headers }, payload: form.payload });
      expect(res.statusCode, res.body).toBe(201);
      return res.json().book.id as string;
    };
    /** Page 1 of a book as the stages would leave it (master, words: a number and `name`), without running them; returns its id. */
    const seedPage = async (bookId: string, name: string): Promise<string> => {
      const db = t.deps.db;
      const png = await sharp({ create: { width: 300, height: 120, channels: 3, background: '#f2f2f2' } }).png().toBuffer();
      const put = await t.deps.store.putContentAddressed('masters', png, { contentType: 'image/png' });
      const page = await upsertPage(db, bookId, 1);
      await recordObject(db, { bookId, pageId: page.id, role: 'master', revision: 1 }, put, 'image/png');
      await setPageImageInfo(db, page.id, { width: 300, height: 120, dpiX: null, dpiY: null, orientation: 0 });
      const word = (text: string, k: number) => ({ text, confidence: 90, line: 0, block: 0, box: { x0: 10 + k * 120, y0: 30, x1: 110 + k * 120, y1: 80 } });
      await insertPageWords(db, { bookId, pageId: page.id, revision: 1 }, [word('Nr', 0), word(name, 1)]);
      return page.id;
    };

    it('has a policy on every registered route, and every documented operation is such a route', async () => {
      const routes = t.app.arkivaRoutes;
      expect(routes.length).toBeGreaterThan(60);
      expect(routes.filter((r) => !r.policy).map((r) => `${r.method} ${r.url}`)).toEqual([]);
      const doc = (await t.app.inject({ method: 'GET', url: '/docs/json' })).json() as { paths: Record<string, Record<string, unknown>> };
      const known = new Set(routes.map((r) => `${r.method} ${r.url.replace(/:([A-Za-z]+)/g, '{$1}')}`));
      const documented = Object.entries(doc.paths).flatMap(([p, ms]) => Object.keys(ms).map((m) => `${m.toUpperCase()} ${p}`));
      expect(documented.filter((op) => !known.has(op))).toEqual([]);
      // Public is for health, readiness, documentation, login, the web UI's static files and the verification of extracts only.
      const publicRoutes = routes.filter((r) => r.policy?.roles === 'public').map((r) => r.url);
      for (const url of publicRoutes) expect(url, url).toMatch(/^(\/health|\/ready|\/docs|\/auth\/login|\/$|\/ui|\/verify)/);
    });

    it('refuses a route that declares no policy', async () => {
      const app = Fastify({ logger: false });
      installErrorHandling(app);
      installAccessControl(app, { db: t.deps.db, log: silentLogger() });
      app.get('/forgotten', async () => ({ secret: true }));
      app.get('/open', { config: { policy: { roles: 'public' } } }, async () => ({ ok: true }));
      await app.ready();
      const res = await app.inject({ method: 'GET', url: '/forgotten', headers: asRole.admin });
      expect(res.statusCode).toBe(403);
      expect(res.json().error.message).toMatch(/no access policy/);
      expect((await app.inject({ method: 'GET', url: '/open' })).statusCode).toBe(200);
      expect(app.arkivaRoutes.find((r) => r.url === '/forgotten')?.policy).toBeUndefined();
      await app.close();
    });

    it('answers 401 without credentials and 403 to every role the policy leaves out, route by route', async () => {
      let checked = 0;
      for (const r of t.app.arkivaRoutes) {
        const policy = r.policy as Policy;
        if (policy.roles === 'public' || r.method === 'OPTIONS') continue;
        const url = fill(r.url);
        const method = r.method as 'GET';
        const anon = await t.app.inject({ method, url });
        expect(anon.statusCode, `${r.method} ${r.url} without credentials`).toBe(401);
        const bogus = await t.app.inject({ method, url, headers: { authorization: 'Bearer ark_not-a-real-token' } });
        expect(bogus.statusCode, `${r.method} ${r.url} with a bogus token`).toBe(401);
        if (policy.roles === 'authenticated') continue;
        for (const role of ROLES) {
          const res = await t.app.inject({ method, url, headers: asRole[role] });
          if (policy.roles.includes(role)) expect([401, 403], `${r.method} ${r.url} as ${role} (allowed)`).not.toContain(res.statusCode);
          else expect(res.statusCode, `${r.method} ${r.url} as ${role} (not allowed)`).toBe(403);
        }
        checked++;
      }
      expect(checked).toBeGreaterThan(50);
      // Each refusal of a signed-in user is in the audit trail.
      const denied = await listAuditEvents(t.deps.db, { action: 'access.denied', limit: 1000 });
      expect(denied.length).toBeGreaterThan(50);
      expect(denied.every((e) => e.outcome === 'denied' && e.actor.startsWith('only-'))).toBe(true);
    }, 120_000);

    it('signs in with a session cookie, requires the CSRF token for changes, and signs out on the server', async () => {
      await createUser(t.deps.db, { username: 'webadmin', password: 'correct horse battery', roles: ['admin', 'auditor'] });
      const login = await t.app.inject({ method: 'POST', url: '/auth/login', payload: { username: 'WebAdmin', password: 'correct horse battery' } });
      expect(login.statusCode, login.body).toBe(200);
      const { user, csrfToken } = login.json();
      expect(user).toMatchObject({ username: 'webadmin', roles: ['admin', 'auditor'] });
      const setCookie = String(login.headers['set-cookie']);
      expect(setCookie).toMatch(/^arkiva_session=[\w-]{40,};/);
      expect(setCookie).toMatch(/HttpOnly/);
      expect(setCookie).toMatch(/SameSite=Strict/);
      expect(setCookie).toMatch(/Secure/);
      const cookie = setCookie.split(';')[0]!;
      // The table keeps only the hash of the session id.
      const stored = await t.deps.db.query<{ id_sha256: string }>('SELECT id_sha256 FROM sessions');
      expect(stored.rows.map((r) => r.id_sha256)).not.toContain(cookie.split('=')[1]);

      const me = await t.app.inject({ method: 'GET', url: '/auth/me', headers: { cookie } });
      expect(me.json()).toEqual({ user, csrfToken });
      const noCsrf = await t.app.inject({ method: 'POST', url: '/audit/anchor', headers: { cookie } });
      expect(noCsrf.statusCode).toBe(403);
      expect(noCsrf.json().error.message).toMatch(/x-csrf-token/);
      const wrongCsrf = await t.app.inject({ method: 'POST', url: '/audit/anchor', headers: { cookie, 'x-csrf-token': 'x'.repeat(csrfToken.length) } });
      expect(wrongCsrf.statusCode).toBe(403);
      const withCsrf = await t.app.inject({ method: 'POST', url: '/audit/anchor', headers: { cookie, 'x-csrf-token': csrfToken } });
      expect(withCsrf.statusCode, withCsrf.body).toBe(200);
      expect(withCsrf.json().anchor.seq).toBeGreaterThan(0);

      const out = await t.app.inject({ method: 'POST', url: '/auth/logout', headers: { cookie, 'x-csrf-token': csrfToken } });
      expect(out.statusCode).toBe(204);
      expect(String(out.headers['set-cookie'])).toMatch(/arkiva_session=;/);
      // The old cookie no longer works, even if the browser kept it.
      expect((await t.app.inject({ method: 'GET', url: '/auth/me', headers: { cookie } })).statusCode).toBe(401);
      const events = await listAuditEvents(t.deps.db, { actor: 'webadmin', limit: 1000 });
      expect(events.map((e) => `${e.action} ${e.outcome}`)).toEqual(['auth.login ok', 'audit.anchor denied', 'audit.anchor denied', 'audit.anchor ok', 'auth.logout ok']);
    });

    it('throttles sign-in per username and address and per address (429), and refuses wrong passwords alike for unknown users', async () => {
      await createUser(t.deps.db, { username: 'guessed', password: 'the real password 1', roles: ['clerk'] });
      const attempt = (username: string, password: string, remoteAddress: string) => t.app.inject({ method: 'POST', url: '/auth/login', payload: { username, password }, remoteAddress });
      for (let i = 0; i < 3; i++) expect((await attempt('guessed', `wrong ${i}`, '10.0.0.1')).statusCode).toBe(401);
      // Locked out from that address, even with the right password.
      const locked = await attempt('guessed', 'the real password 1', '10.0.0.1');
      expect(locked.statusCode).toBe(429);
      expect(Number(locked.headers['retry-after'])).toBeGreaterThan(0);
      const unknown = await attempt('nobody-here', 'whatever', '10.0.0.3');
      expect(unknown.statusCode).toBe(401);
      expect(unknown.json().error.message).toBe('wrong username or password');
      // Per address: 6 attempts with any usernames, then 429.
      for (let i = 0; i < 5; i++) expect((await attempt(`spray-${i}`, 'password', '10.0.0.3')).statusCode).toBe(401);
      expect((await attempt('spray-9', 'password', '10.0.0.3')).statusCode).toBe(429);
      const limited = await listAuditEvents(t.deps.db, { action: 'auth.login', limit: 1000 });
      expect(limited.filter((e) => e.outcome === 'rate_limited').length).toBe(2);
      expect(limited.filter((e) => e.outcome === 'denied' && e.targetId === 'guessed').length).toBe(3);
    });

    it("lets a user sign in from her own address while an attacker's wrong passwords for her name are throttled at his", async () => {
      await createUser(t.deps.db, { username: 'clerk-targeted', password: 'her own password 22', roles: ['clerk'] });
      const attempt = (password: string, remoteAddress: string) => t.app.inject({ method: 'POST', url: '/auth/login', payload: { username: 'clerk-targeted', password }, remoteAddress });
      // The suite allows 3 failures per username and address.
      for (let i = 0; i < 5; i++) expect((await attempt(`guess ${i}`, '203.0.113.66')).statusCode, `guess ${i}`).toBe(i < 3 ? 401 : 429);
      expect((await attempt('her own password 22', '203.0.113.66')).statusCode).toBe(429);
      const own = await attempt('her own password 22', '198.51.100.7');
      expect(own.statusCode, own.body).toBe(200);
      expect(own.json().user.username).toBe('clerk-targeted');
    });

    it('refuses a revoked token at once, an expired token, and the token of a disabled user', async () => {
      await createUser(t.deps.db, { username: 'leaver', roles: ['clerk'] });
      const tok = await createApiToken(t.deps.db, { username: 'leaver' });
      const headers = { authorization: `Bearer ${tok.token}` };
      expect((await t.app.inject({ method: 'GET', url: '/auth/me', headers })).statusCode).toBe(200);
      const stored = await t.deps.db.query<{ token_sha256: string }>('SELECT token_sha256 FROM api_tokens WHERE id = $1', [tok.id]);
      expect(stored.rows[0]!.token_sha256).not.toContain(tok.token.slice(4));
      const revoke = await t.app.inject({ method: 'DELETE', url: `/tokens/${tok.id}`, headers: asRole.admin });
      expect(revoke.statusCode).toBe(204);
      const after = await t.app.inject({ method: 'GET', url: '/auth/me', headers });
      expect(after.statusCode).toBe(401);
      expect(after.json().error.message).toMatch(/expired or revoked/);

      const expired = await createApiToken(t.deps.db, { username: 'leaver', expiresAt: new Date(Date.now() - 1000) });
      expect((await t.app.inject({ method: 'GET', url: '/auth/me', headers: { authorization: `Bearer ${expired.token}` } })).statusCode).toBe(401);

      const live = await createApiToken(t.deps.db, { username: 'leaver' });
      const liveHeaders = { authorization: `Bearer ${live.token}` };
      expect((await t.app.inject({ method: 'GET', url: '/auth/me', headers: liveHeaders })).statusCode).toBe(200);
      expect((await t.app.inject({ method: 'POST', url: '/users/leaver/disable', headers: asRole.admin })).statusCode).toBe(204);
      expect((await t.app.inject({ method: 'GET', url: '/auth/me', headers: liveHeaders })).statusCode).toBe(401);
    });

    it('manages users and roles through the API (admins), with the token shown once', async () => {
      const created = await t.app.inject({ method: 'POST', url: '/users', headers: asRole.admin, payload: { username: 'newclerk', roles: ['clerk'] } });
      expect(created.statusCode, created.body).toBe(201);
      const tok = await t.app.inject({ method: 'POST', url: '/users/newclerk/tokens', headers: asRole.admin, payload: { name: 'scanner', days: 1 } });
      expect(tok.statusCode).toBe(201);
      const clerk = { authorization: `Bearer ${tok.json().token}` };
      expect((await t.app.inject({ method: 'GET', url: '/records', headers: clerk })).statusCode).toBe(200);
      expect((await t.app.inject({ method: 'GET', url: '/audit/events', headers: clerk })).statusCode).toBe(403);
      expect((await t.app.inject({ method: 'POST', url: '/users/newclerk/roles/grant', headers: asRole.admin, payload: { roles: ['auditor'] } })).json().roles).toEqual(['auditor', 'clerk']);
      expect((await t.app.inject({ method: 'GET', url: '/audit/events', headers: clerk })).statusCode).toBe(200);
      expect((await t.app.inject({ method: 'POST', url: '/users/newclerk/roles/revoke', headers: asRole.admin, payload: { roles: ['auditor'] } })).json().roles).toEqual(['clerk']);
      expect((await t.app.inject({ method: 'GET', url: '/audit/events', headers: clerk })).statusCode).toBe(403);
      const listed = await t.app.inject({ method: 'GET', url: '/users/newclerk/tokens', headers: asRole.admin });
      expect(JSON.stringify(listed.json())).not.toContain(tok.json().token);
    });

    describe('privacy closure', () => {
      let closed: string;
      let open: string;
      const clerk = () => asRole.clerk;
      beforeAll(async () => {
        const db = t.deps.db;
        const png = await sharp({ create: { width: 400, height: 200, channels: 3, background: '#f0f0f0' } }).png().toBuffer();
        const put = await t.deps.store.putContentAddressed('masters', png, { contentType: 'image/png' });
        const w = (text: string, i: number) => ({ text, confidence: 90, line: 0, block: 0, box: { x0: 20 + i * 100, y0: 40, x1: 110 + i * 100, y1: 90 } });
        const ids: string[] = [];
        for (const who of ['Zenepe', 'Zenepe']) {
          const { book } = await createBook(db, { registerType: 'birth', municipality: 'Gjakova', yearFrom: 2001, yearTo: 2001, languages: 'sqi', sourceFormat: 'tiff', sourceSha256: randomBytes(32).toString('hex'), sourceSize: 1 });
          const page = await upsertPage(db, book.id, 1);
          await recordObject(db, { bookId: book.id, pageId: page.id, role: 'master', revision: 1 }, put, 'image/png');
          await setPageImageInfo(db, page.id, { width: 400, height: 200, dpiX: null, dpiY: null, orientation: 0 });
          await insertPageWords(db, { bookId: book.id, pageId: page.id, revision: 1 }, [w('1', 0), w(who, 1), w('Berisha', 2)]);
          ids.push(book.id);
        }
        [closed, open] = ids as [string, string];
        await db.query(
          `INSERT INTO item_retention (book_id, explanation, closed_until, closure_explanation, computed_reason) VALUES ($1, 'test', '2999-12-31', 'closed for 100 years', 'test')`,
          [closed],
        );
        // Open by a closure that has ended: a book without a computed closure is closed (issue 18).
        await setClosure(db, open, '2000-12-31');
      });

      it('refuses reads of a closed book without a purpose, allows clerks with one and records it', async () => {
        const url = `/books/${closed}/pages/1/image?width=200`;
        const bare = await t.app.inject({ method: 'GET', url, headers: clerk() });
        expect(bare.statusCode).toBe(403);
        expect(bare.json().error.message).toMatch(/closed for privacy.*x-access-purpose/);
        // The reason names the refusal, so a client can ask for the purpose (and only where one helps).
        expect(bare.json().error.reason).toBe('closed-purpose-required');
        const purpose = 'court request 44/2026: identity check';
        const withPurpose = await t.app.inject({ method: 'GET', url, headers: { ...clerk(), 'x-access-purpose': purpose } });
        expect(withPurpose.statusCode, withPurpose.body).toBe(200);
        expect(withPurpose.headers['content-type']).toBe('image/jpeg');
        const [event] = (await listAuditEvents(t.deps.db, { action: 'page.image.read', targetId: closed, limit: 1000 })).filter((e) => e.outcome === 'ok');
        expect(event).toMatchObject({ actor: 'only-clerk', targetType: 'book', targetId: closed, purpose, outcome: 'ok', detail: expect.objectContaining({ page: 1, restricted: true }) });
        // A digitiser may read open books' pages, not closed ones, purpose or not.
        const digitiser = await t.app.inject({ method: 'GET', url, headers: { ...asRole.digitiser, 'x-access-purpose': purpose } });
        expect(digitiser.statusCode).toBe(403);
        expect(digitiser.json().error.reason).toBe('closed-role');
        // Without a purpose too: a digitiser is not asked for one that could not help.
        const digitiserBare = (await t.app.inject({ method: 'GET', url, headers: asRole.digitiser })).json().error;
        expect(digitiserBare).toMatchObject({ code: 'ERR_FORBIDDEN', reason: 'closed-role' });
        expect(digitiserBare.message).not.toMatch(/x-access-purpose/);
        expect((await t.app.inject({ method: 'GET', url: `/books/${open}/pages/1/image?width=200`, headers: asRole.digitiser })).statusCode).toBe(200);
        // Entries and OCR of the closed book too.
        expect((await t.app.inject({ method: 'GET', url: `/books/${closed}/pages/1/entries`, headers: clerk() })).statusCode).toBe(403);
        expect((await t.app.inject({ method: 'GET', url: `/books/${closed}/pages/1/ocr`, headers: clerk() })).statusCode).toBe(403);
      });

      it('leaves closed books out of search results unless a purpose is stated', async () => {
        const plain = (await t.app.inject({ method: 'GET', url: '/search?q=zenepe', headers: clerk() })).json();
        expect(plain.hits.map((h: { bookId: string }) => h.bookId)).toEqual([open]);
        const stated = (await t.app.inject({ method: 'GET', url: '/search?q=zenepe', headers: { ...clerk(), 'x-access-purpose': 'family history request 9' } })).json();
        expect(stated.hits.map((h: { bookId: string }) => h.bookId).sort()).toEqual([closed, open].sort());
        const events = (await listAuditEvents(t.deps.db, { action: 'search.results', limit: 1000 })).slice(-2);
        expect(events[0]!.detail).toMatchObject({ withheld: 1, hits: [`${open}/1`] });
        expect(events[1]).toMatchObject({ purpose: 'family history request 9' });
      });
    });

    describe('NUL bytes and malformed forms at the edge', () => {
      interface Operation { parameters?: { in: string; name: string }[]; requestBody?: { content?: Record<string, { schema?: { properties?: Record<string, unknown> } }> } }
      const operations = async () => {
        const doc = (await t.app.inject({ method: 'GET', url: '/docs/json' })).json() as { paths: Record<string, Record<string, Operation>> };
        return Object.entries(doc.paths).flatMap(([path, ms]) => Object.entries(ms).filter(([m]) => m !== 'head').map(([m, op]) => ({ method: m.toUpperCase() as 'GET', path, op })));
      };
      const withParams = (path: string, nul?: string) =>
        path.replace(/\{([A-Za-z]+)\}/g, (_, p: string) => (p === nul ? 'Pri%00zren' : SAMPLE[p] ?? randomUUID()));

      it('refuses a NUL byte in any query or path parameter of any documented route with 400 naming the parameter', async () => {
        let checked = 0;
        for (const { method, path, op } of await operations()) {
          for (const param of op.parameters ?? []) {
            if (param.in !== 'query' && param.in !== 'path') continue;
            const url = param.in === 'path' ? withParams(path, param.name) : `${withParams(path)}?${param.name}=Pri%00zren`;
            const res = await t.app.inject({ method, url, headers: t.auth, ...(method === 'GET' || method === 'DELETE' ? {} : { payload: {} }) });
            expect(res.statusCode, `${method} ${path} ${param.in} ${param.name}: ${res.body.slice(0, 200)}`).toBe(400);
            expect(res.json().error, `${method} ${path} ${param.name}`).toMatchObject({ code: 'ERR_VALIDATION', field: param.name });
            checked++;
          }
        }
        expect(checked).toBeGreaterThan(60);
      }, 120_000);

      it('refuses a NUL byte in a JSON body field of any documented route, a CSV body and a multipart form field with 400 naming the field', async () => {
        let checked = 0;
        for (const { method, path, op } of await operations()) {
          for (const field of Object.keys(op.requestBody?.content?.['application/json']?.schema?.properties ?? {})) {
            const res = await t.app.inject({ method, url: withParams(path), headers: t.auth, payload: { [field]: 'Pri\u0000zren' } });
            expect(res.statusCode, `${method} ${path} body ${field}: ${res.body.slice(0, 200)}`).toBe(400);
            expect(res.json().error, `${method} ${path} ${field}`).toMatchObject({ code: 'ERR_VALIDATION', field });
            checked++;
          }
        }
        expect(checked).toBeGreaterThan(20);
        const csv = await t.app.inject({ method: 'POST', url: '/links/import', headers: { ...t.auth, 'content-type': 'text/csv' }, payload: 'action,system,record_type,record_id\nlink,civil,birth,Pri\u0000zren\n' });
        expect(csv.statusCode, csv.body).toBe(400);
        expect(csv.json().error).toMatchObject({ code: 'ERR_VALIDATION', field: 'body' });
        const form = multipart([...METADATA.map(([k, v]) => [k, k === 'municipality' ? 'Pri\u0000zren' : v] as const), { data: Buffer.from('II*\u0000') }]);
        const upload = await t.app.inject({ method: 'POST', url: '/books', headers: { ...t.auth, ...form.headers }, payload: form.payload });
        expect(upload.statusCode, upload.body).toBe(400);
        expect(upload.json().error).toMatchObject({ code: 'ERR_VALIDATION', field: 'municipality' });
      }, 120_000);

      it('refuses a multipart upload without a boundary with 400 naming content-type', async () => {
        const res = await t.app.inject({ method: 'POST', url: '/books', headers: { ...t.auth, 'content-type': 'multipart/form-data' }, payload: 'registerType=birth' });
        expect(res.statusCode, res.body).toBe(400);
        expect(res.json().error).toMatchObject({ code: 'ERR_VALIDATION', field: 'content-type' });
        const empty = await t.app.inject({ method: 'POST', url: '/books', headers: { ...t.auth, 'content-type': 'multipart/form-data; boundary=' }, payload: 'x' });
        expect(empty.statusCode, empty.body).toBe(400);
        expect(empty.json().error).toMatchObject({ code: 'ERR_VALIDATION', field: 'content-type' });
      });
    });

    describe('closed books in search cursors, in writes and in caches', () => {
      const purpose = { 'x-access-purpose': 'registry correction 7/2026' };
      let closed: string;
      let open: string;
      let closedPages: string[];
      let closedEntry: string;
      const search = (query: string, headers: Record<string, string> = {}) =>
        t.app.inject({ method: 'GET', url: `/search?${query}`, headers: { ...asRole.clerk, ...headers } });
      beforeAll(async () => {
        const db = t.deps.db;
        const png = await sharp({ create: { width: 300, height: 120, channels: 3, background: '#f4f4f4' } }).png().toBuffer();
        const put = await t.deps.store.putContentAddressed('masters', png, { contentType: 'image/png' });
        const book = async (pages: { name: string; confidence: number }[], closedUntil: string) => {
          const { book: b } = await createBook(db, { registerType: 'birth', municipality: 'Prizren', yearFrom: 2022, yearTo: 2022, languages: 'sqi', sourceFormat: 'tiff', sourceSha256: randomBytes(32).toString('hex'), sourceSize: 1 });
          const ids: string[] = [];
          for (const [i, p] of pages.entries()) {
            const page = await upsertPage(db, b.id, i + 1);
            await recordObject(db, { bookId: b.id, pageId: page.id, role: 'master', revision: 1 }, put, 'image/png');
            await setPageImageInfo(db, page.id, { width: 300, height: 120, dpiX: null, dpiY: null, orientation: 0 });
            const word = (text: string, k: number) => ({ text, confidence: p.confidence, line: 0, block: 0, box: { x0: 10 + k * 120, y0: 30, x1: 110 + k * 120, y1: 80 } });
            await insertPageWords(db, { bookId: b.id, pageId: page.id, revision: 1 }, [word('Nr', 0), word(p.name, 1)]);
            ids.push(page.id);
          }
          await db.query(
            `INSERT INTO item_retention (book_id, explanation, closed_until, closure_explanation, computed_reason) VALUES ($1, 'test', $2, 'test closure', 'test')
             ON CONFLICT (book_id) DO UPDATE SET closed_until = EXCLUDED.closed_until`,
            [b.id, closedUntil],
          );
          return { id: b.id, pages: ids };
        };
        // The closed book's pages are read with higher confidence, so they rank first: a page of
        // results cut before closed hits were taken out held nothing but them.
        const c = await book([{ name: 'Shehu', confidence: 99 }, { name: 'Shehu', confidence: 98 }, { name: 'Gjonbalaj', confidence: 97 }], '2999-12-31');
        const o = await book([{ name: 'Shehu', confidence: 90 }, { name: 'Shehu', confidence: 89 }, { name: 'Shehu', confidence: 88 }], '2000-01-01');
        [closed, open, closedPages] = [c.id, o.id, c.pages];
        closedEntry = (await createEntry(db, c.pages[0]!, { box: { x0: 10, y0: 30, x1: 250, y1: 80 }, eventType: 'birth' }, { user: 'seed' })).id;
      });

      it('pages search results over what the caller may see: closed hits become a withheld count, the cursor is sealed and names nothing', async () => {
        const sequences: number[] = [];
        const cursors: string[] = [];
        let withheld = 0;
        let cursor: string | null = null;
        for (let round = 0; round < 10; round++) {
          const res = await search(`q=Shehu&fuzzy=false&limit=1${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
          expect(res.statusCode, res.body).toBe(200);
          const body = res.json() as { hits: { bookId: string; sequence: number }[]; nextCursor: string | null; withheld: number };
          expect(body.hits.every((h) => h.bookId === open)).toBe(true);
          // Every page of results but the last is full of hits the clerk may see.
          if (body.nextCursor) expect(body.hits, `round ${round}`).toHaveLength(1);
          sequences.push(...body.hits.map((h) => h.sequence));
          withheld += body.withheld;
          cursor = body.nextCursor;
          if (!cursor) break;
          cursors.push(cursor);
        }
        expect(sequences).toEqual([1, 2, 3]);
        // Each closed hit counted once over the whole walk.
        expect(withheld).toBe(2);
        for (const c of cursors) {
          const bytes = Buffer.from(c, 'base64url');
          expect(() => JSON.parse(bytes.toString('utf8'))).toThrow();
          for (const id of [closed, ...closedPages]) {
            expect(c).not.toContain(id);
            expect(bytes.toString('latin1')).not.toContain(id);
          }
        }
        // A name only the closed book holds answers as a name no book holds, but for the count.
        expect((await search('q=Gjonbalaj&fuzzy=false&limit=1')).json()).toEqual({ hits: [], nextCursor: null, withheld: 1, terms: ['gjonbalaj'] });
        expect((await search('q=Qwertzuiop&fuzzy=false&limit=1')).json()).toEqual({ hits: [], nextCursor: null, withheld: 0, terms: ['qwertzuiop'] });
        // With a purpose the closed pages are there, ranked first, and nothing is withheld.
        const stated = (await search('q=Shehu&fuzzy=false&limit=2', purpose)).json() as { hits: { pageId: string }[]; withheld: number };
        expect(stated.hits.map((h) => h.pageId)).toEqual(closedPages.slice(0, 2));
        expect(stated.withheld).toBe(0);
      });

      it('refuses a search cursor that was tampered with, forged, foreign or made for another search (400 naming cursor)', async () => {
        const issued = (await search('q=Shehu&fuzzy=false&limit=1')).json().nextCursor as string;
        expect(issued).toEqual(expect.any(String));
        const flipped = Buffer.from(issued, 'base64url');
        flipped[flipped.length - 20]! ^= 1;
        const cases: [what: string, q: string, cursor: string][] = [
          ['tampered', 'Shehu', flipped.toString('base64url')],
          // The cursor format before cursors were sealed: plain JSON naming a page of the closed book.
          ['forged', 'Shehu', Buffer.from(JSON.stringify({ s: '0.9990', p: closedPages[0] })).toString('base64url')],
          ['foreign', 'Shehu', randomBytes(flipped.length).toString('base64url')],
          ['another search', 'Nr', issued],
        ];
        for (const [what, q, cursor] of cases) {
          const res = await search(`q=${q}&fuzzy=false&limit=1&cursor=${encodeURIComponent(cursor)}`);
          expect(res.statusCode, what).toBe(400);
          expect(res.json().error, what).toMatchObject({ code: 'ERR_VALIDATION', field: 'cursor' });
        }
      });

      it('refuses writes to a closed book without a stated purpose, route by route, for every role the route allows', async () => {
        // A digitiser's retry and rescan touch the scan, not what it says; they stay open to digitisers.
        const exempt = new Set(['POST /books/:bookId/retry', 'PUT /books/:bookId/pages/:sequence/image']);
        const writes = t.app.arkivaRoutes.filter((r) => !['GET', 'HEAD', 'OPTIONS'].includes(r.method) && /:(bookId|entryId)\b/.test(r.url) && !exempt.has(`${r.method} ${r.url}`));
        expect(writes.map((r) => `${r.method} ${r.url}`)).toEqual(expect.arrayContaining([
          'DELETE /entries/:entryId', 'POST /books/:bookId/pages/:sequence/review/accept', 'POST /books/:bookId/reocr', 'PUT /books/:bookId/pages/:sequence/page-type',
        ]));
        let checked = 0;
        for (const r of writes) {
          const name = `${r.method} ${r.url}`;
          expect(r.policy?.restricted, `${name} is marked restricted`).toBe(true);
          expect(Array.isArray(r.policy?.roles), name).toBe(true);
          const url = r.url.replace(':bookId', closed).replace(':entryId', closedEntry).replace(':sequence', '1');
          for (const role of r.policy!.roles as readonly Role[]) {
            const res = await t.app.inject({ method: r.method as 'POST', url, headers: asRole[role], payload: {} });
            expect(res.statusCode, `${name} as ${role}`).toBe(403);
            expect(res.json().error.message, `${name} as ${role}`).toMatch(/closed for privacy/);
            checked++;
          }
        }
        expect(checked).toBeGreaterThan(10);
        // With a purpose a clerk may, and the audit event records it.
        const headers = { ...asRole.clerk, ...purpose };
        const accept = await t.app.inject({ method: 'POST', url: `/books/${closed}/pages/1/review/accept`, headers, payload: {} });
        expect(accept.statusCode, accept.body).toBe(204);
        const del = await t.app.inject({ method: 'DELETE', url: `/entries/${closedEntry}`, headers });
        expect(del.statusCode, del.body).toBe(204);
        const [event] = (await listAuditEvents(t.deps.db, { action: 'entry.delete', targetId: closedEntry, limit: 100 })).filter((e) => e.outcome === 'ok');
        expect(event).toMatchObject({ actor: 'only-clerk', purpose: purpose['x-access-purpose'], detail: expect.objectContaining({ restricted: true }) });
      });

      it('marks every answer to a signed-in caller Cache-Control: no-store, images, downloads and search included', async () => {
        let checked = 0;
        for (const r of t.app.arkivaRoutes) {
          if (r.method !== 'GET' || r.policy?.roles === 'public') continue;
          const res = await t.app.inject({ method: 'GET', url: fill(r.url), headers: t.auth });
          expect(res.headers['cache-control'], `GET ${r.url} (${res.statusCode})`).toBe('no-store');
          checked++;
        }
        expect(checked).toBeGreaterThan(30);
        const reads = [
          '/books', `/books/${open}/pages`, `/books/${open}/pages/1/image?width=200`, `/books/${open}/pages/1/image?width=200&revision=1`,
          `/books/${open}/pages/1/master`, `/books/${open}/pages/1/master?revision=1`, `/books/${open}/pages/1/review`, `/books/${open}/pages/1/entries`,
          '/search?q=Shehu', '/records', `/entries?bookId=${open}`,
        ];
        for (const url of reads) {
          const res = await t.app.inject({ method: 'GET', url, headers: asRole.clerk });
          expect(res.statusCode, `${url}: ${res.body.slice(0, 200)}`).toBe(200);
          expect(res.headers['cache-control'], url).toBe('no-store');
        }
        // The sign-in answer carries the session's CSRF token.
        await createUser(t.deps.db, { username: 'cachecheck', password: 'a password for caching', roles: ['clerk'] });
        const login = await t.app.inject({ method: 'POST', url: '/auth/login', payload: { username: 'cachecheck', password: 'a password for caching' }, remoteAddress: '10.9.9.9' });
        expect(login.statusCode).toBe(200);
        expect(login.headers['cache-control']).toBe('no-store');
      });
    });

    describe('closure computed when a book is archived, failing closed (issue 18, point 1)', () => {
      const purpose = { 'x-access-purpose': 'registry correction 12/2026' };
      it('computes retention with the upload: a 2022 birth register is closed until 2122-12-31 under the default schedule, its OCR refused to a clerk without purpose, its pages left out of search', async () => {
        const bookId = await uploadBook('birth', '2022', 'issue 18 births 2022');
        const ret = await t.app.inject({ method: 'GET', url: `/books/${bookId}/retention`, headers: asRole.records_manager });
        expect(ret.statusCode, ret.body).toBe(200);
        expect(ret.json().retention).toMatchObject({
          closedUntil: '2122-12-31', computedReason: 'book archived: retention and closure computed from the rules in force',
          closureExplanation: expect.stringMatching(/^rule 'Birth registers closed 100 years after their last year \(default schedule\)' \(default-birth-closure v1\): closed until 2122-12-31/),
        });
        expect(ret.json().history).toHaveLength(1);
        await seedPage(bookId, 'Vjollcaxhiu');
        const ocr = await t.app.inject({ method: 'GET', url: `/books/${bookId}/pages/1/ocr`, headers: asRole.clerk });
        expect(ocr.statusCode).toBe(403);
        expect(ocr.json().error.message).toMatch(/closed for privacy/);
        const plain = (await t.app.inject({ method: 'GET', url: '/search?q=Vjollcaxhiu&fuzzy=false', headers: asRole.clerk })).json();
        expect(plain).toMatchObject({ hits: [], withheld: 1 });
        const stated = (await t.app.inject({ method: 'GET', url: '/search?q=Vjollcaxhiu&fuzzy=false', headers: { ...asRole.clerk, ...purpose } })).json();
        expect(stated.hits.map((h: { bookId: string }) => h.bookId)).toEqual([bookId]);
        // The default schedule, as shipped: one closure rule per register type but 'other'.
        const rules = (await t.app.inject({ method: 'GET', url: '/retention/rules', headers: asRole.records_manager })).json().rules as { ruleKey: string; kind: string; registerType: string; periodYears: number; trigger: string; createdBy: string }[];
        expect(rules.filter((r) => r.createdBy === 'arkiva default schedule').map((r) => [r.ruleKey, r.kind, r.registerType, r.periodYears, r.trigger])).toEqual([
          ['default-birth-closure', 'closure', 'birth', 100, 'closing-year'],
          ['default-death-closure', 'closure', 'death', 50, 'closing-year'],
          ['default-marriage-closure', 'closure', 'marriage', 75, 'closing-year'],
        ]);
      });

      it('treats a book without a computed closure as closed: its retention row deleted, reads need a purpose and search leaves it out until it is computed again', async () => {
        const bookId = await uploadBook('death', '1900', 'issue 18 deaths 1900');
        await seedPage(bookId, 'Shkurtajxhi');
        const entries = () => t.app.inject({ method: 'GET', url: `/books/${bookId}/pages/1/entries`, headers: asRole.clerk });
        const search = async () => (await t.app.inject({ method: 'GET', url: '/search?q=Shkurtajxhi&fuzzy=false', headers: asRole.clerk })).json() as { hits: unknown[]; withheld: number };
        // Closed until 1950-12-31: open today.
        expect((await entries()).statusCode).toBe(200);
        expect((await search()).hits).toHaveLength(1);
        await t.deps.db.query('DELETE FROM item_retention WHERE book_id = $1', [bookId]);
        const refused = await entries();
        expect(refused.statusCode).toBe(403);
        expect(refused.json().error.message).toMatch(/closed for privacy/);
        expect(await search()).toMatchObject({ hits: [], withheld: 1 });
        expect((await t.app.inject({ method: 'GET', url: `/books/${bookId}/pages/1/entries`, headers: { ...asRole.clerk, ...purpose } })).statusCode).toBe(200);
        await recomputeItem(t.deps.db, bookId, 'test: computed again');
        expect((await entries()).statusCode).toBe(200);
      });

      it("withdraws a book's closure the moment its register type or years change, and the stale job computes it for the new class", async () => {
        const bookId = await uploadBook('death', '1901', 'issue 18 deaths 1901');
        await seedPage(bookId, 'Ndrecajxhi');
        const entries = () => t.app.inject({ method: 'GET', url: `/books/${bookId}/pages/1/entries`, headers: asRole.clerk });
        expect((await entries()).statusCode).toBe(200);
        // Whatever writes it (here SQL, as an operator would): the closure computed for a 1901 death register no longer holds.
        await t.deps.db.query(`UPDATE books SET register_type = 'birth', year_from = 2020, year_to = 2020 WHERE id = $1`, [bookId]);
        expect((await entries()).statusCode).toBe(403);
        expect((await t.app.inject({ method: 'GET', url: `/books/${bookId}/retention`, headers: asRole.records_manager })).statusCode).toBe(404);
        expect(await recomputeStale(t.deps.db)).toContain(bookId);
        const ret = (await t.app.inject({ method: 'GET', url: `/books/${bookId}/retention`, headers: asRole.records_manager })).json().retention;
        expect(ret).toMatchObject({ closedUntil: '2120-12-31', computedReason: 'book metadata changed (register type, municipality or years): retention and closure computed again' });
        expect((await entries()).statusCode).toBe(403);
      });
    });

    describe('the closure filter on every listing and every content route (issue 18, points 1 and 9)', () => {
      const purpose = { 'x-access-purpose': 'court request 51/2026' };
      const NAME = 'Dardanxhiku';
      let closed: { bookId: string; pageId: string; entryId: string };
      let open: { bookId: string; pageId: string; entryId: string };
      let recordId: string;
      /** Every id of the closed book that a listing must not show. */
      const closedIds = () => [closed.bookId, closed.pageId, closed.entryId];
      const withoutClosed = (body: string, what: string) => {
        for (const id of closedIds()) expect(body, `${what} names ${id}`).not.toContain(id);
      };
      beforeAll(async () => {
        const db = t.deps.db;
        const { record } = await upsertRecord(db, { system: 'civil', recordType: 'birth', recordId: `KS-18-${randomUUID().slice(0, 8)}`, personNames: [`Arta ${NAME}`], eventDate: '2022-03-04', municipality: 'Prizren' }, { user: 'seed' });
        recordId = record.id;
        const book = async (registerType: string, year: string) => {
          const bookId = await uploadBook(registerType, year, `issue 18 listings ${registerType} ${year}`);
          const pageId = await seedPage(bookId, NAME);
          const entryId = (await createEntry(db, pageId, { box: { x0: 10, y0: 30, x1: 250, y1: 80 }, eventType: 'birth', names: [{ role: 'subject', name: `Arta ${NAME}` }] }, { user: 'seed' })).id;
          await createLink(db, { recordId, target: { kind: 'entry', entryId }, linkType: 'original-entry' }, { user: 'seed' });
          await createLink(db, { recordId, target: { kind: 'page', pageId }, linkType: 'marginal-note' }, { user: 'seed' });
          await createLink(db, { recordId, target: { kind: 'book', bookId }, linkType: 'amendment' }, { user: 'seed' });
          return { bookId, pageId, entryId };
        };
        closed = await book('birth', '2022');
        open = await book('death', '1900');
      });

      // Both books get a zone to key and a disputed one (the closed book first: the keying queue
      // would hand out its zones first if it did not leave them out).
      let keyingSeeded = false;
      const seedKeying = async () => {
        if (keyingSeeded) return;
        keyingSeeded = true;
        for (const b of [closed, open]) {
          if ((await pageZones(t.deps.db, b.pageId)).length) continue;
          const [disputed] = await proposeZones(t.deps.db, b.pageId, { source: 'drawn', zones: [{ box: { x0: 10, y0: 20, x1: 290, y1: 50 } }, { box: { x0: 10, y0: 50, x1: 290, y1: 80 } }] }, { user: 'seed' });
          const columns = (await requireLayout(t.deps.db, disputed!.layoutKey, disputed!.layoutVersion)).columns;
          const answers = (v: string): KeyedFields => Object.fromEntries(columns.map((c) => [c.key, { value: v }]));
          await submitKeying(t.deps.db, disputed!.id, 'seed-a', answers('one'));
          await submitKeying(t.deps.db, disputed!.id, 'seed-b', answers('two'));
        }
      };

      it('leaves the links of a closed book out of every link listing without a purpose, for every role that may list them, and shows them with one', async () => {
        const listings = [
          `/records/${'RECORD'}`, `/records/${'RECORD'}?history=true`, `/books/${'CLOSED_BOOK'}/links`, `/pages/${'CLOSED_PAGE'}/links`, `/entries/${'CLOSED_ENTRY'}/links`,
          `/links/export?bookId=${'CLOSED_BOOK'}`, '/links/export', '/links/export?history=true',
        ].map((u) => u.replace('RECORD', recordId).replace('CLOSED_BOOK', closed.bookId).replace('CLOSED_PAGE', closed.pageId).replace('CLOSED_ENTRY', closed.entryId));
        for (const role of ROLES) {
          for (const url of listings) {
            const res = await t.app.inject({ method: 'GET', url, headers: asRole[role] });
            if (!['clerk', 'records_manager'].includes(role)) {
              expect(res.statusCode, `${url} as ${role}`).toBe(403);
              continue;
            }
            expect(res.statusCode, `${url} as ${role}: ${res.body.slice(0, 200)}`).toBe(200);
            withoutClosed(res.body, `${url} as ${role}`);
          }
        }
        const record = (await t.app.inject({ method: 'GET', url: `/records/${recordId}`, headers: asRole.clerk })).json() as { links: { item: { bookId: string } }[]; withheld: number };
        expect(record.links.map((l) => l.item.bookId)).toEqual([open.bookId, open.bookId, open.bookId]);
        expect(record.withheld).toBe(3);
        expect((await t.app.inject({ method: 'GET', url: `/entries/${closed.entryId}/links`, headers: asRole.clerk })).json()).toEqual({ links: [], withheld: 1 });
        const csv = await t.app.inject({ method: 'GET', url: `/links/export?bookId=${closed.bookId}`, headers: asRole.clerk });
        expect(csv.body.trimEnd().split('\n')).toHaveLength(1);
        expect(csv.headers['x-withheld']).toBe('3');
        // With a purpose the closed book's links are there, and the audit event carries the purpose.
        const stated = (await t.app.inject({ method: 'GET', url: `/records/${recordId}`, headers: { ...asRole.clerk, ...purpose } })).json() as { links: { item: { bookId: string; entryId: string | null } }[]; withheld: number };
        expect(stated.links.filter((l) => l.item.bookId === closed.bookId)).toHaveLength(3);
        expect(stated.withheld).toBe(0);
        const entryLinks = (await t.app.inject({ method: 'GET', url: `/entries/${closed.entryId}/links`, headers: { ...asRole.records_manager, ...purpose } })).json();
        expect(entryLinks.links.map((l: { item: { entryId: string } }) => l.item.entryId)).toEqual([closed.entryId]);
        expect((await t.app.inject({ method: 'GET', url: `/links/export?bookId=${closed.bookId}`, headers: { ...asRole.clerk, ...purpose } })).body.trimEnd().split('\n')).toHaveLength(4);
        const [event] = (await listAuditEvents(t.deps.db, { action: 'record.read', targetId: recordId, limit: 1000 })).filter((e) => e.purpose === purpose['x-access-purpose']);
        expect(event).toMatchObject({ actor: 'only-clerk', outcome: 'ok', detail: expect.objectContaining({ withheld: 0 }) });
      });

      it("holds the closed book's pages from a search only when the records manager states a purpose, which the hold keeps", async () => {
        const hold = (name: string, headers: Record<string, string>) => t.app.inject({
          method: 'POST', url: '/retention/holds/search', headers,
          payload: { name, reason: 'inheritance case', authority: 'Basic Court Prizren', search: { q: NAME, fuzzy: false } },
        });
        const plain = await hold('Issue 18 search hold', asRole.records_manager);
        expect(plain.statusCode, plain.body).toBe(201);
        withoutClosed(plain.body, 'a hold without purpose');
        expect(plain.json()).toMatchObject({ matchedPages: 1, withheld: 1, hold: { items: [{ bookId: open.bookId, pageId: open.pageId }], query: { withheldPages: 1 } } });
        expect(plain.json().hold.query.purpose).toBeUndefined();
        const stated = await hold('Issue 18 search hold with purpose', { ...asRole.records_manager, ...purpose });
        expect(stated.statusCode, stated.body).toBe(201);
        expect(stated.json()).toMatchObject({ matchedPages: 2, withheld: 0, hold: { query: { purpose: purpose['x-access-purpose'], withheldPages: 0 } } });
        expect(stated.json().hold.items.map((i: { pageId: string }) => i.pageId).sort()).toEqual([closed.pageId, open.pageId].sort());
        for (const h of [plain, stated]) {
          const released = await t.app.inject({ method: 'POST', url: `/retention/holds/${h.json().hold.id}/release`, headers: asRole.records_manager, payload: { reason: 'test over' } });
          expect(released.statusCode, released.body).toBe(200);
        }
      });

      it('refuses every route that returns book content for a closed book without a purpose, for every role, or leaves the book out of the listing', async () => {
        // Every GET route (and the hold placed from a search) is one of three kinds; a new route must be put in one.
        const listings: Record<string, (role: Role) => Promise<{ statusCode: number; body: string }>> = {
          'GET /search': (role) => t.app.inject({ method: 'GET', url: `/search?q=${NAME}&fuzzy=false`, headers: asRole[role] }),
          'GET /entries': (role) => t.app.inject({ method: 'GET', url: `/entries?name=${NAME}`, headers: asRole[role] }),
          'GET /records/:recordId': (role) => t.app.inject({ method: 'GET', url: `/records/${recordId}?history=true`, headers: asRole[role] }),
          'GET /books/:id/links': (role) => t.app.inject({ method: 'GET', url: `/books/${closed.bookId}/links`, headers: asRole[role] }),
          'GET /pages/:id/links': (role) => t.app.inject({ method: 'GET', url: `/pages/${closed.pageId}/links`, headers: asRole[role] }),
          'GET /entries/:id/links': (role) => t.app.inject({ method: 'GET', url: `/entries/${closed.entryId}/links`, headers: asRole[role] }),
          'GET /links/export': (role) => t.app.inject({ method: 'GET', url: '/links/export?history=true', headers: asRole[role] }),
          'GET /keying/next': async (role) => {
            await seedKeying();
            return t.app.inject({ method: 'GET', url: '/keying/next', headers: asRole[role] });
          },
          'GET /keying/disputes': async (role) => {
            await seedKeying();
            return t.app.inject({ method: 'GET', url: '/keying/disputes', headers: asRole[role] });
          },
          'POST /retention/holds/search': async (role) => {
            const res = await t.app.inject({ method: 'POST', url: '/retention/holds/search', headers: asRole[role], payload: { name: `walk ${role}`, reason: 'walk', authority: 'walk', search: { q: NAME, fuzzy: false } } });
            if (res.statusCode === 201) await t.app.inject({ method: 'POST', url: `/retention/holds/${res.json().hold.id}/release`, headers: asRole[role], payload: { reason: 'walk over' } });
            return res;
          },
        };
        // What these return is no book's content: who, what and where, statuses, counts, rules, dates, identifiers.
        const noBookContent = new Set([
          'GET /auth/me', 'GET /users', 'GET /users/:username/tokens', 'GET /audit/events', 'GET /audit/actions', 'GET /audit/verify', 'GET /books', 'GET /books/:bookId',
          'GET /books/:bookId/events', 'GET /books/:bookId/pages', 'GET /books/:bookId/pages/:sequence', 'GET /books/:bookId/packages', 'GET /books/:bookId/timings',
          'GET /retention/rules', 'GET /books/:bookId/retention', 'GET /retention/due', 'GET /retention/holds', 'GET /disposal/batches/:id',
          'GET /disposal/certificates/:bookId', 'GET /disposal/certificates/:bookId/pdf', 'GET /disposal/due-lists', 'GET /fixity/runs/:id',
          'GET /metrics', 'GET /queues', 'GET /processing', 'GET /records', 'GET /records/candidates', 'GET /gazetteer/places', 'GET /review/pages', 'GET /keying/layouts', 'GET /keying/layouts/:layoutKey/versions', 'GET /keying/stats', 'GET /ui-api/retention/rules/:ruleKey/versions', 'GET /ui-api/disposal/batches', 'GET /ui-api/fixity/runs',
          'GET /extracts',
          // What a disposed book was (type, municipality, years) and when it went: its content is gone.
          'GET /books/:bookId/tombstone',
          // Events name books and entries by id only (their personal data is never listed); subscriptions name other systems.
          'GET /events', 'GET /events/deliveries', 'GET /events/dead-letters', 'GET /event-subscriptions', 'GET /event-subscriptions/:subscriptionId',
        ]);
        // Routes that find their book through their own record, not the URL, and apply the book's closure in
        // their service (tested with it): an extract's PDF (extracts/extracts.test.ts); keyers' name suggestions,
        // bare values counted over books the caller may read (api/routes/keying.route.test.ts, with and without a purpose).
        const closedInService = new Set(['GET /extracts/:serial/pdf', 'GET /keying/suggestions']);
        const routes = t.app.arkivaRoutes.filter((r) => r.policy?.roles !== 'public' && (r.method === 'GET' || listings[`${r.method} ${r.url}`]));
        const content = routes.filter((r) => r.policy?.restricted);
        const unclassified = routes.map((r) => `${r.method} ${r.url}`).filter((k) => !listings[k] && !noBookContent.has(k) && !closedInService.has(k) && !content.some((c) => `${c.method} ${c.url}` === k));
        expect(unclassified, 'GET routes neither restricted, nor a filtered listing, nor known to carry no book content').toEqual([]);
        expect(Object.keys(listings).filter((k) => !routes.some((r) => `${r.method} ${r.url}` === k))).toEqual([]);
        expect(content.length).toBeGreaterThan(10);
        let checked = 0;
        await seedKeying();
        const closedZone = (await pageZones(t.deps.db, closed.pageId))[0]!.id;
        for (const r of content) {
          const name = `${r.method} ${r.url}`;
          // The access hook finds a restricted route's book from these params only.
          expect(r.url, name).toMatch(/:(bookId|entryId|zoneId)\b/);
          const url = r.url.replace(':bookId', closed.bookId).replace(':entryId', closed.entryId).replace(':zoneId', closedZone).replace(':sequence', '1').replace(':variant', 'thumb-jpeg').replace(':generation', '1');
          for (const role of ROLES) {
            const res = await t.app.inject({ method: 'GET', url, headers: asRole[role] });
            expect(res.statusCode, `${name} as ${role}`).toBe(403);
            if ((r.policy!.roles as readonly Role[]).includes(role)) expect(res.json().error.message, `${name} as ${role}`).toMatch(/closed for privacy/);
            checked++;
          }
        }
        for (const [name, call] of Object.entries(listings)) {
          const allowed = routes.find((r) => `${r.method} ${r.url}` === name)!.policy!.roles as readonly Role[];
          for (const role of ROLES) {
            const res = await call(role);
            if (!allowed.includes(role)) {
              expect(res.statusCode, `${name} as ${role}`).toBe(403);
              continue;
            }
            expect(res.statusCode, `${name} as ${role}: ${res.body.slice(0, 200)}`).toBeLessThan(300);
            withoutClosed(res.body, `${name} as ${role}`);
            // The open book's items are listed: the filter left out the closed book, not everything.
            expect(res.body, `${name} as ${role}`).toContain(name === 'GET /books/:id/links' || name === 'GET /pages/:id/links' || name === 'GET /entries/:id/links' ? '"withheld":' : open.bookId);
            checked++;
          }
        }
        expect(checked).toBeGreaterThan(60);
      }, 120_000);
    });

    it('keeps one intact hash chain over everything above', async () => {
      const r = await verifyChain(t.deps.db);
      expect(r.broken).toBeNull();
      expect(r.checked).toBeGreaterThan(100);
      // The append-only trigger works on the embedded database too.
      await expect(t.deps.db.query("UPDATE audit_events SET outcome = 'ok' WHERE seq = 1")).rejects.toThrow(/append-only/);
      await expect(t.deps.db.query('DELETE FROM audit_events WHERE seq = 1')).rejects.toThrow(/append-only/);
    });
  });
}
