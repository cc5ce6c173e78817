import { AppError } from '../common/index.ts';
import type { Queryable } from '../db/index.ts';
import { normaliseText, normaliseTokens } from '../search/normalise.ts';
import { csvRecords } from './csv.ts';
import { findRegistryRecords, getRecord, upsertRegistryRecord } from './records.store.ts';

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
  return upsertRegistryRecord(db, {
    system: r.system.trim(), recordType: r.recordType.trim(), recordId: r.recordId.trim(), personNames: names,
    namesNorm: names.map(normaliseText).join(' '), eventDate: r.eventDate || null, municipality: r.municipality || null, importedBy: by.user,
  });
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

/** The record or ERR_NOT_FOUND. */
export async function requireRecord(db: Queryable, id: string): Promise<RegistryRecord> {
  const r = await getRecord(db, id);
  if (!r) throw new AppError('ERR_NOT_FOUND', `no registry record ${id}`);
  return r;
}

/** Finds records by name (fuzzy, accent- and script-insensitive), system, municipality (folded like places: Shkodër = Shkoder = Шкодер), key. */
export async function searchRecords(db: Queryable, s: { name?: string; system?: string; recordId?: string; municipality?: string; limit?: number }): Promise<RegistryRecord[]> {
  const terms = s.name ? normaliseTokens(s.name) : [];
  return findRegistryRecords(db, { terms, system: s.system, recordId: s.recordId, municipality: s.municipality, limit: Math.min(s.limit ?? 50, 200) });
}
