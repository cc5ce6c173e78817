import { describe, expect, it } from 'vitest';
import { dateWarnings, readKeyedDate, sameAnswer } from './answers.ts';

describe('comparing keyed answers', () => {
  it('treats case, runs of spaces, Unicode composition and Serbian script as equal, but not diacritics', () => {
    expect(sameAnswer({ value: '  Marko   PETROVIĆ ' }, { value: 'Марко Петровић' })).toBe(true);
    expect(sameAnswer({ value: 'Pejë' }, { value: 'Pej\u0065\u0308' })).toBe(true);
    expect(sameAnswer({ value: 'Pejë' }, { value: 'Peje' })).toBe(false);
    expect(sameAnswer({ value: 'Petrović' }, { value: 'Petrovic' })).toBe(false);
    expect(sameAnswer({ answer: 'illegible' }, { answer: 'illegible' })).toBe(true);
    expect(sameAnswer({ answer: 'illegible' }, { answer: 'blank' })).toBe(false);
    expect(sameAnswer({ answer: 'blank' }, { value: 'blank' })).toBe(false);
  });
});

describe('keyed dates', () => {
  it('reads the ways registers write dates, and keeps what exists of an impossible one', () => {
    expect(['12.03.1958', '12/3/1958.', '12. III 1958', '1958-03-12', '03.1958', '1958', '29.2.1960', '29.2.1959', '3.13.1958', 'March 1958'].map((d) => readKeyedDate(d)?.iso ?? null))
      .toEqual(['1958-03-12', '1958-03-12', '1958-03-12', '1958-03-12', '1958-03', '1958', '1960-02-29', '1959-02', '1958', null]);
    expect(readKeyedDate('29.2.1959')?.impossible).toBe(true);
  });

  it('compares an event with its registration at the precision both have', () => {
    const cols = [{ key: 'd', field: 'event_date' as const }, { key: 'r', field: 'registration_date' as const }];
    const w = (d: string, r: string) => dateWarnings(cols, { d: { value: d }, r: { value: r } }, { yearFrom: 1958, yearTo: 1959 }).map((x) => x.code);
    expect(w('03.1958', '1.3.1958')).toEqual([]);
    expect(w('2.4.1958', '1958')).toEqual([]);
    expect(w('2.4.1958', '1.4.1958')).toEqual(['event-after-registration']);
    expect(w('2.4.1960', '3.4.1960')).toEqual(['outside-book-years', 'outside-book-years']);
  });
});
