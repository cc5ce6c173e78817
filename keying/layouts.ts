import { AppError } from '../common/index.ts';
import type { Db, Queryable } from '../db/index.ts';
import { KEYING_FIELDS, type KeyingField, type RegisterType } from '../common/vocabulary.ts';
import type { LayoutColumn } from './answers.ts';
import { insertLayout, layoutByKey, listLayouts, lockLayoutKey, supersedeLayout } from './layouts.store.ts';

/** A version of a register layout: the columns of a printed form, for a register type and period. */
export interface RegisterLayout {
  id: string;
  key: string;
  version: number;
  name: string;
  registerType: RegisterType;
  /** The years of registers printed on this form; null: open-ended. */
  yearFrom: number | null;
  yearTo: number | null;
  /** In the order the form prints them. */
  columns: LayoutColumn[];
  changeReason: string;
  createdBy: string;
  createdAt: Date;
  supersededAt: Date | null;
}

/** What a records manager gives for a layout (a new key, or a new version of one). */
export interface LayoutInput {
  key: string;
  name: string;
  registerType: RegisterType;
  yearFrom?: number | null;
  yearTo?: number | null;
  columns: LayoutColumn[];
}

// Several columns may be remarks or unmapped; every other field is one column, so an entry's
// number, date or surname is never split between two columns the keyers answer apart.
const REPEATABLE: readonly KeyingField[] = ['remarks', 'other'];

function checkLayout(l: LayoutInput): void {
  if (!/^[a-z0-9][a-z0-9._-]*$/.test(l.key)) throw new AppError('ERR_VALIDATION', 'key must be lower-case letters, digits, ".", "_" or "-"', { field: 'key' });
  if (l.yearFrom != null && l.yearTo != null && l.yearTo < l.yearFrom) throw new AppError('ERR_VALIDATION', 'yearTo is before yearFrom', { field: 'yearTo' });
  if (l.columns.length === 0) throw new AppError('ERR_VALIDATION', 'a layout needs at least one column', { field: 'columns' });
  const keys = new Set<string>();
  const fields = new Set<KeyingField>();
  for (const c of l.columns) {
    if (!/^[A-Za-z][A-Za-z0-9_]{0,63}$/.test(c.key)) throw new AppError('ERR_VALIDATION', `column key ${JSON.stringify(c.key)} must be a letter then letters, digits or "_"`, { field: 'columns' });
    if (keys.has(c.key)) throw new AppError('ERR_VALIDATION', `column key ${c.key} appears twice`, { field: 'columns' });
    if (!(KEYING_FIELDS as readonly string[]).includes(c.field)) throw new AppError('ERR_VALIDATION', `column ${c.key}: unknown field ${JSON.stringify(c.field)}`, { field: 'columns' });
    if (fields.has(c.field) && !REPEATABLE.includes(c.field)) throw new AppError('ERR_VALIDATION', `field ${c.field} is held by two columns`, { field: 'columns' });
    keys.add(c.key);
    fields.add(c.field);
  }
}

/**
 * Defines a layout, or its next version: the current version is superseded, never changed, so
 * zones and keyings made against it keep naming what they were keyed with.
 */
export async function defineLayout(db: Db, input: LayoutInput, by: { user: string; reason: string }): Promise<RegisterLayout> {
  checkLayout(input);
  if (!by.reason.trim()) throw new AppError('ERR_VALIDATION', 'a layout version needs the reason for it', { field: 'changeReason' });
  const columns = input.columns.map((c) => ({ key: c.key, field: c.field, ...(c.label ? { label: c.label } : {}) }));
  return db.transaction(async (tx) => {
    const { version, currentId } = await lockLayoutKey(tx, input.key);
    if (currentId) await supersedeLayout(tx, currentId);
    return insertLayout(tx, version + 1, { ...input, columns }, by);
  });
}

/** The layout version, or ERR_NOT_FOUND. */
export async function requireLayout(db: Queryable, key: string, version?: number): Promise<RegisterLayout> {
  const l = await layoutByKey(db, key, version);
  if (!l) throw new AppError('ERR_NOT_FOUND', version === undefined ? `no layout ${key}` : `no layout ${key} version ${version}`);
  return l;
}

/** Every version of a layout key, oldest first; ERR_NOT_FOUND for an unknown key. */
export async function layoutVersions(db: Queryable, key: string): Promise<RegisterLayout[]> {
  const all = await listLayouts(db, { key, allVersions: true });
  if (all.length === 0) throw new AppError('ERR_NOT_FOUND', `no layout ${key}`);
  return all;
}
