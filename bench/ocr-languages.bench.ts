/**
 * Which OCR languages a book should get when staff name none (issue 23): names found, character
 * error rate and seconds a page for each candidate language set, on generated pages of five
 * kinds: Albanian, Serbian Cyrillic, Serbian Latin, Albanian mixed with Latin Serbian
 * ('mixed-latn', form in both), and Kosovo's three-way mix ('mixed': Albanian, Latin and Cyrillic
 * Serbian entries under an Albanian and Cyrillic form).
 *
 *   npm run bench:ocr-languages
 *   npx tsx bench/ocr-languages.bench.ts [--pages 3] [--scale 0.5] [--seed 23] [--engine native|wasm] [--workers 2]
 *        [--kinds sq,sr-Cyrl,sr-Latn,mixed-latn,mixed] [--looks printed:0,typewriter:2]
 *        [--sets sqi+srp+eng,sqi+srp_latn+srp,sqi+srp_latn+srp+eng,sqi+srp_latn] [--per-page 'Latin=sqi+srp_latn,Cyrillic=srp+sqi;...']
 *
 * Every page is read as the OCR stage reads it (`recognizeBounded` with the printed profile chain).
 * A per-page candidate (`script:…`) runs OSD on the page first (as the stage's orientation
 * detection would, on the small copy) and reads it with the set its script maps to (a script it
 * does not map, or no script found, takes the first set listed); its time is OSD's plus that reading's.
 * Names found: every first name and surname of the page's entries, as whole words (accents folded).
 *
 * Prints a table per kind and candidate, one over all kinds, OSD's scripts per kind, then one JSON line.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { planBook } from '../fixtures/book.ts';
import type { BookLanguage } from '../fixtures/content.ts';
import { nameRecall, surnameRecall } from '../fixtures/ocr-support.ts';
import type { NoiseLevel } from '../fixtures/degrade.ts';
import type { FixtureStyle, PageTruth } from '../fixtures/truth.ts';
import { pageCharacterErrorRate } from '../review/cer.ts';
import { profilesFor, recognizeBounded, scanOcrData } from '../ocr/index.ts';
import { orientationImage } from '../ocr/prepare-image.ts';
import { OSD_MAX_SIDE } from '../ocr/page-reading.ts';
import { tesseractOrientationDetector } from '../ocr/tesseract-osd.ts';
import { mean, pct, round, runLimited } from './bench-support.ts';
import { ocrBenchOptions, ocrCpuSeconds, openBenchOcrEngine, truthRowsOf } from './ocr-bench.ts';

const { values } = parseArgs({
  options: {
    ...ocrBenchOptions({ pages: '3', seed: '23' }),
    engine: { type: 'string', default: 'native' },
    kinds: { type: 'string', default: 'sq,sr-Cyrl,sr-Latn,mixed-latn,mixed' },
    looks: { type: 'string', default: 'printed:0,typewriter:2' },
    sets: { type: 'string', default: 'sqi+srp+eng,sqi+srp_latn+srp,sqi+srp_latn+srp+eng,sqi+srp_latn' },
    'per-page': { type: 'string', default: 'Latin=sqi+srp_latn+srp,Cyrillic=srp+sqi;Latin=sqi+srp_latn,Cyrillic=srp+sqi' },
  },
});

const pageCount = Number(values.pages);
const scale = Number(values.scale);
const workers = Number(values.workers);
const kinds = values.kinds.split(',') as BookLanguage[];
const looks = values.looks.split(',').map((l) => {
  const [style, noise] = l.split(':');
  return { style: style as FixtureStyle, noise: Number(noise ?? 0) as NoiseLevel };
});
const staticSets = values.sets.split(',').filter(Boolean);
/** A per-page candidate: script name → language set; the first set is the fallback. */
const perPage = values['per-page'].split(';').filter(Boolean).map((spec) => {
  const map = new Map(spec.split(',').map((pair) => {
    const [script, set] = pair.split('=');
    if (!script || !set) throw new Error(`--per-page takes Script=lang+lang pairs, not ${pair}`);
    return [script, set] as const;
  }));
  return { name: `script:${[...map].map(([s, l]) => `${s}→${l}`).join(',')}`, map, fallback: [...map.values()][0]! };
});

interface Page {
  kind: BookLanguage;
  look: string;
  png: Buffer;
  truth: PageTruth;
}
const pages: Page[] = [];
let seed = Number(values.seed);
for (const kind of kinds) for (const look of looks) {
  const book = planBook({ seed: seed++, pages: pageCount, style: look.style, noise: look.noise, scale, language: kind });
  for (let s = 1; s <= pageCount; s++) pages.push({ kind, look: `${look.style} n${look.noise}`, png: await book.renderPng(s), truth: book.truth.pages[s - 1]! });
}

interface Reading {
  names: number;
  surnames: number;
  cerErrors: number;
  cerChars: number;
  seconds: number;
  /** CPU seconds a page of the batch it was read in (this process, its threads and its children). */
  cpu: number;
}
const engine = openBenchOcrEngine(values.engine, workers);
const osdData = (await scanOcrData()).osd;
if (!osdData) throw new Error('the per-page candidates need @tesseract.js-data/osd');
const osd = tesseractOrientationDetector(async () => path.dirname(osdData.file));
const readings = new Map<string, Reading>();
const scripts: { script: string; confidence: number; seconds: number; cpu: number }[] = [];

const read = async (i: number, set: string): Promise<Reading> => {
  const key = `${i} ${set}`;
  const known = readings.get(key);
  if (known) return known;
  const p = pages[i]!;
  const started = performance.now();
  const r = (await recognizeBounded(engine, p.png, { languages: set.split('+'), profiles: profilesFor('printed') })).result;
  if (!r) throw new Error(`page ${i} (${p.kind} ${p.look}) was not read with ${set}`);
  const cer = pageCharacterErrorRate(truthRowsOf(p.truth), r.words, 0);
  const reading = { names: nameRecall(p.truth, r.text).recall, surnames: surnameRecall(p.truth, r.text).recall, cerErrors: cer.errors, cerChars: cer.characters, seconds: (performance.now() - started) / 1000, cpu: 0 };
  readings.set(key, reading);
  return reading;
};

try {
  // Warm the readers and OSD so start-up stays out of the per-page times.
  const warm = await planBook({ seed: 1, pages: 1, scale: 0.25 }).renderPng(1);
  await Promise.all(Array.from({ length: workers }, () => engine.recognize(warm, { languages: ['sqi'] })));
  await osd.detect(await orientationImage(warm, { maxSide: OSD_MAX_SIDE, maxInputPixels: 200e6 }), 30_000);
  for (const p of pages) {
    const started = performance.now();
    const cpu0 = ocrCpuSeconds();
    const found = await osd.detect(await orientationImage(p.png, { maxSide: OSD_MAX_SIDE, maxInputPixels: 200e6 }), 30_000);
    scripts.push({ script: found?.script ?? 'none', confidence: found?.scriptConfidence ?? 0, seconds: (performance.now() - started) / 1000, cpu: ocrCpuSeconds() - cpu0 });
  }
  // One language set at a time over every page, so each set's pages meet the same load.
  const needed = [...staticSets, ...perPage.flatMap((c) => [...c.map.values()])];
  for (const set of [...new Set(needed)]) {
    const jobs = pages.map((_, i) => i).filter((i) => staticSets.includes(set) || perPage.some((c) => (c.map.get(scripts[i]!.script) ?? c.fallback) === set));
    // One batch per kind, so that CPU time, counted for the whole process, can be shared out per kind.
    for (const kind of kinds) {
      const batch = jobs.filter((i) => pages[i]!.kind === kind);
      if (batch.length === 0) continue;
      const cpu0 = ocrCpuSeconds();
      const rs = await runLimited(batch.map((i) => () => read(i, set)), workers);
      const cpu = (ocrCpuSeconds() - cpu0) / batch.length;
      for (const r of rs) r.cpu = cpu;
    }
    console.error(`${set}: ${jobs.length} pages read`);
  }
} finally {
  await engine.close();
  await osd.close();
}

interface Cell { candidate: string; kind: string; pages: number; names: number; surnames: number; cer: number; seconds: number; cpu: number }
const candidates = [...staticSets.map((s) => ({ name: s, setOf: (_i: number) => s, osd: false })), ...perPage.map((c) => ({ name: c.name, setOf: (i: number) => c.map.get(scripts[i]!.script) ?? c.fallback, osd: true }))];
const cells: Cell[] = [];
const summarise = (candidate: (typeof candidates)[number], kind: string, idx: number[]): Cell => {
  const rs = idx.map((i) => readings.get(`${i} ${candidate.setOf(i)}`)!);
  return {
    candidate: candidate.name, kind, pages: idx.length,
    names: round(mean(rs.map((r) => r.names)), 3),
    surnames: round(mean(rs.map((r) => r.surnames)), 3),
    cer: round(rs.reduce((n, r) => n + r.cerErrors, 0) / Math.max(1, rs.reduce((n, r) => n + r.cerChars, 0)), 4),
    seconds: round(mean(idx.map((i, k) => rs[k]!.seconds + (candidate.osd ? scripts[i]!.seconds : 0))), 2),
    cpu: round(mean(idx.map((i, k) => rs[k]!.cpu + (candidate.osd ? scripts[i]!.cpu : 0))), 2),
  };
};
for (const c of candidates) {
  for (const kind of kinds) cells.push(summarise(c, kind, pages.map((p, i) => (p.kind === kind ? i : -1)).filter((i) => i >= 0)));
  cells.push(summarise(c, 'all kinds', pages.map((_, i) => i)));
}
const out = ['| candidate | kind | pages | names found | surnames found | CER | s/page (wall) | CPU s/page |', '| --- | --- | --- | --- | --- | --- | --- | --- |'];
for (const x of cells) out.push(`| ${x.candidate} | ${x.kind} | ${x.pages} | ${pct(x.names, 1)} | ${pct(x.surnames, 1)} | ${pct(x.cer, 1)} | ${x.seconds.toFixed(2)} | ${x.cpu.toFixed(2)} |`);
out.push('', '| kind | OSD script (pages) | script confidence mean | OSD s/page (CPU) |', '| --- | --- | --- | --- |');
for (const kind of kinds) {
  const idx = pages.map((p, i) => (p.kind === kind ? i : -1)).filter((i) => i >= 0);
  const counts = new Map<string, number>();
  for (const i of idx) counts.set(scripts[i]!.script, (counts.get(scripts[i]!.script) ?? 0) + 1);
  out.push(`| ${kind} | ${[...counts].map(([s, n]) => `${s} ${n}`).join(', ')} | ${mean(idx.map((i) => scripts[i]!.confidence)).toFixed(1)} | ${mean(idx.map((i) => scripts[i]!.seconds)).toFixed(2)} (${mean(idx.map((i) => scripts[i]!.cpu)).toFixed(2)}) |`);
}
console.log(out.join('\n'));
console.log(JSON.stringify({ bench: 'ocr-languages', engine: values.engine, scale, pagesPerLook: pageCount, looks: values.looks, cells, scripts: pages.map((p, i) => ({ kind: p.kind, look: p.look, ...scripts[i] })) }));
