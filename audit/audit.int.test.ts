/**
 * The audit trail on real PostgreSQL and Ceph RGW: concurrent appends keep one chain, the trigger
 * and the app role's privileges refuse changes, and `arkiva audit verify` (the real CLI) names the
 * first event edited behind the trigger's back, or the anchored event of a table rewritten whole.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { requireService } from '../test-support/services.ts';
import { openRealDeps, realServicesEnv } from '../test-support/real-deps.ts';
import { createApiToken, createUser } from '../auth/index.ts';
import type { AppDeps } from '../app/deps.ts';
import { appendAuditEvent, eventHash, latestAnchor, listAuditEvents, verifyChain, verifyWithAnchors, writeAnchor, ANCHOR_PREFIX } from './index.ts';
import { readObject } from '../storage/index.ts';
import { buildApp } from '../api/index.ts';
import { asUser, userHeaders } from '../api/test-kit.ts';

const run = promisify(execFile);
const enabled = requireService('databaseUrl') && requireService('s3') && requireService('redisUrl');

async function cli(env: Record<string, string>, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, [path.resolve('bin/arkiva.mjs'), ...args], { env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env }, timeout: 60_000 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

/**
 * What a database owner can do: with the trigger disabled, change columns of event `seq` (`set`:
 * SQL assignments), then recompute every hash from there to the head, so that the chain is
 * self-consistent again.
 */
async function rewriteBehindTrigger(deps: AppDeps, seq: number, set: string, params: unknown[] = []): Promise<void> {
  await deps.db.query('ALTER TABLE audit_events DISABLE TRIGGER USER');
  await deps.db.query(`UPDATE audit_events SET ${set} WHERE seq = ${seq}`, params);
  const rows = await listAuditEvents(deps.db, { afterSeq: seq - 1, limit: 1000 });
  let prev = rows[0]!.prevHash;
  for (const e of rows) {
    const { hash: _old, ...rest } = e;
    const hash = eventHash({ ...rest, prevHash: prev });
    await deps.db.query('UPDATE audit_events SET prev_hash = $2, hash = $3 WHERE seq = $1', [e.seq, prev, hash]);
    prev = hash;
  }
  await deps.db.query('ALTER TABLE audit_events ENABLE TRIGGER USER');
}

describe.skipIf(!enabled)('audit trail (PostgreSQL, RGW)', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0)) await c();
  });
  async function open(): Promise<{ deps: AppDeps; env: Record<string, string>; schema: string }> {
    const env = realServicesEnv();
    const o = await openRealDeps(env);
    cleanups.push(o.cleanup);
    return { deps: o.deps, env, schema: env.DATABASE_SCHEMA! };
  }
  const append = (deps: AppDeps, i: number) => appendAuditEvent(deps.db, { actor: `user${i % 3}`, action: 'page.read', targetType: 'book', targetId: `b${i}`, from: '10.0.0.1', outcome: 'ok', detail: { page: i, z: { b: 1, a: [2, 'x'] } } });

  it('keeps one chain under concurrent appends', async () => {
    const { deps } = await open();
    await Promise.all(Array.from({ length: 40 }, (_, i) => append(deps, i)));
    const events = await listAuditEvents(deps.db, { limit: 1000 });
    expect(events.map((e) => e.seq)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    expect(new Set(events.map((e) => e.prevHash)).size).toBe(40);
    const r = await verifyChain(deps.db);
    expect(r).toMatchObject({ ok: true, checked: 40, broken: null });
  });

  it('refuses UPDATE, DELETE and TRUNCATE by trigger, and by privilege for an app role', async () => {
    const { deps, schema } = await open();
    await append(deps, 1);
    await expect(deps.db.query("UPDATE audit_events SET outcome = 'x' WHERE seq = 1")).rejects.toThrow(/append-only/);
    await expect(deps.db.query('DELETE FROM audit_events')).rejects.toThrow(/append-only/);
    await expect(deps.db.query('TRUNCATE audit_events')).rejects.toThrow(/append-only/);
    // What a deployment does for the role the app runs as (README: Access and audit).
    const role = `arkiva_app_${schema}`;
    await deps.db.query(`CREATE ROLE ${role} NOLOGIN`);
    cleanups.unshift(async () => {
      await deps.db.query(`DROP OWNED BY ${role}`).catch(() => undefined);
      await deps.db.query(`DROP ROLE IF EXISTS ${role}`).catch(() => undefined);
    });
    await deps.db.query(`GRANT USAGE ON SCHEMA ${schema} TO ${role}`);
    await deps.db.query(`GRANT SELECT, INSERT ON audit_events TO ${role}`);
    await deps.db.query(`GRANT SELECT, UPDATE ON audit_head TO ${role}`);
    await deps.db.query(`REVOKE UPDATE, DELETE, TRUNCATE ON audit_events FROM ${role}`);
    const asApp = <T>(fn: (q: (sql: string) => Promise<unknown>) => Promise<T>) =>
      deps.db.transaction(async (tx) => {
        await tx.query(`SET LOCAL ROLE ${role}`);
        return fn((sql) => tx.query(sql));
      });
    // The app role appends...
    await asApp(async (q) => {
      await q('SELECT id FROM audit_head WHERE id = 1 FOR UPDATE');
      await q('SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1');
    });
    // ...but cannot disable the trigger nor change rows even without it.
    await expect(asApp((q) => q('ALTER TABLE audit_events DISABLE TRIGGER USER'))).rejects.toThrow(/must be owner/);
    await expect(asApp((q) => q("UPDATE audit_events SET outcome = 'x'"))).rejects.toThrow(/permission denied/);
    await expect(asApp((q) => q('DELETE FROM audit_events'))).rejects.toThrow(/permission denied/);
    await expect(asApp((q) => q('TRUNCATE audit_events'))).rejects.toThrow(/permission denied/);
    expect((await verifyChain(deps.db)).ok).toBe(true);
  });

  it('arkiva audit verify names the event edited directly in the database', async () => {
    const { deps, env } = await open();
    await createUser(deps.db, { username: 'aud', roles: ['auditor'] });
    await createUser(deps.db, { username: 'clerk', roles: ['clerk'] });
    // Against PostgreSQL the CLI signs in with a token (issue 18: --as alone is refused there).
    const asAud = { ...env, ARKIVA_TOKEN: (await createApiToken(deps.db, { username: 'aud' })).token };
    const asClerk = { ...env, ARKIVA_TOKEN: (await createApiToken(deps.db, { username: 'clerk' })).token };
    for (let i = 0; i < 12; i++) await append(deps, i);
    const good = await cli(asAud, ['audit', 'verify']);
    expect(good.code, good.stderr).toBe(0);
    expect(good.stdout).toMatch(/intact: 13 events/);
    // Roles are checked by the same policy code: a clerk may not read the trail.
    const clerk = await cli(asClerk, ['audit', 'verify']);
    expect(clerk.code).toBe(1);
    expect(clerk.stderr).toMatch(/needs one of the roles auditor, admin/);
    const nobody = await cli(env, ['audit', 'verify']);
    expect(nobody.code).toBe(1);
    expect(nobody.stderr).toMatch(/--as NAME or set ARKIVA_USER/);

    // A superuser edits event 7 behind the trigger's back.
    await deps.db.query('ALTER TABLE audit_events DISABLE TRIGGER USER');
    await deps.db.query("UPDATE audit_events SET actor = 'someone-else' WHERE seq = 7");
    await deps.db.query('ALTER TABLE audit_events ENABLE TRIGGER USER');
    const bad = await cli(asAud, ['audit', 'verify', '--json']);
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stdout.trim().split('\n').pop()!).broken).toEqual({ seq: 7, reason: 'event 7 was altered (its hash does not match its contents)' });
    const text = await cli(asAud, ['audit', 'verify']);
    expect(text.stdout).toMatch(/BROKEN at event 7/);
  }, 120_000);

  it('detects a table rewritten with recomputed hashes, or cut short, against the anchor in object storage', async () => {
    const { deps, env } = await open();
    await createUser(deps.db, { username: 'aud', roles: ['auditor'] });
    const asAud = { ...env, ARKIVA_TOKEN: (await createApiToken(deps.db, { username: 'aud' })).token };
    for (let i = 0; i < 10; i++) await append(deps, i);
    const anchored = await cli(asAud, ['audit', 'anchor', '--json']);
    expect(anchored.code, anchored.stderr).toBe(0);
    const anchor = (await latestAnchor(deps))!;
    expect(anchor.key.startsWith(ANCHOR_PREFIX)).toBe(true);
    expect(anchor.seq).toBe(11);
    // On a store with Object Lock the anchor is locked.
    const head = await deps.store.head(anchor.key);
    if (deps.store.capabilities().objectLock) expect(head?.retention?.retainUntil.getTime()).toBeGreaterThan(Date.now() + 365 * 86_400_000);
    for (let i = 10; i < 14; i++) await append(deps, i);
    expect((await verifyChain(deps.db, [anchor])).ok).toBe(true);

    // Rewrite event 3 and recompute every hash after it: the chain is self-consistent again...
    await rewriteBehindTrigger(deps, 3, "target_id = 'other-book'");
    expect((await verifyChain(deps.db)).ok).toBe(true);
    // ...but not with the anchor written before.
    const r = await cli(asAud, ['audit', 'verify']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/BROKEN at event 11: .*differs from the anchor/);
  }, 120_000);

  it('detects events removed from the end after they were anchored', async () => {
    const { deps } = await open();
    for (let i = 0; i < 5; i++) await append(deps, i);
    await writeAnchor(deps);
    await deps.db.query('ALTER TABLE audit_events DISABLE TRIGGER USER');
    await deps.db.query('DELETE FROM audit_events WHERE seq >= 4');
    await deps.db.query('ALTER TABLE audit_events ENABLE TRIGGER USER');
    const r = await verifyChain(deps.db, [(await latestAnchor(deps))!]);
    expect(r.broken).toMatchObject({ seq: 5 });
    expect(r.broken!.reason).toMatch(/cut short/);
  });

  it('verify fails naming the older anchor when an old event is rewritten, hashes recomputed to the head and a fresh anchor written beside the old one', async () => {
    const { deps, env } = await open();
    await createUser(deps.db, { username: 'aud', roles: ['auditor'] });
    const asAud = { ...env, ARKIVA_TOKEN: (await createApiToken(deps.db, { username: 'aud' })).token };
    for (let i = 0; i < 10; i++) await append(deps, i);
    const older = (await writeAnchor(deps))!;
    for (let i = 10; i < 15; i++) await append(deps, i);
    // A database owner rewrites who read what, and why, in event 3, recomputes the hashes to the
    // head and anchors the forged head: the newest anchor agrees with the table.
    await rewriteBehindTrigger(deps, 3, "actor = 'someone-else', purpose = 'routine check', detail = $1", [JSON.stringify({ route: '/books/other/pages/1/ocr' })]);
    const newer = (await writeAnchor(deps))!;
    expect(newer.seq).toBeGreaterThan(older.seq);
    expect(newer.key).not.toBe(older.key);
    const found = (await listAuditEvents(deps.db, { afterSeq: older.seq - 1, limit: 1 }))[0]!.hash;
    expect(found).not.toBe(older.hash);
    const expected = { seq: older.seq, anchor: { key: older.key, seq: older.seq }, expected: older.hash, found };

    const cliRun = await cli(asAud, ['audit', 'verify', '--json']);
    expect(cliRun.code, cliRun.stderr).toBe(1);
    const report = JSON.parse(cliRun.stdout.trim().split('\n').pop()!);
    expect(report.ok).toBe(false);
    expect(report.broken).toMatchObject(expected);
    const text = await cli(asAud, ['audit', 'verify']);
    expect(text.code).toBe(1);
    expect(text.stdout).toContain(`BROKEN at event ${older.seq}: event ${older.seq} differs from the anchor ${older.key}`);

    const app = await buildApp(deps, { logRequests: false });
    cleanups.unshift(() => app.close());
    const auditor = asUser(app, await userHeaders(deps.db, ['auditor']));
    const api = await auditor.inject({ method: 'GET', url: '/audit/verify' });
    expect(api.statusCode).toBe(200);
    expect(api.json()).toMatchObject({ ok: false, broken: expected });
  }, 120_000);

  it('never writes an anchor over an existing one, even for the same event in the same millisecond', async () => {
    const { deps } = await open();
    for (let i = 0; i < 3; i++) await append(deps, i);
    // Only Date is frozen, so both writes get the same key; timers, and so the S3 client, run as usual.
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() });
    try {
      const first = (await writeAnchor(deps))!;
      await rewriteBehindTrigger(deps, first.seq, "actor = 'someone-else'");
      await expect(writeAnchor(deps)).rejects.toThrow(`anchor ${first.key} already exists`);
      expect((await deps.store.keyHistory(first.key)).length).toBe(1);
    } finally {
      vi.useRealTimers();
    }
  });

  it('verify reports an anchor written a second time under its key (a second version) as tampering, even with the same bytes', async () => {
    const { deps } = await open();
    expect(deps.store.capabilities()).toEqual({ versioning: true, objectLock: true });
    for (let i = 0; i < 5; i++) await append(deps, i);
    const anchor = (await writeAnchor(deps))!;
    await deps.store.put(anchor.key, await readObject(deps.store, anchor.key), { contentType: 'application/json' });
    const r = await verifyWithAnchors(deps);
    expect(r.ok).toBe(false);
    expect(r.broken).toMatchObject({ seq: anchor.seq, anchor: { key: anchor.key, seq: anchor.seq } });
    expect(r.broken!.reason).toBe(`anchor ${anchor.key} has 2 versions: anchors are written once, so it was overwritten or deleted in object storage`);
  });

  it('verify reports an anchor hidden under a delete marker as tampering', async () => {
    const { deps } = await open();
    for (let i = 0; i < 5; i++) await append(deps, i);
    const anchor = (await writeAnchor(deps))!;
    await deps.store.delete(anchor.key);
    expect(await latestAnchor(deps)).toBeUndefined();
    const r = await verifyWithAnchors(deps);
    expect(r.ok).toBe(false);
    expect(r.broken).toMatchObject({ seq: anchor.seq, anchor: { key: anchor.key, seq: anchor.seq } });
    expect(r.broken!.reason).toMatch(/has 1 version and 1 delete marker: anchors are written once/);
  });
});
