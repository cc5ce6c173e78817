/**
 * Test helpers of the API suites: an embedded AppDeps (PGlite, filesystem store, in-process
 * queue) in a temporary folder, small real page images, and multipart bodies built by hand.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { loadConfig } from '../config/index.ts';
import { silentLogger } from '../common/index.ts';
import { openAppDeps, type AppDeps } from '../app/deps.ts';
import { buildApp, type BuildAppOptions } from './index.ts';
import { ROLES, createApiToken, createUser, type Role } from '../auth/index.ts';
import type { Db } from '../db/index.ts';
import { isFinalBookStatus } from '../archive/index.ts';

/** Something requests can be injected into: the app, or the app as one user. */
export interface Injector {
  inject(opts: InjectOptions): Promise<LightMyRequestResponse>;
}

let userCounter = 0;

/** Creates a user holding `roles` with an API token; returns the headers that authenticate as them. */
export async function userHeaders(db: Db, roles: readonly Role[], username = `test-${roles.join('-') || 'none'}-${++userCounter}`.replace(/_/g, '-')): Promise<Record<string, string>> {
  await createUser(db, { username, roles });
  const { token } = await createApiToken(db, { username, name: 'test' });
  return { authorization: `Bearer ${token}` };
}

/** The app as one user: every injected request carries `headers` (a request's own headers win). */
export function asUser(app: Injector, headers: Record<string, string>): Injector {
  return { inject: (opts) => app.inject({ ...opts, headers: { ...headers, ...(opts.headers as Record<string, string> | undefined) } }) };
}

/** An app on its own embedded deps; `close()` removes everything. */
export interface TestApp {
  /** The app, unauthenticated. */
  app: FastifyInstance;
  /** The app as a test user holding every role (tests of behaviour; access itself is tested in access.test.ts). */
  api: Injector;
  /** The headers `api` sends. */
  auth: Record<string, string>;
  deps: AppDeps;
  dir: string;
  close(): Promise<void>;
}

/** Builds the API on embedded deps in a fresh temporary folder (extra env, e.g. UPLOAD_MAX_BYTES). */
export async function openTestApp(env: Record<string, string> = {}, opts: BuildAppOptions = {}): Promise<TestApp> {
  const dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'arkiva-api-'));
  const deps = await openAppDeps(loadConfig({ ARKIVA_DATA_DIR: dir, OCR_POOL_SIZE: '1', ...env }), silentLogger());
  const app = await buildApp(deps, { logRequests: false, ...opts });
  const auth = await userHeaders(deps.db, ROLES, 'tester');
  return {
    app,
    api: asUser(app, auth),
    auth,
    deps,
    dir,
    async close() {
      await app.close();
      await deps.close();
      await fs.promises.rm(dir, { recursive: true, force: true });
    },
  };
}

const PAGE_W = 800;
const PAGE_H = 400;

/** Raw RGB pixels of `pages` pages stacked vertically, each with one line of large text. */
async function pagesRaster(pages: number, label: string): Promise<{ data: Buffer; width: number; height: number }> {
  const lines = Array.from({ length: pages }, (_, i) =>
    `<text x="40" y="${i * PAGE_H + 220}" font-family="DejaVu Sans, sans-serif" font-size="72" fill="black">${label} ${i + 1}</text>`,
  ).join('');
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${PAGE_W}" height="${PAGE_H * pages}"><rect width="100%" height="100%" fill="white"/>${lines}</svg>`;
  const { data, info } = await sharp(Buffer.from(svg)).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

/** A multi-page TIFF of 800x400 pages with a line of text each; `label` changes the bytes. */
export async function multiPageTiff(pages: number, label = 'Page'): Promise<Buffer> {
  const r = await pagesRaster(pages, label);
  return sharp(r.data, { raw: { width: r.width, height: r.height, channels: 3, pageHeight: PAGE_H } })
    .tiff({ compression: 'deflate' })
    .toBuffer();
}

/** One 800x400 PNG page with a line of text. */
export async function pagePng(label = 'Rescan'): Promise<Buffer> {
  const r = await pagesRaster(1, label);
  return sharp(r.data, { raw: { width: r.width, height: r.height, channels: 3 } }).png().toBuffer();
}

/** A file part of a hand-built multipart body. */
export interface FilePart {
  field?: string;
  filename?: string;
  contentType?: string;
  data: Buffer;
}

/**
 * A multipart/form-data body with the parts in the given order (strings are fields, objects
 * are files), for `inject()`.
 */
export function multipart(parts: (readonly [string, string] | FilePart)[]): { payload: Buffer; headers: Record<string, string> } {
  const boundary = `----arkiva-test-${Math.random().toString(16).slice(2)}`;
  const chunks: Buffer[] = [];
  for (const p of parts) {
    chunks.push(Buffer.from(`--${boundary}\r\n`));
    if (Array.isArray(p)) {
      const [name, value] = p as readonly [string, string];
      chunks.push(Buffer.from(`Content-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`));
    } else {
      const f = p as FilePart;
      chunks.push(
        Buffer.from(`Content-Disposition: form-data; name="${f.field ?? 'file'}"; filename="${f.filename ?? 'book.tif'}"\r\nContent-Type: ${f.contentType ?? 'application/octet-stream'}\r\n\r\n`),
        f.data,
        Buffer.from('\r\n'),
      );
    }
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { payload: Buffer.concat(chunks), headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
}

/** Metadata fields of a valid upload, in order. */
export const METADATA: (readonly [string, string])[] = [
  ['registerType', 'birth'],
  ['municipality', 'Tiranë'],
  ['year', '1962-1963'],
  ['languages', 'eng'],
];

/** Polls GET /books/:id until the book reaches a final status. */
export async function waitForBook(app: Injector, bookId: string, timeoutMs = 80_000): Promise<{ status: string; [k: string]: unknown }> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const res = await app.inject({ method: 'GET', url: `/books/${bookId}` });
    const book = res.json().book as { status: string };
    if (isFinalBookStatus(book.status)) return book;
    if (Date.now() > until) throw new Error(`book ${bookId} still ${book.status} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
