/**
 * The setup every browser test (web/e2e/*.e2e.test.ts) shares: Debian's Chromium driven by
 * playwright-core against an Arkiva listening on 127.0.0.1, and tabs signed in through the UI's
 * own form. Under CI a missing browser or web build is a failure, never a skip.
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { buildApp } from '../api/index.ts';
import { WEB_DIST } from '../api/web-ui.ts';
import { openAppDeps, type AppDeps } from '../app/deps.ts';
import { silentLogger } from '../common/index.ts';
import { loadConfig } from '../config/index.ts';
import { isCI } from './services.ts';

/** Debian's Chromium, the browser the e2e tests drive (playwright-core brings none of its own). */
export const CHROMIUM = '/usr/bin/chromium';
/** The password every e2e user is created with (long enough for the password policy). */
export const E2E_PASSWORD = 'e2e-password-long-enough';
/** Where the README's screenshots are retaken. */
export const SHOTS = path.resolve(import.meta.dirname, '../docs/screenshots');

/** Something else a browser test needs on disk, and what to say under CI when it is missing. */
export interface Needed { file: string; missing: string }

/**
 * Whether a browser test can run: Chromium, the built web UI (unless `webBuild: false`) and any
 * other file it needs. Under CI the first missing one throws, so the suite fails instead of skipping.
 */
export function requireBrowser(opts: { webBuild?: boolean; needs?: Needed[] } = {}): boolean {
  const needed: Needed[] = [{ file: CHROMIUM, missing: `${CHROMIUM} is missing (apt-get install chromium)` }];
  if (opts.webBuild !== false) needed.push({ file: path.join(WEB_DIST, 'index.html'), missing: 'web/dist is not built (npm run build:web)' });
  needed.push(...(opts.needs ?? []));
  let ready = true;
  for (const n of needed) {
    if (fs.existsSync(n.file)) continue;
    if (isCI) throw new Error(`CI=true but ${n.missing}`);
    ready = false;
  }
  return ready;
}

/** A free loopback port, for a server whose public base URL must be known before it starts. */
export async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/** An embedded Arkiva's dependencies, closed by the test that opened them. */
export type EmbeddedDeps = AppDeps & { close(): Promise<void> };

/**
 * An embedded Arkiva's dependencies (PGlite, filesystem store) in a fresh temporary directory
 * named `prefix`…; `env` adds to or overrides the test defaults (no secure cookie, one OCR worker).
 */
export async function openEmbeddedDeps(prefix: string, env: Record<string, string> = {}): Promise<{ dir: string; deps: EmbeddedDeps }> {
  const dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), prefix));
  try {
    const deps = await openAppDeps(loadConfig({ ARKIVA_DATA_DIR: dir, COOKIE_SECURE: 'false', OCR_POOL_SIZE: '1', ...env }), silentLogger());
    return { dir, deps };
  } catch (e) {
    await fs.promises.rm(dir, { recursive: true, force: true });
    throw e;
  }
}

/** Arkiva listening for a browser: `app` for `inject()`, `base` for the browser. */
export interface ServedApp { app: FastifyInstance; base: string; close(): Promise<void> }

/** Arkiva on 127.0.0.1 (on `port`, or any free one), without request logs; `base` has no trailing slash. */
export async function serveApp(deps: AppDeps, opts: { port?: number } = {}): Promise<ServedApp> {
  const app = await buildApp(deps, { logRequests: false });
  await app.listen({ host: '127.0.0.1', port: opts.port ?? 0 });
  const addr = app.server.address();
  if (!addr || typeof addr === 'string') throw new Error(`the app is not listening on a TCP port (address: ${String(addr)})`);
  return { app, base: `http://127.0.0.1:${addr.port}`, close: () => app.close() };
}

/** Debian's Chromium, headless, kept off the network except for the app under test. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** A served Arkiva and the Chromium that drives it. */
export interface ServedChromium { server: ServedApp; base: string; browser: Browser }

/** `deps` served on 127.0.0.1 (see serveApp) and Chromium launched to drive it. */
export async function serveToChromium(deps: AppDeps, opts: { port?: number } = {}): Promise<ServedChromium> {
  const server = await serveApp(deps, opts);
  const browser = await launchChromium().catch(async (e: unknown) => {
    await server.close();
    throw e;
  });
  return { server, base: server.base, browser };
}

/**
 * Closes what a browser test opened, last opened first; a part is missing when the setup failed
 * before it. A browser that will not close (it may have crashed) does not stop the rest closing.
 */
export async function tearDown(parts: { contexts?: BrowserContext[]; browser?: Browser; server?: ServedApp; deps?: { close(): Promise<void> }; dir?: string }): Promise<void> {
  for (const c of parts.contexts ?? []) await c.close().catch(() => undefined);
  await parts.browser?.close().catch(() => undefined);
  await parts.server?.close();
  await parts.deps?.close();
  if (parts.dir) await fs.promises.rm(parts.dir, { recursive: true, force: true });
}

/** A page with the errors it raised: uncaught exceptions, and with `cspErrors` what the CSP blocked. */
export type Tab = Page & { errors: string[] };
/** The UI languages. */
export type Lang = 'en' | 'sq';

/** How a tab's context is set up. */
export interface TabOptions {
  viewport?: { width: number; height: number };
  /** The browser's locale; by default the one of `lang`. */
  locale?: string;
  acceptDownloads?: boolean;
  /** Also count "Content Security Policy" console errors as page errors. */
  cspErrors?: boolean;
  /** Contexts opened are added here, for a test that closes them itself. */
  contexts?: BrowserContext[];
  /** Called on the new page before it loads anything (listeners, init scripts). */
  prepare?: (page: Tab) => unknown;
}

/** A fresh context (its own cookies) and page collecting its errors; nothing loaded yet. */
export async function newTab(browser: Browser, opts: TabOptions & { lang?: Lang } = {}): Promise<Tab> {
  const lang = opts.lang ?? 'en';
  const context = await browser.newContext({
    viewport: opts.viewport ?? { width: 1280, height: 900 },
    locale: opts.locale ?? (lang === 'en' ? 'en-GB' : 'sq-AL'),
    ...(opts.acceptDownloads ? { acceptDownloads: true } : {}),
  });
  opts.contexts?.push(context);
  const page: Tab = Object.assign(await context.newPage(), { errors: [] as string[] });
  page.on('pageerror', (e) => page.errors.push(e.message));
  if (opts.cspErrors) page.on('console', (m) => { if (m.type() === 'error' && /Content Security Policy/.test(m.text())) page.errors.push(m.text()); });
  await opts.prepare?.(page);
  return page;
}

/** A fresh tab on the sign-in screen, with the UI language set to `lang` (English by default). */
export async function openTab(browser: Browser, base: string, opts: TabOptions & { lang?: Lang } = {}): Promise<Tab> {
  const page = await newTab(browser, opts);
  await page.goto(`${base}/`);
  await page.evaluate((l) => localStorage.setItem('arkiva.lang', l), opts.lang ?? 'en');
  await page.reload();
  return page;
}

/** The sign-in form's words in each UI language. */
const SIGN_IN_WORDS = {
  en: { username: 'Username', password: 'Password', signIn: 'Sign in' },
  sq: { username: 'Përdoruesi', password: 'Fjalëkalimi', signIn: 'Hyr' },
} as const;

/** Fills the sign-in form already on `page` (in `lang`) and waits until the header names `username`. */
export async function fillSignIn(page: Page, username: string, opts: { lang?: Lang; password?: string } = {}): Promise<void> {
  const lang = opts.lang ?? 'en';
  const w = SIGN_IN_WORDS[lang];
  await page.getByLabel(w.username).fill(username).catch(async (e: unknown) => {
    throw new Error(`no sign-in form (${lang}) for ${username} at ${page.url()}: ${await page.locator('body').innerText()}`, { cause: e });
  });
  await page.getByLabel(w.password).fill(opts.password ?? E2E_PASSWORD);
  await page.getByRole('button', { name: w.signIn, exact: true }).click();
  await expect.poll(() => page.getByTestId('username').textContent()).toBe(username);
}

/** A fresh tab signed in as `username` through the UI's form, in `lang` (English by default). */
export async function signIn(browser: Browser, base: string, username: string, opts: TabOptions & { lang?: Lang; password?: string } = {}): Promise<Tab> {
  const page = await openTab(browser, base, opts);
  await fillSignIn(page, username, opts);
  return page;
}
