/**
 * Double keying with arbitration on handwritten fixtures (issue 20, "Measured": a disagreement
 * injected into one of two keyings goes to arbitration 100% of the time; verified entries equal
 * the ground truth).
 *
 * Plans handwritten fixture books (fixtures/ style 'handwritten': Albanian, Serbian Latin and
 * Serbian Cyrillic; births, marriages and deaths; several seeds), puts them in an embedded
 * database migrated like the product's (PGlite), with one zone per ground-truth entry row (the
 * truth's row and cell boxes, as a keyer would draw them), and keys every zone twice through the
 * domain functions (nextZone, submitKeying) by keyers taken in shuffled order, each typing the
 * ground truth. For a share of zones one or two fields of one of the two keyings are altered:
 * - real differences that must reach the arbitrator: a typo (a letter or digit changed, dropped,
 *   doubled or swapped), a diacritic added or dropped (ë/e, č/c: a different reading), the answer
 *   "illegible" or "blank" instead of the value;
 * - differences of form only that must NOT: other case, extra spaces, the other script (Serbian
 *   values typed in Cyrillic instead of Latin or back), decomposed Unicode (e + combining ¨).
 * An arbitrator who keyed nothing then settles every dispute (listDisputes, decideZone) with the
 * ground truth, and every verified zone's entry is compared with the truth.
 *
 * Prints the figures per kind, zones per second, and one JSON line; exits 1 when a target is
 * missed (real differences sent to arbitration < 100%, a form-only difference disputed, a clean
 * zone disputed, a zone left unverified, or a verified entry differing from the truth).
 *
 *   npm run bench:keying
 *   npx tsx bench/keying.bench.ts [--pages 2] [--seed 2000] [--share 0.5]
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createBook, setPageImageInfo, upsertPage } from '../archive/index.ts';
import { silentLogger } from '../common/index.ts';
import { toSerbianCyrillic } from '../common/serbian-script.ts';
import { openDb, type Db } from '../db/index.ts';
import { getEntry } from '../entries/index.ts';
import { planBook } from '../fixtures/book.ts';
import { createRng, type Rng } from '../fixtures/random.ts';
import type { Box, EntryTruth, Language, RegisterType } from '../fixtures/index.ts';
import { cyrillicToLatin } from '../search/normalise.ts';
import {
  comparisonForm, decideZone, listDisputes, nextZone, proposeZones, requireLayout, requireZone, submitKeying,
  type FieldAnswer, type FieldDecision, type KeyedFields,
} from '../keying/index.ts';
import { median, r1, r2 } from './bench-support.ts';

const { values: args } = parseArgs({
  options: {
    pages: { type: 'string', default: '2' },
    seed: { type: 'string', default: '2000' },
    share: { type: 'string', default: '0.5' },
  },
});
const PAGES = Number(args.pages);
const SEED = Number(args.seed);
const SHARE = Number(args.share);
if (!Number.isInteger(PAGES) || PAGES < 1) throw new Error('--pages must be a positive integer');
if (!Number.isInteger(SEED)) throw new Error('--seed must be an integer');
if (!(SHARE > 0 && SHARE <= 1)) throw new Error('--share must be in (0, 1]');

// Books: every language with every register type at least once across the set.
const BOOKS: { language: Language; registerType: RegisterType }[] = [
  { language: 'sq', registerType: 'birth' },
  { language: 'sr-Latn', registerType: 'birth' },
  { language: 'sr-Cyrl', registerType: 'birth' },
  { language: 'sq', registerType: 'death' },
  { language: 'sr-Cyrl', registerType: 'marriage' },
  { language: 'sr-Latn', registerType: 'death' },
  { language: 'sq', registerType: 'marriage' },
];
const KEYERS = ['keyer-arta', 'keyer-besim', 'keyer-dragan', 'keyer-jelena', 'keyer-luan'];
const ARBITRATOR = 'reviewer-mira';

type RealKind = 'typo' | 'diacritic' | 'illegible' | 'blank';
type FormKind = 'case' | 'spaces' | 'script' | 'unicode';
type Kind = RealKind | FormKind;
const REAL_KINDS: RealKind[] = ['typo', 'typo', 'diacritic', 'illegible', 'blank'];
const FORM_KINDS: FormKind[] = ['case', 'spaces', 'script', 'unicode'];

const LATIN = 'abcdefghijklmnoprstuvz';
const CYRILLIC = 'абвгдежзиклмнопрстуфхцчш';
const isLetter = (ch: string) => /\p{L}/u.test(ch);
const isCyrillic = (ch: string) => /\p{Script=Cyrillic}/u.test(ch);
const withCaseOf = (orig: string, ch: string) => (orig === orig.toUpperCase() && orig !== orig.toLowerCase() ? ch.toUpperCase() : ch);

/** A typo: one letter (or digit) substituted, dropped, doubled, or two different neighbours swapped. */
function typo(v: string, rng: Rng): string {
  const chars = [...v];
  const positions = chars.map((ch, i) => (isLetter(ch) || /\d/.test(ch) ? i : -1)).filter((i) => i >= 0);
  const i = rng.pick(positions);
  const ch = chars[i]!;
  const op = rng.int(0, 3);
  if (/\d/.test(ch)) {
    chars[i] = String((Number(ch) + rng.int(1, 9)) % 10);
  } else if (op === 0 || chars.length < 3) {
    const alphabet = isCyrillic(ch) ? CYRILLIC : LATIN;
    const other = [...alphabet].filter((c) => c !== ch.toLowerCase() && comparisonForm(c) !== comparisonForm(ch));
    chars[i] = withCaseOf(ch, rng.pick(other));
  } else if (op === 1) {
    chars.splice(i, 1);
  } else if (op === 2) {
    chars.splice(i, 0, ch);
  } else {
    const j = positions.find((p) => p === i + 1 && chars[p]!.toLowerCase() !== ch.toLowerCase());
    if (j === undefined) chars.splice(i, 1);
    else [chars[i], chars[j]] = [chars[j]!, chars[i]!];
  }
  return chars.join('');
}

const DROP: Record<string, string> = { ë: 'e', ç: 'c', č: 'c', ć: 'c', š: 's', ž: 'z', đ: 'd', ч: 'ц', ћ: 'ц', ш: 'с', ж: 'з', ђ: 'д' };
const ADD: Record<string, string> = { e: 'ë', c: 'č', s: 'š', z: 'ž', ц: 'ч', с: 'ш', з: 'ж' };

/** A diacritic dropped or added on one letter: ë for e, č for c: a different reading, not a form. */
function diacritic(v: string, rng: Rng): string | undefined {
  const chars = [...v];
  for (const table of rng.chance(0.5) ? [DROP, ADD] : [ADD, DROP]) {
    const at = chars.map((ch, i) => (table[ch.toLowerCase()] ? i : -1)).filter((i) => i >= 0);
    if (at.length) {
      const i = rng.pick(at);
      chars[i] = withCaseOf(chars[i]!, table[chars[i]!.toLowerCase()]!);
      return chars.join('');
    }
  }
  return undefined;
}

/** The same reading in another form: case, spacing, script or Unicode composition. Undefined when the value has no such form. */
function formOnly(kind: FormKind, v: string, language: Language, rng: Rng): string | undefined {
  switch (kind) {
    case 'case': {
      const out = rng.chance(0.5) ? v.toUpperCase() : v.toLowerCase();
      return out !== v ? out : v.toUpperCase() !== v ? v.toUpperCase() : undefined;
    }
    case 'spaces':
      return v.includes(' ') ? v.replace(' ', rng.chance(0.5) ? '   ' : ' \t ') : `  ${v} `;
    case 'script': {
      if (language === 'sq') return undefined;
      const out = [...v].some(isCyrillic) ? cyrillicToLatin(v) : toSerbianCyrillic(v);
      return out !== v ? out : undefined;
    }
    case 'unicode': {
      const out = v.normalize('NFD');
      return out !== v ? out : undefined;
    }
  }
}

let formTurn = 0;

interface Injection { column: string; kind: Kind; real: boolean; slot: 1 | 2; answer: FieldAnswer }

/** One or two fields of one keying altered; every other field as written. */
function planInjections(truth: Record<string, string>, columns: string[], language: Language, rng: Rng): Injection[] {
  const slot = rng.chance(0.5) ? 1 : 2;
  const count = rng.chance(0.2) ? 2 : 1;
  const out: Injection[] = [];
  for (const column of [...columns].sort(() => rng.next() - 0.5).slice(0, count)) {
    const v = truth[column]!;
    if (rng.chance(0.5)) {
      const kind = rng.pick(REAL_KINDS);
      if (kind === 'illegible' || kind === 'blank') {
        out.push({ column, kind, real: true, slot, answer: { answer: kind } });
      } else {
        const d = kind === 'diacritic' ? diacritic(v, rng) : undefined;
        out.push(d !== undefined ? { column, kind, real: true, slot, answer: { value: d } } : { column, kind: 'typo', real: true, slot, answer: { value: typo(v, rng) } });
      }
    } else {
      // The kinds take turns, each injection the first form from its turn on that this value has
      // (dates have neither case nor script, Albanian no script, Cyrillic no decomposed letters).
      for (let k = 0; k < FORM_KINDS.length; k++) {
        const kind = FORM_KINDS[(formTurn + k) % FORM_KINDS.length]!;
        const f = formOnly(kind, v, language, rng);
        if (f !== undefined) {
          out.push({ column, kind, real: false, slot, answer: { value: f } });
          break;
        }
      }
      formTurn++;
    }
  }
  return out;
}

const toBox = (b: Box) => ({ x0: b.left, y0: b.top, x1: b.left + b.width, y1: b.top + b.height });

/** The names the truth's fields give, by role, as the entry must carry them (comparison form). */
function truthNames(e: EntryTruth): string[] {
  const f = e.fields as Record<string, string>;
  const names: [string, string][] = e.type === 'birth'
    ? [['subject', `${f.firstName} ${f.surname}`], ['father', f.fatherName!], ['mother', `${f.motherName} ${f.motherMaidenName}`]]
    : e.type === 'marriage'
      ? [['subject', `${f.groomFirstName} ${f.groomSurname}`], ['spouse', `${f.brideFirstName} ${f.brideSurname}`]]
      : [['subject', `${f.firstName} ${f.surname}`]];
  return names.map(([role, name]) => `${role}:${comparisonForm(name)}`).sort();
}

const eventDateOf = (e: EntryTruth) => String(e.fields.dateOfBirth ?? e.fields.dateOfMarriage ?? e.fields.dateOfDeath);
const placeOf = (e: EntryTruth) => String(e.fields.placeOfBirth ?? e.fields.placeOfMarriage ?? e.fields.placeOfDeath);

const dir = await mkdtemp(path.join(os.tmpdir(), 'arkiva-keying-bench-'));
let db: Db | undefined;
let exitCode = 0;
try {
  const tOpen = performance.now();
  db = await openDb({ kind: 'pglite', dir }, silentLogger());
  const openS = (performance.now() - tOpen) / 1000;
  const rng = createRng(SEED * 31 + 7);

  interface ZoneTruth { entry: EntryTruth; truth: Record<string, string>; injections: Injection[]; keyings: number }
  const zones = new Map<string, ZoneTruth>();
  const setup0 = performance.now();
  for (const [i, spec] of BOOKS.entries()) {
    const book = planBook({ seed: SEED + i, pages: PAGES, style: 'handwritten', language: spec.language, registerType: spec.registerType, scale: 0.5 });
    const t = book.truth;
    const { book: b } = await createBook(db, {
      registerType: spec.registerType, municipality: t.book.municipality, yearFrom: t.book.yearFrom, yearTo: t.book.yearTo, volume: String(t.book.volume),
      languages: spec.language === 'sq' ? 'sqi' : 'srp', ocrProfile: 'handwritten', sourceFormat: 'tiff', sourceSha256: randomBytes(32).toString('hex'), sourceSize: 1,
    });
    const layout = await requireLayout(db, `${spec.registerType}-default`);
    const columns = layout.columns.map((c) => c.key);
    for (const p of t.pages) {
      const page = await upsertPage(db, b.id, p.sequence);
      await setPageImageInfo(db, page.id, { width: p.width, height: p.height, dpiX: p.dpi, dpiY: p.dpi, orientation: 0, inkRatio: 0.05 });
      const shapes = p.entries.map((e) => ({
        box: toBox(e.box),
        cells: columns.map((key) => {
          const cell = e.cells.find((c) => c.column === key);
          if (!cell) throw new Error(`truth of ${spec.registerType} page has no cell for layout column ${key}`);
          return toBox(cell.box);
        }),
      }));
      const made = await proposeZones(db, page.id, { layoutKey: layout.key, source: 'drawn', zones: shapes }, { user: 'bench-clerk' });
      made.forEach((z, r) => {
        const entry = p.entries[r]!;
        const truth = Object.fromEntries(columns.map((key) => [key, entry.cells.find((c) => c.column === key)!.text]));
        zones.set(z.id, { entry, truth, injections: rng.chance(SHARE) ? planInjections(truth, columns, entry.language, rng) : [], keyings: 0 });
      });
    }
  }
  const setupS = (performance.now() - setup0) / 1000;

  // Keying: keyers in a shuffled order each round, each taking the next zone the queue gives them.
  const keyingMs: number[] = [];
  const decisionMs: number[] = [];
  const disputedAtKeying = new Map<string, string[]>();
  const t0 = performance.now();
  for (let idle = 0; idle < KEYERS.length;) {
    idle = 0;
    for (const keyer of [...KEYERS].sort(() => rng.next() - 0.5)) {
      const s = performance.now();
      const task = await nextZone(db, keyer);
      if (!task) {
        idle++;
        continue;
      }
      const z = zones.get(task.zone.id);
      if (!z) throw new Error(`the queue handed out zone ${task.zone.id}, which the bench did not make`);
      z.keyings++;
      const fields: KeyedFields = Object.fromEntries(Object.entries(z.truth).map(([k, v]) => [k, { value: v }]));
      for (const inj of z.injections) if (inj.slot === z.keyings) fields[inj.column] = inj.answer;
      const r = await submitKeying(db, task.zone.id, keyer, fields);
      keyingMs.push(performance.now() - s);
      if (r.zoneStatus === 'disputed') disputedAtKeying.set(task.zone.id, (await requireZone(db, task.zone.id)).differences);
    }
  }
  const keyedS = (performance.now() - t0) / 1000;

  // Arbitration: the other keying of each differing field is the ground truth; the arbitrator
  // picks it, or types the truth when neither side has it.
  let decided = 0;
  for (;;) {
    const disputes = await listDisputes(db, ARBITRATOR, { limit: 200 });
    if (disputes.length === 0) break;
    for (const d of disputes) {
      const z = zones.get(d.zone.id)!;
      const decisions: Record<string, FieldDecision> = {};
      for (const col of d.differences) {
        const want = z.truth[col]!;
        const is = (f: FieldAnswer | undefined) => f !== undefined && 'value' in f && f.value === want;
        decisions[col] = is(d.a.fields[col]) ? { pick: 'a' } : is(d.b.fields[col]) ? { pick: 'b' } : { value: want };
      }
      const s = performance.now();
      await decideZone(db, d.zone.id, ARBITRATOR, decisions);
      decisionMs.push(performance.now() - s);
      decided++;
    }
  }
  const totalS = (performance.now() - t0) / 1000;

  // Figures.
  const byKind = new Map<Kind, { injected: number; disputed: number }>();
  let realInjected = 0, realSent = 0, formInjected = 0, formDisputed = 0, cleanZones = 0, cleanDisputed = 0, spurious = 0;
  let verified = 0, equalTruth = 0, exactAsWritten = 0;
  const mismatches: string[] = [];
  for (const [id, z] of zones) {
    const differences = new Set(disputedAtKeying.get(id) ?? []);
    for (const inj of z.injections) {
      const k = byKind.get(inj.kind) ?? { injected: 0, disputed: 0 };
      k.injected++;
      if (differences.has(inj.column)) k.disputed++;
      byKind.set(inj.kind, k);
      if (inj.real) {
        realInjected++;
        if (differences.has(inj.column)) realSent++;
      } else {
        formInjected++;
        if (differences.has(inj.column)) formDisputed++;
      }
    }
    const injectedCols = new Set(z.injections.filter((i) => i.real).map((i) => i.column));
    spurious += [...differences].filter((c) => !injectedCols.has(c)).length;
    if (!z.injections.some((i) => i.real)) {
      cleanZones++;
      if (differences.size > 0) cleanDisputed++;
    }
    const zone = await requireZone(db, id);
    if (zone.status !== 'verified' || !zone.entryId || !zone.finalFields) continue;
    verified++;
    const entry = (await getEntry(db, zone.entryId))!;
    const f = zone.finalFields;
    const fieldsEqual = Object.entries(z.truth).every(([k, v]) => { const a = f[k]; return a !== undefined && 'value' in a && comparisonForm(a.value) === comparisonForm(v); });
    const entryEqual = entry.status === 'verified' && entry.source === 'keyed' && entry.entryNumber === String(z.entry.entryNumber)
      && entry.eventDate === eventDateOf(z.entry) && comparisonForm(entry.place ?? '') === comparisonForm(placeOf(z.entry))
      && JSON.stringify(entry.names.map((n) => `${n.role}:${comparisonForm(n.name)}`).sort()) === JSON.stringify(truthNames(z.entry));
    if (fieldsEqual && entryEqual) equalTruth++;
    else if (mismatches.length < 5) mismatches.push(`zone ${id}: ${JSON.stringify({ final: f, entry: { n: entry.entryNumber, d: entry.eventDate, p: entry.place, names: entry.names }, truth: z.truth })}`);
    if (Object.entries(z.truth).every(([k, v]) => { const a = f[k]; return a !== undefined && 'value' in a && a.value === v; })) exactAsWritten++;
  }
  const n = zones.size;
  const pct = (a: number, b: number) => (b === 0 ? 100 : r2((100 * a) / b));
  const figures = {
    zones: n, books: BOOKS.length, pages: BOOKS.length * PAGES,
    realInjected, realSentToArbitration: realSent, realSentPct: pct(realSent, realInjected),
    formOnlyInjected: formInjected, formOnlyDisputed: formDisputed,
    cleanZones, cleanZonesDisputed: cleanDisputed, spuriousDifferences: spurious,
    disputedZones: disputedAtKeying.size, decided,
    verified, verifiedEqualTruth: equalTruth, verifiedEqualTruthPct: pct(equalTruth, n), exactAsWrittenPct: pct(exactAsWritten, n),
    zonesPerSecond: r2(n / totalS), keyingMsMedian: r1(median(keyingMs)), decisionMsMedian: decisionMs.length ? r1(median(decisionMs)) : null,
    seconds: { open: r1(openS), setup: r1(setupS), keying: r1(keyedS), total: r1(totalS) },
  };

  console.log(`double keying on ${n} zones of ${figures.pages} handwritten fixture pages (${BOOKS.length} books: sq, sr-Latn, sr-Cyrl; birth, marriage, death), ${KEYERS.length} keyers, 1 arbitrator, PGlite:`);
  console.log('| injected into one keying | fields | sent to arbitration |');
  console.log('| --- | --- | --- |');
  for (const kind of [...REAL_KINDS.filter((k, i, a) => a.indexOf(k) === i), ...FORM_KINDS]) {
    const k = byKind.get(kind) ?? { injected: 0, disputed: 0 };
    console.log(`| ${kind} (${(FORM_KINDS as string[]).includes(kind) ? 'form only: must not' : 'real: must'}) | ${k.injected} | ${k.disputed} |`);
  }
  const targets: [string, boolean][] = [
    [`real differences sent to arbitration: ${realSent}/${realInjected} (${figures.realSentPct}%, target 100%)`, realSent === realInjected && realInjected > 0],
    [`form-only differences disputed: ${formDisputed}/${formInjected} (target 0)`, formDisputed === 0 && formInjected > 0],
    [`zones without a real difference disputed: ${cleanDisputed}/${cleanZones}; fields disputed that nobody altered: ${spurious} (target 0)`, cleanDisputed === 0 && spurious === 0],
    [`zones verified: ${verified}/${n} (target all)`, verified === n],
    [`verified entries equal to the ground truth: ${equalTruth}/${n} (${figures.verifiedEqualTruthPct}%, target 100%)`, equalTruth === n],
  ];
  for (const [line, ok] of targets) console.log(`${ok ? 'ok  ' : 'MISS'} ${line}`);
  console.log(`verified answers exactly as written (case, spacing, script and composition of the first keying stand): ${figures.exactAsWrittenPct}%`);
  console.log(`${figures.zonesPerSecond} zones/s (two keyings each, ${disputedAtKeying.size} disputes decided): median ${figures.keyingMsMedian} ms per nextZone + submitKeying, ${figures.decisionMsMedian ?? '-'} ms per decideZone; ${figures.seconds.total} s for keying and arbitration`);
  for (const m of mismatches) console.log(`  differs: ${m}`);
  if (targets.some(([, ok]) => !ok)) exitCode = 1;
  console.log(JSON.stringify({ bench: 'keying', ...figures, met: exitCode === 0, loadavg: os.loadavg().map(r1), cpus: os.cpus().length }));
} finally {
  await db?.close();
  await rm(dir, { recursive: true, force: true });
}
process.exit(exitCode);
