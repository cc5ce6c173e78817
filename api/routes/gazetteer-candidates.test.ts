import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { upsertRecord } from '../../records/index.ts';
import { openTestApp, userHeaders, type TestApp } from '../test-kit.ts';

// One embedded app for the gazetteer and registry-candidate routes (issue 20).
describe('gazetteer and registry candidates API', () => {
  let t: TestApp;
  let right: string;

  beforeAll(async () => {
    t = await openTestApp();
    right = (await upsertRecord(t.deps.db, { system: 'civil', recordType: 'birth', recordId: 'B-1', personNames: ['Marko Petrović', 'Dragan Petrović'], eventDate: '1958-03-04', municipality: 'Peć' }, { user: 'x' })).record.id;
    await upsertRecord(t.deps.db, { system: 'civil', recordType: 'birth', recordId: 'B-2', personNames: ['Marko Petrović'], eventDate: '1958-03-04', municipality: 'Prizren' }, { user: 'x' });
    await upsertRecord(t.deps.db, { system: 'civil', recordType: 'birth', recordId: 'B-3', personNames: ['Marko Petrović'], eventDate: '1990-01-01', municipality: 'Peć' }, { user: 'x' });
  }, 60_000);
  afterAll(async () => t?.close());

  it('suggests places to any signed-in user, in both languages and scripts', async () => {
    const digitiser = await userHeaders(t.deps.db, ['digitiser']);
    const r = await t.app.inject({ method: 'GET', url: `/gazetteer/places?q=${encodeURIComponent('При')}&limit=5`, headers: digitiser });
    expect(r.statusCode).toBe(200);
    expect(r.json().places).toContainEqual(expect.objectContaining({ sq: 'Prishtinë', sr: 'Priština', srCyrl: 'Приштина', kind: 'municipality' }));
    expect((await t.app.inject({ method: 'GET', url: '/gazetteer/places?q=peje', headers: digitiser })).json().places[0]).toMatchObject({ sq: 'Pejë', sr: 'Peć' });
    expect((await t.app.inject({ method: 'GET', url: '/gazetteer/places?q=peje' })).statusCode).toBe(401);
    expect((await t.app.inject({ method: 'GET', url: '/gazetteer/places', headers: digitiser })).statusCode).toBe(400);
  });

  it('lists candidate records with score and reasons to those who read records, in order', async () => {
    const url = `/records/candidates?municipality=Pej%C3%AB&yearFrom=1958&yearTo=1959&eventType=birth&surname=${encodeURIComponent('Петровић')}&givenName=Marko&father=Dragan&eventDate=1958-03-04`;
    const r = await t.app.inject({ method: 'GET', url, headers: await userHeaders(t.deps.db, ['clerk']) });
    expect(r.statusCode).toBe(200);
    const c = r.json().candidates as { record: { id: string; recordId: string }; score: number; reasons: string[] }[];
    expect(c.map((x) => x.record.recordId)).toEqual(['B-1', 'B-2']);
    expect(c[0]!.record.id).toBe(right);
    expect(c[0]!.reasons).toContain('same municipality Peć (+0.1)');
    expect(c[0]!.score).toBeGreaterThan(c[1]!.score);
    expect((await t.app.inject({ method: 'GET', url, headers: await userHeaders(t.deps.db, ['digitiser']) })).statusCode).toBe(403);
    expect((await t.api.inject({ method: 'GET', url: url.replace('eventType=birth', 'eventType=baptism') })).statusCode).toBe(400);
  });
});
