import { REGISTER_TYPES } from '../../common/vocabulary.ts';

/** A book as far as its title goes. */
export interface TitledBook {
  registerType: string;
  municipality: string;
  yearFrom: number;
  yearTo: number;
  volume?: string | null;
}

/** Type · municipality · year(s) · volume, with the type and the word for volume in the reader's language. */
export function formatBookTitle(b: TitledBook, words: { type: (registerType: string) => string; volume: string }): string {
  const years = b.yearFrom === b.yearTo ? String(b.yearFrom) : `${b.yearFrom}–${b.yearTo}`;
  return [words.type(b.registerType), b.municipality, years, b.volume ? `${words.volume} ${b.volume}` : null].filter(Boolean).join(' · ');
}

/**
 * The archive stores register types by their code (birth), people type them in their language
 * (lindjet, births): a word of four letters or more that begins a type's label, or that the label
 * begins, becomes the type filter, unless one is chosen already. The other words stay title words.
 */
export function typeFromWords(text: string, chosenType: string, typeLabel: (registerType: string) => string): { words: string; registerType: string } {
  let registerType = chosenType;
  const rest = text.trim().split(/\s+/).filter(Boolean).filter((w) => {
    if (registerType || w.length < 4) return true;
    const lw = w.toLocaleLowerCase();
    const hit = REGISTER_TYPES.find((x) => [x, ...typeLabel(x).toLocaleLowerCase().split(/[\s(),]+/)]
      .some((part) => part.length >= 4 && (part.startsWith(lw) || lw.startsWith(part))));
    if (!hit) return true;
    registerType = hit;
    return false;
  });
  return { words: rest.join(' '), registerType };
}
