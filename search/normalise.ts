/**
 * The search form of a word or name: what `norm` columns hold and what queries are compared with.
 * Computed once, here, so the index and the query can never disagree.
 */

// Serbian Cyrillic → Gaj's Latin. Letters with diacritics (ч→č) are folded afterwards like any
// Latin letter, so a Cyrillic page and a Latin query without diacritics meet at the same form.
const CYRILLIC_TO_LATIN: Readonly<Record<string, string>> = {
  а: 'a', б: 'b', в: 'v', г: 'g', д: 'd', ђ: 'đ', е: 'e', ж: 'ž', з: 'z', и: 'i', ј: 'j', к: 'k',
  л: 'l', љ: 'lj', м: 'm', н: 'n', њ: 'nj', о: 'o', п: 'p', р: 'r', с: 's', т: 't', ћ: 'ć', у: 'u',
  ф: 'f', х: 'h', ц: 'c', ч: 'č', џ: 'dž', ш: 'š',
  // Letters of neighbouring Cyrillic alphabets that turn up in OCR of Serbian pages.
  й: 'j', ы: 'i', э: 'e', ю: 'ju', я: 'ja', ё: 'e', ь: '', ъ: '', і: 'i', ї: 'ji', є: 'e', ґ: 'g', ѓ: 'gj', ќ: 'kj', ѕ: 'dz',
};

// Letters NFD does not decompose.
const NON_DECOMPOSING: Readonly<Record<string, string>> = { đ: 'd', ł: 'l', ø: 'o', ß: 'ss', æ: 'ae', œ: 'oe', ı: 'i' };

/** Serbian Cyrillic to Latin (Gaj), keeping case of the first letter of digraphs: `Љубичић` → `Ljubičić`. */
export function cyrillicToLatin(text: string): string {
  let out = '';
  for (const ch of text) {
    const lower = ch.toLowerCase();
    const latin = CYRILLIC_TO_LATIN[lower];
    if (latin === undefined) {
      out += ch;
    } else if (ch !== lower && latin.length > 0) {
      out += latin[0]!.toUpperCase() + latin.slice(1);
    } else {
      out += latin;
    }
  }
  return out;
}

// Cyrillic letters OCR puts into a Latin word (same or near shapes in print and handwriting: Era
// read as Ега), by the Latin letter they stand for; and back, for a Cyrillic word read partly in Latin.
const CYRILLIC_LOOKS_LATIN: Readonly<Record<string, string>> = {
  а: 'a', в: 'b', е: 'e', к: 'k', м: 'm', н: 'h', о: 'o', р: 'p', с: 'c', т: 't', у: 'y', х: 'x', ј: 'j', г: 'r', п: 'n', и: 'u', ѕ: 's', і: 'i',
};
const LATIN_LOOKS_CYRILLIC: Readonly<Record<string, string>> = Object.fromEntries(
  Object.entries(CYRILLIC_LOOKS_LATIN).filter(([c]) => c !== 'ѕ' && c !== 'і').map(([c, l]) => [l, c]),
);
const CYRILLIC = /\p{Script=Cyrillic}/u;
const LATIN = /\p{Script=Latin}/u;

/**
 * A token that mixes scripts is an OCR misreading of one word: its minority letters are read by
 * shape in the majority script (a tie counts as Latin, the usual case: a Latin word read partly in
 * Cyrillic). Single-script tokens are returned as they are.
 */
export function foldMixedScript(lowerToken: string): string {
  let cyr = 0;
  let lat = 0;
  for (const ch of lowerToken) {
    if (CYRILLIC.test(ch)) cyr++;
    else if (LATIN.test(ch)) lat++;
  }
  if (cyr === 0 || lat === 0) return lowerToken;
  const table = cyr > lat ? LATIN_LOOKS_CYRILLIC : CYRILLIC_LOOKS_LATIN;
  let out = '';
  for (const ch of lowerToken) out += table[ch] ?? ch;
  return out;
}

/**
 * The search form of one token: lower case, a mixed-script misreading folded to one script
 * (`foldMixedScript`), Cyrillic transliterated, diacritics removed (ë→e, ç→c, č/ć→c, š→s, ž→z,
 * đ→d), anything but letters and digits dropped, and dj read as d: Serbian Đ is written Dj in
 * plain ASCII, so Đorđević, Djordjevic, Dordevic and Ђорђевић share the form `dordevic`.
 */
export function normaliseWord(word: string): string {
  const latin = cyrillicToLatin(foldMixedScript(word.toLowerCase())).normalize('NFD').replace(/\p{M}/gu, '');
  let out = '';
  for (const ch of latin) out += NON_DECOMPOSING[ch] ?? ch;
  return out.replace(/[^\p{L}\p{N}]/gu, '').replace(/dj/g, 'd');
}

// A search form's letters as they come out when OCR reads the whole word in the other script by
// shape (Latin era → Cyrillic Ега → ega), and the reverse (Cyrillic Сава → Latin Caba → caba):
// the Latin form of each letter's look-alike. The two tables are each other's inverse.
const AS_MISREAD_CYRILLIC: Readonly<Record<string, string>> = Object.fromEntries(
  Object.entries(LATIN_LOOKS_CYRILLIC).map(([l, c]) => [l, cyrillicToLatin(c)]),
);
const AS_MISREAD_LATIN: Readonly<Record<string, string>> = Object.fromEntries(Object.entries(AS_MISREAD_CYRILLIC).map(([l, c]) => [c, l]));

/**
 * The search forms a word takes when OCR reads all of it in the other script by letter shape:
 * only for words whose every letter has a look-alike there (short words, mostly), and other than
 * the word itself. Queries add them as near matches; the index keeps one form per word.
 */
export function scriptTwins(norm: string): string[] {
  const twins = new Set<string>();
  for (const table of [AS_MISREAD_CYRILLIC, AS_MISREAD_LATIN]) {
    let out = '';
    for (const ch of norm) {
      const m = table[ch];
      if (m === undefined) {
        out = '';
        break;
      }
      out += m;
    }
    const twin = out.replace(/dj/g, 'd');
    if (norm.length >= 2 && twin && twin !== norm) twins.add(twin);
  }
  return [...twins];
}

/**
 * Spelling differences (edits) a fuzzy match of a search form of this length may have: none up to
 * 3 letters, one up to 6, two from 7. Trigram similarity proposes candidates; this budget decides,
 * so a long name keeps its one- and two-letter OCR variants but not another name with the same
 * ending (zivkovic and zdravkovic or boskovic are three edits apart).
 */
export function editBudget(length: number): number {
  return length <= 3 ? 0 : length <= 6 ? 1 : 2;
}

/**
 * How like the query word `term` a candidate form is, 0..1: 1 − edits / longer length, or null
 * when the edits exceed the term's budget (`editBudget`). The floor this sets grows with the word's
 * length within each budget step: 0.75 at 4 letters, 0.83 at 6, 0.71 at 7, 0.8 at 10.
 */
export function formSimilarity(term: string, form: string): number | null {
  if (term === form) return 1;
  const budget = editBudget(term.length);
  const d = editDistance(term, form, budget);
  if (d > budget) return null;
  return Math.round((1 - d / Math.max(term.length, form.length)) * 1000) / 1000;
}

/** A text's search tokens: split on anything that is not part of a word, each normalised, empties dropped. */
export function normaliseTokens(text: string): string[] {
  return text
    .split(/[\s\-–—/,.;:()[\]{}"'«»„“”!?]+/u)
    .map(normaliseWord)
    .filter((t) => t.length > 0);
}

/** A name or phrase in search form: its tokens joined by single spaces. */
export function normaliseText(text: string): string {
  return normaliseTokens(text).join(' ');
}

/** Levenshtein distance, bounded: returns `max + 1` as soon as the distance must exceed `max`. */
export function editDistance(a: string, b: string, max = Number.POSITIVE_INFINITY): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const v = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      cur.push(v);
      if (v < rowMin) rowMin = v;
    }
    if (rowMin > max) return max + 1;
    prev = cur;
  }
  return prev[b.length]!;
}
