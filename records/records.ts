import { AppError } from '../common/index.ts';
import type { Queryable } from '../db/index.ts';
import { normaliseText, normaliseTokens } from '../search/normalise.ts';
import { csvRecords } from './csv.ts';

/** A reference into the civil registry. */
export interface RegistryRecordInput {
  system: string;
  recordType: string;
  recordId: string;
  personNames: string[];
  /** 'YYYY', 'YYYY-MM' or 'YYYY-MM-DD'. */
  eventDate?: string | null;
  municipality?: string | null;
}

/** A registry record as the archive holds it. */
export interface RegistryRecord extends Required<RegistryRecordInput> {
  id: string;
  importedBy: string;
  importedAt: Date;
  updatedAt: Date;
}

/** What an import did, row by row: rows that failed say why and change nothing. */
export interface ImportReport {
  created: number;
  updated: number;
  errors: { row: number; error: string }[];
}

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

/** Why a record cannot be imported, or undefined when it can. */
export function recordProblem(r: Partial<RegistryRecordInput>): string | undefined {
  for (const k of ['system', 'recordType', 'recordId'] as const) {
    const v = r[k];
    if (typeof v !== 'string' || v.trim() === '') return `${k} is required`;
    if (v.length > 200) return `${k} is longer than 200 characters`;
  }
  if (!Array.isArray(r.personNames) || r.personNames.some((n) => typeof n !== 'string')) return 'personNames must be a list of names';
  if (r.eventDate && !/^\d{4}(-\d{2}(-\d{2})?)?$/.test(r.eventDate)) return 'eventDate must be YYYY, YYYY-MM or YYYY-MM-DD';
  return undefined;
}

/** Creates or updates (same system, type and id) one record. */
export async function upsertRecord(db: Queryable, r: RegistryRecordInput, by: { user: string }): Promise<{ record: RegistryRecord; created: boolean }> {
  const problem = recordProblem(r);
  if (problem) throw new AppError('ERR_VALIDATION', problem);
  const names = r.personNames.map((n) => n.trim()).filter(Boolean);
  const res = await db.query<RecordRow & { created: boolean }>(
    `INSERT INTO registry_records (system, record_type, record_id, person_names, names_norm, event_date, municipality, imported_by)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
     ON CONFLICT (system, record_type, record_id) DO UPDATE
       SET person_names = EXCLUDED.person_names, names_norm = EXCLUDED.names_norm, event_date = EXCLUDED.event_date,
           municipality = EXCLUDED.municipality, updated_at = now()
     RETURNING *, (xmax = 0) AS created`,
    [r.system.trim(), r.recordType.trim(), r.recordId.trim(), names, names.map(normaliseText).join(' '), r.eventDate || null, r.municipality || null, by.user],
  );
  const row = res.rows[0]!;
  return { record: toRecord(row), created: row.created };
}

/** Imports many records; each row stands alone, so one bad row never blocks the others. */
export async function importRecords(db: Queryable, rows: readonly Partial<RegistryRecordInput>[], by: { user: string }, firstRow = 1): Promise<ImportReport> {
  const report: ImportReport = { created: 0, updated: 0, errors: [] };
  for (const [i, r] of rows.entries()) {
    const problem = recordProblem(r);
    if (problem) {
      report.errors.push({ row: firstRow + i, error: problem });
      continue;
    }
    const { created } = await upsertRecord(db, r as RegistryRecordInput, by);
    if (created) report.created++;
    else report.updated++;
  }
  return report;
}

/** CSV columns of a records import: system, record_type, record_id, person_names (separated by ';'), event_date, municipality. */
export const RECORDS_CSV_COLUMNS = ['system', 'record_type', 'record_id', 'person_names', 'event_date', 'municipality'] as const;

/** Imports records from CSV (see RECORDS_CSV_COLUMNS); errors name the CSV line. */
export async function importRecordsCsv(db: Queryable, csv: string, by: { user: string }): Promise<ImportReport> {
  const report: ImportReport = { created: 0, updated: 0, errors: [] };
  for (const { line, values } of csvRecords(csv)) {
    const one = await importRecords(db, [{
      system: values.system ?? '', recordType: values.record_type ?? '', recordId: values.record_id ?? '',
      personNames: (values.person_names ?? '').split(';').map((s) => s.trim()).filter(Boolean),
      eventDate: values.event_date || null, municipality: values.municipality || null,
    }], by, line);
    report.created += one.created;
    report.updated += one.updated;
    report.errors.push(...one.errors);
  }
  return report;
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

/** The record or ERR_NOT_FOUND. */
export async function requireRecord(db: Queryable, id: string): Promise<RegistryRecord> {
  const r = await getRecord(db, id);
  if (!r) throw new AppError('ERR_NOT_FOUND', `no registry record ${id}`);
  return r;
}

/** Finds records by name (fuzzy, accent- and script-insensitive), system, municipality (folded like places: Shkodër = Shkoder = Шкодер), key. */
export async function searchRecords(db: Queryable, s: { name?: string; system?: string; recordId?: string; municipality?: string; limit?: number }): Promise<RegistryRecord[]> {
  const params: unknown[] = [];
  const p = (v: unknown): string => {
    params.push(v);
    return `$${params.length}`;
  };
  const where: string[] = ['true'];
  let order = 'imported_at DESC, id';
  const terms = s.name ? normaliseTokens(s.name) : [];
  if (terms.length) {
    const q = p(terms.join(' '));
    where.push(...terms.map((t) => `${p(t)} <% names_norm`));
    order = `word_similarity(${q}, names_norm) DESC, id`;
  }
  if (s.system) where.push(`system = ${p(s.system)}`);
  if (s.recordId) where.push(`record_id = ${p(s.recordId)}`);
  if (s.municipality) where.push(`arkiva_place_forms(municipality) && arkiva_place_forms(${p(s.municipality)})`);
  const r = await db.query<RecordRow>(`SELECT * FROM registry_records WHERE ${where.join(' AND ')} ORDER BY ${order} LIMIT ${p(Math.min(s.limit ?? 50, 200))}`, params);
  return r.rows.map(toRecord);
}
