/**
 * Electronic extracts in the browser (issue 21, "Done when"): a clerk finds an entry and issues its
 * extract, the public verification page opened from the QR code's address (no sign-in) says it is
 * valid; a records manager revokes it and the page says revoked. An embedded Arkiva (PGlite,
 * filesystem store) listening on 127.0.0.1, Debian's Chromium through playwright-core.
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { buildApp } from '../../api/index.ts';
import { WEB_DIST } from '../../api/web-ui.ts';
import { openAppDeps, type AppDeps } from '../../app/deps.ts';
import { createUser } from '../../auth/index.ts';
import { loadConfig } from '../../config/index.ts';
import { silentLogger } from '../../common/index.ts';
import { expectAccessible } from '../../test-support/axe.ts';
import { isCI } from '../../test-support/services.ts';
import { SEEDED_NAMES, seedEntry } from '../../extracts/seed.suite.ts';

const CHROMIUM = '/usr/bin/chromium';
const SHOTS = path.resolve(import.meta.dirname, '../../docs/screenshots');
const PASSWORD = 'e2e-password-long-enough';
const haveChromium = fs.existsSync(CHROMIUM);
if (isCI && !haveChromium) throw new Error(`CI=true but ${CHROMIUM} is missing (apt-get install chromium)`);
if (isCI && !fs.existsSync(path.join(WEB_DIST, 'index.html'))) throw new Error('CI=true but web/dist is not built (npm run build:web)');
const ready = haveChromium && fs.existsSync(path.join(WEB_DIST, 'index.html'));

/** A free loopback port, so the public base URL printed in the QR code is this server's. */
async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

describe.skipIf(!ready)('extracts in Chromium', () => {
  let dir: string;
  let deps: AppDeps & { close(): Promise<void> };
  let app: FastifyInstance;
  let base: string;
  let browser: Browser;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'arkiva-e2e-extracts-'));
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    deps = await openAppDeps(loadConfig({ ARKIVA_DATA_DIR: dir, OCR_POOL_SIZE: '1', COOKIE_SECURE: 'false', ARKIVA_PUBLIC_BASE_URL: base, ARKIVA_ISSUING_OFFICE: 'Agjencia e Regjistrimit Civil' }), silentLogger());
    for (const [username, roles] of [['klea', ['clerk']], ['rita', ['records_manager']]] as const) await createUser(deps.db, { username, password: PASSWORD, roles });
    await seedEntry(deps);
    app = await buildApp(deps, { logRequests: false });
    await app.listen({ host: '127.0.0.1', port });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  }, 120_000);
  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close();
    await app?.close();
    await deps?.close();
    if (dir) await fs.promises.rm(dir, { recursive: true, force: true });
  }, 60_000);

  /** A fresh context in English; signed in as `username` unless none is given (the public). */
  async function open(username?: string): Promise<Page & { errors: string[] }> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-GB' });
    contexts.push(context);
    await context.addInitScript(() => localStorage.setItem('arkiva.lang', 'en'));
    const page = Object.assign(await context.newPage(), { errors: [] as string[] });
    page.on('pageerror', (e) => page.errors.push(e.message));
    if (username) {
      await page.goto(`${base}/`);
      await page.getByLabel('Username').fill(username);
      await page.getByLabel('Password').fill(PASSWORD);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await expect.poll(() => page.getByTestId('username').textContent()).toBe(username);
    }
    return page;
  }

  it('a clerk issues an extract, the public page from its QR address says valid; revoked by a records manager, it says revoked', async () => {
    const clerk = await open('klea');
    await clerk.goto(`${base}/ui/#/entries`);
    await clerk.getByLabel('Name in the entry').fill('citaku');
    await clerk.getByRole('button', { name: 'Search' }).click();
    const hit = clerk.getByTestId('entry-hit').filter({ hasText: SEEDED_NAMES.subject });
    await expect.poll(() => hit.count()).toBe(1);
    await hit.getByLabel('Request reference').fill('KRK-2026/0042');
    await hit.getByRole('button', { name: 'Issue extract' }).click();
    await expect.poll(() => hit.getByTestId('extract-serial').count(), { timeout: 30_000 }).toBe(1);
    const serial = (await hit.getByTestId('extract-serial').textContent())!;
    const verifyUrl = (await hit.getByTestId('extract-verify-url').getAttribute('href'))!;
    expect(verifyUrl).toBe(`${base}/verify/${serial}`);
    await clerk.screenshot({ path: path.join(SHOTS, 'extract-issued.png'), fullPage: true });
    await expectAccessible(clerk, 'extract issued');
    expect(clerk.errors).toEqual([]);

    // The public, signed in as no one, opens the QR code's address.
    const visitor = await open();
    await visitor.goto(verifyUrl);
    expect(visitor.url()).toBe(`${base}/ui/#/verify/${serial}`);
    await expect.poll(() => visitor.getByTestId('verify-status').textContent()).toBe('Valid');
    const facts = (await visitor.getByTestId('verify-facts').textContent())!;
    expect(facts).toContain('Agjencia e Regjistrimit Civil');
    expect(facts).not.toContain(SEEDED_NAMES.subject);
    await visitor.screenshot({ path: path.join(SHOTS, 'extract-verify.png'), fullPage: true });
    await expectAccessible(visitor, 'extract verification');

    const manager = await open('rita');
    await manager.goto(`${base}/ui/#/extracts`);
    const row = manager.getByRole('row').filter({ hasText: serial });
    await expect.poll(() => row.count()).toBe(1);
    await row.getByLabel('Reason for revoking (shown publicly)').fill('Issued for the wrong request');
    await row.getByRole('button', { name: 'Revoke' }).click();
    // Revoking cannot be undone: a confirmation names the extract first (issue 22).
    const confirm = manager.getByTestId('confirm-dialog');
    expect(await confirm.getByRole('heading').textContent()).toBe('Revoke this extract?');
    expect(await confirm.textContent()).toContain(serial);
    await expectAccessible(manager, 'revoke confirmation');
    await confirm.getByRole('button', { name: 'Revoke' }).click();
    await expect.poll(() => manager.getByRole('row').filter({ hasText: serial }).getByText('Revoked').count()).toBe(1);
    expect(manager.errors).toEqual([]);

    await visitor.reload();
    await expect.poll(() => visitor.getByTestId('verify-status').textContent()).toBe('Revoked');
    expect(await visitor.getByTestId('verify-facts').textContent()).toContain('Issued for the wrong request');
    expect(visitor.errors).toEqual([]);
  }, 180_000);
});
