import { describe, expect, it } from 'vitest';
import { toSerbianCyrillic } from '../fixtures/index.ts';
import { cyrillicToLatin, editDistance, normaliseText, normaliseTokens, normaliseWord } from './normalise.ts';

describe('normaliseWord', () => {
  it('folds Albanian and Serbian diacritics', () => {
    expect(normaliseWord('Shpëtim')).toBe('shpetim');
    expect(normaliseWord('Thaçi')).toBe('thaci');
    expect(normaliseWord('Šćepanović')).toBe('scepanovic');
    expect(normaliseWord('Đorđević')).toBe('dordevic');
    expect(normaliseWord('Živković')).toBe('zivkovic');
    expect(normaliseWord('ĐURĐA')).toBe('durda');
  });

  it('transliterates Serbian Cyrillic with the digraph rules', () => {
    expect(normaliseWord('Љубичић')).toBe('ljubicic');
    expect(normaliseWord('Његован')).toBe('njegovan');
    expect(normaliseWord('Џаковић')).toBe('dzakovic');
    expect(normaliseWord('Ђорђевић')).toBe('dordevic');
    expect(normaliseWord('Шћепановић')).toBe('scepanovic');
    expect(normaliseWord('Жарко')).toBe('zarko');
  });

  it('meets the Latin spelling for every fixture name written in Cyrillic', () => {
    for (const name of ['Džaković', 'Ljubičić', 'Njegovan', 'Šaponjić', 'Čolić', 'Đukić', 'Ćirić', 'Momčilo', 'Srđan']) {
      expect(normaliseWord(toSerbianCyrillic(name))).toBe(normaliseWord(name));
    }
  });

  it('drops punctuation and keeps digits', () => {
    expect(normaliseWord('"Hasani,"')).toBe('hasani');
    expect(normaliseWord('1958.')).toBe('1958');
  });
});

describe('cyrillicToLatin', () => {
  it('keeps the case of the first letter of a digraph', () => {
    expect(cyrillicToLatin('Љубомир Његош')).toBe('Ljubomir Njegoš');
    expect(cyrillicToLatin('Latin stays')).toBe('Latin stays');
  });
});

describe('normaliseTokens / normaliseText', () => {
  it('splits on spaces and punctuation', () => {
    expect(normaliseTokens('Krasniqi, Arbën (Prishtinë)')).toEqual(['krasniqi', 'arben', 'prishtine']);
    expect(normaliseText('  Марко   Петровић ')).toBe('marko petrovic');
    expect(normaliseTokens(' ,. ')).toEqual([]);
  });
});

describe('editDistance', () => {
  it('counts edits and stops early past the bound', () => {
    expect(editDistance('krasniqi', 'krasnlqi')).toBe(1);
    expect(editDistance('hasani', 'hasan')).toBe(1);
    expect(editDistance('', 'abc')).toBe(3);
    expect(editDistance('abcdef', 'uvwxyz', 2)).toBe(3);
  });
});
