/**
 * tesseract.js page (blocks → paragraphs → lines → words) → the port's words and lines, with
 * boxes mapped back to the pixels of the image that was given.
 */
import type Tesseract from 'tesseract.js';
import type { OcrBox, OcrLine, OcrWord } from './ocr-engine.ts';
import { scaleBox, type PreparedImage } from './prepare-image.ts';

/** Words, lines and the page's mean confidence. */
export interface OcrLayout {
  words: OcrWord[];
  lines: OcrLine[];
  meanConfidence: number;
}

/** A recognised item of tesseract's block tree: what the layout reads of it. */
interface TreeItem {
  text: string;
  confidence: number;
  bbox: OcrBox;
}

/**
 * Tesseract's block tree as far as `layoutFromPage` reads it: a tesseract.js page fits as is, and
 * the native adapter builds one from tesseract's TSV, so both engines share one flattening.
 */
export interface OcrBlockTree {
  blocks?: readonly { paragraphs?: readonly { lines?: readonly (TreeItem & { words?: readonly TreeItem[] | null })[] | null }[] | null }[] | null;
}

/**
 * Flattens tesseract's block tree in reading order. `meanConfidence` weighs each word by its
 * number of characters: tesseract's own page figure (MeanTextConf) is an unweighted integer mean
 * of words, which lets specks read as one-letter words drag a clean page down as much as names do.
 */
export function layoutFromPage(page: OcrBlockTree, prepared: Pick<PreparedImage, 'scaleX' | 'scaleY' | 'width' | 'height' | 'rotation'>): OcrLayout {
  const words: OcrWord[] = [];
  const lines: OcrLine[] = [];
  let weighted = 0;
  let chars = 0;
  let paragraph = 0;
  (page.blocks ?? []).forEach((block, blockIndex) => {
    for (const para of block.paragraphs ?? []) {
      for (const line of para.lines ?? []) {
        const lineIndex = lines.length;
        let count = 0;
        for (const word of line.words ?? []) {
          const text = word.text.trim();
          if (text.length === 0) continue;
          const confidence = clampConfidence(word.confidence);
          words.push({ text, confidence, bbox: scaleBox(word.bbox, prepared), line: lineIndex, block: blockIndex, paragraph });
          const n = [...text].length;
          weighted += confidence * n;
          chars += n;
          count += 1;
        }
        if (count === 0) continue;
        lines.push({ text: line.text.trim(), confidence: clampConfidence(line.confidence), bbox: scaleBox(line.bbox, prepared), block: blockIndex, words: count });
      }
      paragraph += 1;
    }
  });
  return { words, lines, meanConfidence: chars === 0 ? 0 : Math.round((weighted / chars) * 10) / 10 };
}

function clampConfidence(c: number): number {
  return Number.isFinite(c) ? Math.min(100, Math.max(0, Math.round(c * 10) / 10)) : 0;
}

/**
 * hOCR of a page, written from tesseract's block tree in tesseract's own hOCR layout (the
 * `ocr_page` fragment tesseract.js returns: carea, par, line, word, with bbox, baseline, x_size,
 * x_descenders, x_ascenders, x_wconf), in OCR-image pixels. The tree holds text areas only, so
 * tesseract's empty separator and picture areas are not written (and area ids count text areas).
 * Asking tesseract for hOCR walks its result a second time inside the WASM core, which cost 40-90
 * ms of CPU a page (6% of the reading, bench/pipeline.bench.ts); the blocks it returns anyway hold
 * the same figures.
 */
export function hocrFromPage(page: Tesseract.Page, image: { width: number; height: number; dpi: number }): string {
  const out: string[] = [];
  const res = Math.round(image.dpi);
  out.push(`<div class='ocr_page' id='page_1' title='image "unknown"; bbox 0 0 ${image.width} ${image.height}; ppageno 0; scan_res ${res} ${res}'>`);
  let b = 0;
  let p = 0;
  let l = 0;
  let w = 0;
  for (const block of page.blocks ?? []) {
    b += 1;
    // The type says string; tesseract.js sends tesseract's PolyBlockType number.
    const type = Number(block.blocktype);
    out.push(` <div class='ocr_carea' id='block_1_${b}' title="${bbox(block.bbox)}">`);
    for (const para of block.paragraphs ?? []) {
      p += 1;
      // No lang attribute: the block tree does not say which of the page's languages read a paragraph.
      out.push(`  <p class='ocr_par' id='par_1_${p}' title="${bbox(para.bbox)}">`);
      for (const line of para.lines ?? []) {
        l += 1;
        const attrs = line.rowAttributes;
        out.push(`   <span class='${LINE_CLASS[type] ?? 'ocr_line'}' id='line_1_${l}' title="${bbox(line.bbox)}; baseline ${baseline(line)}; x_size ${num(attrs?.rowHeight)}; x_descenders ${num(attrs?.descenders)}; x_ascenders ${num(attrs?.ascenders)}">`);
        for (const word of line.words ?? []) {
          w += 1;
          out.push(`    <span class='ocrx_word' id='word_1_${w}' title='${bbox(word.bbox)}; x_wconf ${Math.round(word.confidence)}'>${escapeXml(word.text)}</span>`);
        }
        out.push('   </span>');
      }
      out.push('  </p>');
    }
    out.push(' </div>');
  }
  out.push('</div>');
  return `${out.join('\n')}\n`;
}

// Tesseract's PolyBlockType of a text area names its lines' hOCR class, as tesseract's hOCR does.
const LINE_CLASS: Record<number, string> = { 2: 'ocr_header', 3: 'ocr_textfloat', 8: 'ocr_caption' };

function bbox(b: { x0: number; y0: number; x1: number; y1: number }): string {
  return `bbox ${Math.round(b.x0)} ${Math.round(b.y0)} ${Math.round(b.x1)} ${Math.round(b.y1)}`;
}

/** hOCR's baseline: slope, and the offset at the line's left edge from the line's bottom. */
function baseline(line: Tesseract.Line): string {
  const bl = line.baseline;
  if (!bl || bl.x1 === bl.x0) return '0 0';
  const slope = (bl.y1 - bl.y0) / (bl.x1 - bl.x0);
  const offset = bl.y0 + slope * (line.bbox.x0 - bl.x0) - line.bbox.y1;
  return `${num(slope, 3)} ${Math.round(offset)}`;
}

function num(v: number | undefined, digits = 2): string {
  return v === undefined || !Number.isFinite(v) ? '0' : String(Math.round(v * 10 ** digits) / 10 ** digits);
}

function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}
