import type { Queryable } from '../db/index.ts';
import type { RegistryRecord } from './records.ts';

/** A registry record near an entry, with the raw measures the score is made from. */
export interface CandidateRow {
  record: RegistryRecord;
  /** pg_trgm word similarity (0-1) of each name part to the record's names, in search form; null when the part was not given. */
  surname: number;
  givenName: number;
  father: number | null;
  /** The record's municipality shares a folded form (arkiva_place_forms) with one of the names of the entry's; null when the record names none. */
  sameMunicipality: boolean | null;
}

interface Row {
  id: string; system: string; record_type: string; record_id: string; person_names: string[]; event_date: string | null;
  municipality: string | null; imported_by: string; imported_at: Date; updated_at: Date;
  surname_sim: number; given_sim: number; father_sim: number | null; same_municipality: boolean | null;
}

/**
 * Registry records that may be an entry's: a name part (surname or given name, each in any of its
 * search forms) close to the record's names by pg_trgm's `<%` (the trigram index serves it), an
 * event year, when the record has one, within [yearFrom, yearTo], and no other event type among
 * birth/marriage/death (record types the archive does not know are kept). Best surname first.
 */
export async function findCandidateRows(
  db: Queryable,
  q: { surnames: readonly string[]; givenNames: readonly string[]; fathers: readonly string[]; municipalityNames: readonly string[]; yearFrom: number; yearTo: number; otherEventTypes: readonly string[]; limit: number },
): Promise<CandidateRow[]> {
  const sim = (param: string) => `(SELECT max(word_similarity(f, r.names_norm)) FROM unnest(${param}::text[]) f)`;
  // One `<%` per form, on a plain parameter, so that the trigram index on names_norm can serve the OR.
  const forms = [...q.surnames, ...q.givenNames];
  const near = forms.map((_, i) => `$${9 + i} <% r.names_norm`).join(' OR ') || 'false';
  const r = await db.query<Row>(
    `SELECT r.*, ${sim('$1')} AS surname_sim, ${sim('$2')} AS given_sim,
            CASE WHEN cardinality($3::text[]) = 0 THEN NULL ELSE ${sim('$3')} END AS father_sim,
            CASE WHEN r.municipality IS NULL OR r.municipality = '' THEN NULL
                 ELSE arkiva_place_forms(r.municipality) && ARRAY(SELECT f FROM unnest($4::text[]) n, unnest(arkiva_place_forms(n)) f) END AS same_municipality
       FROM registry_records r
      WHERE (${near})
        AND (r.event_date IS NULL OR substr(r.event_date, 1, 4)::int BETWEEN $5 AND $6)
        AND lower(r.record_type) <> ALL ($7::text[])
      ORDER BY surname_sim DESC, r.id
      LIMIT $8`,
    [q.surnames, q.givenNames, q.fathers, q.municipalityNames, q.yearFrom, q.yearTo, q.otherEventTypes, q.limit, ...forms],
  );
  return r.rows.map((x) => ({
    record: {
      id: x.id, system: x.system, recordType: x.record_type, recordId: x.record_id, personNames: x.person_names, eventDate: x.event_date,
      municipality: x.municipality, importedBy: x.imported_by, importedAt: x.imported_at, updatedAt: x.updated_at,
    },
    surname: Number(x.surname_sim), givenName: Number(x.given_sim), father: x.father_sim === null ? null : Number(x.father_sim), sameMunicipality: x.same_municipality,
  }));
}
