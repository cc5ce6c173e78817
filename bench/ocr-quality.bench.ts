/**
 * OCR quality per fixture type: character error rate (CER, row by row through the truth's boxes,
 * review/cer.ts), the share of the truth's names found (every first name and surname, as whole
 * words) and seconds per page, through TesseractOcrEngine (the engine the pipeline uses), two
 * workers each fed one page at a time.
 *
 *   npm run bench:ocr-quality                 # the issue-10 fixture types, before and after
 *   npx tsx bench/ocr-quality.bench.ts [--set types|grey|grid] [--pages 2] [--scale 0.5] [--seed 11]
 *        [--candidates pipeline,pipeline:before,pipeline:typewriter,none,rescue:flatten,...] [--ocr-languages sqi+srp_latn+srp]
 *   grid only: [--styles printed,typewriter] [--noise 0,2,3] [--rotate 0,90,180]
 *        [--languages sq,sr-Latn,sr-Cyrl,mixed]
 *
 * `--set types` (default) reads the fixture types the OCR issue names (clean printed, noisy
 * typewriter, rotated, Cyrillic), the others clerks meet (noisy printed, low contrast, Serbian
 * in Latin script) and grey grainy carbon copies in monospace and serif faces (issue 19), with
 * `pipeline` (what the OCR stage does: the printed profile chain with second passes and rescues),
 * `pipeline:typewriter` (the same for a book marked typewriter), `pipeline:osd-first` (the chain
 * without its upright first reading, for books whose pages come turned) and `pipeline:before` (the printed
 * chain without the flattening rescue), and prints a table per fixture type with the targets and
 * the pages read with no words. `--set grey` reads only the grey grainy types. `--set grid`
 * crosses styles, noise levels, rotations and content languages, and adds a table per language and noise.
 *
 * `--engines wasm,native` reads every fixture with both OCR adapters (tesseract.js and native
 * Tesseract 5 on the same npm models, issue 19), each candidate named `<candidate>@<engine>`, the
 * engines alternating per candidate, and adds a table of native's CER and names found against
 * tesseract.js's per fixture type (target: within 0.5 percentage points), with CPU seconds a page.
 *
 * Prints one table row per candidate and fixture, the summaries, then one JSON line with every figure.
 */
import { parseArgs } from 'node:util';
import { DEFAULT_BOOK_LANGUAGES } from '../common/vocabulary.ts';
import { planBook } from '../fixtures/book.ts';
import { nameRecall, surnameRecall } from '../fixtures/ocr-support.ts';
import type { FixtureStyle, PageTruth, Rotation } from '../fixtures/truth.ts';
import type { BookLanguage } from '../fixtures/content.ts';
import { pageCharacterErrorRate } from '../review/cer.ts';
import type { NoiseLevel } from '../fixtures/degrade.ts';
import type { PaperKind } from '../fixtures/degrade.ts';
import { type OcrEngine, type OcrProfile, FLATTEN_RESCUE_PROFILE, OCR_PROFILES, RESCUE_PROFILE, profilesFor, readsAsEmpty, recognizeBounded } from '../ocr/index.ts';
import { mean, median, pct, round, runLimited } from './bench-support.ts';
import { ocrBenchOptions, ocrCpuSeconds, openBenchOcrEngine, truthRowsOf } from './ocr-bench.ts';

/** Preparations measured; the named page-type profiles are measured alongside under their own names. */
const CANDIDATES: Record<string, OcrProfile> = {
  none: { name: 'none' },
  sauvola: { name: 'sauvola', binarisation: 'sauvola' },
  blur: { name: 'blur', normalise: true, blurSigma: 0.7 },
  osd: { name: 'osd', detectOrientation: true },
  'osd+sauvola': { name: 'osd+sauvola', detectOrientation: true, binarisation: 'sauvola' },
  'osd+blur': { name: 'osd+blur', detectOrientation: true, normalise: true, blurSigma: 0.7 },
  'osd+300dpi': { name: 'osd+300dpi', detectOrientation: true, minDpi: 300 },
  'osd+deskew': { name: 'osd+deskew', detectOrientation: true, deskew: true },
  rules: { name: 'rules', removeRules: true },
  'blur+rules': { name: 'blur+rules', normalise: true, blurSigma: 0.7, removeRules: true },
  'osd+norm+sauvola': { name: 'osd+norm+sauvola', detectOrientation: true, normalise: true, binarisation: 'sauvola' },
  // The rescue steps measured on grey grainy carbon copies (issue 19), each alone and together.
  'rescue:sauvola': RESCUE_PROFILE,
  'rescue:flatten': FLATTEN_RESCUE_PROFILE,
  'flatten': { name: 'flatten', flattenBackground: true, removeRules: true },
  'flatten+norm': { name: 'flatten+norm', flattenBackground: true, normalise: true, removeRules: true },
  'flatten+norm+sauvola': { name: 'flatten+norm+sauvola', flattenBackground: true, normalise: true, blurSigma: 1, binarisation: 'sauvola', removeRules: true },
  'flatten+norm+blur+300dpi': { name: 'flatten+norm+blur+300dpi', flattenBackground: true, normalise: true, blurSigma: 1, minDpi: 300, removeRules: true },
  'norm+blur1': { name: 'norm+blur1', normalise: true, blurSigma: 1, removeRules: true },
  'flatten+norm+blur1.5': { name: 'flatten+norm+blur1.5', flattenBackground: true, normalise: true, blurSigma: 1.5, removeRules: true },
  'flatten+norm+blur2': { name: 'flatten+norm+blur2', flattenBackground: true, normalise: true, blurSigma: 2, removeRules: true },
  'flatten+norm+blur1.5+sauvola': { name: 'flatten+norm+blur1.5+sauvola', flattenBackground: true, normalise: true, blurSigma: 1.5, binarisation: 'sauvola', removeRules: true },
  ...Object.fromEntries(Object.entries(OCR_PROFILES).map(([k, p]) => [`profile:${k}`, p])),
};

const { values } = parseArgs({
  options: {
    ...ocrBenchOptions({ pages: '2', seed: '11' }),
    set: { type: 'string', default: 'types' },
    styles: { type: 'string', default: 'printed,typewriter' },
    noise: { type: 'string', default: '0,2,3' },
    rotate: { type: 'string', default: '0,90,180' },
    candidates: { type: 'string', default: '' },
    languages: { type: 'string', default: '' },
    'ocr-languages': { type: 'string', default: '' },
    engines: { type: 'string', default: 'wasm' },
  },
});

interface Fixture {
  style: FixtureStyle;
  /** Content language of the entries ('default' = the style's own). */
  language: BookLanguage | 'default';
  noise: NoiseLevel;
  rotate: Rotation;
  lowContrast: boolean;
  /** 'grey-grainy': carbon copies on yellowed paper, 12 entries a page (fixtures/degrade.ts greyGrainyProfile). */
  paper: PaperKind;
  font?: 'sans' | 'serif' | 'mono';
  pages: { png: Buffer; truth: PageTruth }[];
}

const pageCount = Number(values.pages);
const scale = Number(values.scale);
const fixtures: Fixture[] = [];
let seed = Number(values.seed);
type Look = Omit<Fixture, 'pages'>;
const looks: Look[] = [];
if (values.set === 'types') {
  const look = (style: FixtureStyle, noise: NoiseLevel, more: Partial<Look> = {}): Look => ({ style, language: 'default', noise, rotate: 0, lowContrast: false, paper: 'white', ...more });
  looks.push(
    look('printed', 0), look('printed', 2), look('printed', 3),
    look('typewriter', 0), look('typewriter', 2), look('typewriter', 3),
    ...([90, 180, 270] as Rotation[]).flatMap((rotate) => [look('printed', 0, { rotate }), look('typewriter', 2, { rotate })]),
    look('cyrillic', 0), look('cyrillic', 2),
    look('printed', 0, { language: 'sr-Latn' }),
    look('printed', 0, { lowContrast: true }), look('typewriter', 0, { lowContrast: true }),
    // Issue 19: what tesseract.js read as nothing. Monospace and serif typewriter faces, faint ribbon.
    look('typewriter', 0, { paper: 'grey-grainy', font: 'mono' }), look('typewriter', 0, { paper: 'grey-grainy', font: 'serif' }),
  );
} else if (values.set === 'grey') {
  // Only the grey grainy carbon copies: for measuring rescue steps quickly.
  for (const font of ['mono', 'serif'] as const) looks.push({ style: 'typewriter', language: 'default', noise: 0, rotate: 0, lowContrast: false, paper: 'grey-grainy', font });
} else if (values.set === 'grid') {
  const contentLanguages: (BookLanguage | 'default')[] = values.languages ? (values.languages.split(',') as BookLanguage[]) : ['default'];
  for (const style of values.styles.split(',') as FixtureStyle[]) for (const language of contentLanguages) {
    // Cyrillic is a script, not a style of type: with explicit languages the printed and typewriter styles carry them.
    if (language !== 'default' && (style === 'cyrillic' || style === 'mixed')) continue;
    for (const noise of values.noise.split(',').map(Number) as NoiseLevel[]) {
      for (const rotate of values.rotate.split(',').map(Number) as Rotation[]) looks.push({ style, language, noise, rotate, lowContrast: false, paper: 'white' });
      if (noise < 3) looks.push({ style, language, noise, rotate: 0, lowContrast: true, paper: 'white' });
    }
  }
} else throw new Error(`--set must be types, grey or grid, not ${values.set}`);
for (const look of looks) {
  const grey = look.paper === 'grey-grainy' ? { paper: look.paper, entriesPerPage: [12, 12] as const } : {};
  const book = planBook({
    seed: seed++, pages: pageCount, style: look.style, noise: look.noise, scale, rotate: look.rotate, lowContrast: look.lowContrast, ...grey,
    ...(look.font ? { font: look.font } : {}), ...(look.language !== 'default' ? { language: look.language } : {}),
  });
  const pages = [];
  for (let s = 1; s <= pageCount; s++) pages.push({ png: await book.renderPng(s), truth: book.truth.pages[s - 1]! });
  fixtures.push({ ...look, pages });
}
// With content languages given, pages are read as a book given no languages is (sqi+srp+eng before issue 23).
const ocrLanguages = values['ocr-languages'] ? values['ocr-languages'].split('+') : values.languages ? DEFAULT_BOOK_LANGUAGES.split('+') : undefined;
// The book's languages, as staff would set them: Serbian in Latin script is read with the Latin Serbian model.
const languagesOf = (f: Fixture, _candidate: string) => ocrLanguages ?? (f.language === 'sr-Latn' ? ['srp_latn'] : lang(f.style));
const lang = (style: FixtureStyle) => ocrLanguages ?? (style === 'cyrillic' ? ['srp'] : style === 'mixed' ? ['sqi', 'srp'] : ['sqi']);

interface Row {
  candidate: string;
  style: FixtureStyle;
  language: string;
  /** Summed edit distances over summed truth characters of the fixture's register rows. */
  cer: number;
  noise: number;
  rotate: number;
  lowContrast: boolean;
  paper: PaperKind;
  font?: string;
  pages: number;
  /** Pages read with no words at all, and with fewer than MIN_TEXT_CHARACTERS (readsAsEmpty). */
  noWords: number;
  nearEmpty: number;
  recallMean: number;
  recallMin: number;
  /** Share of every name (first names and surnames) found, as whole words. */
  namesFound: number;
  /** Seconds of each page, in fixture order. */
  pageSeconds: number[];
  secondsMedian: number;
  secondsMax: number;
  /** CPU seconds a page, every thread and child process of the bench counted. */
  cpuSecondsPerPage: number;
  confidenceMean: number;
  orientationRight?: number;
}

const rows: Row[] = [];
const workers = Number(values.workers);
const engineNames = values.engines!.split(',').map((e) => e.trim()).filter(Boolean);
for (const e of engineNames) if (e !== 'wasm' && e !== 'native') throw new Error(`--engines takes wasm and native, not ${e}`);
const engines = new Map<string, OcrEngine>(engineNames.map((e) => [e, openBenchOcrEngine(e, workers)]));
try {
  // Start and warm every worker (and the OSD worker) so start-up stays out of the per-page times.
  const warm = await planBook({ seed: 1, pages: 1, scale: 0.25 }).renderPng(1);
  for (const engine of engines.values()) {
    await Promise.all(Array.from({ length: workers }, () => engine.recognize(warm, { languages: ['sqi'], profile: { name: 'warm', detectOrientation: true } })));
  }
  const candidates = values.candidates || (values.set === 'types' || values.set === 'grey' ? 'pipeline:before,pipeline,pipeline:typewriter' : 'none,sauvola,blur,osd,osd+sauvola,osd+blur');
  let turn = 0;
  for (const name of candidates.split(',')) {
    const profile = name.startsWith('pipeline') ? { name } : CANDIDATES[name];
    if (!profile) throw new Error(`unknown candidate ${name}; known: ${Object.keys(CANDIDATES).join(', ')}`);
    // Alternate which engine goes first, so a drift in the machine's load falls on both.
    const order = turn++ % 2 === 0 ? [...engines] : [...engines].reverse();
    for (const [engineName, engine] of order) for (const f of fixtures) {
      const label = engines.size > 1 ? `${name}@${engineName}` : name;
      const cpu0 = ocrCpuSeconds();
      const jobs = f.pages.map((p) => async () => {
        const started = performance.now();
        // 'pipeline' is what the OCR stage does: the printed chain with second passes on low confidence.
        // 'pipeline:typewriter' is the chain of a book staff marked typewriter; 'pipeline:before' the
        // printed chain without the flattening rescue (issue 19), Sauvola its only rescue;
        // 'pipeline:osd-first' the chain of a book whose pages come turned (readOrientationFirst).
        const chain = name === 'pipeline' ? profilesFor('printed')
          : name === 'pipeline:osd-first' ? profilesFor('printed', { orientationFirst: true })
          : name === 'pipeline:typewriter' ? profilesFor('typewriter')
            : name === 'pipeline:before' ? profilesFor('printed').filter((x) => x !== FLATTEN_RESCUE_PROFILE)
              : undefined;
        const r = chain
          ? (await recognizeBounded(engine, p.png, { languages: languagesOf(f, name), profiles: chain })).result!
          : await engine.recognize(p.png, { languages: languagesOf(f, name), profile });
        // Wall time of the whole call: for 'pipeline' it covers every pass, not only the reading kept.
        const cer = pageCharacterErrorRate(truthRowsOf(p.truth), r.words, f.rotate);
        return { words: r.words.length, empty: readsAsEmpty(r), recall: surnameRecall(p.truth, r.text).recall, names: nameRecall(p.truth, r.text).recall, cer, seconds: (performance.now() - started) / 1000, confidence: r.meanConfidence, orientation: r.orientation };
      });
      const results = await runLimited(jobs, workers);
      const cpuPerPage = (ocrCpuSeconds() - cpu0) / results.length;
      const recalls = results.map((r) => r.recall);
      const secs = results.map((r) => r.seconds);
      const row: Row = {
        candidate: label,
        style: f.style,
        language: f.language === 'default' ? (f.style === 'cyrillic' ? 'sr-Cyrl' : f.style === 'mixed' ? 'mixed' : 'sq') : f.language,
        cer: round(results.reduce((n, r) => n + r.cer.errors, 0) / Math.max(1, results.reduce((n, r) => n + r.cer.characters, 0)), 4),
        noise: f.noise,
        rotate: f.rotate,
        lowContrast: f.lowContrast,
        paper: f.paper,
        ...(f.font ? { font: f.font } : {}),
        pages: results.length,
        noWords: results.filter((r) => r.words === 0).length,
        nearEmpty: results.filter((r) => r.empty).length,
        recallMean: round(mean(recalls), 3),
        recallMin: round(Math.min(...recalls), 3),
        namesFound: round(mean(results.map((r) => r.names)), 3),
        pageSeconds: secs.map((x) => round(x, 2)),
        secondsMedian: round(median(secs), 2),
        secondsMax: round(Math.max(...secs), 2),
        cpuSecondsPerPage: round(cpuPerPage, 3),
        confidenceMean: round(mean(results.map((r) => r.confidence)), 1),
      };
      // The turn that stands the page upright undoes the fixture's clockwise rotation.
      if (profile.detectOrientation || name.startsWith('pipeline')) row.orientationRight = results.filter((r) => r.orientation === (360 - f.rotate) % 360).length;
      rows.push(row);
      console.error(`${label} ${f.style} ${row.language} n${f.noise} r${f.rotate}${f.lowContrast ? ' lc' : ''}${f.paper !== 'white' ? ` ${f.paper} ${f.font ?? ''}` : ''}: no words ${row.noWords}/${row.pages} CER ${pct(row.cer, 1)} recall ${row.recallMean} ${row.secondsMedian}s cpu ${row.cpuSecondsPerPage}s`);
    }
  }
} finally {
  for (const engine of engines.values()) await engine.close();
}

const out = ['| candidate | style | language | noise | rotate | low contrast | pages | CER | surname recall mean (min) | s/page median (max) | mean conf | orientation right |', '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |'];
for (const r of rows) {
  out.push(
    `| ${r.candidate} | ${r.style} | ${r.language} | ${r.noise} | ${r.rotate} | ${r.lowContrast ? 'yes' : ''} | ${r.pages} | ${pct(r.cer, 1)} | ${pct(r.recallMean)} (${pct(r.recallMin)}) | ${r.secondsMedian.toFixed(2)} (${r.secondsMax.toFixed(2)}) | ${r.confidenceMean} | ${r.orientationRight ?? ''} |`,
  );
}
out.push('', '| candidate | pages | pages with no words (< 20 chars) | surname recall mean | worst fixture | s/page median | s/page max | max / median |', '| --- | --- | --- | --- | --- | --- | --- | --- |');
const summary = [...new Set(rows.map((r) => r.candidate))].map((candidate) => {
  const rs = rows.filter((r) => r.candidate === candidate);
  const pages = rs.reduce((s, r) => s + r.pages, 0);
  const recall = rs.reduce((s, r) => s + r.recallMean * r.pages, 0) / pages;
  const worst = rs.reduce((a, b) => (b.recallMean < a.recallMean ? b : a));
  const med = median(rs.map((r) => r.secondsMedian));
  const max = Math.max(...rs.map((r) => r.secondsMax));
  out.push(`| ${candidate} | ${pages} | ${rs.reduce((n, r) => n + r.noWords, 0)} (${rs.reduce((n, r) => n + r.nearEmpty, 0)}) | ${pct(recall)} | ${worst.style} n${worst.noise} r${worst.rotate}${worst.lowContrast ? ' lc' : ''} ${pct(worst.recallMean)} | ${med.toFixed(2)} | ${max.toFixed(2)} | ${(max / med).toFixed(1)} |`);
  return { candidate, pages, recall: round(recall, 3), secondsMedian: med, secondsMax: max };
});
// Per content language and noise level, each candidate: CER and surname recall over every fixture of that pair.
const byLangNoise: { candidate: string; language: string; noise: number; pages: number; cer: number; recall: number }[] = [];
for (const candidate of [...new Set(rows.map((r) => r.candidate))]) {
  for (const language of [...new Set(rows.map((r) => r.language))]) {
    for (const noise of [...new Set(rows.map((r) => r.noise))].sort()) {
      const rs = rows.filter((r) => r.candidate === candidate && r.language === language && r.noise === noise);
      if (rs.length === 0) continue;
      const pages = rs.reduce((n, r) => n + r.pages, 0);
      // CER weighted by pages (fixtures hold similar amounts of text).
      byLangNoise.push({ candidate, language, noise, pages, cer: round(rs.reduce((n, r) => n + r.cer * r.pages, 0) / pages, 4), recall: round(rs.reduce((n, r) => n + r.recallMean * r.pages, 0) / pages, 3) });
    }
  }
}
out.push('', '| candidate | language | noise | pages | CER | surname recall |', '| --- | --- | --- | --- | --- | --- |');
for (const x of byLangNoise) out.push(`| ${x.candidate} | ${x.language} | ${x.noise} | ${x.pages} | ${pct(x.cer, 1)} | ${pct(x.recall)} |`);

// Per fixture type, each candidate: the issue's figures against its targets.
const typeOf = (r: Row): string => {
  if (r.paper === 'grey-grainy') return `grey grainy typewriter, ${r.font ?? 'mono'}`;
  if (r.lowContrast) return 'low contrast';
  if (r.rotate !== 0) return 'rotated 90/180/270';
  if (r.language === 'sr-Cyrl') return `Cyrillic, noise ${r.noise}`;
  if (r.language === 'sr-Latn') return 'Serbian Latin';
  if (r.language === 'mixed') return `mixed sq/sr, noise ${r.noise}`;
  return r.noise === 0 ? `clean ${r.style}` : `noisy ${r.style}, noise ${r.noise}`;
};
const TARGET_CER: Record<string, number> = { 'clean printed': 0.03, 'noisy typewriter, noise 2': 0.08, 'noisy typewriter, noise 3': 0.08 };
const byType: { candidate: string; type: string; pages: number; noWords: number; nearEmpty: number; cer: number; namesFound: number; secondsMean: number; secondsMax: number; maxOverMedian: number; meets: boolean }[] = [];
for (const candidate of [...new Set(rows.map((r) => r.candidate))]) {
  const all = rows.filter((r) => r.candidate === candidate);
  // "No page over 5x the median": the median page of the whole run, as a book's median would be.
  const medianPage = median(all.flatMap((r) => r.pageSeconds));
  for (const type of [...new Set(all.map(typeOf))]) {
    const rs = all.filter((r) => typeOf(r) === type);
    const pages = rs.reduce((n, r) => n + r.pages, 0);
    const secs = rs.flatMap((r) => r.pageSeconds);
    const cer = round(rs.reduce((n, r) => n + r.cer * r.pages, 0) / pages, 4);
    const namesFound = round(rs.reduce((n, r) => n + r.namesFound * r.pages, 0) / pages, 3);
    const secondsMax = Math.max(...secs);
    const maxOverMedian = round(secondsMax / medianPage, 1);
    const meets = cer <= (TARGET_CER[type] ?? 1) && namesFound >= 0.95 && maxOverMedian <= 5;
    byType.push({ candidate, type, pages, noWords: rs.reduce((n, r) => n + r.noWords, 0), nearEmpty: rs.reduce((n, r) => n + r.nearEmpty, 0), cer, namesFound, secondsMean: round(mean(secs), 2), secondsMax: round(secondsMax, 2), maxOverMedian, meets });
  }
}
out.push('', '| candidate | fixture type | pages | no words (< 20 chars) | CER (target) | names found (target 95%) | s/page mean | s/page max | max / median page | targets met |', '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
for (const x of byType) {
  const target = TARGET_CER[x.type];
  out.push(`| ${x.candidate} | ${x.type} | ${x.pages} | ${x.noWords} (${x.nearEmpty}) | ${pct(x.cer, 1)}${target ? ` (≤ ${pct(target)})` : ''} | ${pct(x.namesFound, 1)} | ${x.secondsMean.toFixed(2)} | ${x.secondsMax.toFixed(2)} | ${x.maxOverMedian.toFixed(1)} | ${x.meets ? 'yes' : 'NO'} |`);
}
// Native against tesseract.js, per fixture type and candidate: the issue's "within 0.5 percentage points".
const engineComparison: { candidate: string; type: string; cerWasm: number; cerNative: number; namesWasm: number; namesNative: number; cpuWasm: number; cpuNative: number; within: boolean }[] = [];
if (engines.has('native') && engines.has('wasm')) {
  const cpuOf = (candidate: string, type: string) => {
    const rs = rows.filter((r) => r.candidate === candidate && typeOf(r) === type);
    return round(rs.reduce((n, r) => n + r.cpuSecondsPerPage * r.pages, 0) / Math.max(1, rs.reduce((n, r) => n + r.pages, 0)), 3);
  };
  for (const w of byType.filter((x) => x.candidate.endsWith('@wasm'))) {
    const base = w.candidate.slice(0, -'@wasm'.length);
    const n = byType.find((x) => x.candidate === `${base}@native` && x.type === w.type);
    if (!n) continue;
    const within = n.cer - w.cer <= 0.005 && w.namesFound - n.namesFound <= 0.005;
    engineComparison.push({ candidate: base, type: w.type, cerWasm: w.cer, cerNative: n.cer, namesWasm: w.namesFound, namesNative: n.namesFound, cpuWasm: cpuOf(w.candidate, w.type), cpuNative: cpuOf(n.candidate, n.type), within });
  }
  out.push('', '| candidate | fixture type | CER tesseract.js | CER native | names tesseract.js | names native | native no worse by 0.5 pp | CPU s/page tesseract.js | CPU s/page native | CPU ratio |', '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const x of engineComparison) {
    out.push(`| ${x.candidate} | ${x.type} | ${pct(x.cerWasm, 1)} | ${pct(x.cerNative, 1)} | ${pct(x.namesWasm, 1)} | ${pct(x.namesNative, 1)} | ${x.within ? 'yes' : 'NO'} | ${x.cpuWasm.toFixed(2)} | ${x.cpuNative.toFixed(2)} | ${(x.cpuNative / x.cpuWasm).toFixed(2)} |`);
  }
}
console.log(out.join('\n'));
console.log(JSON.stringify({ bench: 'ocr-quality', engines: engineNames, engineComparison, scale, pagesPerFixture: pageCount, ocrLanguages: ocrLanguages ?? 'per style', summary, byFixtureType: byType, byLanguageAndNoise: byLangNoise, rows }));
