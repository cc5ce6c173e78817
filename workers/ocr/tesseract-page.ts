/**
 * tesseract.js page (blocks → paragraphs → lines → words) → the port's words and lines, with
 * boxes mapped back to the pixels of the image that was given.
 */
import type Tesseract from 'tesseract.js';
import type { OcrLine, OcrWord } from './ocr-engine.ts';
import { scaleBox, type PreparedImage } from './prepare-image.ts';

/** Words, lines and the page's mean confidence. */
export interface OcrLayout {
  words: OcrWord[];
  lines: OcrLine[];
  meanConfidence: number;
}

/**
 * Flattens tesseract's block tree in reading order. `meanConfidence` weighs each word by its
 * number of characters: tesseract's own page figure (MeanTextConf) is an unweighted integer mean
 * of words, which lets specks read as one-letter words drag a clean page down as much as names do.
 */
export function layoutFromPage(page: Tesseract.Page, prepared: Pick<PreparedImage, 'scaleX' | 'scaleY' | 'width' | 'height' | 'rotation'>): OcrLayout {
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
