import { describe, expect, it } from 'vitest';
import { MAX_GAPS, completeness, printedPageNumber } from './completeness.ts';

describe('printed page numbers', () => {
  it('reads the number after the page label in Albanian, Serbian (both scripts) and English', () => {
    expect(printedPageNumber('ZYRA E GJENDJES CIVILE\nKomuna: Tiranë Viti: 1961 Vëllimi: 9 Faqja: 12\n1 18.01.1961')).toBe(12);
    expect(printedPageNumber('Opština: Peć Godina: 1958 Strana: 3')).toBe(3);
    expect(printedPageNumber('Општина: Пећ Година: 1958 Страна: 41')).toBe(41);
    expect(printedPageNumber('PAGE 7')).toBe(7);
    expect(printedPageNumber('no header read')).toBeNull();
  });

  it('flags gaps and duplicates, and lists the pages where no number was read', () => {
    const r = completeness([
      { sequence: 1, printed: 1 }, { sequence: 2, printed: 2 }, { sequence: 3, printed: 2 },
      { sequence: 4, printed: 5 }, { sequence: 5, printed: null },
    ]);
    expect(r).toEqual({ gaps: [3, 4], duplicates: [2], unread: [5] });
    expect(completeness([{ sequence: 1, printed: 1 }, { sequence: 2, printed: 2 }])).toEqual({ gaps: [], duplicates: [], unread: [] });
  });

  it('bounds the gap list when one number was misread far off', () => {
    expect(completeness([{ sequence: 1, printed: 1 }, { sequence: 2, printed: 90_000 }]).gaps).toHaveLength(MAX_GAPS);
  });
});
