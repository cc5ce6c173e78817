/**
 * Place names for keying and search: Kosovo's municipalities and main settlements in Albanian and
 * Serbian (Latin and Cyrillic), looked up by what a keyer has typed so far, in either language or
 * script, with or without diacritics.
 */
import { toSerbianCyrillic } from '../common/serbian-script.ts';
import { cyrillicToLatin, normaliseText } from '../search/normalise.ts';
import { GAZETTEER, type GazetteerPlace } from './gazetteer-places.ts';

export { GAZETTEER, MUNICIPALITIES, SETTLEMENTS, type GazetteerPlace } from './gazetteer-places.ts';

/** A place as suggested: its canonical names in both languages and both Serbian scripts. */
export interface PlaceSuggestion {
  sq: string;
  sr: string;
  srCyrl: string;
  kind: GazetteerPlace['kind'];
  /** The municipality it belongs to, in both languages. */
  municipality: { sq: string; sr: string };
  /** The name (canonical or alias) the prefix matched. */
  matched: string;
}


/**
 * The forms a name is compared in: the search form (diacritics folded, Cyrillic transliterated:
 * Peć = Pec = Пећ) and an Albanian spelling of Serbian letters (š→sh, ž→zh, č→ç, ć→q, đ→gj), so
 * typing Albanian-style finds Serbian names (Shtimlje, Gjakovica) as arkiva_place_forms does for municipalities.
 */
function forms(name: string): string[] {
  const latin = cyrillicToLatin(name.toLowerCase());
  const albanian = latin.replace(/dž/g, 'xh').replace(/š/g, 'sh').replace(/ž/g, 'zh').replace(/č/g, 'ç').replace(/ć/g, 'q').replace(/đ/g, 'gj');
  const ascii = latin.replace(/đ/g, 'dj');
  return [...new Set([normaliseText(latin), normaliseText(albanian), normaliseText(ascii)])].filter(Boolean);
}

interface Indexed {
  place: GazetteerPlace;
  names: { name: string; forms: string[] }[];
}

const MUNICIPALITY_BY_SQ = new Map(GAZETTEER.filter((p) => p.kind === 'municipality').map((p) => [p.sq, p]));
const INDEX: readonly Indexed[] = GAZETTEER.map((place) => ({
  place,
  names: [place.sq, place.sr, ...(place.aliases ?? [])].map((name) => ({ name, forms: forms(name) })),
}));

/** How well a folded query matches a folded name: 3 the whole name, 2 its start, 1 the start of a later word; 0 not at all. */
function matchRank(query: string, form: string): number {
  if (form === query) return 3;
  if (form.startsWith(query)) return 2;
  // Without spaces too: "fushekosove" finds Fushë Kosovë.
  if (form.replace(/ /g, '').startsWith(query.replace(/ /g, ''))) return 2;
  return form.split(' ').some((w, i) => i > 0 && w.startsWith(query)) ? 1 : 0;
}

/**
 * Places whose name (Albanian, Serbian Latin or Cyrillic, or an alias) starts with `prefix` folded
 * across diacritics and script: whole-name matches first, then name starts, then later words;
 * municipalities before settlements, shorter names first. An empty prefix suggests nothing.
 */
export function suggestPlaces(prefix: string, opts: { limit?: number } = {}): PlaceSuggestion[] {
  const limit = Math.max(1, Math.min(opts.limit ?? 10, 100));
  const queries = forms(prefix.trim());
  if (queries.length === 0) return [];
  const hits: { p: Indexed; rank: number; matched: string }[] = [];
  for (const p of INDEX) {
    let best = 0;
    let matched = '';
    for (const n of p.names) {
      for (const q of queries) for (const f of n.forms) {
        const r = matchRank(q, f);
        if (r > best) [best, matched] = [r, n.name];
      }
    }
    if (best > 0) hits.push({ p, rank: best, matched });
  }
  hits.sort((a, b) =>
    b.rank - a.rank
    || Number(b.p.place.kind === 'municipality') - Number(a.p.place.kind === 'municipality')
    || a.p.place.sq.length - b.p.place.sq.length
    || a.p.place.sq.localeCompare(b.p.place.sq, 'sq'));
  return hits.slice(0, limit).map(({ p: { place }, matched }) => {
    const muni = MUNICIPALITY_BY_SQ.get(place.municipality) ?? place;
    return { sq: place.sq, sr: place.sr, srCyrl: toSerbianCyrillic(place.sr), kind: place.kind, municipality: { sq: muni.sq, sr: muni.sr }, matched };
  });
}

/**
 * Every name of the place called `name` (Albanian, Serbian, aliases) when the gazetteer knows it,
 * so that Pejë and Peć count as one municipality; otherwise just `name`.
 */
export function namesOfPlace(name: string): string[] {
  const folded = forms(name.trim());
  const hit = INDEX.find((p) => p.place.kind === 'municipality' && p.names.some((n) => n.forms.some((f) => folded.includes(f))))
    ?? INDEX.find((p) => p.names.some((n) => n.forms.some((f) => folded.includes(f))));
  return hit ? [...new Set([name, ...hit.names.map((n) => n.name)])] : [name];
}
