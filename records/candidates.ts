/**
 * Registry records proposed for a register entry while it is keyed or arbitrated (issue 20, point 5):
 * names compared in search form (diacritics folded, Cyrillic transliterated) by trigram similarity,
 * plus the event date and the municipality, each part of the score given with its reason.
 */
import { AppError } from '../common/index.ts';
import { EVENT_TYPES, type EventType } from '../common/vocabulary.ts';
import type { Queryable } from '../db/index.ts';
import { normaliseText } from '../search/normalise.ts';
import { findCandidateRows, type CandidateRow } from './candidates.store.ts';
import { namesOfPlace } from './gazetteer.ts';
import type { RegistryRecord } from './records.ts';

/** What is known of an entry when candidates are looked for. */
export interface CandidateQuery {
  municipality: string;
  yearFrom: number;
  yearTo: number;
  eventType: EventType;
  surname: string;
  givenName: string;
  father?: string;
  /** 'YYYY', 'YYYY-MM' or 'YYYY-MM-DD', as keyed. */
  eventDate?: string;
}

/** A record proposed for an entry. */
export interface Candidate {
  record: RegistryRecord;
  /** 0 (nothing alike) to 1 (names, date and municipality all agree); below 0 when the municipality differs. */
  score: number;
  /** Each part of the score, e.g. `surname "petrovic" 1.00 × 0.45`. */
  reasons: string[];
}

/**
 * Weights of the score. Names carry most of it (a keyed name is the entry's identity); the date
 * separates namesakes; another municipality pulls a record below every local one with the same
 * names, without hiding it (people were registered where they lived, records say where they live now).
 */
export const CANDIDATE_WEIGHTS = { surname: 0.45, givenName: 0.25, father: 0.1, date: 0.1, municipality: 0.1, otherMunicipality: -0.2 } as const;

// Serbian Đ is typed dj in plain ASCII, while the search form folds it to d: both forms are compared.
const variants = (name: string | undefined): string[] => {
  const n = normaliseText(name ?? '');
  return n ? [...new Set([n, n.replace(/dj/g, 'd')])] : [];
};

/**
 * Registry records that may be the entry's, best first, at most `limit` (default 10). Records
 * dated outside [yearFrom, yearTo] and records of another event type are excluded; records of
 * another municipality are kept but ranked below (a penalty), those naming none get no bonus; a
 * municipality is the same under any of its gazetteer names (Pejë = Peć = Пећ).
 */
export async function candidatesForEntry(db: Queryable, q: CandidateQuery, opts: { limit?: number } = {}): Promise<Candidate[]> {
  if (!(q.yearFrom <= q.yearTo)) throw new AppError('ERR_VALIDATION', `yearFrom ${q.yearFrom} is after yearTo ${q.yearTo}`);
  if (q.eventDate !== undefined && !/^\d{4}(-\d{2}(-\d{2})?)?$/.test(q.eventDate)) throw new AppError('ERR_VALIDATION', 'eventDate must be YYYY, YYYY-MM or YYYY-MM-DD');
  const surnames = variants(q.surname);
  const givenNames = variants(q.givenName);
  if (surnames.length === 0 && givenNames.length === 0) throw new AppError('ERR_VALIDATION', 'a surname or a given name is needed');
  const limit = Math.max(1, Math.min(opts.limit ?? 10, 100));
  const rows = await findCandidateRows(db, {
    surnames, givenNames, fathers: variants(q.father), municipalityNames: namesOfPlace(q.municipality), yearFrom: q.yearFrom, yearTo: q.yearTo,
    otherEventTypes: q.eventType === 'other' ? [] : EVENT_TYPES.filter((t) => t !== q.eventType && t !== 'other'),
    // Ranked again below with date and place: a wider pool keeps a well-dated namesake from being cut first.
    limit: Math.min(limit * 5, 500),
  });
  return rows.map((r) => scoreCandidate(r, q)).sort((a, b) => b.score - a.score || a.record.id.localeCompare(b.record.id)).slice(0, limit);
}

/** The score of one record for an entry, with a reason for every part that counted. */
export function scoreCandidate(r: CandidateRow, q: Pick<CandidateQuery, 'surname' | 'givenName' | 'father' | 'eventDate' | 'municipality' | 'yearFrom' | 'yearTo'>): Candidate {
  const W = CANDIDATE_WEIGHTS;
  const reasons: string[] = [];
  let score = 0;
  const name = (label: string, typed: string | undefined, sim: number | null, weight: number) => {
    if (sim === null || !typed) return;
    score += sim * weight;
    reasons.push(`${label} "${normaliseText(typed)}" ${sim.toFixed(2)} × ${weight}`);
  };
  name('surname', q.surname, r.surname, W.surname);
  name('given name', q.givenName, r.givenName, W.givenName);
  name('father', q.father, r.father, W.father);
  const date = r.record.eventDate;
  if (date && q.eventDate) {
    // The share of the keyed date the record agrees with: year, month, day.
    const typed = q.eventDate.split('-');
    const held = date.split('-');
    let agree = 0;
    while (agree < typed.length && agree < held.length && typed[agree] === held[agree]) agree++;
    const part = agree === 0 ? 0 : agree / Math.max(typed.length, held.length);
    if (part > 0) {
      score += part * W.date;
      reasons.push(`${part === 1 ? 'same date' : agree === 2 ? 'same month' : 'same year'} ${date} (${(part * W.date).toFixed(2)})`);
    } else reasons.push(`other date ${date}`);
  } else if (date) {
    reasons.push(`dated ${date}, within ${q.yearFrom}–${q.yearTo}`);
  }
  if (r.sameMunicipality === true) {
    score += W.municipality;
    reasons.push(`same municipality ${r.record.municipality} (+${W.municipality})`);
  } else if (r.sameMunicipality === false) {
    score += W.otherMunicipality;
    reasons.push(`other municipality ${r.record.municipality} (${W.otherMunicipality})`);
  }
  return { record: r.record, score: Math.round(score * 1000) / 1000, reasons };
}
