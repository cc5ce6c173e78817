import { describe, expect, it } from 'vitest';
import { formatBookTitle, typeFromWords } from './title-words.ts';

const SQ: Record<string, string> = { birth: 'Lindje', marriage: 'Martesë', death: 'Vdekje', other: 'Tjetër' };
const sq = (x: string) => SQ[x] ?? x;
const en = (x: string) => x[0]!.toUpperCase() + x.slice(1);

describe('book titles', () => {
  it('says type · municipality · year(s) · volume, leaving out a volume the book has not', () => {
    expect(formatBookTitle({ registerType: 'birth', municipality: 'Prizren', yearFrom: 1958, yearTo: 1958, volume: '2' }, { type: sq, volume: 'vëll.' })).toBe('Lindje · Prizren · 1958 · vëll. 2');
    expect(formatBookTitle({ registerType: 'death', municipality: 'Pejë', yearFrom: 1950, yearTo: 1952, volume: null }, { type: en, volume: 'vol.' })).toBe('Death · Pejë · 1950–1952');
  });

  it('turns a type typed in the reader\'s language into the type filter, and keeps the other words', () => {
    expect(typeFromWords('lindjet Prizren 1958', '', sq)).toEqual({ words: 'Prizren 1958', registerType: 'birth' });
    expect(typeFromWords('births prizren', '', en)).toEqual({ words: 'prizren', registerType: 'birth' });
    expect(typeFromWords('Vdek Ferizaj', '', sq)).toEqual({ words: 'Ferizaj', registerType: 'death' });
    // A type chosen in the select wins; short words and place names stay title words.
    expect(typeFromWords('lindje Prizren', 'death', sq)).toEqual({ words: 'lindje Prizren', registerType: 'death' });
    expect(typeFromWords('Mar Gjakovë', '', sq)).toEqual({ words: 'Mar Gjakovë', registerType: '' });
    expect(typeFromWords('', '', sq)).toEqual({ words: '', registerType: '' });
  });
});
