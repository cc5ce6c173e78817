/**
 * Handwriting routing (issue 20): the share of fixture pages the OCR stage would send to keying
 * (`handwritingByReading` on the reading the book's profile chain keeps), for printed, typewriter,
 * Cyrillic and mixed pages on white paper at noise 0-3 (target ≤ 2%), and for handwritten pages
 * (target ≥ 95%): the fixture generator's `handwritten` style and the handwriting-font pages of
 * test-support/handwritten-page.ts. Grey grainy carbon copies are reported on their own.
 *
 *   npm run bench:handwriting -- [--reps 3] [--hand 24] [--engine native|wasm]
 */
import { parseArgs } from 'node:util';
import { planBook } from '../fixtures/book.ts';
import type { FixtureStyle } from '../fixtures/truth.ts';
import type { NoiseLevel } from '../fixtures/degrade.ts';
import {
  HANDWRITING_MAX_CONFIDENCE, NativeTesseractOcrEngine, TesseractOcrEngine, handwritingByReading, profilesFor, recognizeBounded, type OcrEngine,
} from '../ocr/index.ts';
import { handwrittenPagePng } from '../test-support/handwritten-page.ts';
import { r1 } from './bench-support.ts';

const { values } = parseArgs({ options: { reps: { type: 'string', default: '3' }, hand: { type: 'string', default: '24' }, engine: { type: 'string', default: 'native' } } });
const reps = Number(values.reps);
const handPages = Number(values.hand);

const engine: OcrEngine = values.engine === 'wasm' ? new TesseractOcrEngine({ poolSize: 2, recycleAfterPages: 200, recycleRssMb: 8192 }) : new NativeTesseractOcrEngine({ poolSize: 2 });

interface Page { set: string; label: string; languages: string[]; png: () => Promise<Buffer> }
const pages: Page[] = [];
const langsOf = (style: string, seed: number) => (style === 'cyrillic' ? ['srp'] : style === 'mixed' ? ['sqi', 'srp'] : seed % 3 === 2 ? ['srp_latn'] : ['sqi']);
for (let rep = 0; rep < reps; rep++) {
  for (const noise of [0, 1, 2, 3] as const) {
    for (const style of ['printed', 'typewriter', 'cyrillic', 'mixed'] as const) {
      const seed = 300 + rep * 100 + noise * 10 + style.length;
      const lowContrast = noise === 3 && rep % 2 === 0;
      pages.push({ set: 'print', label: `${style} n${noise}${lowContrast ? ' low-contrast' : ''}`, languages: langsOf(style, 0), png: () => planBook({ seed, pages: 1, scale: 0.5, style, noise, lowContrast }).renderPng(1) });
    }
  }
}
for (const [i, noise] of ([2, 3, 2, 3, 2, 3, 2, 3] as const).entries()) {
  const style = (['printed', 'typewriter', 'cyrillic', 'mixed'] as const)[i % 4]!;
  pages.push({ set: 'grey', label: `${style} n${noise} grey-grainy`, languages: langsOf(style, 0), png: () => planBook({ seed: 900 + i, pages: 1, scale: 0.5, style, noise, paper: 'grey-grainy' }).renderPng(1) });
}
for (let i = 0; i < handPages; i++) {
  const noise = (i % 4) as NoiseLevel;
  // The generator's handwritten style (fixtures/, issue 20 point 7): its content language follows the seed.
  pages.push({ set: 'hand-fixture', label: `handwritten fixture n${noise}`, languages: ['sqi', 'srp'], png: () => planBook({ seed: 500 + i, pages: 1, scale: 0.5, style: 'handwritten' as FixtureStyle, noise }).renderPng(1) });
  const language = (['sq', 'sq', 'sr-Latn', 'sr-Cyrl'] as const)[i % 4]!;
  pages.push({ set: 'hand-fonts', label: `handwriting fonts ${language} n${noise}`, languages: language === 'sr-Cyrl' ? ['srp'] : language === 'sr-Latn' ? ['srp_latn'] : ['sqi'], png: () => handwrittenPagePng({ seed: 700 + i, language, noise: noise as 0 }) });
}

interface Outcome { set: string; label: string; routed: boolean; confidence: number; seconds: number; reason: string }
const outcomes: Outcome[] = [];
const started = performance.now();
let next = 0;
// Two pages at a time: the engine's pool of two.
await Promise.all([0, 1].map(async () => {
  while (next < pages.length) {
    const p = pages[next++]!;
    const png = await p.png();
    const t0 = performance.now();
    // Books not declared handwritten: the whole chain runs, then the verdict is taken on the reading kept.
    const b = await recognizeBounded(engine, png, { languages: p.languages, profiles: profilesFor('printed') });
    const verdict = b.result ? handwritingByReading(b.result) : undefined;
    outcomes.push({ set: p.set, label: p.label, routed: verdict !== undefined, confidence: b.result?.meanConfidence ?? 0, seconds: (performance.now() - t0) / 1000, reason: verdict?.reason ?? '' });
  }
}));
await engine.close();

const sets: [string, string][] = [
  ['print', 'printed/typewriter/Cyrillic/mixed, white paper, noise 0-3 (target ≤ 2%)'],
  ['grey', 'the same on grey grainy carbon-copy paper, noise 2-3 (no target)'],
  ['hand-fixture', "handwritten, the fixture generator's style (target ≥ 95%)"],
  ['hand-fonts', 'handwritten, test-support handwriting-font pages (target ≥ 95%)'],
];
console.log(`handwriting routing: verdict = mean OCR confidence < ${HANDWRITING_MAX_CONFIDENCE} and ≥ 15% of words (3+ letters) read below 50; ${values.engine} engine, scale 0.5`);
for (const [set, title] of sets) {
  const o = outcomes.filter((x) => x.set === set);
  if (o.length === 0) continue;
  const routed = o.filter((x) => x.routed).length;
  const conf = o.map((x) => x.confidence).sort((a, b) => a - b);
  console.log(`${title}: routed to keying ${routed}/${o.length} = ${r1((100 * routed) / o.length)}%; mean confidence ${r1(conf[0]!)}-${r1(conf[conf.length - 1]!)}; ${r1(o.reduce((a, x) => a + x.seconds, 0) / o.length)} s a page`);
  const odd = o.filter((x) => (set.startsWith('hand') ? !x.routed : x.routed));
  for (const x of odd) console.log(`  ${set.startsWith('hand') ? 'not routed' : 'routed'}: ${x.label} (confidence ${r1(x.confidence)}) ${x.reason}`);
}
console.log(`${outcomes.length} pages in ${r1((performance.now() - started) / 1000)} s`);
