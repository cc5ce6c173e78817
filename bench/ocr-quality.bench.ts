/**
 * OCR quality per fixture type and image preparation: character error rate (CER, row by row
 * through the truth's boxes, review/cer.ts) and surname recall against the generator's ground
 * truth, and seconds per page, for each candidate profile, through TesseractOcrEngine (the
 * engine the pipeline uses), two workers each fed one page at a time.
 *
 *   npx tsx bench/ocr-quality.bench.ts [--pages 2] [--scale 0.5] [--styles printed,typewriter]
 *        [--noise 0,2,3] [--rotate 0,90,180] [--candidates none,sauvola,...] [--seed 11]
 *        [--languages sq,sr-Latn,sr-Cyrl,mixed] [--ocr-languages sqi+srp+eng]
 *
 * Per language and noise level (issue 9): `npm run bench:ocr-quality -- --languages
 * sq,sr-Latn,sr-Cyrl,mixed --rotate 0 --candidates pipeline` reads each content language with the
 * book default `sqi+srp+eng` (or `--ocr-languages`) and adds a table per language and noise.
 *
 * Low-contrast pages are added at rotation 0 for each noise level below 3. Prints one table row per
 * candidate and fixture type, a summary per candidate, then one JSON line with every figure.
 */
import { parseArgs } from 'node:util';
import { planBook } from '../fixtures/book.ts';
import { surnameRecall } from '../fixtures/ocr-support.ts';
import type { FixtureStyle, PageTruth, Rotation } from '../fixtures/truth.ts';
import type { BookLanguage } from '../fixtures/content.ts';
import { pageCharacterErrorRate, type TruthRow } from '../review/cer.ts';
import type { NoiseLevel } from '../fixtures/degrade.ts';
import { TesseractOcrEngine } from '../workers/ocr/tesseract.ocr-engine.ts';
import type { OcrProfile } from '../workers/ocr/ocr-engine.ts';
import { OCR_PROFILES, profilesFor } from '../workers/ocr/ocr-profiles.ts';
import { recognizeBounded } from '../workers/ocr/ocr-attempts.ts';

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
  'osd+norm+sauvola': { name: 'osd+norm+sauvola', detectOrientation: true, normalise: true, binarisation: 'sauvola' },
  ...Object.fromEntries(Object.entries(OCR_PROFILES).map(([k, p]) => [`profile:${k}`, p])),
};

const { values } = parseArgs({
  options: {
    pages: { type: 'string', default: '2' },
    scale: { type: 'string', default: '0.5' },
    styles: { type: 'string', default: 'printed,typewriter' },
    noise: { type: 'string', default: '0,2,3' },
    rotate: { type: 'string', default: '0,90,180' },
    candidates: { type: 'string', default: 'none,sauvola,blur,osd,osd+sauvola,osd+blur' },
    seed: { type: 'string', default: '11' },
    workers: { type: 'string', default: '2' },
    languages: { type: 'string', default: '' },
    'ocr-languages': { type: 'string', default: '' },
  },
});

interface Fixture {
  style: FixtureStyle;
  /** Content language of the entries ('default' = the style's own). */
  language: BookLanguage | 'default';
  noise: NoiseLevel;
  rotate: Rotation;
  lowContrast: boolean;
  pages: { png: Buffer; truth: PageTruth }[];
}

const pageCount = Number(values.pages);
const scale = Number(values.scale);
const fixtures: Fixture[] = [];
let seed = Number(values.seed);
const contentLanguages: (BookLanguage | 'default')[] = values.languages ? (values.languages.split(',') as BookLanguage[]) : ['default'];
for (const style of values.styles.split(',') as FixtureStyle[]) for (const language of contentLanguages) {
  // Cyrillic is a script, not a style of type: with explicit languages the printed and typewriter styles carry them.
  if (language !== 'default' && (style === 'cyrillic' || style === 'mixed')) continue;
  for (const noise of values.noise.split(',').map(Number) as NoiseLevel[]) {
    const looks: { rotate: Rotation; lowContrast: boolean }[] = (values.rotate.split(',').map(Number) as Rotation[]).map((rotate) => ({ rotate, lowContrast: false }));
    if (noise < 3) looks.push({ rotate: 0, lowContrast: true });
    for (const look of looks) {
      const book = planBook({ seed: seed++, pages: pageCount, style, noise, scale, rotate: look.rotate, lowContrast: look.lowContrast, ...(language !== 'default' ? { language } : {}) });
      const pages = [];
      for (let s = 1; s <= pageCount; s++) pages.push({ png: await book.renderPng(s), truth: book.truth.pages[s - 1]! });
      fixtures.push({ style, language, noise, ...look, pages });
    }
  }
}
const ocrLanguages = values['ocr-languages'] ? values['ocr-languages'].split('+') : values.languages ? ['sqi', 'srp', 'eng'] : undefined;
const lang = (style: FixtureStyle) => ocrLanguages ?? (style === 'cyrillic' ? ['srp'] : style === 'mixed' ? ['sqi', 'srp'] : ['sqi']);
const rowsOf = (page: PageTruth): TruthRow[] => page.entries.map((e) => ({ text: e.cells.map((c) => c.text).join(' '), box: e.box }));

interface Row {
  candidate: string;
  style: FixtureStyle;
  language: string;
  /** Summed edit distances over summed truth characters of the fixture's register rows. */
  cer: number;
  noise: number;
  rotate: number;
  lowContrast: boolean;
  pages: number;
  recallMean: number;
  recallMin: number;
  secondsMedian: number;
  secondsMax: number;
  confidenceMean: number;
  orientationRight?: number;
}

const rows: Row[] = [];
const workers = Number(values.workers);
const engine = new TesseractOcrEngine({ poolSize: workers, recycleAfterPages: 200, recycleRssMb: 8192 });
try {
  // Start and warm every worker (and the OSD worker) so start-up stays out of the per-page times.
  const warm = await planBook({ seed: 1, pages: 1, scale: 0.25 }).renderPng(1);
  await Promise.all(Array.from({ length: workers }, () => engine.recognize(warm, { languages: ['sqi'], profile: { name: 'warm', detectOrientation: true } })));
  for (const name of values.candidates.split(',')) {
    const profile = name === 'pipeline' ? { name } : CANDIDATES[name];
    if (!profile) throw new Error(`unknown candidate ${name}; known: ${Object.keys(CANDIDATES).join(', ')}`);
    for (const f of fixtures) {
      const jobs = f.pages.map((p) => async () => {
        const started = performance.now();
        // 'pipeline' is what the OCR stage does: the printed chain with second passes on low confidence.
        const r = name === 'pipeline'
          ? (await recognizeBounded(engine, p.png, { languages: lang(f.style), profiles: profilesFor('printed') })).result!
          : await engine.recognize(p.png, { languages: lang(f.style), profile });
        // Wall time of the whole call: for 'pipeline' it covers every pass, not only the reading kept.
        const cer = pageCharacterErrorRate(rowsOf(p.truth), r.words);
        return { recall: surnameRecall(p.truth, r.text).recall, cer, seconds: (performance.now() - started) / 1000, confidence: r.meanConfidence, orientation: r.orientation };
      });
      const results = await runLimited(jobs, workers);
      const recalls = results.map((r) => r.recall);
      const secs = results.map((r) => r.seconds);
      const row: Row = {
        candidate: name,
        style: f.style,
        language: f.language === 'default' ? (f.style === 'cyrillic' ? 'sr-Cyrl' : f.style === 'mixed' ? 'mixed' : 'sq') : f.language,
        cer: round(results.reduce((n, r) => n + r.cer.errors, 0) / Math.max(1, results.reduce((n, r) => n + r.cer.characters, 0)), 4),
        noise: f.noise,
        rotate: f.rotate,
        lowContrast: f.lowContrast,
        pages: results.length,
        recallMean: round(mean(recalls), 3),
        recallMin: round(Math.min(...recalls), 3),
        secondsMedian: round(median(secs), 2),
        secondsMax: round(Math.max(...secs), 2),
        confidenceMean: round(mean(results.map((r) => r.confidence)), 1),
      };
      // The turn that stands the page upright undoes the fixture's clockwise rotation.
      if (profile.detectOrientation || name === 'pipeline') row.orientationRight = results.filter((r) => r.orientation === (360 - f.rotate) % 360).length;
      rows.push(row);
      console.error(`${name} ${f.style} ${row.language} n${f.noise} r${f.rotate}${f.lowContrast ? ' lc' : ''}: CER ${pct(row.cer, 1)} recall ${row.recallMean} ${row.secondsMedian}s`);
    }
  }
} finally {
  await engine.close();
}

const out = ['| candidate | style | language | noise | rotate | low contrast | pages | CER | surname recall mean (min) | s/page median (max) | mean conf | orientation right |', '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |'];
for (const r of rows) {
  out.push(
    `| ${r.candidate} | ${r.style} | ${r.language} | ${r.noise} | ${r.rotate} | ${r.lowContrast ? 'yes' : ''} | ${r.pages} | ${pct(r.cer, 1)} | ${pct(r.recallMean)} (${pct(r.recallMin)}) | ${r.secondsMedian.toFixed(2)} (${r.secondsMax.toFixed(2)}) | ${r.confidenceMean} | ${r.orientationRight ?? ''} |`,
  );
}
out.push('', '| candidate | pages | surname recall mean | worst fixture | s/page median | s/page max | max / median |', '| --- | --- | --- | --- | --- | --- | --- |');
const summary = [...new Set(rows.map((r) => r.candidate))].map((candidate) => {
  const rs = rows.filter((r) => r.candidate === candidate);
  const pages = rs.reduce((s, r) => s + r.pages, 0);
  const recall = rs.reduce((s, r) => s + r.recallMean * r.pages, 0) / pages;
  const worst = rs.reduce((a, b) => (b.recallMean < a.recallMean ? b : a));
  const med = median(rs.map((r) => r.secondsMedian));
  const max = Math.max(...rs.map((r) => r.secondsMax));
  out.push(`| ${candidate} | ${pages} | ${pct(recall)} | ${worst.style} n${worst.noise} r${worst.rotate}${worst.lowContrast ? ' lc' : ''} ${pct(worst.recallMean)} | ${med.toFixed(2)} | ${max.toFixed(2)} | ${(max / med).toFixed(1)} |`);
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
console.log(out.join('\n'));
console.log(JSON.stringify({ bench: 'ocr-quality', scale, pagesPerFixture: pageCount, ocrLanguages: ocrLanguages ?? 'per style', summary, byLanguageAndNoise: byLangNoise, rows }));

function mean(a: number[]): number {
  return a.reduce((x, y) => x + y, 0) / a.length;
}
function median(a: number[]): number {
  const s = [...a].sort((x, y) => x - y);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
function round(v: number, digits: number): number {
  return Math.round(v * 10 ** digits) / 10 ** digits;
}
function pct(v: number, digits = 0): string {
  return `${(100 * v).toFixed(digits)}%`;
}
async function runLimited<T>(jobs: (() => Promise<T>)[], limit: number): Promise<T[]> {
  const results: T[] = new Array(jobs.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, jobs.length) }, async () => {
      while (next < jobs.length) {
        const i = next++;
        results[i] = await jobs[i]!();
      }
    }),
  );
  return results;
}
