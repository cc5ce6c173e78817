/**
 * Electronic extracts in the browser (issue 21, "Done when"): a clerk finds an entry and issues its
 * extract, the public verification page opened from the QR code's address (no sign-in) says it is
 * valid; a records manager revokes it and the page says revoked. An embedded Arkiva (PGlite,
 * filesystem store) listening on 127.0.0.1, Debian's Chromium through playwright-core.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext } from 'playwright-core';
import { createUser } from '../../auth/index.ts';
import { expectAccessible } from '../../test-support/axe.ts';
import { SHOTS, E2E_PASSWORD as PASSWORD, fillSignIn, freePort, newTab, openEmbeddedDeps, requireBrowser, serveToChromium, tearDown, type EmbeddedDeps, type ServedChromium, type Tab } from '../../test-support/browser.ts';
import { SEEDED_NAMES, seedEntry } from '../../extracts/seed.suite.ts';

const ready = requireBrowser();

describe.skipIf(!ready)('extracts in Chromium', () => {
  let dir: string;
  let deps: EmbeddedDeps;
  let web: ServedChromium;
  let base: string;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    // A port known before the app starts, so the public base URL printed in the QR code is this server's.
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    ({ dir, deps } = await openEmbeddedDeps('arkiva-e2e-extracts-', { ARKIVA_PUBLIC_BASE_URL: base, ARKIVA_ISSUING_OFFICE: 'Agjencia e Regjistrimit Civil' }));
    for (const [username, roles] of [['klea', ['clerk']], ['rita', ['records_manager']]] as const) await createUser(deps.db, { username, password: PASSWORD, roles });
    await seedEntry(deps);
    web = await serveToChromium(deps, { port });
  }, 120_000);
  afterAll(() => tearDown({ contexts, ...web, deps, dir }), 60_000);

  /** A fresh context in English; signed in as `username` unless none is given (the public). */
  async function open(username?: string): Promise<Tab> {
    const page = await newTab(web.browser, { contexts, prepare: (p) => p.addInitScript(() => localStorage.setItem('arkiva.lang', 'en')) });
    if (username) {
      await page.goto(`${base}/`);
      await fillSignIn(page, username);
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
