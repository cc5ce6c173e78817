/**
 * Memory of an OCR worker over many pages (issue 9, figure 4, second half): one
 * TesseractOcrEngine with the product's pool settings (config defaults: recycle after
 * OCR_RECYCLE_AFTER_PAGES pages or past OCR_RECYCLE_RSS_MB), reading generated pages one after
 * the other with the pipeline's profile chain; the process RSS (main thread plus OCR threads) is
 * sampled after every `--every` pages.
 *
 *   npx tsx bench/ocr-memory.bench.ts [--pages 1000] [--every 50] [--scale 0.5]
 *
 * `npm run bench:memory` runs it after the upload measurement (bench/memory.bench.ts).
 *
 * Prints a table of RSS by pages read and one JSON line.
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import { planBook } from '../fixtures/index.ts';
import { loadConfig } from '../config/index.ts';
import { TesseractOcrEngine, recognizeBounded, profilesFor } from '../ocr/index.ts';
import { r1, r2 } from './bench-support.ts';

const { values } = parseArgs({ options: { pages: { type: 'string', default: '1000' }, every: { type: 'string', default: '50' }, scale: { type: 'string', default: '0.5' } } });
const total = Number(values.pages);
const every = Number(values.every);
const config = loadConfig({ ...process.env, OCR_POOL_SIZE: '1' });
// Ten distinct pages, read in turn: the heap sees varied content without rendering a thousand pages.
const book = planBook({ seed: 77, pages: 10, scale: Number(values.scale) });
const pngs: Buffer[] = [];
for (let s = 1; s <= 10; s++) pngs.push(await book.renderPng(s));
const engine = new TesseractOcrEngine({ poolSize: 1, recycleAfterPages: config.ocr.recycleAfterPages, recycleRssMb: config.ocr.recycleRssMb });
const rssMb = () => r1(process.memoryUsage.rss() / 2 ** 20);
const samples: { pages: number; rssMb: number; recycled: number; seconds: number }[] = [{ pages: 0, rssMb: rssMb(), recycled: 0, seconds: 0 }];
const start = performance.now();
let peak = 0;
try {
  for (let i = 1; i <= total; i++) {
    await recognizeBounded(engine, pngs[i % pngs.length]!, { languages: ['sqi'], hocr: true, profiles: profilesFor('printed') });
    peak = Math.max(peak, rssMb());
    if (i % every === 0 || i === total) {
      samples.push({ pages: i, rssMb: rssMb(), recycled: engine.stats().recycled, seconds: r1((performance.now() - start) / 1000) });
      console.error(`${i} pages: RSS ${rssMb()} MB`);
    }
  }
} finally {
  await engine.close();
}
console.log('| pages read | RSS MB | workers recycled | seconds |');
console.log('| --- | --- | --- | --- |');
for (const s of samples) console.log(`| ${s.pages} | ${s.rssMb} | ${s.recycled} | ${s.seconds} |`);
console.log(JSON.stringify({ bench: 'ocr-memory', pages: total, recycleAfterPages: config.ocr.recycleAfterPages, recycleRssMb: config.ocr.recycleRssMb, peakRssMb: peak, samples, cpus: os.cpus().length, loadavg: os.loadavg().map(r2) }));
