/**
 * Serbian Latin (Gaj) to Cyrillic: exact, because the two alphabets map one to one. Used where a
 * Cyrillic form is written (fixtures' Cyrillic pages, the gazetteer's Serbian names); reading
 * Cyrillic as Latin for search is search/normalise.ts `cyrillicToLatin`.
 */

// Digraphs first: Serbian Latin writes one Cyrillic letter as two (Lj, Nj, Dž).
const DIGRAPHS: ReadonlyArray<readonly [string, string]> = [
  ['LJ', 'Љ'], ['Lj', 'Љ'], ['lj', 'љ'],
  ['NJ', 'Њ'], ['Nj', 'Њ'], ['nj', 'њ'],
  ['DŽ', 'Џ'], ['Dž', 'Џ'], ['dž', 'џ'],
];
const LETTERS: Readonly<Record<string, string>> = {
  A: 'А', B: 'Б', C: 'Ц', Č: 'Ч', Ć: 'Ћ', D: 'Д', Đ: 'Ђ', E: 'Е', F: 'Ф', G: 'Г', H: 'Х', I: 'И',
  J: 'Ј', K: 'К', L: 'Л', M: 'М', N: 'Н', O: 'О', P: 'П', R: 'Р', S: 'С', Š: 'Ш', T: 'Т', U: 'У',
  V: 'В', Z: 'З', Ž: 'Ж',
  a: 'а', b: 'б', c: 'ц', č: 'ч', ć: 'ћ', d: 'д', đ: 'ђ', e: 'е', f: 'ф', g: 'г', h: 'х', i: 'и',
  j: 'ј', k: 'к', l: 'л', m: 'м', n: 'н', o: 'о', p: 'п', r: 'р', s: 'с', š: 'ш', t: 'т', u: 'у',
  v: 'в', z: 'з', ž: 'ж',
};

/** Serbian Latin (Gaj) to Serbian Cyrillic, e.g. `Šćepanović` → `Шћепановић`. */
export function toSerbianCyrillic(latin: string): string {
  let out = '';
  for (let i = 0; i < latin.length; ) {
    const pair = latin.slice(i, i + 2);
    const digraph = DIGRAPHS.find(([l]) => l === pair);
    if (digraph) {
      out += digraph[1];
      i += 2;
      continue;
    }
    const ch = latin[i] as string;
    out += LETTERS[ch] ?? ch;
    i += 1;
  }
  return out;
}
