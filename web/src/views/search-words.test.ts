import { describe, expect, it } from 'vitest';
import { matchQualityKey } from './search-words.ts';

describe('search match quality in words', () => {
  it('names exact, nearly exact and looser matches by the least similar word', () => {
    expect(matchQualityKey([{ similarity: 1 }, { similarity: 1 }])).toBe('matchExact');
    expect(matchQualityKey([{ similarity: 1 }, { similarity: 0.875 }])).toBe('matchClose');
    expect(matchQualityKey([{ similarity: 0.9 }])).toBe('matchClose');
    expect(matchQualityKey([{ similarity: 1 }, { similarity: 0.714 }])).toBe('matchLoose');
  });
});
