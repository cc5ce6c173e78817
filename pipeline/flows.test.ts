import { describe, expect, it } from 'vitest';
import { bookFlow, splitBlockOf } from './flows.ts';

describe('split blocks', () => {
  it('groups pages in blocks of 1, 2, 4, 8, 16, then 32, by position alone', () => {
    const sizes = new Map<number, number>();
    for (let s = 1; s <= 200; s++) sizes.set(splitBlockOf(s), (sizes.get(splitBlockOf(s)) ?? 0) + 1);
    expect([...sizes.values()]).toEqual([1, 2, 4, 8, 16, 32, 32, 32, 32, 32, 9]);
    for (let s = 2; s <= 200; s++) expect(splitBlockOf(s)).toBeGreaterThanOrEqual(splitBlockOf(s - 1));
  });

  it('gives each block its own completion job id while the pages keep the run id', () => {
    const a = bookFlow('b', [{ id: 'p1', revision: 1 }], 'initial', 'b0');
    const b = bookFlow('b', [{ id: 'p2', revision: 1 }], 'initial', 'b1');
    expect(a.opts!.jobId).toBe('book.complete-b-initial-b0');
    expect(b.opts!.jobId).toBe('book.complete-b-initial-b1');
    expect(bookFlow('b', [], 'initial').opts!.jobId).toBe('book.complete-b-initial');
    expect(a.children![0]!.opts!.jobId).toBe('page.index-p1-r1-initial');
  });
});
