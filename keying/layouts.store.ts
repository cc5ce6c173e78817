import type { Queryable } from '../db/index.ts';
import type { RegisterType } from '../common/vocabulary.ts';
import type { LayoutColumn } from './answers.ts';
import type { LayoutInput, RegisterLayout } from './layouts.ts';

interface LayoutRow {
  id: string; layout_key: string; version: number; name: string; register_type: RegisterType; year_from: number | null; year_to: number | null;
  columns: LayoutColumn[] | string; change_reason: string; created_by: string; created_at: Date; superseded_at: Date | null;
}

function toLayout(r: LayoutRow): RegisterLayout {
  return {
    id: r.id, key: r.layout_key, version: r.version, name: r.name, registerType: r.register_type, yearFrom: r.year_from, yearTo: r.year_to,
    columns: typeof r.columns === 'string' ? (JSON.parse(r.columns) as LayoutColumn[]) : r.columns,
    changeReason: r.change_reason, createdBy: r.created_by, createdAt: r.created_at, supersededAt: r.superseded_at,
  };
}

/** The current version of every layout, or every version of one key (oldest first). */
export async function listLayouts(db: Queryable, opts: { key?: string; allVersions?: boolean } = {}): Promise<RegisterLayout[]> {
  const r = await db.query<LayoutRow>(
    `SELECT * FROM register_layouts WHERE ($1::text IS NULL OR layout_key = $1) AND ($2 OR superseded_at IS NULL) ORDER BY layout_key, version`,
    [opts.key ?? null, opts.allVersions ?? false],
  );
  return r.rows.map(toLayout);
}

/** One layout version by id. */
export async function layoutById(db: Queryable, id: string): Promise<RegisterLayout | undefined> {
  const r = await db.query<LayoutRow>('SELECT * FROM register_layouts WHERE id = $1', [id]);
  return r.rows[0] ? toLayout(r.rows[0]) : undefined;
}

/** A version of a key: the given one, or the current one. */
export async function layoutByKey(db: Queryable, key: string, version?: number): Promise<RegisterLayout | undefined> {
  const r = await db.query<LayoutRow>(
    `SELECT * FROM register_layouts WHERE layout_key = $1 AND (CASE WHEN $2::int IS NULL THEN superseded_at IS NULL ELSE version = $2::int END)`,
    [key, version ?? null],
  );
  return r.rows[0] ? toLayout(r.rows[0]) : undefined;
}

/**
 * The current layout for a register type and year: one whose period covers the year, the narrowest
 * period first, layouts for any period last.
 */
export async function layoutForBook(db: Queryable, registerType: RegisterType, year: number): Promise<RegisterLayout | undefined> {
  const r = await db.query<LayoutRow>(
    `SELECT * FROM register_layouts
      WHERE superseded_at IS NULL AND register_type = $1
        AND (year_from IS NULL OR year_from <= $2) AND (year_to IS NULL OR year_to >= $2)
      ORDER BY (year_from IS NULL AND year_to IS NULL), coalesce(year_to, 9999) - coalesce(year_from, 1000), layout_key
      LIMIT 1`,
    [registerType, year],
  );
  return r.rows[0] ? toLayout(r.rows[0]) : undefined;
}

/** The highest version of a key, its current row locked until the transaction ends (0 for a new key). */
export async function lockLayoutKey(tx: Queryable, key: string): Promise<{ version: number; currentId: string | null }> {
  const cur = await tx.query<{ id: string }>('SELECT id FROM register_layouts WHERE layout_key = $1 AND superseded_at IS NULL FOR UPDATE', [key]);
  const max = await tx.query<{ v: number | null }>('SELECT max(version) AS v FROM register_layouts WHERE layout_key = $1', [key]);
  return { version: Number(max.rows[0]?.v ?? 0), currentId: cur.rows[0]?.id ?? null };
}

/** Marks a layout version superseded now (the one change a version takes). */
export async function supersedeLayout(tx: Queryable, id: string): Promise<void> {
  await tx.query('UPDATE register_layouts SET superseded_at = now() WHERE id = $1', [id]);
}

/** Stores a new layout version. */
export async function insertLayout(tx: Queryable, version: number, l: LayoutInput, by: { user: string; reason: string }): Promise<RegisterLayout> {
  const r = await tx.query<LayoutRow>(
    `INSERT INTO register_layouts (layout_key, version, name, register_type, year_from, year_to, columns, change_reason, created_by)
     VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9) RETURNING *`,
    [l.key, version, l.name, l.registerType, l.yearFrom ?? null, l.yearTo ?? null, JSON.stringify(l.columns), by.reason, by.user],
  );
  return toLayout(r.rows[0]!);
}
