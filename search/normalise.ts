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

/**
 * The search form of one token: Cyrillic transliterated, lower case, diacritics removed (ë→e,
 * ç→c, č/ć→c, š→s, ž→z, đ→d), anything but letters and digits dropped.
 */
export function normaliseWord(word: string): string {
  const latin = cyrillicToLatin(word.toLowerCase()).normalize('NFD').replace(/\p{M}/gu, '');
  let out = '';
  for (const ch of latin) out += NON_DECOMPOSING[ch] ?? ch;
  return out.replace(/[^\p{L}\p{N}]/gu, '');
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
