/**
 * The OCR result as it is archived, and which of its words are indexed: shared by the OCR stage
 * that writes it, indexing and re-OCR that read it, and the preservation package (ALTO, PDF).
 */

/** The OCR result as archived (role 'ocr', variant 'ocr-json'): what indexing and ALTO are built from. */
export interface ArchivedOcr {
  engine: string;
  languages: string[];
  width: number;
  height: number;
  meanConfidence: number;
  text: string;
  words: { text: string; confidence: number; bbox: { x0: number; y0: number; x1: number; y1: number }; line: number; block: number }[];
  lines: { text: string; confidence: number; bbox: { x0: number; y0: number; x1: number; y1: number }; block: number }[];
  /** Clockwise turn that stood the master upright for OCR (boxes stay in the master's pixels). */
  orientation?: number;
  /** Profile of the reading kept. */
  profile?: string;
}

/**
 * Whether page.index indexes an archived OCR word (whitespace-only words are not): page_words
 * word_index `i` is the i-th such word, so indexing, re-OCR and the corrections laid over ALTO
 * must all count with this one test.
 */
export function isIndexedWord(w: { text: string }): boolean {
  return w.text.trim() !== '';
}
