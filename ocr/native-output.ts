/**
 * What the native `tesseract` command writes, read into the shapes the tesseract.js adapter
 * already handles: its TSV into the block tree `layoutFromPage` flattens, its OSD report into a
 * detected orientation, its hOCR document into the `ocr_page` element the tesseract.js adapter writes.
 */
import { OcrWorkerError, type OcrBox } from './ocr-engine.ts';
import type { QuarterTurn } from './prepare-image.ts';
import type { DetectedOrientation } from './tesseract-osd.ts';
import type { OcrBlockTree } from './tesseract-page.ts';

const TSV_HEADER = 'level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext';

interface Item {
  text: string;
  confidence: number;
  bbox: OcrBox;
}
interface Line extends Item {
  words: Item[];
}

/**
 * Tesseract's TSV (one row per page, block, paragraph, line and word, in reading order) as a
 * block tree. TSV gives no text or confidence for lines: a line's text is its words joined by a
 * space (what tesseract's own line text is without preserve_interword_spaces), its confidence the
 * mean of its words' (tesseract's line confidence is that mean taken before clipping to 0..100,
 * so the two differ only on lines holding words read below 0). Anything that is not this TSV
 * fails the run: a process that printed garbage did not read the page.
 */
export function treeFromTsv(tsv: string): OcrBlockTree {
  const rows = tsv.split('\n');
  if (rows[0]?.trimEnd() !== TSV_HEADER) throw new OcrWorkerError(`tesseract wrote no TSV header (got ${JSON.stringify((rows[0] ?? '').slice(0, 80))})`);
  const blocks: { paragraphs: { lines: Line[] }[] }[] = [];
  const blockAt = new Map<number, (typeof blocks)[number]>();
  const paraAt = new Map<string, { lines: Line[] }>();
  const lineAt = new Map<string, Line>();
  for (let i = 1; i < rows.length; i++) {
    const row = rows[i]!;
    if (row === '') continue;
    const cells = row.split('\t');
    const nums = cells.slice(0, 11).map(Number);
    if (cells.length !== 12 || nums.some((n) => !Number.isFinite(n))) throw new OcrWorkerError(`tesseract wrote a malformed TSV row ${i + 1}: ${JSON.stringify(row.slice(0, 80))}`);
    const [level, , b, p, l, , left, top, width, height, conf] = nums as [number, number, number, number, number, number, number, number, number, number, number];
    const bbox = { x0: left, y0: top, x1: left + width, y1: top + height };
    const paraKey = `${b}/${p}`;
    const lineKey = `${b}/${p}/${l}`;
    if (level === 2) {
      const block = { paragraphs: [] };
      blocks.push(block);
      blockAt.set(b, block);
    } else if (level === 3) {
      const para = { lines: [] };
      blockAt.get(b)?.paragraphs.push(para);
      paraAt.set(paraKey, para);
    } else if (level === 4) {
      const line: Line = { text: '', confidence: 0, bbox, words: [] };
      paraAt.get(paraKey)?.lines.push(line);
      lineAt.set(lineKey, line);
    } else if (level === 5) {
      lineAt.get(lineKey)?.words.push({ text: cells[11]!, confidence: conf, bbox });
    }
  }
  for (const line of lineAt.values()) {
    const read = line.words.filter((w) => w.confidence >= 0);
    line.text = line.words.map((w) => w.text).join(' ');
    line.confidence = read.length === 0 ? 0 : read.reduce((s, w) => s + w.confidence, 0) / read.length;
  }
  return { blocks };
}

/**
 * The clockwise turn `tesseract --psm 0` says stands the page upright ("Rotate:", the same figure
 * tesseract.js reports as orientation_degrees) and its confidence; undefined when it says neither.
 */
export function orientationFromOsd(report: string): DetectedOrientation | undefined {
  const rotate = /^Rotate:\s*(\d+)\s*$/m.exec(report);
  const confidence = /^Orientation confidence:\s*([\d.]+)\s*$/m.exec(report);
  const degrees = rotate ? Number(rotate[1]) : NaN;
  if (![0, 90, 180, 270].includes(degrees)) return undefined;
  const c = confidence ? Number(confidence[1]) : 0;
  const found: DetectedOrientation = { rotate: degrees as QuarterTurn, confidence: Number.isFinite(c) ? Math.round(c * 100) / 100 : 0 };
  const script = /^Script:\s*(\S+)\s*$/m.exec(report);
  const scriptConfidence = /^Script confidence:\s*([\d.]+)\s*$/m.exec(report);
  if (script) {
    found.script = script[1]!;
    found.scriptConfidence = scriptConfidence ? Math.round(Number(scriptConfidence[1]) * 100) / 100 : 0;
  }
  return found;
}

/**
 * The `ocr_page` element of tesseract's hOCR document, the same element the tesseract.js adapter
 * writes, so both go through one `hocrDocument` and a page's hOCR has one shape whichever engine read it.
 */
export function hocrPageFragment(doc: string): string {
  const start = doc.search(/<div class=['"]ocr_page['"]/);
  const end = doc.lastIndexOf('</body>');
  if (start < 0 || end < start) throw new OcrWorkerError('tesseract wrote hOCR without an ocr_page');
  return `${doc.slice(start, end).trimEnd()}\n`;
}
