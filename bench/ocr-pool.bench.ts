/**
 * Throughput of the tesseract.js pool on synthetic register pages (typed entries, A4 landscape at
 * 300 dpi), for each pool size, with the event-loop delay seen while the pages were recognised.
 *
 *   node --import tsx bench/ocr-pool.bench.ts [--pages 8] [--pools 1,2] [--languages sqi]
 *        [--width 2480] [--height 1754] [--lines 14]
 *
 * Workers are started and warmed on a small page first, so the figures are steady-state; the
 * process must exit by itself after close() (a leftover worker thread would keep it alive).
 */
import os from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { TesseractOcrEngine } from '../ocr/index.ts';
import { REGISTER_LINES, renderTextPage } from '../test-support/synthetic-page.ts';

const { values } = parseArgs({
  options: {
    pages: { type: 'string', default: '8' },
    pools: { type: 'string', default: '1,2' },
    languages: { type: 'string', default: 'sqi' },
    width: { type: 'string', default: '2480' },
    height: { type: 'string', default: '1754' },
    lines: { type: 'string', default: '14' },
  },
});
const pageCount = Number(values.pages);
const pools = values.pools.split(',').map(Number);
const languages = values.languages.split('+');
const width = Number(values.width);
const height = Number(values.height);
const lineCount = Number(values.lines);

// Without srp among the languages, Cyrillic entries could not be read: use the Latin ones only.
const entries = languages.includes('srp') ? REGISTER_LINES : REGISTER_LINES.filter((l) => !/[\u0400-\u04ff]/.test(l));
const n = entries.length;
const pages = await Promise.all(
  Array.from({ length: pageCount }, (_, p) =>
    renderTextPage({
      width,
      height,
      size: 40,
      lineHeight: Math.floor((height - 200) / Math.max(lineCount, 1)),
      top: 60,
      // Two entries a line, numbered, so a line spans most of the page width like a typed register row.
      lines: Array.from({ length: lineCount }, (_, i) => `${p * lineCount + i + 1}. ${entries[(p + i) % n]} ${entries[(p + i + 3) % n]}`),
    }),
  ),
);
const warmPage = await renderTextPage({ width: 600, height: 200, lines: ['Drita 1960'] });

console.log(`${pageCount} pages ${width}x${height}, ${lineCount} lines each, languages ${languages.join('+')}`);
for (const poolSize of pools) {
  const engine = new TesseractOcrEngine({ poolSize, recycleAfterPages: 1000, recycleRssMb: 8192 });
  try {
    await Promise.all(Array.from({ length: poolSize }, () => engine.recognize(warmPage.png, { languages })));
    const lag = monitorEventLoopDelay({ resolution: 10 });
    lag.enable();
    const load = os.loadavg()[0]!;
    const cpuBefore = process.cpuUsage();
    const started = performance.now();
    const results = await Promise.all(pages.map((p) => engine.recognize(p.png, { languages })));
    const seconds = (performance.now() - started) / 1000;
    lag.disable();
    // User+system CPU of the whole process (worker threads included): unlike pages/min, it does
    // not depend on what else the machine is running.
    const cpu = process.cpuUsage(cpuBefore);
    const cpuPerPage = (cpu.user + cpu.system) / 1e6 / pageCount;
    const words = results.reduce((s, r) => s + r.words.length, 0);
    const conf = results.reduce((s, r) => s + r.meanConfidence, 0) / results.length;
    console.log(
      `pool ${poolSize}: ${seconds.toFixed(1)} s, ${((pageCount / seconds) * 60).toFixed(1)} pages/min, ` +
        `${words} words, mean confidence ${conf.toFixed(1)}, event-loop delay max ${(lag.max / 1e6).toFixed(0)} ms p99 ${(lag.percentile(99) / 1e6).toFixed(0)} ms, ` +
        `CPU ${cpuPerPage.toFixed(2)} s/page, rss ${(process.memoryUsage.rss() / 2 ** 20).toFixed(0)} MiB, load average before ${load.toFixed(1)}`,
    );
  } finally {
    await engine.close();
  }
}
