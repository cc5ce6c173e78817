import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isAppError } from '../common/errors.ts';
import { sha256Hex } from '../common/hash.ts';
import { readMigrations } from './migrate.ts';

describe('readMigrations', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'arkiva-migrations-'));
  });
  afterEach(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });
  const write = (files: Record<string, string>) => Promise.all(Object.entries(files).map(([f, sql]) => fs.writeFile(path.join(dir, f), sql)));

  it('accepts the shipped migrations', async () => {
    const files = await readMigrations();
    expect(files.length).toBeGreaterThan(0);
    expect(files.map((f) => f.version)).toEqual(files.map((_, i) => i + 1));
  });

  it('orders by number, ignores other files, and checksums with CRLF read as LF', async () => {
    await write({ '010_ten.sql': 'x', '002_two.sql': 'SELECT 2;\r\n', '001_one.sql': 'SELECT 1;\n', 'README.md': '#' });
    await fs.rm(path.join(dir, '010_ten.sql'));
    const files = await readMigrations(dir);
    expect(files.map((f) => [f.version, f.name, f.file])).toEqual([
      [1, 'one', '001_one.sql'],
      [2, 'two', '002_two.sql'],
    ]);
    expect(files[1]!.sha256).toBe(sha256Hex('SELECT 2;\n'));
  });

  it.each([
    ['a gap', { '001_a.sql': '', '003_c.sql': '' }, /gap/],
    ['a duplicate number', { '001_a.sql': '', '001_b.sql': '', '002_c.sql': '' }, /share version 1/],
    ['a start other than 001', { '002_b.sql': '' }, /gap/],
    ['a badly named file', { '001_a.sql': '', '2_b.sql': '' }, /not named/],
    ['an upper-case name', { '001_Books.sql': '' }, /not named/],
  ])('refuses %s', async (_what, files, message) => {
    await write(files);
    const e = await readMigrations(dir).catch((err: unknown) => err);
    expect(isAppError(e, 'ERR_INTEGRITY')).toBe(true);
    expect((e as Error).message).toMatch(message);
  });
});
