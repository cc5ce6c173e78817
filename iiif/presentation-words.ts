import type { RegisterType } from '../archive/index.ts';

/**
 * The words of IIIF manifests in the interface's two languages. They are the web interface's own
 * (web/src/i18n.ts, web/src/title-words.ts), repeated here because the server does not import the
 * browser app; iiif/manifest.test.ts checks that titles come out as the app writes them.
 */

/** A IIIF language map: each language's strings (`none` for what has no language: names, numbers). */
export type LanguageMap = Partial<Record<'en' | 'sq' | 'none', string[]>>;

/** Languages of the manifest's words, the interface's order. */
export const MANIFEST_LANGUAGES = ['en', 'sq'] as const;
type Lang = (typeof MANIFEST_LANGUAGES)[number];
type Words = Record<Lang, string>;

/** Register types as the interface names them. */
export const REGISTER_TYPE_WORDS: Record<RegisterType, Words> = {
  birth: { en: 'Birth', sq: 'Lindje' },
  marriage: { en: 'Marriage', sq: 'Martesë' },
  death: { en: 'Death', sq: 'Vdekje' },
  other: { en: 'Other', sq: 'Tjetër' },
};

/** Labels of the manifest's metadata pairs and other fixed words. */
export const LABELS = {
  registerType: { en: 'Register type', sq: 'Lloji i regjistrit' },
  municipality: { en: 'Municipality', sq: 'Komuna' },
  year: { en: 'Year or years', sq: 'Viti ose vitet' },
  volume: { en: 'Volume', sq: 'Vëllimi' },
  languages: { en: 'OCR languages', sq: 'Gjuhët e OCR' },
  pages: { en: 'Pages', sq: 'Faqet' },
  volumeShort: { en: 'vol.', sq: 'vëll.' },
  pdf: { en: 'The book as PDF', sq: 'Libri si PDF' },
  alto: { en: 'OCR text of the page (ALTO 4)', sq: 'Teksti OCR i faqes (ALTO 4)' },
  entries: { en: 'Entries', sq: 'Regjistrimet në faqe' },
  access: { en: 'Access', sq: 'Qasja' },
  accessNote: {
    en: 'Personal data from civil registers, for the purpose of this reading only; do not pass it on.',
    sq: 'Të dhëna personale nga regjistrat civilë, vetëm për qëllimin e këtij leximi; mos i jepni të tjerëve.',
  },
  search: { en: 'Search the words on the pages', sq: 'Kërko fjalët në faqe' },
} as const satisfies Record<string, Words>;

/** OCR language codes (Tesseract's) as people say them. */
const OCR_LANGUAGE_WORDS: Record<string, Words> = {
  sqi: { en: 'Albanian', sq: 'shqip' },
  srp: { en: 'Serbian (Cyrillic)', sq: 'serbisht (cirilike)' },
  srp_latn: { en: 'Serbian (Latin)', sq: 'serbisht (latine)' },
  eng: { en: 'English', sq: 'anglisht' },
  deu: { en: 'German', sq: 'gjermanisht' },
  tur: { en: 'Turkish', sq: 'turqisht' },
};

/** A language map of the same words in each language. */
export function inEach(words: Words): LanguageMap {
  return { en: [words.en], sq: [words.sq] };
}

/** A language map of what has no language (a name, a number). */
export function noLanguage(text: string): LanguageMap {
  return { none: [text] };
}

/** What a manifest's title says of a book. */
export interface TitledBook {
  registerType: string;
  municipality: string;
  yearFrom: number;
  yearTo: number;
  volume?: string | null | undefined;
}

/** The years of a book as the app writes them: 1958, or 1958–1960. */
export function bookYears(b: Pick<TitledBook, 'yearFrom' | 'yearTo'>): string {
  return b.yearFrom === b.yearTo ? String(b.yearFrom) : `${b.yearFrom}–${b.yearTo}`;
}

/** Type · municipality · year(s) · volume in one language, as web/src/title-words.ts formats it. */
export function bookTitleIn(b: TitledBook, lang: Lang): string {
  const type = REGISTER_TYPE_WORDS[b.registerType as RegisterType]?.[lang] ?? b.registerType;
  return [type, b.municipality, bookYears(b), b.volume ? `${LABELS.volumeShort[lang]} ${b.volume}` : null].filter(Boolean).join(' · ');
}

/** The book's title in each language. */
export function bookTitle(b: TitledBook): LanguageMap {
  return { en: [bookTitleIn(b, 'en')], sq: [bookTitleIn(b, 'sq')] };
}

/** OCR languages ('sqi+srp+eng') named in each language; unknown codes stay codes. */
export function ocrLanguages(codes: string): LanguageMap {
  const list = codes.split('+').filter(Boolean);
  const say = (lang: Lang) => list.map((c) => OCR_LANGUAGE_WORDS[c]?.[lang] ?? c).join(', ');
  return { en: [say('en')], sq: [say('sq')] };
}
