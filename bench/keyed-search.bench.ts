/**
 * Search over keyed entries (issue 20, "Measured": p95 < 50 ms at 1M entries on PostgreSQL).
 *
 * Bulk-generates verified keyed entries with set-based SQL, row for row what a zone verified by
 * double keying writes (keying/keyings.ts verifyZone → entries/entries.ts createEntry +
 * verifyEntry, keying/zones.store.ts markZoneVerified, two keyings): the entry as keyed (source
 * 'keyed', status 'verified', keyer as creator and verifier), its names in the default layouts'
 * roles (birth: subject, father's given name, mother with maiden name; marriage: groom and bride;
 * death: the deceased) with their search forms, the verified zone with its final answers, and the
 * two agreeing keyings. Before timing, a few zones are keyed through the domain functions in the
 * same schema and a sample of generated rows is checked against them and against the domain's own
 * mapping (entryFieldsFrom, normaliseText), so the figures are about the rows the product writes.
 *
 * Then VACUUM ANALYZE (what autovacuum does after an import) and time `searchEntries` (what
 * GET /entries calls) for the same query list at a baseline size (the first pages of every book)
 * and at the full size: surname typed without diacritics, surname or full name in Cyrillic,
 * surname with a one-letter spelling variant, surname + year, given name + surname + place.
 * Prints p50/p95/p99 per kind and overall against the 50 ms p95 target, the ratio to the
 * baseline, the EXPLAIN (ANALYZE) of the slowest query, and one JSON line. Exits 1 when the p95
 * at full size is 50 ms or more.
 *
 *   set -a; . ./.services.env; set +a; npm run bench:keyed-search
 *   npx tsx bench/keyed-search.bench.ts [--entries 1000000] [--baseline 10000] [--queries 60] [--budget 60] [--keep]
 *
 * Runs in a schema of its own (bench_keyed_<random>), dropped at the end unless --keep.
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { openDb } from '../db/index.ts';
import { silentLogger } from '../common/index.ts';
import { createBook, setPageImageInfo, upsertPage } from '../archive/index.ts';
import { createRng, toSerbianCyrillic } from '../fixtures/index.ts';
import {
  ALBANIAN_FEMALE_NAMES, ALBANIAN_MALE_NAMES, ALBANIAN_SURNAMES, PLACES,
  SERBIAN_FEMALE_NAMES, SERBIAN_MALE_NAMES, SERBIAN_SURNAMES,
} from '../fixtures/names.ts';
import { normaliseText } from '../search/normalise.ts';
import { searchEntries, type EntrySearch } from '../entries/index.ts';
import { entryFieldsFrom, proposeZones, requireLayout, submitKeying, type KeyedFields } from '../keying/index.ts';
import type { RegisterType } from '../common/vocabulary.ts';
import { percentile, r1 } from './bench-support.ts';

const { values: args } = parseArgs({
  options: {
    entries: { type: 'string', default: '1000000' },
    baseline: { type: 'string', default: '10000' },
    queries: { type: 'string', default: '60' },
    budget: { type: 'string', default: '60' },
    keep: { type: 'boolean', default: false },
  },
});
const ENTRIES = Number(args.entries);
const BASELINE = Math.min(Number(args.baseline), ENTRIES);
const PER_KIND = Number(args.queries);
// A kind stops early (after at least 5 queries) once it has used this many seconds, so a slow
// query shape still yields a figure in bounded time; the table gives the count actually run.
const BUDGET_S = Number(args.budget);
for (const [k, v] of Object.entries({ entries: ENTRIES, baseline: BASELINE, queries: PER_KIND, budget: BUDGET_S })) {
  if (!Number.isInteger(v) || v < 1) throw new Error(`--${k} must be a positive integer`);
}
const TARGET_P95_MS = 50;
const url = process.env.DATABASE_URL ?? process.env.TEST_DATABASE_URL;
if (!url) throw new Error('set DATABASE_URL (set -a; . ./.services.env; set +a)');

const ENTRIES_PER_PAGE = 20;
const PAGES_PER_BOOK = 200;
const KEYERS = 24;
const schema = `bench_keyed_${randomBytes(4).toString('hex')}`;
const db = await openDb({ kind: 'pg', url, schema }, silentLogger());
const rng = createRng(2020);

type Lang = 'sq' | 'sr-Latn' | 'sr-Cyrl';
const LANGS: Lang[] = ['sq', 'sr-Latn', 'sr-Cyrl'];
// Books: half Albanian, three tenths Serbian Latin, a fifth Serbian Cyrillic; four sevenths births,
// two deaths, one marriages (cycles of coprime length, so every language has every register type).
const bookLang = (b: number): Lang => (['sq', 'sr-Latn', 'sq', 'sr-Cyrl', 'sq', 'sr-Latn', 'sq', 'sr-Cyrl', 'sq', 'sr-Latn'] as const)[b % 10]!;
const bookType = (b: number): RegisterType => (['birth', 'death', 'marriage', 'birth', 'death', 'birth', 'birth'] as const)[b % 7]!;
const inScript = (lang: Lang, w: string) => (lang === 'sr-Cyrl' ? toSerbianCyrillic(w) : w);
const vocab = (lang: Lang) => {
  const sq = lang === 'sq';
  return {
    surnames: [...(sq ? ALBANIAN_SURNAMES : SERBIAN_SURNAMES)] as string[],
    male: [...(sq ? ALBANIAN_MALE_NAMES : SERBIAN_MALE_NAMES)] as string[],
    female: [...(sq ? ALBANIAN_FEMALE_NAMES : SERBIAN_FEMALE_NAMES)] as string[],
    places: PLACES.map((p) => (sq ? p.sq : p.sr)).filter((p): p is string => !!p),
  };
};
// What a clerk types on a Latin keyboard without diacritics.
const fold = (s: string) => s.normalize('NFD').replace(/\p{M}/gu, '').replace(/đ/g, 'dj').replace(/Đ/g, 'Dj');

const sec = (ms: number) => (ms / 1000).toFixed(1);

/** Keys a few zones through the domain functions: the rows every generated row must look like. */
async function keyReferenceZones(): Promise<void> {
  const cases: { type: RegisterType; lang: Lang; fields: Record<string, string> }[] = [
    { type: 'birth', lang: 'sq', fields: { entryNumber: '7', dateOfBirth: '03.11.1961', firstName: 'Shpëtim', surname: 'Thaçi', sex: 'M', fatherName: 'Gëzim', mother: 'Drita Çeku', placeOfBirth: 'Pejë' } },
    { type: 'marriage', lang: 'sr-Latn', fields: { entryNumber: '12', dateOfMarriage: '21.06.1958', groomFirstName: 'Đorđe', groomSurname: 'Šćepanović', brideFirstName: 'Ljiljana', brideSurname: 'Džaković', placeOfMarriage: 'Uroševac' } },
    { type: 'death', lang: 'sr-Cyrl', fields: { entryNumber: '3', dateOfDeath: '09.02.1970', firstName: 'Милош', surname: 'Живковић', age: '71', placeOfDeath: 'Пећ' } },
  ];
  for (const c of cases) {
    const year = Number(Object.values(c.fields)[1]!.slice(-4));
    const { book } = await createBook(db, {
      registerType: c.type, municipality: 'Reference', yearFrom: year, yearTo: year, languages: c.lang === 'sq' ? 'sqi' : 'srp',
      sourceFormat: 'tiff', sourceSha256: randomBytes(32).toString('hex'), sourceSize: 1,
    });
    const page = await upsertPage(db, book.id, 1);
    await setPageImageInfo(db, page.id, { width: 2480, height: 1754, dpiX: 300, dpiY: 300, orientation: 0, inkRatio: 0.05 });
    const [zone] = await proposeZones(db, page.id, { source: 'drawn', zones: [{ box: { x0: 40, y0: 180, x1: 2440, y1: 260 } }] }, { user: 'bench-reference' });
    const answers: KeyedFields = Object.fromEntries(Object.entries(c.fields).map(([k, v]) => [k, { value: v }]));
    await submitKeying(db, zone!.id, 'keyer-ref-a', answers);
    const r = await submitKeying(db, zone!.id, 'keyer-ref-b', answers);
    if (r.zoneStatus !== 'verified') throw new Error(`reference zone not verified: ${r.zoneStatus}`);
  }
}

/** The tables' own triggers in their default state (those that fire as the domain code writes). */
async function userTriggers(tables: string[]): Promise<{ table: string; name: string }[]> {
  return (await db.query<{ table: string; name: string }>(
    `SELECT c.relname AS table, t.tgname AS name FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace s ON s.oid = c.relnamespace
      WHERE s.nspname = $1 AND c.relname = ANY($2) AND NOT t.tgisinternal AND t.tgenabled = 'O'`, [schema, tables])).rows;
}

const LOADED = ['entries', 'entry_names', 'entry_zones', 'keyings'];

/**
 * Generates the verified keyed entries of the pages numbered fromSeq..toSeq of every book.
 * Secondary indexes are dropped for the load and rebuilt from their own definitions afterwards, as
 * a bulk import would; the tables' own triggers fire as they would for the domain code's writes
 * (made ALWAYS for the load, since foreign-key checks are skipped by running as a replica: every
 * reference holds by construction).
 */
async function load(books: { id: string; type: RegisterType; lang: Lang; yearFrom: number }[], layouts: Record<RegisterType, string>, fromSeq: number, toSeq: number): Promise<LoadTimes> {
  const t0 = Date.now();
  const steps: Record<string, number> = {};
  // Secondary indexes of every table (the loaded ones and those their triggers write).
  const idx = (await db.query<{ indexname: string; indexdef: string }>(
    `SELECT i.indexname, i.indexdef FROM pg_indexes i
      WHERE i.schemaname = $1
        AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = (quote_ident(i.schemaname) || '.' || quote_ident(i.indexname))::regclass)`,
    [schema],
  )).rows;
  // Primary keys and unique constraints of the per-entry tables (loaded, or written by their
  // triggers) that no foreign key leans on, likewise: rebuilt afterwards, which also checks every
  // loaded row against them. Others stay: a trigger's ON CONFLICT may rely on them (a vocabulary).
  const keys = (await db.query<{ table: string; name: string; def: string }>(
    `SELECT c.conrelid::regclass::text AS table, c.conname AS name, pg_get_constraintdef(c.oid) AS def
       FROM pg_constraint c JOIN pg_namespace s ON s.oid = c.connamespace JOIN pg_class t ON t.oid = c.conrelid
      WHERE s.nspname = $1 AND c.contype IN ('p', 'u')
        AND (t.relname = ANY($2) OR EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = t.oid AND a.attname = 'entry_id' AND NOT a.attisdropped))
        AND NOT EXISTS (SELECT 1 FROM pg_constraint f WHERE f.contype = 'f' AND f.conindid = c.conindid)`,
    [schema, LOADED],
  )).rows;
  const triggers = await userTriggers(LOADED);
  await db.transaction(async (tx) => {
    const step = async (name: string, sql: string, params?: unknown[]) => {
      const s = Date.now();
      await tx.query(sql, params);
      steps[name] = (steps[name] ?? 0) + Date.now() - s;
    };
    await tx.query(`SET LOCAL session_replication_role = replica`);
    // Sorts of a bulk load (the postings' DISTINCT) in memory, as an import session would set.
    await tx.query(`SET LOCAL work_mem = '256MB'`);
    for (const t of triggers) await tx.query(`ALTER TABLE "${schema}"."${t.table}" ENABLE ALWAYS TRIGGER "${t.name}"`);
    for (const i of idx) await tx.query(`DROP INDEX "${schema}"."${i.indexname}"`);
    for (const k of keys) await tx.query(`ALTER TABLE ${k.table} DROP CONSTRAINT "${k.name}"`);
    await tx.query(`SELECT setseed($1)`, [fromSeq / (PAGES_PER_BOOK + 1)]);
    await tx.query(`CREATE TEMP TABLE g (
      entry_id uuid, zone_id uuid, book_id uuid, page_id uuid, k int, register_type text, lang text, layout_id uuid,
      number text, keyed_date text, iso_date text, sex text, age text,
      given text, given_n text, surname text, surname_n text, father text, father_n text,
      other_given text, other_given_n text, other_surname text, other_surname_n text, place text, place_n text,
      keyer_a text, keyer_b text, ff jsonb) ON COMMIT DROP`);
    // The answers both keyers gave, by the default layouts' column keys (migration 016).
    const finalFields = `CASE g.register_type
      WHEN 'birth' THEN jsonb_build_object('entryNumber', jsonb_build_object('value', g.number), 'dateOfBirth', jsonb_build_object('value', g.keyed_date),
        'firstName', jsonb_build_object('value', g.given), 'surname', jsonb_build_object('value', g.surname), 'sex', jsonb_build_object('value', g.sex),
        'fatherName', jsonb_build_object('value', g.father), 'mother', jsonb_build_object('value', g.other_given || ' ' || g.other_surname),
        'placeOfBirth', jsonb_build_object('value', g.place))
      WHEN 'marriage' THEN jsonb_build_object('entryNumber', jsonb_build_object('value', g.number), 'dateOfMarriage', jsonb_build_object('value', g.keyed_date),
        'groomFirstName', jsonb_build_object('value', g.given), 'groomSurname', jsonb_build_object('value', g.surname),
        'brideFirstName', jsonb_build_object('value', g.other_given), 'brideSurname', jsonb_build_object('value', g.other_surname),
        'placeOfMarriage', jsonb_build_object('value', g.place))
      ELSE jsonb_build_object('entryNumber', jsonb_build_object('value', g.number), 'dateOfDeath', jsonb_build_object('value', g.keyed_date),
        'firstName', jsonb_build_object('value', g.given), 'surname', jsonb_build_object('value', g.surname), 'age', jsonb_build_object('value', g.age),
        'placeOfDeath', jsonb_build_object('value', g.place)) END`;
    for (const lang of LANGS) {
      const v = vocab(lang);
      const disp = (xs: string[]) => xs.map((w) => inScript(lang, w));
      const norm = (xs: string[]) => xs.map((w) => normaliseText(inScript(lang, w)));
      const bookIds = books.filter((b) => b.lang === lang).map((b) => b.id);
      // One row per entry: a date within the book's years (kept in order of events as registers
      // are), names drawn from the lists, the place usually the book's own.
      await step('plan',
        `INSERT INTO g SELECT g.*, ${finalFields} FROM (
         SELECT gen_random_uuid(), gen_random_uuid(), p.book_id, p.id, k, b.register_type, $1, ($13::jsonb ->> b.register_type)::uuid,
                ((p.sequence - 1) * ${ENTRIES_PER_PAGE} + k)::text,
                to_char(d, 'DD.MM.YYYY'), to_char(d, 'YYYY-MM-DD'),
                CASE WHEN r.male THEN $14 ELSE $15 END, (CASE WHEN r.infant THEN floor(random() * 5) ELSE 40 + floor(random() * 55) END)::int::text,
                CASE WHEN r.male THEN ($4::text[])[r.gm] ELSE ($6::text[])[r.gf] END, CASE WHEN r.male THEN ($5::text[])[r.gm] ELSE ($7::text[])[r.gf] END,
                ($2::text[])[r.s], ($3::text[])[r.s], ($4::text[])[r.fm], ($5::text[])[r.fm],
                ($6::text[])[r.of], ($7::text[])[r.of], ($2::text[])[r.os], ($3::text[])[r.os],
                ($8::text[])[r.pl], ($9::text[])[r.pl],
                'keyer' || lpad((1 + r.ka)::text, 2, '0'), 'keyer' || lpad((1 + (r.ka + 1 + r.kb) % ${KEYERS})::text, 2, '0')
           FROM pages p JOIN books b ON b.id = p.book_id
          CROSS JOIN generate_series(1, ${ENTRIES_PER_PAGE}) k
          CROSS JOIN LATERAL (SELECT
                   k AS kk,
                   (b.register_type = 'marriage' OR random() < 0.51) AS male, random() < 0.12 AS infant,
                   1 + floor(random() * cardinality($2::text[]))::int AS s, 1 + floor(random() * cardinality($2::text[]))::int AS os,
                   1 + floor(random() * cardinality($4::text[]))::int AS gm, 1 + floor(random() * cardinality($6::text[]))::int AS gf,
                   1 + floor(random() * cardinality($4::text[]))::int AS fm, 1 + floor(random() * cardinality($6::text[]))::int AS of,
                   CASE WHEN random() < 0.75 THEN 1 + (hashtext(b.municipality) & 1023) % cardinality($8::text[]) ELSE 1 + floor(random() * cardinality($8::text[]))::int END AS pl,
                   floor(random() * ${KEYERS})::int AS ka, floor(random() * ${KEYERS - 1})::int AS kb) r
          CROSS JOIN LATERAL (SELECT make_date(b.year_from, 1, 1) + (((p.sequence - 1) * ${ENTRIES_PER_PAGE} + k) * 365 * (b.year_to - b.year_from + 1) / ${PAGES_PER_BOOK * ENTRIES_PER_PAGE}) AS d) dd
          WHERE p.book_id = ANY($10::uuid[]) AND p.sequence BETWEEN $11 AND $12)
           g (entry_id, zone_id, book_id, page_id, k, register_type, lang, layout_id, number, keyed_date, iso_date, sex, age, given, given_n,
              surname, surname_n, father, father_n, other_given, other_given_n, other_surname, other_surname_n, place, place_n, keyer_a, keyer_b)`,
        [lang, disp(v.surnames), norm(v.surnames), disp(v.male), norm(v.male), disp(v.female), norm(v.female), disp(v.places), norm(v.places),
         bookIds, fromSeq, toSeq, JSON.stringify(layouts), inScript(lang, 'M'), lang === 'sq' ? 'F' : inScript(lang, 'Ž')],
      );
    }
    const box = `40, 180 + (g.k - 1) * 75, 2440, 250 + (g.k - 1) * 75`;
    await step('entries',
      `INSERT INTO entries (id, book_id, page_id, x0, y0, x1, y1, event_type, entry_number, event_date, place, place_norm, marginal_notes, ocr_text,
                            source, status, created_by, verified_by, verified_at)
       SELECT g.entry_id, g.book_id, g.page_id, ${box}, g.register_type, g.number, g.iso_date, g.place, g.place_n, NULL, NULL,
              'keyed', 'verified', g.keyer_b, g.keyer_b, now()
         FROM g`);
    // The names' triggers (migration 020's word postings, if present) fire as for the domain's writes.
    await step('names',
      `INSERT INTO entry_names (entry_id, role, position, name, norm)
       SELECT g.entry_id, n.role, 0, n.name, n.norm FROM g
        CROSS JOIN LATERAL (VALUES
          ('subject', g.given || ' ' || g.surname, g.given_n || ' ' || g.surname_n, true),
          ('father', g.father, g.father_n, g.register_type = 'birth'),
          ('mother', g.other_given || ' ' || g.other_surname, g.other_given_n || ' ' || g.other_surname_n, g.register_type = 'birth'),
          ('spouse', g.other_given || ' ' || g.other_surname, g.other_given_n || ' ' || g.other_surname_n, g.register_type = 'marriage')
        ) AS n(role, name, norm, present)
        WHERE n.present`);
    await step('zones',
      `INSERT INTO entry_zones (id, book_id, page_id, layout_id, x0, y0, x1, y1, cells, source, status, differences, final_fields, entry_id,
                                verified_by, verified_at, created_by)
       SELECT g.zone_id, g.book_id, g.page_id, g.layout_id, ${box}, '[]', 'drawn', 'verified', '{}', g.ff, g.entry_id,
              g.keyer_b, now(), 'bench' FROM g`);
    await step('keyings',
      `INSERT INTO keyings (zone_id, slot, keyer, layout_id, fields, warnings, agreed, started_at, submitted_at)
       SELECT g.zone_id, s.slot, CASE s.slot WHEN 1 THEN g.keyer_a ELSE g.keyer_b END, g.layout_id, g.ff, '[]', true, NULL, now()
         FROM g CROSS JOIN (VALUES (1), (2)) s(slot)`);
    for (const t of triggers) await tx.query(`ALTER TABLE "${schema}"."${t.table}" ENABLE TRIGGER "${t.name}"`);
  });
  const t1 = Date.now();
  await db.transaction(async (tx) => {
    await tx.query(`SET LOCAL maintenance_work_mem = '512MB'`);
    for (const k of keys) await tx.query(`ALTER TABLE ${k.table} ADD CONSTRAINT "${k.name}" ${k.def}`);
    for (const i of idx) await tx.query(i.indexdef);
  });
  const t2 = Date.now();
  // What autovacuum does after a bulk import: statistics, and the visibility map index-only scans rely on.
  const tables = (await db.query<{ relname: string }>(
    `SELECT c.relname FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace WHERE s.nspname = $1 AND c.relkind = 'r'`, [schema])).rows;
  for (const t of tables) await db.query(`VACUUM ANALYZE "${schema}"."${t.relname}"`);
  return { rowsMs: t1 - t0, indexMs: t2 - t1, vacuumMs: Date.now() - t2, steps };
}

interface LoadTimes { rowsMs: number; indexMs: number; vacuumMs: number; steps: Record<string, number> }

/**
 * Checks a sample of generated rows against what the domain code writes: the same columns set
 * as on the entries keyed through submitKeying, names and fields as entryFieldsFrom makes them
 * from the zone's answers, search forms as normaliseText computes them.
 */
async function checkFidelity(): Promise<number> {
  const shape = (r: Record<string, unknown>) => Object.entries(r).filter(([, v]) => v !== null).map(([k]) => k).sort().join(',');
  const constant = (r: Record<string, unknown>) => JSON.stringify([r.source, r.status, r.created_by === r.verified_by, r.updated_by]);
  const ref = (await db.query<Record<string, unknown>>(`SELECT e.* FROM entries e JOIN books b ON b.id = e.book_id WHERE b.municipality = 'Reference'`)).rows;
  const refZones = (await db.query<Record<string, unknown>>(`SELECT z.* FROM entry_zones z JOIN books b ON b.id = z.book_id WHERE b.municipality = 'Reference'`)).rows;
  const refKeyings = (await db.query<Record<string, unknown>>(`SELECT k.* FROM keyings k JOIN entry_zones z ON z.id = k.zone_id JOIN books b ON b.id = z.book_id WHERE b.municipality = 'Reference'`)).rows;
  if (ref.length !== 3 || refZones.length !== 3 || refKeyings.length !== 6) throw new Error('reference keying did not write 3 entries, zones and 6 keyings');
  const sample = (await db.query<Record<string, unknown> & { final_fields: KeyedFields; layout_key: string; names: { role: string; name: string; norm: string }[] }>(
    `SELECT e.*, z.final_fields, l.layout_key,
            (SELECT jsonb_agg(jsonb_build_object('role', n.role, 'name', n.name, 'norm', n.norm, 'position', n.position) ORDER BY n.role) FROM entry_names n WHERE n.entry_id = e.id) AS names
       FROM entry_zones z TABLESAMPLE BERNOULLI (5) JOIN entries e ON e.id = z.entry_id JOIN register_layouts l ON l.id = z.layout_id
      WHERE z.created_by = 'bench' LIMIT 3000`)).rows;
  const sampleZones = (await db.query<Record<string, unknown>>(`SELECT * FROM entry_zones WHERE created_by = 'bench' LIMIT 50`)).rows;
  const sampleKeyings = (await db.query<Record<string, unknown>>(`SELECT k.* FROM keyings k JOIN entry_zones z ON z.id = k.zone_id WHERE z.created_by = 'bench' LIMIT 50`)).rows;
  const problems: string[] = [];
  const expectSame = (what: string, a: string, b: string) => {
    if (a !== b && problems.length < 10) problems.push(`${what}: generated ${a} / keyed ${b}`);
  };
  // Keyings keyed through the domain carry started_at only when the queue handed the zone out.
  const keyingShape = (r: Record<string, unknown>) => shape(r).replace(/,?started_at/, '');
  for (const r of sample) expectSame('entry columns', shape({ ...r, final_fields: null, layout_key: null, names: null }), shape(ref[0]!));
  for (const r of sample) expectSame('entry values', constant(r), constant(ref[0]!));
  for (const z of sampleZones) expectSame('zone columns', shape(z), shape(refZones[0]!));
  for (const k of sampleKeyings) expectSame('keying columns', keyingShape(k), keyingShape(refKeyings[0]!));
  const layouts = new Map<string, Awaited<ReturnType<typeof requireLayout>>>();
  for (const r of sample) {
    const layout = layouts.get(r.layout_key) ?? (await requireLayout(db, r.layout_key));
    layouts.set(r.layout_key, layout);
    const want = entryFieldsFrom(layout.columns, r.final_fields, r.event_type as RegisterType, { x0: 0, y0: 0, x1: 1, y1: 1 });
    expectSame('entry fields', JSON.stringify([r.entry_number, r.event_date, r.place, r.place_norm, r.marginal_notes]),
      JSON.stringify([want.entryNumber, want.eventDate, want.place, want.place ? normaliseText(want.place) : null, want.marginalNotes]));
    const names = (want.names ?? []).map((n) => ({ role: n.role, name: n.name, norm: normaliseText(n.name), position: 0 })).sort((a, b) => a.role.localeCompare(b.role));
    expectSame('names', JSON.stringify(r.names.map((n) => ({ role: n.role, name: n.name, norm: n.norm, position: (n as { position?: number }).position }))), JSON.stringify(names));
  }
  if (problems.length) throw new Error(`generated rows differ from what the domain code writes:\n  ${problems.join('\n  ')}`);
  return sample.length;
}

/** A query, and the entry it was made from when it names one person (found or not is reported). */
interface BenchQuery { kind: string; q: EntrySearch; entryId?: string; surname?: string }

/**
 * The query list, the same at both sizes: surnames from the name lists (typed without diacritics,
 * in Cyrillic, or with a one-letter variant), and persons of entries of the baseline (which stays
 * in the full set) looked up by surname and year, or by given name, surname and place.
 */
async function makeQueries(): Promise<BenchQuery[]> {
  const out: BenchQuery[] = [];
  for (let i = 0; i < PER_KIND; i++) {
    out.push({ kind: 'surname, no diacritics', q: { name: fold(rng.pick(vocab(rng.pick(LANGS)).surnames)) } });
  }
  for (let i = 0; i < PER_KIND; i++) {
    const v = vocab('sr-Latn');
    const given = rng.pick(rng.chance(0.5) ? v.male : v.female);
    const surname = rng.pick(v.surnames);
    out.push({ kind: 'Cyrillic', q: { name: toSerbianCyrillic(rng.chance(0.5) ? surname : `${given} ${surname}`) } });
  }
  for (let i = 0; i < PER_KIND; i++) {
    const surname = fold(rng.pick(vocab(rng.pick(LANGS)).surnames));
    // One letter read or written differently, as in a misread hand: a substitution, a doubled or a dropped letter.
    const at = 1 + Math.floor(rng.next() * (surname.length - 2));
    const op = rng.int(0, 2);
    const variant = op === 0 ? surname.slice(0, at) + (surname[at] === 'i' ? 'e' : 'i') + surname.slice(at + 1)
      : op === 1 ? surname.slice(0, at) + surname[at] + surname.slice(at) : surname.slice(0, at) + surname.slice(at + 1);
    out.push({ kind: 'spelling variant', q: { name: variant }, surname: normaliseText(surname) });
  }
  const people = (await db.query<{ id: string; event_date: string; place: string; name: string }>(
    `SELECT e.id, e.event_date, e.place, n.name FROM entries e JOIN entry_names n ON n.entry_id = e.id AND n.role = 'subject'
      WHERE e.source = 'keyed' AND e.created_by <> 'keyer-ref-b' ORDER BY md5(e.id::text) LIMIT $1`, [2 * PER_KIND])).rows;
  if (people.length < 2 * PER_KIND) throw new Error(`the baseline has only ${people.length} entries; raise --baseline`);
  people.slice(0, PER_KIND).forEach((p) => {
    const y = p.event_date.slice(0, 4);
    out.push({ kind: 'surname + year', q: { name: fold(p.name.split(' ').at(-1)!), dateFrom: y, dateTo: y }, entryId: p.id });
  });
  people.slice(PER_KIND).forEach((p) => {
    out.push({ kind: 'given + surname + place', q: { name: fold(p.name), place: fold(p.place) }, entryId: p.id });
  });
  return out;
}

interface KindFigures { kind: string; n: number; p50: number; p95: number; p99: number; max: number; meanResults: number; foundPct?: number }

async function timeQueries(queries: BenchQuery[]): Promise<{ kinds: KindFigures[]; all: KindFigures; slowest: { ms: number; q: EntrySearch } }> {
  await searchEntries(db, queries[0]!.q); // warm-up
  const kinds: KindFigures[] = [];
  const all: number[] = [];
  let slowest = { ms: 0, q: {} as EntrySearch };
  for (const kind of [...new Set(queries.map((q) => q.kind))]) {
    const times: number[] = [];
    let results = 0;
    let found = 0;
    const started = performance.now();
    for (const item of queries.filter((q) => q.kind === kind)) {
      if (times.length >= 5 && performance.now() - started > BUDGET_S * 1000) break;
      const s = performance.now();
      const hits = await searchEntries(db, item.q);
      const ms = performance.now() - s;
      times.push(ms);
      results += hits.length;
      // Found: the entry the query was made from is among the results, or (variants) a name with the surname it was made from.
      if (item.entryId ? hits.some((h) => h.id === item.entryId) : item.surname && hits.some((h) => h.names.some((n) => normaliseText(n.name).split(' ').includes(item.surname!)))) found++;
      if (ms > slowest.ms) slowest = { ms, q: item.q };
    }
    all.push(...times);
    const f: KindFigures = { kind, n: times.length, p50: r1(percentile(times, 50)), p95: r1(percentile(times, 95)), p99: r1(percentile(times, 99)), max: r1(Math.max(...times)), meanResults: r1(results / times.length) };
    if (queries.some((q) => q.kind === kind && (q.entryId || q.surname))) f.foundPct = r1((100 * found) / times.length);
    kinds.push(f);
  }
  return { kinds, all: { kind: 'all', n: all.length, p50: r1(percentile(all, 50)), p95: r1(percentile(all, 95)), p99: r1(percentile(all, 99)), max: r1(Math.max(...all)), meanResults: NaN }, slowest };
}

async function explain(q: EntrySearch): Promise<string[]> {
  const captured: { sql: string; params: unknown[] }[] = [];
  // The vocabulary look-up runs for real: it picks the name words the entry query then carries
  // (stubbed, the entry query had no words and the plan shown was of a search without a name).
  await searchEntries({ kind: 'pg', query: async (sql: string, params?: unknown[]) => {
    if (sql.includes('FROM entry_name_terms v')) return db.query(sql, params);
    captured.push({ sql, params: params ?? [] });
    return { rows: [], rowCount: 0 };
  } } as never, q);
  const plan = await db.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) ${captured.at(-1)!.sql}`, captured.at(-1)!.params);
  return plan.rows.map((r) => r['QUERY PLAN']);
}

let exitCode = 0;
try {
  const t0 = Date.now();
  await keyReferenceZones();
  const layouts = Object.fromEntries(await Promise.all((['birth', 'marriage', 'death'] as const).map(async (t) => [t, (await requireLayout(db, `${t}-default`)).id]))) as Record<RegisterType, string>;
  const pages = Math.ceil(ENTRIES / ENTRIES_PER_PAGE);
  const bookCount = Math.ceil(pages / PAGES_PER_BOOK);
  const books: { id: string; type: RegisterType; lang: Lang; yearFrom: number }[] = [];
  const seats = vocab('sq').places;
  for (let b = 0; b < bookCount; b++) {
    const yearFrom = 1920 + ((b * 7) % 76);
    const lang = bookLang(b);
    const { book } = await createBook(db, {
      registerType: bookType(b), municipality: seats[b % seats.length]!, yearFrom, yearTo: yearFrom + 4, languages: lang === 'sq' ? 'sqi' : 'srp',
      sourceFormat: 'tiff', sourceSha256: randomBytes(32).toString('hex'), sourceSize: 1, ocrProfile: 'handwritten',
    });
    books.push({ id: book.id, type: bookType(b), lang, yearFrom });
  }
  await db.query(
    `INSERT INTO pages (book_id, sequence, status, width, height, page_type)
     SELECT ($1::uuid[])[1 + (g - 1) / ${PAGES_PER_BOOK}], 1 + (g - 1) % ${PAGES_PER_BOOK}, 'done', 2480, 1754, 'handwritten' FROM generate_series(1, $2) g`,
    [books.map((b) => b.id), pages],
  );
  // The baseline is the first pages of every book, so it holds every language and register type.
  const baseSeq = Math.max(1, Math.round(BASELINE / ENTRIES_PER_PAGE / bookCount));
  console.log(`schema ${schema}: ${bookCount} books, ${pages} pages (${sec(Date.now() - t0)} s)`);

  let queries: BenchQuery[] = [];
  const stages: { entries: number; kinds: KindFigures[]; all: KindFigures; load: LoadTimes; slowest: { ms: number; q: EntrySearch } }[] = [];
  let loadedSeq = 0;
  for (const target of BASELINE < ENTRIES && baseSeq < PAGES_PER_BOOK ? [baseSeq, PAGES_PER_BOOK] : [PAGES_PER_BOOK]) {
    const l = await load(books, layouts, loadedSeq + 1, target);
    loadedSeq = target;
    const counts = (await db.query<{ e: number; n: number; z: number; k: number }>(
      `SELECT (SELECT count(*) FROM entries)::int AS e, (SELECT count(*) FROM entry_names)::int AS n, (SELECT count(*) FROM entry_zones)::int AS z, (SELECT count(*) FROM keyings)::int AS k`)).rows[0]!;
    console.log(`loaded ${counts.e} entries (${counts.n} names, ${counts.z} zones, ${counts.k} keyings): rows ${sec(l.rowsMs)} s (${Object.entries(l.steps).map(([k, v]) => `${k} ${sec(v)}`).join(', ')}), indexes ${sec(l.indexMs)} s, VACUUM ANALYZE ${sec(l.vacuumMs)} s`);
    if (stages.length === 0) {
      console.log(`checked ${await checkFidelity()} generated entries against the domain's keyed rows: same columns, fields, names and search forms`);
      queries = await makeQueries();
    }
    const r = await timeQueries(queries);
    stages.push({ entries: counts.e, ...r, load: l });
    console.log(`\nsearchEntries at ${counts.e} keyed entries (default limit 50), load average ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}:`);
    console.log('| query kind | n | p50 ms | p95 ms | p99 ms | max ms | mean results | % finding the person or surname asked |');
    console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
    for (const k of [...r.kinds, r.all]) {
      console.log(`| ${k.kind} | ${k.n} | ${k.p50} | ${k.p95} | ${k.p99} | ${k.max} | ${Number.isNaN(k.meanResults) ? '' : k.meanResults} | ${k.foundPct ?? ''} |`);
    }
  }
  const full = stages.at(-1)!;
  const base = stages.length > 1 ? stages[0]! : undefined;
  const met = full.all.p95 < TARGET_P95_MS;
  if (!met) exitCode = 1;
  console.log(`\np95 ${full.all.p95} ms at ${full.entries} entries: target < ${TARGET_P95_MS} ms ${met ? 'met' : 'MISSED'}` +
    (base ? `; ${r1(full.all.p95 / base.all.p95)}x the p95 at ${base.entries} entries (${base.all.p95} ms)` : ''));
  console.log(`\nslowest: ${JSON.stringify(full.slowest.q)} ${r1(full.slowest.ms)} ms; EXPLAIN (ANALYZE, BUFFERS) of its search:`);
  for (const line of await explain(full.slowest.q)) console.log(`  ${line}`);
  console.log(JSON.stringify({
    bench: 'keyed-search', entries: full.entries, queries: full.all.n, p50Ms: full.all.p50, p95Ms: full.all.p95, p99Ms: full.all.p99, maxMs: full.all.max,
    targetP95Ms: TARGET_P95_MS, met, byKind: full.kinds,
    baseline: base ? { entries: base.entries, p50Ms: base.all.p50, p95Ms: base.all.p95, p99Ms: base.all.p99, byKind: base.kinds } : null,
    p95Ratio: base ? r1(full.all.p95 / base.all.p95) : null,
    loadS: stages.map((s) => ({ entries: s.entries, rows: r1(s.load.rowsMs / 1000), indexes: r1(s.load.indexMs / 1000), vacuumAnalyze: r1(s.load.vacuumMs / 1000) })),
    loadavg: os.loadavg().map(r1), cpus: os.cpus().length,
  }));
} finally {
  if (args.keep) console.log(`kept schema ${schema}`);
  else await db.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await db.close();
}
process.exit(exitCode);
