import { describe, expect, it } from 'vitest';
import { toSerbianCyrillic } from '../common/serbian-script.ts';
import { GAZETTEER, MUNICIPALITIES, namesOfPlace, suggestPlaces } from './gazetteer.ts';
import { PLACES } from '../fixtures/names.ts';

const first = (q: string) => suggestPlaces(q, { limit: 5 })[0];

describe('the gazetteer', () => {
  it('holds the 38 municipalities once each, every settlement in one of them', () => {
    expect(MUNICIPALITIES).toHaveLength(38);
    expect(new Set(MUNICIPALITIES.map((m) => m.sq)).size).toBe(38);
    const names = new Set(MUNICIPALITIES.map((m) => m.sq));
    for (const p of GAZETTEER) expect(names.has(p.municipality), p.sq).toBe(true);
    expect(GAZETTEER.length).toBeGreaterThan(90);
  });

  it("agrees with the fixture generator's Kosovo places", () => {
    for (const p of PLACES.filter((x) => x.country === 'XK')) {
      const hit = GAZETTEER.find((g) => g.sq === p.sq);
      expect(hit, p.sq).toBeDefined();
      expect(hit!.sr, p.sq).toBe(p.sr);
    }
  });

  it('finds Prishtinë/Priština from a Latin, Cyrillic or undotted prefix, with both names and the Cyrillic', () => {
    const prishtine = { sq: 'Prishtinë', sr: 'Priština', srCyrl: 'Приштина', kind: 'municipality', municipality: { sq: 'Prishtinë', sr: 'Priština' } };
    // Three letters also fit Prizren (shorter, so first): Prishtinë is among the suggestions.
    for (const q of ['pri', 'При']) expect(suggestPlaces(q), q).toContainEqual(expect.objectContaining(prishtine));
    for (const q of ['prishtine', 'PRIŠ', 'pristina', 'Приш']) expect(first(q), q).toMatchObject(prishtine);
    expect(first('gjak')).toMatchObject({ sq: 'Gjakovë', sr: 'Đakovica', srCyrl: 'Ђаковица' });
    expect(first('peje')).toMatchObject({ sq: 'Pejë', sr: 'Peć', srCyrl: 'Пећ' });
    expect(first('Пећ')).toMatchObject({ sq: 'Pejë' });
    expect(first('djak')).toMatchObject({ sq: 'Gjakovë' });
  });

  it('finds Serbian names typed the Albanian way, later words, settlements with their municipality', () => {
    expect(first('shtimlje')).toMatchObject({ sq: 'Shtime', sr: 'Štimlje' });
    expect(first('leposavi')).toMatchObject({ sq: 'Leposaviq', sr: 'Leposavić' });
    expect(first('mitrovica')).toMatchObject({ sq: 'Mitrovicë' });
    expect(suggestPlaces('kosovo', { limit: 10 }).map((p) => p.sq)).toContain('Fushë Kosovë');
    expect(first('drenas')).toMatchObject({ sq: 'Gllogoc', matched: 'Drenas' });
    expect(first('brezov')).toMatchObject({ sq: 'Brezovicë', sr: 'Brezovica', kind: 'settlement', municipality: { sq: 'Shtërpcë', sr: 'Štrpce' } });
  });

  it('suggests nothing for an empty or unknown prefix, and at most `limit`', () => {
    expect(suggestPlaces('  ')).toEqual([]);
    expect(suggestPlaces('xyzzy')).toEqual([]);
    expect(suggestPlaces('k', { limit: 3 })).toHaveLength(3);
  });

  it('names a place by all its names, so Pejë and Peć are one municipality; an unknown place by its own', () => {
    expect(namesOfPlace('Пећ')).toEqual(expect.arrayContaining(['Pejë', 'Peć', 'Peja']));
    expect(namesOfPlace('gjakove')).toEqual(expect.arrayContaining(['Gjakovë', 'Đakovica']));
    expect(namesOfPlace('Shkodër')).toEqual(['Shkodër']);
  });

  it('writes Serbian Latin in Cyrillic letter for letter, digraphs included', () => {
    expect(toSerbianCyrillic('Gnjilane Lipljan Džakovo Đakovica Uroševac')).toBe('Гњилане Липљан Џаково Ђаковица Урошевац');
  });
});
