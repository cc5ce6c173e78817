/**
 * How well a search hit matched, as the key of its words: exact (folding apart: case, diacritics,
 * script), nearly exact (a letter or so differs, or the other script's look-alikes: what OCR errors
 * give) or a looser spelling, from the least similar of its matched words (similarity 0..1).
 */
export function matchQualityKey(words: readonly { similarity: number }[]): 'matchExact' | 'matchClose' | 'matchLoose' {
  const worst = Math.min(1, ...words.map((w) => w.similarity));
  return worst >= 1 ? 'matchExact' : worst >= 0.75 ? 'matchClose' : 'matchLoose';
}
