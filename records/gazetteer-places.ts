/**
 * Gazetteer data: Kosovo's 38 municipalities and a selection of their main settlements, each with
 * its Albanian and Serbian (Latin) name; the Serbian Cyrillic form is derived (records/gazetteer.ts),
 * as Serbian Latin and Cyrillic map one to one.
 *
 * Sources (written from the published official names, nothing downloaded):
 * - the municipalities: Law No. 03/L-041 on Administrative Municipal Boundaries (Official Gazette of
 *   the Republic of Kosovo, 2008), Annex, and the municipality list of the Kosovo Agency of
 *   Statistics (ASK), in Albanian and Serbian;
 * - the settlements: the ASK settlement list (census 2011) for their names and municipalities.
 * The names of the fixture generator (fixtures/names.ts PLACES) agree with these (Mitrovicë is
 * "Kosovska Mitrovica" there, "Mitrovica" an alias here). Aliases hold other names in use (older
 * or official-in-the-other-language forms, e.g. Gllogoc/Drenas, Hani i Elezit/Elez Han/Đeneral Janković).
 *
 * Coverage: every municipality; settlements are the larger or well-known ones (~60 of about
 * 1,500): a fuller list is to be loaded from the ASK list when it can be fetched.
 */

/** One place of the gazetteer. */
export interface GazetteerPlace {
  /** Albanian name, as written officially (with ë and ç). */
  sq: string;
  /** Serbian name in Gaj's Latin alphabet. */
  sr: string;
  kind: 'municipality' | 'settlement';
  /** The municipality it belongs to, by Albanian name (a municipality names itself). */
  municipality: string;
  /** Other names the place is known by (searched, never shown as the canonical name). */
  aliases?: readonly string[];
}

const m = (sq: string, sr: string, aliases?: readonly string[]): GazetteerPlace => ({ sq, sr, kind: 'municipality', municipality: sq, ...(aliases ? { aliases } : {}) });
const s = (municipality: string, sq: string, sr: string, aliases?: readonly string[]): GazetteerPlace => ({ sq, sr, kind: 'settlement', municipality, ...(aliases ? { aliases } : {}) });

/** The 38 municipalities (Law No. 03/L-041), Albanian alphabetical order. */
export const MUNICIPALITIES: readonly GazetteerPlace[] = [
  m('Deçan', 'Dečani', ['Dečane']),
  m('Dragash', 'Dragaš'),
  m('Ferizaj', 'Uroševac'),
  m('Fushë Kosovë', 'Kosovo Polje'),
  m('Gjakovë', 'Đakovica', ['Gjakova', 'Djakovica']),
  m('Gjilan', 'Gnjilane'),
  m('Gllogoc', 'Glogovac', ['Drenas']),
  m('Graçanicë', 'Gračanica'),
  m('Hani i Elezit', 'Elez Han', ['Đeneral Janković']),
  m('Istog', 'Istok'),
  m('Junik', 'Junik'),
  m('Kaçanik', 'Kačanik'),
  m('Kamenicë', 'Kamenica', ['Kosovska Kamenica']),
  m('Klinë', 'Klina'),
  m('Kllokot', 'Klokot', ['Kllokot-Vërboc']),
  m('Leposaviq', 'Leposavić'),
  m('Lipjan', 'Lipljan'),
  m('Malishevë', 'Mališevo'),
  m('Mamushë', 'Mamuša', ['Mamuşa']),
  m('Mitrovicë', 'Kosovska Mitrovica', ['Mitrovica', 'Mitrovicë e Jugut', 'Južna Mitrovica']),
  m('Mitrovicë e Veriut', 'Severna Mitrovica', ['Mitrovica Sever', 'Severna Kosovska Mitrovica']),
  m('Novobërdë', 'Novo Brdo'),
  m('Obiliq', 'Obilić'),
  m('Partesh', 'Parteš'),
  m('Pejë', 'Peć', ['Peja']),
  m('Podujevë', 'Podujevo', ['Besianë']),
  m('Prishtinë', 'Priština', ['Prishtina', 'Pristina']),
  m('Prizren', 'Prizren'),
  m('Rahovec', 'Orahovac'),
  m('Ranillug', 'Ranilug'),
  m('Shtërpcë', 'Štrpce'),
  m('Shtime', 'Štimlje'),
  m('Skenderaj', 'Srbica'),
  m('Suharekë', 'Suva Reka'),
  m('Viti', 'Vitina'),
  m('Vushtrri', 'Vučitrn'),
  m('Zubin Potok', 'Zubin Potok'),
  m('Zveçan', 'Zvečan'),
];

/** Main settlements other than the municipal seats (which share the municipality's name). */
export const SETTLEMENTS: readonly GazetteerPlace[] = [
  s('Deçan', 'Isniq', 'Istinić'),
  s('Deçan', 'Strellc i Epërm', 'Gornji Streoc'),
  s('Dragash', 'Brod', 'Brod'),
  s('Dragash', 'Restelicë', 'Restelica'),
  s('Ferizaj', 'Nerodime e Epërme', 'Gornje Nerodimlje'),
  s('Fushë Kosovë', 'Sllatinë e Madhe', 'Velika Slatina'),
  s('Gjakovë', 'Ponoshec', 'Ponoševac'),
  s('Gjakovë', 'Rogovë', 'Rogovo'),
  s('Gjakovë', 'Bishtazhin', 'Bistražin'),
  s('Gjilan', 'Livoç i Epërm', 'Gornji Livoč'),
  s('Gjilan', 'Zhegër', 'Žegra'),
  s('Gjilan', 'Përlepnicë', 'Prilepnica'),
  s('Gllogoc', 'Komoran', 'Komorane'),
  s('Gllogoc', 'Likoshan', 'Likošane'),
  s('Graçanicë', 'Çagllavicë', 'Čaglavica'),
  s('Graçanicë', 'Llapllasellë', 'Laplje Selo'),
  s('Istog', 'Gurrakoc', 'Đurakovac'),
  s('Istog', 'Osojan', 'Osojane'),
  s('Istog', 'Vrellë', 'Vrelo'),
  s('Kllokot', 'Vërboc', 'Vrbovac'),
  s('Klinë', 'Videjë', 'Videje'),
  s('Leposaviq', 'Leshak', 'Lešak'),
  s('Leposaviq', 'Soçanicë', 'Sočanica'),
  s('Leposaviq', 'Jarinjë', 'Jarinje'),
  s('Lipjan', 'Janjevë', 'Janjevo'),
  s('Lipjan', 'Magurë', 'Magura'),
  s('Lipjan', 'Gadime e Epërme', 'Gornje Gadimlje'),
  s('Malishevë', 'Banjë', 'Banja'),
  s('Malishevë', 'Kijevë', 'Kijevo'),
  s('Mitrovicë', 'Stantërg', 'Stari Trg'),
  s('Mitrovicë', 'Shupkovc', 'Šupkovac'),
  s('Mitrovicë', 'Bajgorë', 'Bajgora'),
  s('Novobërdë', 'Bostan', 'Bostane'),
  s('Obiliq', 'Plemetin', 'Plemetina'),
  s('Obiliq', 'Mazgit', 'Mazgit'),
  s('Partesh', 'Pasjan', 'Pasjane'),
  s('Pejë', 'Vitomiricë', 'Vitomirica'),
  s('Pejë', 'Gorazhdec', 'Goraždevac'),
  s('Pejë', 'Lubeniq', 'Ljubenić'),
  s('Podujevë', 'Batllavë', 'Batlava'),
  s('Podujevë', 'Lluzhan', 'Lužane'),
  s('Podujevë', 'Orllan', 'Orlane'),
  s('Podujevë', 'Merdare', 'Merdare'),
  s('Prishtinë', 'Hajvali', 'Ajvalija'),
  s('Prishtinë', 'Koliq', 'Kolić'),
  s('Prishtinë', 'Keqekollë', 'Kećekolla'),
  s('Prizren', 'Zhur', 'Žur'),
  s('Prizren', 'Landovicë', 'Landovica'),
  s('Rahovec', 'Hoçë e Madhe', 'Velika Hoča'),
  s('Rahovec', 'Xërxë', 'Zrze'),
  s('Ranillug', 'Ropotovë e Madhe', 'Veliko Ropotovo'),
  s('Shtërpcë', 'Brezovicë', 'Brezovica'),
  s('Shtime', 'Reçak', 'Račak'),
  s('Skenderaj', 'Prekaz i Epërm', 'Gornje Prekaze'),
  s('Skenderaj', 'Qirez', 'Ćirez'),
  s('Suharekë', 'Mushtisht', 'Mušutište'),
  s('Suharekë', 'Studençan', 'Studenčane'),
  s('Viti', 'Binçë', 'Binač'),
  s('Viti', 'Letnicë', 'Letnica'),
  s('Viti', 'Pozheran', 'Požaranje'),
  s('Vushtrri', 'Samadrexhë', 'Samodreža'),
  s('Zubin Potok', 'Gazivodë', 'Gazivode'),
  s('Zveçan', 'Banjskë', 'Banjska'),
];

/** Every place of the gazetteer. */
export const GAZETTEER: readonly GazetteerPlace[] = [...MUNICIPALITIES, ...SETTLEMENTS];
