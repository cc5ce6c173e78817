/**
 * `arkiva ingest <folder>` as a scanner leaves it (issue 22): checksums.md5, notes and a PDF beside
 * the scans are listed and skipped, Thumbs.db and hidden files silently, and the pages keep their
 * natural order (page-2 before page-10). Real CLI on an embedded archive; blank leaves, so no OCR.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openAppDeps } from '../app/deps.ts';
import { listPages } from '../archive/index.ts';
import { createUser } from '../auth/index.ts';
import { silentLogger } from '../common/index.ts';
import { loadConfig } from '../config/index.ts';
import { folderPages } from '../ingest/index.ts';

const run = promisify(execFile);
// Widths tell the pages apart once archived: page-1, page-2, page-10 in that order.
const WIDTHS: Record<string, number> = { 'page-1.png': 600, 'page-2.png': 640, 'page-10.png': 680 };

describe('arkiva ingest <folder>', () => {
  let dir: string;
  let scans: string;
  beforeAll(async () => {
    dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'arkiva-cli-ingest-folder-'));
    scans = path.join(dir, 'scans');
    await fs.promises.mkdir(scans);
    for (const [name, width] of Object.entries(WIDTHS)) {
      await sharp({ create: { width, height: 400, channels: 3, background: { r: 255, g: 255, b: 255 } } }).png().toFile(path.join(scans, name));
    }
    await fs.promises.writeFile(path.join(scans, 'checksums.md5'), 'd41d8cd98f00b204e9800998ecf8427e  page-1.png\n');
    await fs.promises.writeFile(path.join(scans, 'notes.txt'), 'vol. 3, pages 1-10\n');
    await fs.promises.writeFile(path.join(scans, 'cover-letter.pdf'), '%PDF-1.4\n%%EOF\n');
    await fs.promises.writeFile(path.join(scans, 'Thumbs.db'), Buffer.alloc(64, 1));
    await fs.promises.writeFile(path.join(scans, '.DS_Store'), Buffer.alloc(64, 2));
    const deps = await openAppDeps(loadConfig({ ARKIVA_DATA_DIR: dir }), silentLogger());
    try {
      await createUser(deps.db, { username: 'digi', roles: ['digitiser'] });
    } finally {
      await deps.close();
    }
  });
  afterAll(async () => {
    await fs.promises.rm(dir, { recursive: true, force: true });
  });

  async function arkiva(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    try {
      const r = await run(process.execPath, [path.resolve('bin/arkiva.mjs'), ...args, '--as', 'digi'], {
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ARKIVA_DATA_DIR: dir, OCR_POOL_SIZE: '1' },
        timeout: 120_000,
      });
      return { code: 0, stdout: r.stdout, stderr: r.stderr };
    } catch (e) {
      const err = e as { code: number; stdout: string; stderr: string };
      return { code: err.code, stdout: err.stdout, stderr: err.stderr };
    }
  }

  it('archives the three page images in natural order and lists the other files as skipped', async () => {
    const meta = ['--type', 'birth', '--municipality', 'Pejë', '--year', '1960', '--lang', 'sqi'];
    const r = await arkiva(['ingest', scans, ...meta, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as { book: { id: string; status: string; pageCount: number }; skipped: { name: string; reason: string }[] };
    expect(out.book).toMatchObject({ status: 'complete', pageCount: 3 });
    expect(out.skipped.map((s) => s.name)).toEqual(['checksums.md5', 'cover-letter.pdf', 'notes.txt']);
    expect(out.skipped[1]!.reason).toMatch(/PDF file, not a page image/);
    expect(out.skipped[0]!.reason).toMatch(/not a TIFF, PDF, PNG, JPEG or ZIP/);
    // The same folder again (a duplicate): in text, the skipped files are named on stderr, hidden ones not.
    const text = await arkiva(['ingest', scans, ...meta]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain('already archived');
    expect(text.stderr.split('\n').filter((l) => l.startsWith('skipped '))).toEqual([
      expect.stringMatching(/^skipped checksums\.md5: /), expect.stringMatching(/^skipped cover-letter\.pdf: /), expect.stringMatching(/^skipped notes\.txt: /),
    ]);
    expect(text.stderr).not.toMatch(/Thumbs\.db|DS_Store/);

    const deps = await openAppDeps(loadConfig({ ARKIVA_DATA_DIR: dir }), silentLogger());
    try {
      const pages = await listPages(deps.db, out.book.id);
      expect(pages.map((p) => [p.sequence, p.status, p.width])).toEqual([[1, 'done', 600], [2, 'done', 640], [3, 'done', 680]]);
    } finally {
      await deps.close();
    }
  }, 240_000);

  it('keeps a damaged file named as a page image as a page, so the pages after it keep their numbers', async () => {
    const folder = path.join(dir, 'damaged');
    await fs.promises.mkdir(folder);
    await fs.promises.copyFile(path.join(scans, 'page-1.png'), path.join(folder, 'p1.png'));
    await fs.promises.writeFile(path.join(folder, 'p2.png'), Buffer.alloc(512, 7));
    await fs.promises.copyFile(path.join(scans, 'page-2.png'), path.join(folder, 'p3.png'));
    await fs.promises.writeFile(path.join(folder, 'README'), 'scanned on the 3rd\n');
    const { pages, skipped } = await folderPages(folder);
    expect(pages.map((p) => p.name)).toEqual(['p1.png', 'p2.png', 'p3.png']);
    expect(pages[1]!.problem).toMatch(/not a TIFF, PDF, PNG, JPEG or ZIP/);
    expect(skipped.map((s) => s.name)).toEqual(['README']);
  });
});
