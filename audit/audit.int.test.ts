/**
 * The audit trail on real PostgreSQL and Ceph RGW: concurrent appends keep one chain, the trigger
 * and the app role's privileges refuse changes, and `arkiva audit verify` (the real CLI) names the
 * first event edited behind the trigger's back, or the anchored event of a table rewritten whole.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { requireService } from '../test-support/services.ts';
import { openRealDeps, realServicesEnv } from '../test-support/real-deps.ts';
import { createUser } from '../auth/index.ts';
import type { AppDeps } from '../app/deps.ts';
import { appendAuditEvent, eventHash, latestAnchor, listAuditEvents, verifyChain, writeAnchor, ANCHOR_PREFIX } from './index.ts';

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
    for (let i = 0; i < 12; i++) await append(deps, i);
    const good = await cli(env, ['audit', 'verify', '--as', 'aud']);
    expect(good.code, good.stderr).toBe(0);
    expect(good.stdout).toMatch(/intact: 13 events/);
    // Roles are checked by the same policy code: a clerk may not read the trail.
    const clerk = await cli(env, ['audit', 'verify', '--as', 'clerk']);
    expect(clerk.code).toBe(1);
    expect(clerk.stderr).toMatch(/needs one of the roles auditor, admin/);
    const nobody = await cli(env, ['audit', 'verify']);
    expect(nobody.code).toBe(1);
    expect(nobody.stderr).toMatch(/--as NAME or set ARKIVA_USER/);

    // A superuser edits event 7 behind the trigger's back.
    await deps.db.query('ALTER TABLE audit_events DISABLE TRIGGER USER');
    await deps.db.query("UPDATE audit_events SET actor = 'someone-else' WHERE seq = 7");
    await deps.db.query('ALTER TABLE audit_events ENABLE TRIGGER USER');
    const bad = await cli(env, ['audit', 'verify', '--as', 'aud', '--json']);
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stdout.trim().split('\n').pop()!).broken).toEqual({ seq: 7, reason: 'event 7 was altered (its hash does not match its contents)' });
    const text = await cli(env, ['audit', 'verify', '--as', 'aud']);
    expect(text.stdout).toMatch(/BROKEN at event 7/);
  }, 120_000);

  it('detects a table rewritten with recomputed hashes, or cut short, against the anchor in object storage', async () => {
    const { deps, env } = await open();
    await createUser(deps.db, { username: 'aud', roles: ['auditor'] });
    for (let i = 0; i < 10; i++) await append(deps, i);
    const anchored = await cli(env, ['audit', 'anchor', '--as', 'aud', '--json']);
    expect(anchored.code, anchored.stderr).toBe(0);
    const anchor = (await latestAnchor(deps))!;
    expect(anchor.key.startsWith(ANCHOR_PREFIX)).toBe(true);
    expect(anchor.seq).toBe(11);
    // On a store with Object Lock the anchor is locked.
    const head = await deps.store.head(anchor.key);
    if (deps.store.capabilities().objectLock) expect(head?.retention?.retainUntil.getTime()).toBeGreaterThan(Date.now() + 365 * 86_400_000);
    for (let i = 10; i < 14; i++) await append(deps, i);
    expect((await verifyChain(deps.db, anchor)).ok).toBe(true);

    // Rewrite event 3 and recompute every hash after it: the chain is self-consistent again...
    await deps.db.query('ALTER TABLE audit_events DISABLE TRIGGER USER');
    await deps.db.query("UPDATE audit_events SET target_id = 'other-book' WHERE seq = 3");
    const rows = await listAuditEvents(deps.db, { limit: 1000 });
    let prev = rows[1]!.hash;
    for (const e of rows.slice(2)) {
      const { hash: _old, ...rest } = e;
      const hash = eventHash({ ...rest, prevHash: prev });
      await deps.db.query('UPDATE audit_events SET prev_hash = $2, hash = $3 WHERE seq = $1', [e.seq, prev, hash]);
      prev = hash;
    }
    await deps.db.query('ALTER TABLE audit_events ENABLE TRIGGER USER');
    expect((await verifyChain(deps.db)).ok).toBe(true);
    // ...but not with the anchor written before.
    const r = await cli(env, ['audit', 'verify', '--as', 'aud']);
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
    const r = await verifyChain(deps.db, await latestAnchor(deps));
    expect(r.broken).toMatchObject({ seq: 5 });
    expect(r.broken!.reason).toMatch(/cut short/);
  });
});
