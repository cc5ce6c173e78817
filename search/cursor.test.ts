import { randomBytes, randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { openCursor, sealCursor } from './cursor.ts';

describe('sealed search cursors', () => {
  const key = randomBytes(32);

  it('are plain words on a command line: none begins with a dash, whatever its random bytes', () => {
    for (let i = 0; i < 300; i++) {
      const c = sealCursor(key, { score: '12.5', pageId: randomUUID() }, 'shehu|words');
      expect(c).toMatch(/^c1\.[A-Za-z0-9_-]+$/);
    }
  });

  it('open to the position they sealed, and refuse a cursor without the prefix or for another search', () => {
    const pos = { score: '3.25', pageId: randomUUID() };
    const c = sealCursor(key, pos, 'shehu|words');
    expect(openCursor(key, c, 'shehu|words')).toEqual(pos);
    expect(() => openCursor(key, c.slice(3), 'shehu|words')).toThrow(/cursor/);
    expect(() => openCursor(key, c, 'gashi|words')).toThrow(/cursor/);
  });
});
