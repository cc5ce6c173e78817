/**
 * Issue 18, points 2, 4 and 5, through the real CLI (`bin/arkiva.mjs` as a child process) against
 * PostgreSQL, Redis and Ceph RGW: who runs a command is signed in, never asserted (`--as` alone is
 * refused when DATABASE_URL is set; ARKIVA_TOKEN is checked as the API checks a Bearer token);
 * CLI reads apply the API's closure (purpose, role) and are audited with their target, purpose and
 * words searched; four eyes are two sign-ins (`--by` is gone); a token an admin made for someone
 * acts on their behalf, recorded so, and cannot approve, dispose of or read closed books.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireService } from '../test-support/services.ts';
import { openRealDeps, realServicesEnv } from '../test-support/real-deps.ts';
import { insertPageWords } from '../test-support/seed-words.ts';
import { createApiToken, createUser, revokeApiToken } from '../auth/index.ts';
import { listAuditEvents, type AuditEvent } from '../audit/index.ts';
import { createBook, getPageBySequence } from '../archive/index.ts';
import { ingestBook } from '../ingest/index.ts';
import { createLink, upsertRecord } from '../records/index.ts';
import { startWorkers } from '../workers/index.ts';
import { waitForBook } from './wait.ts';
import { attributedOpen, cliPolicy } from './attribution.ts';
import type { AppDeps } from '../app/deps.ts';

const run = promisify(execFile);
const enabled = requireService('databaseUrl') && requireService('redisUrl') && requireService('s3');

describe.skipIf(!enabled)('arkiva on PostgreSQL: signed-in users, closure and four eyes', () => {
  let real: Awaited<ReturnType<typeof openRealDeps>>;
  let env: Record<string, string>;
  let deps: AppDeps;
  let dir: string;
  /** Each user's own API token (made by its owner). */
  const own: Record<string, string> = {};
  /** A book under privacy closure with a built package and a word to search for. */
  let closedBook: string;

  async function arkiva(args: string[], extra: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
    try {
      const r = await run(process.execPath, [path.resolve('bin/arkiva.mjs'), ...args], {
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env, ...extra }, timeout: 120_000,
      });
      return { code: 0, stdout: r.stdout, stderr: r.stderr };
    } catch (e) {
      const err = e as { code: number; stdout: string; stderr: string };
      return { code: err.code, stdout: err.stdout, stderr: err.stderr };
    }
  }
  const as = (user: string, token = own[user]!) => ({ ARKIVA_TOKEN: token });
  /** Audit events after `seq`, as `actor action outcome`-worthy objects. */
  const eventsAfter = async (seq: number): Promise<AuditEvent[]> => listAuditEvents(deps.db, { afterSeq: seq, limit: 1000 });
  const headSeq = async () => (await listAuditEvents(deps.db, { limit: 1000 })).at(-1)?.seq ?? 0;

  /** Sets a book's retention and closure directly (the rules engine has its own tests). */
  async function setRetention(bookId: string, r: { closedUntilDays: number | null; dueDaysAgo?: number }): Promise<void> {
    await deps.db.query(
      `INSERT INTO item_retention (book_id, explanation, closed_until, retain_until, action, computed_reason)
       VALUES ($1, 'test', CASE WHEN $2::int IS NULL THEN NULL ELSE current_date + $2::int END, CASE WHEN $3::int IS NULL THEN NULL ELSE current_date - $3::int END, CASE WHEN $3::int IS NULL THEN NULL ELSE 'destroy' END, 'test')
       ON CONFLICT (book_id) DO UPDATE SET closed_until = EXCLUDED.closed_until, retain_until = EXCLUDED.retain_until, action = EXCLUDED.action`,
      [bookId, r.closedUntilDays, r.dueDaysAgo ?? null],
    );
  }

  beforeAll(async () => {
    env = realServicesEnv({ OCR_POOL_SIZE: '1', LOG_LEVEL: 'warn' });
    real = await openRealDeps(env);
    deps = real.deps;
    dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'arkiva-sign-in-'));
    for (const [username, roles] of [['clerk', ['clerk']], ['rm', ['records_manager']], ['rm2', ['records_manager']], ['boss', ['admin']], ['boss2', ['admin']]] as const) {
      await createUser(deps.db, { username, roles });
      own[username] = (await createApiToken(deps.db, { username })).token;
    }
    // A one-page book (a blank leaf: the pipeline ends without OCR), finished by real workers.
    const png = path.join(dir, 'leaf.png');
    await sharp({ create: { width: 600, height: 400, channels: 3, background: { r: 255, g: 255, b: 255 } } }).png().toFile(png);
    const workers = await startWorkers(deps);
    try {
      ({ book: { id: closedBook } } = await ingestBook(deps, { kind: 'file', path: png }, { registerType: 'birth', municipality: 'Gjakova', yearFrom: 2001, yearTo: 2001, languages: 'sqi' }));
      expect((await waitForBook(deps.db, closedBook, { progress: false, timeoutMs: 120_000 })).status).toBe('complete');
    } finally {
      await workers.close();
    }
    const page = (await getPageBySequence(deps.db, closedBook, 1))!;
    await insertPageWords(deps.db, { bookId: closedBook, pageId: page.id, revision: 1 }, [
      { text: 'Zenepe', confidence: 90, line: 0, block: 0, box: { x0: 10, y0: 10, x1: 90, y1: 40 } },
    ]);
    await setRetention(closedBook, { closedUntilDays: 36_500 });
  }, 240_000);
  afterAll(async () => {
    await real?.cleanup();
    if (dir) await fs.promises.rm(dir, { recursive: true, force: true });
  });

  it('refuses --as alone against PostgreSQL, saying to use ARKIVA_TOKEN; signs in with a token as the API checks it (revoked: refused)', async () => {
    const before = await headSeq();
    const asserted = await arkiva(['audit', 'list', '--as', 'boss']);
    expect(asserted.code).toBe(1);
    expect(asserted.stderr).toMatch(/--as boss alone does not sign in to an archive on PostgreSQL \(DATABASE_URL is set\): set ARKIVA_TOKEN to an API token of boss/);
    expect((await eventsAfter(before)).filter((e) => e.actor === 'boss')).toEqual([]);
    // A name through ARKIVA_USER is no different.
    expect((await arkiva(['audit', 'list'], { ARKIVA_USER: 'boss' })).stderr).toMatch(/alone does not sign in/);

    const signedIn = await arkiva(['audit', 'list', '--json'], as('boss'));
    expect(signedIn.code, signedIn.stderr).toBe(0);
    // A token of one user does not run a command as another.
    const mismatch = await arkiva(['audit', 'list', '--as', 'boss2'], as('boss'));
    expect(mismatch.code).toBe(1);
    expect(mismatch.stderr).toMatch(/ARKIVA_TOKEN signs in boss, not boss2/);
    const spare = await createApiToken(deps.db, { username: 'boss' });
    await revokeApiToken(deps.db, spare.id);
    const revoked = await arkiva(['audit', 'list'], as('boss', spare.token));
    expect(revoked.code).toBe(1);
    expect(revoked.stderr).toMatch(/ARKIVA_TOKEN is unknown, expired or revoked/);
  }, 120_000);

  it('signs a name in against PostgreSQL with the password typed on the terminal; a wrong one is refused and recorded as a failed sign-in', async () => {
    await createUser(deps.db, { username: 'aud', password: 'a long auditor password', roles: ['auditor'] });
    // The terminal prompt (cli/prompt.ts) answers with what was typed; here, what the test types.
    const open = (typed: string | undefined) => attributedOpen(async () => Object.assign(Object.create(deps) as AppDeps, { close: async () => undefined }), {
      command: 'audit', policy: cliPolicy('audit', 'list'), allowBootstrap: false, as: 'aud', embedded: false, askPassword: async () => typed,
    });
    const before = await headSeq();
    expect((await open('a long auditor password')).actor).toMatchObject({ username: 'aud', roles: ['auditor'] });
    await expect(open('guess')).rejects.toThrow(/wrong username or password/);
    await expect(open(undefined)).rejects.toThrow(/--as aud alone does not sign in/);
    expect((await eventsAfter(before)).map((e) => `${e.actor} ${e.action} ${e.targetId ?? ''} ${e.outcome}`)).toEqual(['aud audit.cli  ok', 'anonymous auth.login aud denied']);
  });

  it('refuses the CLI export of a closed book without a purpose, and exports it with one, audited with the book and the purpose', async () => {
    const before = await headSeq();
    const refusedDir = path.join(dir, 'refused');
    const refused = await arkiva(['export', closedBook, refusedDir], as('clerk'));
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/this book is closed for privacy; state why you need it in --purpose TEXT or ARKIVA_PURPOSE/);
    expect(fs.existsSync(refusedDir)).toBe(false);
    const denied = (await eventsAfter(before)).filter((e) => e.action === 'access.denied');
    expect(denied).toEqual([expect.objectContaining({ actor: 'clerk', targetType: 'book', targetId: closedBook, purpose: null, outcome: 'denied', detail: expect.objectContaining({ command: 'export', restricted: true }) })]);

    const purpose = 'court order 12/2026: identity check';
    const outDir = path.join(dir, 'bag');
    const exported = await arkiva(['export', closedBook, outDir, '--purpose', purpose], as('clerk'));
    expect(exported.code, exported.stderr).toBe(0);
    expect(fs.existsSync(path.join(outDir, 'bagit.txt'))).toBe(true);
    const read = (await eventsAfter(before)).filter((e) => e.action === 'book.package.read');
    expect(read).toEqual([expect.objectContaining({ actor: 'clerk', targetType: 'book', targetId: closedBook, purpose, outcome: 'ok', from: 'cli', detail: expect.objectContaining({ restricted: true }) })]);
  }, 180_000);

  it('audits a CLI search with its words and purpose, and shows closed books only to a stated purpose', async () => {
    const before = await headSeq();
    const bare = await arkiva(['search', 'zenepe', '--json'], as('clerk'));
    expect(bare.code, bare.stderr).toBe(0);
    expect(JSON.parse(bare.stdout.trim())).toMatchObject({ hits: [], withheld: 1 });
    const purpose = 'family history request 9';
    const stated = await arkiva(['search', 'zenepe', '--json', '--purpose', purpose], as('clerk'));
    expect(stated.code, stated.stderr).toBe(0);
    expect((JSON.parse(stated.stdout.trim()) as { hits: { bookId: string }[] }).hits.map((h) => h.bookId)).toEqual([closedBook]);
    const searches = (await eventsAfter(before)).filter((e) => e.action === 'search.results');
    expect(searches).toEqual([
      expect.objectContaining({ actor: 'clerk', targetType: 'search', purpose: null, detail: expect.objectContaining({ q: 'zenepe' }) }),
      expect.objectContaining({ actor: 'clerk', targetType: 'search', purpose, detail: expect.objectContaining({ q: 'zenepe' }) }),
    ]);
  }, 120_000);

  it("leaves a closed book's links out of the CLI link export, counted, unless a purpose is stated", async () => {
    const { record } = await upsertRecord(deps.db, { system: 'civil', recordType: 'birth', recordId: 'B-77', personNames: ['Zenepe Berisha'], eventDate: '2001-03-02', municipality: 'Gjakova' }, { user: 'clerk' });
    await createLink(deps.db, { recordId: record.id, target: { kind: 'book', bookId: closedBook }, linkType: 'original-entry' }, { user: 'clerk' });
    const bare = await arkiva(['link', 'export', '--book', closedBook], as('clerk'));
    expect(bare.code, bare.stderr).toBe(0);
    expect(bare.stdout).not.toContain('B-77');
    expect(bare.stderr).toMatch(/1 link\(s\) withheld: their books are under privacy closure/);
    const stated = await arkiva(['link', 'export', '--book', closedBook, '--purpose', 'registry correction 7/2026'], as('clerk'));
    expect(stated.code, stated.stderr).toBe(0);
    expect(stated.stdout).toContain(`civil,birth,B-77,${closedBook}`);
  }, 120_000);

  it('makes four eyes two sign-ins: --by is gone, the proposer cannot approve, and a token an admin made for rm2 cannot approve, execute or read closed books', async () => {
    const { book } = await createBook(deps.db, { registerType: 'death', municipality: 'Prizren', yearFrom: 1901, yearTo: 1901, languages: 'sqi', sourceFormat: 'tiff', sourceSha256: 'a'.repeat(64), sourceSize: 1 });
    await setRetention(book.id, { closedUntilDays: null, dueDaysAgo: 1 });
    // Naming someone else with --by is no longer possible: the flag is a usage error.
    const claimed = await arkiva(['disposal', 'propose', book.id, '--by', 'rm2'], as('rm'));
    expect(claimed.code).toBe(2);
    expect(claimed.stderr).toMatch(/Unknown option '--by'/);
    const proposed = await arkiva(['disposal', 'propose', book.id, '--json'], as('rm'));
    expect(proposed.code, proposed.stderr).toBe(0);
    const batch = JSON.parse(proposed.stdout.trim()) as { id: string; proposedBy: string };
    expect(batch.proposedBy).toBe('rm');
    expect((await arkiva(['disposal', 'approve', batch.id, '--by', 'rm2'], as('rm'))).code).toBe(2);
    const self = await arkiva(['disposal', 'approve', batch.id], as('rm'));
    expect(self.code).toBe(1);
    expect(self.stderr).toMatch(/four eyes/);

    // An admin makes a token for rm2 (and one for the clerk): it carries who made it.
    const before = await headSeq();
    const made = await arkiva(['token', 'create', 'rm2', '--days', '1', '--json'], as('boss'));
    expect(made.code, made.stderr).toBe(0);
    const forRm2 = JSON.parse(made.stdout.trim()) as { token: string; issuedBy: string };
    expect(forRm2.issuedBy).toBe('boss');
    const forClerk = JSON.parse((await arkiva(['token', 'create', 'clerk', '--days', '1', '--json'], as('boss'))).stdout.trim()) as { token: string };
    const created = (await eventsAfter(before)).filter((e) => e.action === 'token.create');
    expect(created.map((e) => [e.actor, e.targetId, e.detail?.issuedBy, e.detail?.onBehalfOf])).toEqual([['boss', 'rm2', 'boss', 'rm2'], ['boss', 'clerk', 'boss', 'clerk']]);

    const onBehalf = await arkiva(['disposal', 'approve', batch.id], as('rm2', forRm2.token));
    expect(onBehalf.code).toBe(1);
    expect(onBehalf.stderr).toMatch(/needs rm2's own credentials: the token in use was made by boss on rm2's behalf/);
    const closedRead = await arkiva(['export', closedBook, path.join(dir, 'delegated'), '--purpose', 'curiosity'], as('clerk', forClerk.token));
    expect(closedRead.code).toBe(1);
    expect(closedRead.stderr).toMatch(/not read through a token boss made on clerk's behalf/);
    // What a delegated token may still do (read the due list) is recorded with both names.
    expect((await arkiva(['retention', 'due', '--json'], as('rm2', forRm2.token))).code).toBe(0);
    const delegated = (await eventsAfter(before)).filter((e) => e.detail?.issuedBy === 'boss' && e.action !== 'token.create');
    expect(delegated.map((e) => `${e.actor} ${e.action} ${e.outcome} ${String(e.detail?.onBehalfOf)}`)).toEqual([
      'rm2 access.denied denied rm2', 'clerk access.denied denied clerk', 'rm2 retention.cli ok rm2',
    ]);

    // rm2 with its own token approves; the admin-made token cannot execute; rm executes.
    const approved = await arkiva(['disposal', 'approve', batch.id, '--json'], as('rm2'));
    expect(approved.code, approved.stderr).toBe(0);
    expect(JSON.parse(approved.stdout.trim())).toMatchObject({ status: 'approved', decidedBy: 'rm2' });
    const executeOnBehalf = await arkiva(['disposal', 'execute', batch.id], as('rm2', forRm2.token));
    expect(executeOnBehalf.code).toBe(1);
    expect(executeOnBehalf.stderr).toMatch(/own credentials/);
    const executed = await arkiva(['disposal', 'execute', batch.id, '--json'], as('rm'));
    expect(executed.code, executed.stderr).toBe(0);
    expect(JSON.parse(executed.stdout.trim())).toMatchObject({ disposed: [book.id] });
  }, 240_000);

  it('refuses granting oneself a role through the CLI; another admin grants it', async () => {
    const self = await arkiva(['user', 'grant', 'boss', '--role', 'auditor'], as('boss'));
    expect(self.code).toBe(1);
    expect(self.stderr).toMatch(/boss may not grant roles to themselves: another admin must grant them/);
    const other = await arkiva(['user', 'grant', 'boss', '--role', 'auditor', '--json'], as('boss2'));
    expect(other.code, other.stderr).toBe(0);
    expect(JSON.parse(other.stdout.trim()).roles).toEqual(['admin', 'auditor']);
  }, 120_000);
});
