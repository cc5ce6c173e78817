/**
 * The text a page's ALTO and PDF text layer carry: the archived OCR reading with the clerks'
 * corrections laid over it. The archived OCR JSON itself never changes; corrections live in
 * page_words (text, with the OCR's reading kept in ocr_text).
 */
import { isIndexedWord, type ArchivedOcr } from '../archive/archived-ocr.ts';

/** A corrected word as page_words holds it. */
export interface CorrectedWord {
  /** page_words.word_index: the word's position among the OCR words that have text. */
  wordIndex: number;
  lineIndex: number;
  /** The clerk's text. */
  text: string;
  /** What OCR read (page_words.ocr_text), to check the word is the one the index points at. */
  ocrText: string;
}

/** Confidence given to a word a clerk corrected: a person read it, not the OCR. */
export const CORRECTED_CONFIDENCE = 100;

/**
 * Positions in `ocr.words` of the words page.index indexes, in order: page_words.word_index `i`
 * is `ocr.words[indexedWordPositions(ocr)[i]]` (the same `isIndexedWord` test as indexing).
 */
export function indexedWordPositions(ocr: Pick<ArchivedOcr, 'words'>): number[] {
  const out: number[] = [];
  ocr.words.forEach((w, i) => {
    if (isIndexedWord(w)) out.push(i);
  });
  return out;
}

/**
 * The OCR reading with corrected words' text replaced (and their confidence set to
 * CORRECTED_CONFIDENCE); boxes, lines, blocks and the page's own fields stay as OCR gave them
 * (ALTO and the PDF text layer are written from the words). Throws when a correction does not
 * match the reading it claims to correct (another reading, or a broken index): laying it over
 * anyway would put a clerk's word in the wrong place.
 */
export function applyCorrections(ocr: ArchivedOcr, corrected: readonly CorrectedWord[]): ArchivedOcr {
  if (corrected.length === 0) return ocr;
  const positions = indexedWordPositions(ocr);
  const words = ocr.words.slice();
  for (const c of corrected) {
    const at = positions[c.wordIndex];
    const w = at === undefined ? undefined : words[at];
    if (at === undefined || !w) throw new Error(`corrected word ${c.wordIndex} is not in the OCR reading (${positions.length} words)`);
    // Compared with the OCR's reading as indexed, not with the (possibly already replaced) text.
    if (ocr.words[at]!.text !== c.ocrText || w.line !== c.lineIndex) throw new Error(`corrected word ${c.wordIndex} does not match the OCR reading's word at that index`);
    if (c.text.trim() === '' || /\s/.test(c.text)) throw new Error(`corrected word ${c.wordIndex} is not one word`);
    words[at] = { ...w, text: c.text, confidence: CORRECTED_CONFIDENCE };
  }
  return { ...ocr, words };
}
