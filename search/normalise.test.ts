import { describe, expect, it } from 'vitest';
import { toSerbianCyrillic } from '../fixtures/index.ts';
import { cyrillicToLatin, editBudget, editDistance, foldMixedScript, formSimilarity, normaliseText, normaliseTokens, normaliseWord, scriptTwins } from './normalise.ts';

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

  it('reads Dj as Đ, so ASCII and diacritic spellings share one form in both scripts', () => {
    for (const w of ['Đorđević', 'Djordjevic', 'DJORDJEVIĆ', 'Dordevic', 'Ђорђевић']) expect(normaliseWord(w), w).toBe('dordevic');
    expect(normaliseWord('Đukić')).toBe(normaliseWord('Djukic'));
    expect(normaliseWord('Gjakovë')).toBe('gjakove');
  });

  it('folds a word misread partly in the other script to its majority script', () => {
    expect(normaliseWord('Кгаsniqi')).toBe('krasniqi');
    expect(normaliseWord('Пeтровић')).toBe(normaliseWord('Петровић'));
    expect(foldMixedScript('marko')).toBe('marko');
    expect(foldMixedScript('марко')).toBe('марко');
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

describe('scriptTwins', () => {
  it('gives the forms of a word read wholly in the other script by letter shape', () => {
    expect(scriptTwins('era')).toContain(normaliseWord('Ега'));
    expect(scriptTwins('sava')).toContain(normaliseWord('Caba'));
    // Letters without a look-alike: no twin.
    expect(scriptTwins('krasniqi')).toEqual([]);
    expect(scriptTwins('toma')).toEqual([]);
  });
});

describe('formSimilarity', () => {
  it('keeps OCR variants within the edit budget and drops other names', () => {
    expect([2, 3, 4, 6, 7, 12].map(editBudget)).toEqual([0, 0, 1, 1, 2, 2]);
    expect(formSimilarity('zivkovic', 'zivkovic')).toBe(1);
    expect(formSimilarity('krasniqi', 'krasnigi')).toBe(0.875);
    expect(formSimilarity('zivkovic', 'zdravkovic')).toBeNull();
    expect(formSimilarity('zivkovic', 'boskovic')).toBeNull();
    expect(formSimilarity('ana', 'ane')).toBeNull();
    expect(formSimilarity('gashi', 'gash')).toBe(0.8);
  });
});
