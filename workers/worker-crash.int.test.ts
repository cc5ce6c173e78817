/**
 * A worker process killed with SIGKILL in the middle of a book: another worker picks the book up and
 * it completes with no page lost and nothing stored twice. Needs PostgreSQL, Redis and S3 (RGW).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateFixtureFiles, type FixtureFiles } from '../fixtures/index.ts';
import { ingestBook } from '../ingest/index.ts';
import { getBook, isFinalBookStatus } from '../archive/index.ts';
import { requireService } from '../test-support/services.ts';
import { openRealDeps, realServicesEnv } from '../test-support/real-deps.ts';

const ready = requireService('databaseUrl') && requireService('redisUrl') && requireService('s3');
const bin = path.resolve('bin/arkiva.mjs');

function startWorker(env: Record<string, string>): ChildProcess {
  const child = spawn(process.execPath, [bin, 'worker'], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  child.stderr!.on('data', () => undefined);
  return child;
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe.skipIf(!ready)('worker killed mid-book (SIGKILL)', () => {
  let dir: string;
  let files: FixtureFiles;
  let envVars: Record<string, string>;
  let env: Awaited<ReturnType<typeof openRealDeps>>;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'arkiva-crash-'));
    files = await generateFixtureFiles({ outDir: dir, pages: 10, seed: 99, formats: ['tiff'], scale: 0.5 });
    envVars = realServicesEnv({ OCR_POOL_SIZE: '1' });
    env = await openRealDeps(envVars);
  });

  afterAll(async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    await env?.cleanup();
    if (dir) await fs.promises.rm(dir, { recursive: true, force: true });
  });

  it('completes the book after the first worker is killed, each page archived once', async () => {
    const { deps } = env;
    const { book } = await ingestBook(deps, { kind: 'file', path: files.tiff!.path }, { registerType: 'birth', municipality: 'Pejë', yearFrom: 1961, yearTo: 1961, languages: 'sqi' });

    const first = startWorker(envVars);
    children.push(first);
    await until('some pages archived', async () => {
      const r = await deps.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM pages WHERE book_id = $1 AND status = 'done'`, [book.id]);
      return r.rows[0]!.n >= 2 ? true : undefined;
    }, 180_000);
    first.kill('SIGKILL');
    await new Promise((r) => first.once('exit', r));
    const doneAtKill = (await deps.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM pages WHERE book_id = $1 AND status = 'done'`, [book.id])).rows[0]!.n;
    expect(doneAtKill).toBeLessThan(10);

    const second = startWorker(envVars);
    children.push(second);
    const final = await until('the book to end', async () => {
      const b = await getBook(deps.db, book.id);
      return b && isFinalBookStatus(b.status) ? b : undefined;
    }, 300_000);
    await deps.queue.drained({ timeoutMs: 180_000 });
    second.kill('SIGTERM');

    expect(final.status).toBe('complete');
    expect(final.pagesDone).toBe(10);
    const twice = await deps.db.query(`SELECT page_id, role, variant FROM stored_objects GROUP BY page_id, role, variant HAVING count(*) > 1`);
    expect(twice.rows).toEqual([]);
    const perRole = await deps.db.query<{ role: string; n: number }>(`SELECT role, count(*)::int AS n FROM stored_objects WHERE page_id IS NOT NULL AND role <> 'alto' GROUP BY role ORDER BY role`);
    expect(perRole.rows).toEqual([
      { role: 'derivative', n: 30 }, { role: 'master', n: 10 }, { role: 'ocr', n: 20 }, { role: 'source', n: 10 },
    ]);
    const keys = new Set((await deps.db.query<{ store_key: string }>('SELECT store_key FROM stored_objects')).rows.map((r) => r.store_key));
    const stored: string[] = [];
    // A write cut by SIGKILL can leave a staging object (never an archived key): not part of the archive.
    // The catalogue's own objects (docs/catalogue-format.md) are not stored objects of a book.
    for await (const o of deps.store.list('')) if (!o.key.includes('.staging/') && !o.key.startsWith('catalogue/')) stored.push(o.key);
    expect(stored.filter((k) => !keys.has(k))).toEqual([]);
    expect(stored.length).toBe(keys.size);
    // Each page's words were indexed once (the index stage replaces, never appends).
    const dupWords = await deps.db.query(`SELECT page_id FROM page_words GROUP BY page_id, word_index HAVING count(*) > 1`);
    expect(dupWords.rows).toEqual([]);
  }, 600_000);
});
