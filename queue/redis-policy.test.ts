import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { warnUnlessNoEviction, type ConfigReader } from './redis-policy.ts';

function capture(): { log: ReturnType<typeof pino>; warnings: () => string[] } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(chunk.toString());
      cb();
    },
  });
  return { log: pino({ level: 'warn' }, sink), warnings: () => lines.map((l) => (JSON.parse(l) as { msg: string }).msg) };
}

const reader = (reply: () => Promise<unknown>): ConfigReader => ({ config: () => reply() });

describe('warnUnlessNoEviction', () => {
  it('is silent for noeviction', async () => {
    const { log, warnings } = capture();
    expect(await warnUnlessNoEviction(reader(async () => ['maxmemory-policy', 'noeviction']), log)).toBe('noeviction');
    expect(warnings()).toEqual([]);
  });

  it('warns for an evicting policy', async () => {
    const { log, warnings } = capture();
    expect(await warnUnlessNoEviction(reader(async () => ['maxmemory-policy', 'allkeys-lru']), log)).toBe('allkeys-lru');
    expect(warnings()).toEqual([expect.stringContaining('not noeviction')]);
  });

  it('warns but does not throw when CONFIG is disallowed', async () => {
    const { log, warnings } = capture();
    const denied = reader(async () => {
      throw new Error("ERR unknown command 'CONFIG'");
    });
    await expect(warnUnlessNoEviction(denied, log)).resolves.toBeUndefined();
    expect(warnings()).toEqual([expect.stringContaining('could not read')]);
  });
});
