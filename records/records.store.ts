import type { Queryable } from '../db/index.ts';
import type { RegistryRecord } from './records.ts';

interface RecordRow {
  id: string; system: string; record_type: string; record_id: string; person_names: string[]; event_date: string | null;
  municipality: string | null; imported_by: string; imported_at: Date; updated_at: Date;
}

function toRecord(r: RecordRow): RegistryRecord {
  return {
    id: r.id, system: r.system, recordType: r.record_type, recordId: r.record_id, personNames: r.person_names,
    eventDate: r.event_date, municipality: r.municipality, importedBy: r.imported_by, importedAt: r.imported_at, updatedAt: r.updated_at,
  };
}

/** A registry record's row as written: key and names already trimmed, `namesNorm` its names in search form. */
export interface RegistryRecordRow {
  system: string;
  recordType: string;
  recordId: string;
  personNames: string[];
  namesNorm: string;
  eventDate: string | null;
  municipality: string | null;
  importedBy: string;
}

/** Inserts a record, or updates the one with the same system, type and id; says which it did. */
export async function upsertRegistryRecord(db: Queryable, row: RegistryRecordRow): Promise<{ record: RegistryRecord; created: boolean }> {
  const res = await db.query<RecordRow & { created: boolean }>(
    `INSERT INTO registry_records (system, record_type, record_id, person_names, names_norm, event_date, municipality, imported_by)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
     ON CONFLICT (system, record_type, record_id) DO UPDATE
       SET person_names = EXCLUDED.person_names, names_norm = EXCLUDED.names_norm, event_date = EXCLUDED.event_date,
           municipality = EXCLUDED.municipality, updated_at = now()
     RETURNING *, (xmax = 0) AS created`,
    [row.system, row.recordType, row.recordId, row.personNames, row.namesNorm, row.eventDate, row.municipality, row.importedBy],
  );
  const created = res.rows[0]!;
  return { record: toRecord(created), created: created.created };
}

/** A record by its archive id. */
export async function getRecord(db: Queryable, id: string): Promise<RegistryRecord | undefined> {
  const r = await db.query<RecordRow>('SELECT * FROM registry_records WHERE id = $1', [id]);
  return r.rows[0] ? toRecord(r.rows[0]) : undefined;
}

/** A record by its registry key. */
export async function findRecordByKey(db: Queryable, key: { system: string; recordType: string; recordId: string }): Promise<RegistryRecord | undefined> {
  const r = await db.query<RecordRow>('SELECT * FROM registry_records WHERE system = $1 AND record_type = $2 AND record_id = $3', [key.system, key.recordType, key.recordId]);
  return r.rows[0] ? toRecord(r.rows[0]) : undefined;
}

/**
 * Records matching every given condition: each of `terms` (names in search form) fuzzily in the
 * record's names, best match first; otherwise newest first.
 */
export async function findRegistryRecords(
  db: Queryable,
  s: { terms: readonly string[]; system?: string; recordId?: string; municipality?: string; limit: number },
): Promise<RegistryRecord[]> {
  const params: unknown[] = [];
  const p = (v: unknown): string => {
    params.push(v);
    return `$${params.length}`;
  };
  const where: string[] = ['true'];
  let order = 'imported_at DESC, id';
  if (s.terms.length) {
    const q = p(s.terms.join(' '));
    where.push(...s.terms.map((t) => `${p(t)} <% names_norm`));
    order = `word_similarity(${q}, names_norm) DESC, id`;
  }
  if (s.system) where.push(`system = ${p(s.system)}`);
  if (s.recordId) where.push(`record_id = ${p(s.recordId)}`);
  if (s.municipality) where.push(`arkiva_place_forms(municipality) && arkiva_place_forms(${p(s.municipality)})`);
  const r = await db.query<RecordRow>(`SELECT * FROM registry_records WHERE ${where.join(' AND ')} ORDER BY ${order} LIMIT ${p(s.limit)}`, params);
  return r.rows.map(toRecord);
}
