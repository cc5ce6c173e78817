import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAuditEvents } from '../../audit/index.ts';
import { emit } from '../../events/index.ts';
import { asUser, openTestApp, userHeaders, type Injector, type TestApp } from '../test-kit.ts';
import { seedEntry } from '../../extracts/seed.suite.ts';

// The events admin API: who may do what, subscriptions without their secrets, events, replays.
describe('events API', () => {
  let t: TestApp;
  let admin: Injector;
  let auditor: Injector;
  let clerk: Injector;

  beforeAll(async () => {
    t = await openTestApp();
    admin = asUser(t.app, await userHeaders(t.deps.db, ['admin'], 'admin-events'));
    auditor = asUser(t.app, await userHeaders(t.deps.db, ['auditor'], 'auditor-events'));
    clerk = asUser(t.app, await userHeaders(t.deps.db, ['clerk'], 'clerk-events'));
  });
  afterAll(async () => t?.close());

  it('lets admins register, change and end subscriptions; shows the secret once; refuses others', async () => {
    const body = { name: 'Civil registry', url: 'https://registry.example.org/hooks/arkiva', eventTypes: ['book.archived', 'link.made'] };
    expect((await clerk.inject({ method: 'POST', url: '/event-subscriptions', payload: body })).statusCode).toBe(403);
    expect((await auditor.inject({ method: 'POST', url: '/event-subscriptions', payload: body })).statusCode).toBe(403);
    expect((await admin.inject({ method: 'POST', url: '/event-subscriptions', payload: { ...body, eventTypes: ['book.burnt'] } })).statusCode).toBe(400);
    expect((await admin.inject({ method: 'POST', url: '/event-subscriptions', payload: { ...body, url: 'ftp://x.example.org/' } })).statusCode).toBe(400);

    const made = await admin.inject({ method: 'POST', url: '/event-subscriptions', payload: body });
    expect(made.statusCode, made.body).toBe(201);
    expect(made.headers['cache-control']).toBe('no-store');
    const { subscription, secret } = made.json() as { subscription: { id: string; purpose: string | null; active: boolean }; secret: string };
    expect(secret.length).toBeGreaterThanOrEqual(40);
    expect(subscription).toMatchObject({ purpose: null, active: true, createdBy: 'admin-events' });

    const listed = await admin.inject({ method: 'GET', url: '/event-subscriptions' });
    expect(listed.body).not.toContain(secret);
    expect(listed.json().subscriptions.map((s: { id: string }) => s.id)).toContain(subscription.id);
    expect((await auditor.inject({ method: 'GET', url: '/event-subscriptions' })).statusCode).toBe(403);

    const granted = await admin.inject({ method: 'PATCH', url: `/event-subscriptions/${subscription.id}`, payload: { purpose: 'civil status verification', rotateSecret: true } });
    expect(granted.statusCode, granted.body).toBe(200);
    expect(granted.json().subscription).toMatchObject({ purpose: 'civil status verification', purposeGrantedBy: 'admin-events' });
    expect(granted.json().secret).not.toBe(secret);

    const ended = await admin.inject({ method: 'DELETE', url: `/event-subscriptions/${subscription.id}` });
    expect(ended.json().subscription.active).toBe(false);
    expect((await admin.inject({ method: 'DELETE', url: `/event-subscriptions/${randomUUID()}` })).statusCode).toBe(404);

    const audit = await listAuditEvents(t.deps.db, { action: 'events.subscription.change' });
    const change = audit.find((e) => e.action === 'events.subscription.change' && e.targetId === subscription.id);
    expect(change?.detail).toMatchObject({ purpose: 'civil status verification', secretRotated: true });
    expect(JSON.stringify(audit)).not.toContain(granted.json().secret);
  });

  it('lists events to admins and auditors, identifiers only, and replays or refuses replays', async () => {
    const bookId = randomUUID();
    const id = await t.deps.db.transaction((tx) => emit(tx, { type: 'entry.verified', subjects: { bookId, entryId: randomUUID() }, data: { registerType: 'birth' }, personal: { surname: 'Çitaku' } }));
    expect((await clerk.inject({ method: 'GET', url: '/events' })).statusCode).toBe(403);
    const r = await auditor.inject({ method: 'GET', url: `/events?bookId=${bookId}` });
    expect(r.statusCode, r.body).toBe(200);
    expect(r.json().events).toEqual([expect.objectContaining({ id, type: 'entry.verified', hasPersonal: true, data: { registerType: 'birth' } })]);
    expect(r.body).not.toContain('Çitaku');
    expect((await auditor.inject({ method: 'GET', url: '/events?type=book.burnt' })).statusCode).toBe(400);
    expect((await auditor.inject({ method: 'GET', url: '/events/dead-letters' })).json()).toEqual({ deliveries: [] });

    expect((await auditor.inject({ method: 'POST', url: `/events/${id}/replay`, payload: {} })).statusCode).toBe(403);
    // Not sent yet: it goes out with the next run, a replay has nothing to do.
    expect((await admin.inject({ method: 'POST', url: `/events/${id}/replay`, payload: {} })).statusCode).toBe(409);
    expect((await admin.inject({ method: 'POST', url: `/events/${randomUUID()}/replay`, payload: {} })).statusCode).toBe(404);
    const dead = await admin.inject({ method: 'POST', url: '/events/dead-letters/replay', payload: {} });
    expect(dead.json()).toEqual({ queued: 0 });
  });

  it('tells other systems of an extract issued and revoked, by serial and ids, without its content or the reason', async () => {
    const seeded = await seedEntry(t.deps);
    const clerkA = asUser(t.app, await userHeaders(t.deps.db, ['clerk'], 'clerk-extracts'));
    const manager = asUser(t.app, await userHeaders(t.deps.db, ['records_manager'], 'rm-extracts'));
    const issued = await clerkA.inject({ method: 'POST', url: '/extracts', payload: { entryId: seeded.entry.id, requestReference: 'KRK-2026/0077' } });
    expect(issued.statusCode, issued.body).toBe(201);
    const serial = issued.json().extract.serial as string;
    expect((await manager.inject({ method: 'POST', url: `/extracts/${serial}/revoke`, payload: { reason: 'Issued for the wrong request' } })).statusCode).toBe(200);
    const r = await auditor.inject({ method: 'GET', url: `/events?bookId=${seeded.bookId}` });
    const told = (r.json().events as { type: string; subjects: Record<string, unknown>; data: Record<string, unknown> }[]).filter((e) => e.type.startsWith('extract.'));
    expect(told.map((e) => [e.type, e.subjects]).reverse()).toEqual([
      ['extract.issued', { extractSerial: serial, entryId: seeded.entry.id, bookId: seeded.bookId, recordId: seeded.recordId, linkId: null }],
      ['extract.revoked', { extractSerial: serial, entryId: seeded.entry.id, bookId: seeded.bookId, recordId: seeded.recordId, linkId: null }],
    ]);
    expect(told.at(-1)!.data).toEqual({ extractType: 'birth', supersedes: null });
    expect(r.body).not.toContain('wrong request');
  });
});
