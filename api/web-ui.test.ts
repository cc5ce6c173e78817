import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestApp, type TestApp } from './test-kit.ts';
import { SHARED_SCHEMAS } from './schemas.ts';
import { UI_CSP, webRoutes } from './web-ui.ts';

/** A bare Fastify with the API's shared schemas, for the plugin alone. */
function bare() {
  const app = Fastify();
  for (const s of SHARED_SCHEMAS) app.addSchema(s);
  return app;
}

describe('the web interface served by the API', () => {
  let t: TestApp;
  let dist: string;
  beforeAll(async () => {
    t = await openTestApp();
  });
  afterAll(async () => {
    await t?.close();
    if (dist) await fs.promises.rm(dist, { recursive: true, force: true });
  });

  it('redirects / to /ui/ and declares every route of the UI public', async () => {
    const r = await t.app.inject({ url: '/' });
    expect(r.statusCode).toBe(302);
    expect(r.headers.location).toBe('/ui/');
    const ui = t.app.arkivaRoutes.filter((x) => x.url === '/' || x.url === '/ui' || x.url.startsWith('/ui/'));
    expect(ui.length).toBeGreaterThan(1);
    for (const x of ui) expect(x.policy?.roles, `${x.method} ${x.url}`).toBe('public');
    const lists = t.app.arkivaRoutes.filter((x) => x.url.startsWith('/ui-api/'));
    expect([...new Set(lists.map((x) => x.url))].sort()).toEqual(['/ui-api/disposal/batches', '/ui-api/fixity/runs', '/ui-api/retention/rules/:ruleKey/versions']);
    for (const x of lists) expect(x.policy?.roles).toEqual(['records_manager']);
  });

  it('serves the built files with their own CSP, hashed assets cached for good, index revalidated', async () => {
    dist = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'arkiva-web-'));
    await fs.promises.mkdir(path.join(dist, 'assets'));
    await fs.promises.writeFile(path.join(dist, 'index.html'), '<!doctype html><script type="module" src="/ui/assets/index-abc.js"></script>');
    await fs.promises.writeFile(path.join(dist, 'assets', 'index-abc.js'), 'console.log(1)');
    const app = bare();
    await app.register(webRoutes, { deps: t.deps, root: dist });
    const index = await app.inject({ url: '/ui/' });
    expect(index.statusCode).toBe(200);
    expect(index.headers['content-type']).toMatch(/text\/html/);
    expect(index.headers['content-security-policy']).toBe(UI_CSP);
    expect(index.headers['cache-control']).toBe('no-cache');
    const js = await app.inject({ url: '/ui/assets/index-abc.js' });
    expect(js.statusCode).toBe(200);
    expect(js.headers['cache-control']).toContain('immutable');
    expect((await app.inject({ url: '/ui/../package.json' })).statusCode).not.toBe(200);
    expect((await app.inject({ url: '/ui/missing.js' })).statusCode).toBe(404);
    await app.close();
  });

  it('answers 503 saying how to build it when web/dist is missing', async () => {
    const app = bare();
    await app.register(webRoutes, { deps: t.deps, root: path.join(os.tmpdir(), 'arkiva-no-such-dist') });
    const r = await app.inject({ url: '/ui/' });
    expect(r.statusCode).toBe(503);
    expect(r.json().error.message).toContain('npm run build:web');
    await app.close();
  });

  it('the lists the UI needs refuse callers without a session', async () => {
    expect((await t.app.inject({ url: '/ui-api/disposal/batches' })).statusCode).toBe(401);
  });
});
