import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import * as V from './vocabulary.ts';

const MIGRATIONS = path.resolve(import.meta.dirname, '../db/migrations');

/** A value of an `IN (...)` list: a quoted string or a number. */
type Value = string | number;

/**
 * The `column IN (...)` CHECK constraints the migrations leave in place, by `table.column`: they run
 * in file order, so a later definition of a constraint replaces an earlier one, and a dropped
 * constraint or column takes its list away. Where two constraints check one column, a value must
 * pass both: the list is what they have in common.
 */
function checkLists(sqlFiles: readonly string[]): Map<string, Value[]> {
  const constraints = new Map<string, { column: string; values: Value[] }>();
  for (const sql of sqlFiles) {
    // Comments and function bodies hold no constraints, but may hold semicolons and quotes.
    const text = sql.replace(/--[^\n]*/g, '').replace(/\$\$[\s\S]*?\$\$/g, '$$$$');
    for (const statement of text.split(';')) {
      const table = /^\s*(?:CREATE\s+TABLE|ALTER\s+TABLE)\s+(?:IF\s+(?:NOT\s+)?EXISTS\s+)?(?:ONLY\s+)?([a-z_][a-z0-9_]*)/i.exec(statement)?.[1];
      if (!table) continue;
      for (const m of statement.matchAll(/\bDROP\s+CONSTRAINT\s+(?:IF\s+EXISTS\s+)?([a-z_][a-z0-9_]*)/gi)) constraints.delete(m[1]!);
      for (const m of statement.matchAll(/\bDROP\s+(?:COLUMN\s+)?(?:IF\s+EXISTS\s+)?([a-z_][a-z0-9_]*)/gi)) {
        for (const [name, c] of constraints) if (c.column === `${table}.${m[1]}`) constraints.delete(name);
      }
      const check = /(?:\bCONSTRAINT\s+([a-z_][a-z0-9_]*)\s+)?\bCHECK\s*\(\s*([a-z_][a-z0-9_]*)\s+IN\s*\(([^)]*)\)\s*\)/gi;
      for (const m of statement.matchAll(check)) {
        const values = m[3]!.split(',').map((v) => v.trim()).map((v) => (v.startsWith("'") ? v.slice(1, -1).replace(/''/g, "'") : Number(v)));
        // PostgreSQL names an unnamed column CHECK `<table>_<column>_check`.
        constraints.set(m[1] ?? `${table}_${m[2]}_check`, { column: `${table}.${m[2]}`, values });
      }
    }
  }
  const lists = new Map<string, Value[]>();
  for (const c of constraints.values()) {
    const before = lists.get(c.column);
    lists.set(c.column, before ? before.filter((v) => c.values.includes(v)) : c.values);
  }
  return lists;
}

function migrations(): string[] {
  return fs.readdirSync(MIGRATIONS).filter((f) => f.endsWith('.sql')).sort().map((f) => fs.readFileSync(path.join(MIGRATIONS, f), 'utf8'));
}

/** Each CHECK list of the schema and the vocabulary list it must equal. */
const SHARED: Record<string, readonly Value[]> = {
  'books.register_type': V.REGISTER_TYPES,
  'books.source_format': V.SOURCE_FORMATS,
  'books.status': V.BOOK_STATUSES,
  'books.ocr_profile': V.BOOK_OCR_PROFILES,
  'pages.status': V.PAGE_STATUSES,
  'pages.orientation': V.PAGE_ORIENTATIONS,
  'pages.page_type': V.PAGE_TYPES,
  'stored_objects.role': V.OBJECT_ROLES,
  'processing_events.outcome': V.PROCESSING_EVENT_OUTCOMES,
  'entries.event_type': V.EVENT_TYPES,
  'entries.source': V.ENTRY_SOURCES,
  'entries.status': V.ENTRY_STATUSES,
  'entry_names.role': V.NAME_ROLES,
  'record_links.target_kind': V.LINK_TARGET_KINDS,
  'record_links.link_type': V.LINK_TYPES,
  'retention_rules.kind': V.RULE_KINDS,
  'retention_rules.register_type': V.REGISTER_TYPES,
  'retention_rules.trigger': V.RETENTION_TRIGGERS,
  'retention_rules.action': V.DISPOSITION_ACTIONS,
  'item_retention.action': V.DISPOSITION_ACTIONS,
  'disposal_batches.status': V.DISPOSAL_BATCH_STATUSES,
  'disposal_batch_items.outcome': V.DISPOSAL_ITEM_OUTCOMES,
  'disposal_tombstones.status': V.TOMBSTONE_STATUSES,
  'fixity_state.outcome': V.FIXITY_OUTCOMES,
  'user_roles.role': V.ROLES,
  'register_layouts.register_type': V.REGISTER_TYPES,
  'entry_zones.source': V.ZONE_SOURCES,
  'entry_zones.status': V.ZONE_STATUSES,
  'entry_zone_changes.op': V.ZONE_CHANGE_OPS,
  'keying_decisions.choice': V.ARBITRATION_CHOICES,
  'event_outbox.type': V.OUTBOX_EVENT_TYPES,
  'event_deliveries.status': V.EVENT_DELIVERY_STATUSES,
  'extracts.extract_type': V.EXTRACT_TYPES,
  'extracts.status': V.EXTRACT_STATUSES,
};

/** CHECK lists only the database spells out: no code, schema or screen lists their values. */
// pages.ocr_turn holds quarter turns (0, 90, 180, 270): numbers the OCR stage writes, not a word list.
const SQL_ONLY = ['page_reviews.outcome', 'pages.ocr_turn'];

const sorted = (values: readonly Value[]) => [...values].map(String).sort();

describe('the vocabulary and the schema', () => {
  const lists = checkLists(migrations());

  it('finds the CHECK lists of the migrations', () => {
    expect(lists.get('books.ocr_profile')).toEqual(['printed', 'typewriter', 'mixed', 'handwritten']);
    expect(lists.get('pages.orientation')).toEqual([0, 90, 180, 270]);
    expect(lists.size).toBeGreaterThanOrEqual(Object.keys(SHARED).length);
  });

  it.each(Object.entries(SHARED))('%s holds the values of its vocabulary list', (column, values) => {
    expect(lists.has(column), `no CHECK (... IN ...) on ${column}`).toBe(true);
    expect(sorted(lists.get(column)!)).toEqual(sorted(values));
  });

  it('has a vocabulary list for every CHECK list (or names it as SQL-only)', () => {
    expect([...lists.keys()].filter((k) => !(k in SHARED) && !SQL_ONLY.includes(k))).toEqual([]);
    for (const k of SQL_ONLY) expect(lists.has(k), `${k} is no longer a CHECK list`).toBe(true);
  });

  it('keeps each list free of repeats', () => {
    for (const [name, list] of Object.entries(V)) if (Array.isArray(list)) expect(new Set(list).size, name).toBe(list.length);
  });
});

describe('reading CHECK lists', () => {
  it('lets the last definition win and forgets dropped constraints and columns', () => {
    const lists = checkLists([
      `CREATE TABLE t (
         a text NOT NULL CHECK (a IN ('x', 'y')), -- a comment; with ('z')
         b integer CHECK (b IN (1, 2)),
         c text CHECK (c IN ('p'))
       );
       CREATE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$;`,
      `ALTER TABLE t DROP CONSTRAINT t_a_check;
       ALTER TABLE t ADD CONSTRAINT t_a_check CHECK (a IN ('x', 'y', 'it''s'));
       ALTER TABLE t DROP CONSTRAINT IF EXISTS t_b_check;
       ALTER TABLE t DROP COLUMN c;
       ALTER TABLE u ADD COLUMN d text CONSTRAINT u_d_check CHECK (d IN ('q', 'r'));
       ALTER TABLE u ADD CONSTRAINT u_d_narrower CHECK (d IN ('r', 's'));`,
    ]);
    expect(Object.fromEntries(lists)).toEqual({ 't.a': ['x', 'y', "it's"], 'u.d': ['r'] });
  });
});
