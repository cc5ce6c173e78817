import { spawnSync } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isAppError } from '../common/errors.ts';
import { acquireDirLock } from './dir-lock.ts';
import { DbError, isDbError, isUniqueViolation, toDbError } from './errors.ts';
import { Mutex } from './mutex.ts';
import { quoteIdent } from './sql.ts';
import { parseInt8 } from './type-parsers.ts';

describe('quoteIdent', () => {
  it('doubles quotes and refuses what cannot be an identifier', () => {
    expect(quoteIdent('books')).toBe('"books"');
    expect(quoteIdent('a"b')).toBe('"a""b"');
    expect(() => quoteIdent('')).toThrow(TypeError);
    expect(() => quoteIdent('a\0b')).toThrow(TypeError);
  });
});

describe('parseInt8', () => {
  it('returns safe integers and refuses to round', () => {
    expect(parseInt8('-42')).toBe(-42);
    expect(parseInt8('9007199254740991')).toBe(Number.MAX_SAFE_INTEGER);
    expect(() => parseInt8('9007199254740992')).toThrow(RangeError);
  });
});

describe('toDbError', () => {
  it('keeps the SQLSTATE and constraint but drops parameters and detail', () => {
    const raw = Object.assign(new Error('duplicate key value violates unique constraint "books_source_sha256_key"'), {
      code: '23505',
      severity: 'ERROR',
      constraint: 'books_source_sha256_key',
      table: 'books',
      detail: 'Key (municipality)=(Gjergj Kastrioti) already exists.',
      params: ['Gjergj Kastrioti'],
    });
    const e = toDbError(raw, 'INSERT INTO books …');
    expect(e).toBeInstanceOf(DbError);
    expect(e).toMatchObject({ code: '23505', constraint: 'books_source_sha256_key', table: 'books', query: 'INSERT INTO books …' });
    expect(JSON.stringify(e)).not.toContain('Kastrioti');
    expect(isUniqueViolation(e)).toBe(true);
    expect(isUniqueViolation(raw)).toBe(true);
  });

  it('leaves errors that are not server errors alone', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    const pipe = Object.assign(new Error('write EPIPE'), { code: 'EPIPE' });
    expect(toDbError(refused)).toBe(refused);
    expect(toDbError(pipe)).toBe(pipe);
    expect(isDbError(pipe)).toBe(false);
    expect(isUniqueViolation('23505')).toBe(false);
  });
});

describe('Mutex', () => {
  it('runs submissions one at a time in order, past failures', async () => {
    const m = new Mutex();
    const seen: string[] = [];
    const task = (name: string, ms: number, fail = false) =>
      m.run(async () => {
        seen.push(`${name}+`);
        await sleep(ms);
        seen.push(`${name}-`);
        if (fail) throw new Error(name);
        return name;
      });
    const results = await Promise.allSettled([task('a', 20), task('b', 1, true), task('c', 5)]);
    expect(seen).toEqual(['a+', 'a-', 'b+', 'b-', 'c+', 'c-']);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
  });
});

describe('acquireDirLock', () => {
  let base: string;
  let lock: string;
  beforeEach(async () => {
    base = await fs.mkdtemp(path.join(os.tmpdir(), 'arkiva-lock-'));
    lock = path.join(base, 'db.lock');
  });
  afterEach(async () => {
    await fs.rm(base, { recursive: true, force: true });
  });

  it('is exclusive within the process and released on demand', async () => {
    const release = await acquireDirLock(lock);
    expect(await fs.readFile(lock, 'utf8')).toBe(`${process.pid}\n`);
    expect(isAppError(await acquireDirLock(lock).catch((e: unknown) => e), 'ERR_UNAVAILABLE')).toBe(true);
    await release();
    await expect(fs.access(lock)).rejects.toThrow();
    const again = await acquireDirLock(lock);
    await again();
  });

  it('refuses a lock held by another live process', async () => {
    await fs.writeFile(lock, `${process.ppid}\n`);
    const e = await acquireDirLock(lock).catch((err: unknown) => err);
    expect(isAppError(e, 'ERR_UNAVAILABLE')).toBe(true);
  });

  it('takes over a lock left by a process that has exited, or by a previous run with our pid', async () => {
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout;
    await fs.writeFile(lock, `${dead}\n`);
    const release = await acquireDirLock(lock);
    await release();
    await fs.writeFile(lock, `${process.pid}\n`);
    const release2 = await acquireDirLock(lock);
    expect(await fs.readFile(lock, 'utf8')).toBe(`${process.pid}\n`);
    await release2();
  });
});
