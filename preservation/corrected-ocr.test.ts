import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ArchivedOcr } from '../archive/archived-ocr.ts';
import { buildAlto } from './alto.ts';
import { applyCorrections, indexedWordPositions, type CorrectedWord } from './corrected-ocr.ts';
import { altoVariant, packageBasis, ALTO_VARIANT } from './package-book.ts';
import { textLayerOps } from './pdfa.ts';
import { haveXmllint, PROFILE_SCHEMAS, xmllintSchema } from '../test-support/xml-schema.ts';

const box = (i: number, line: number) => ({ x0: 20 + i * 120, y0: 40 + line * 60, x1: 130 + i * 120, y1: 90 + line * 60 });

// What tesseract can give: empty and blank words between real ones, which page.index leaves out.
const OCR: ArchivedOcr = {
  engine: 'test-engine 1.0', languages: ['sqi'], width: 1200, height: 400, meanConfidence: 70, text: 'Arbën Krasnlqi\nShkodër',
  words: [
    { text: 'Arbën', confidence: 90, bbox: box(0, 0), line: 0, block: 0 },
    { text: '', confidence: 0, bbox: box(1, 0), line: 0, block: 0 },
    { text: 'Krasnlqi', confidence: 31, bbox: box(2, 0), line: 0, block: 0 },
    { text: '  ', confidence: 0, bbox: box(3, 0), line: 0, block: 0 },
    { text: 'Shkodër', confidence: 64, bbox: box(0, 1), line: 1, block: 0 },
  ],
  lines: [
    { text: 'Arbën Krasnlqi', confidence: 60, bbox: { x0: 20, y0: 40, x1: 370, y1: 90 }, block: 0 },
    { text: 'Shkodër', confidence: 64, bbox: { x0: 20, y0: 100, x1: 130, y1: 150 }, block: 0 },
  ],
};

// page_words as page.index writes them from OCR: word_index counts only words with text.
const fix = (wordIndex: number, lineIndex: number, ocrText: string, text: string): CorrectedWord => ({ wordIndex, lineIndex, ocrText, text });

describe('corrections laid over the archived OCR', () => {
  it('maps page_words.word_index to the OCR words page.index kept (empty words skipped)', () => {
    expect(indexedWordPositions(OCR)).toEqual([0, 2, 4]);
  });

  it('replaces the corrected words, past the empty ones, and marks them read by a person (confidence 100)', () => {
    const out = applyCorrections(OCR, [fix(1, 0, 'Krasnlqi', 'Krasniqi'), fix(2, 1, 'Shkodër', 'Shkodra')]);
    expect(out.words.map((w) => w.text)).toEqual(['Arbën', '', 'Krasniqi', '  ', 'Shkodra']);
    expect(out.words.map((w) => w.confidence)).toEqual([90, 0, 100, 0, 100]);
    expect(out.words[2]!.bbox).toEqual(OCR.words[2]!.bbox);
    // The archived reading itself is not touched.
    expect(OCR.words[2]!.text).toBe('Krasnlqi');
    expect(OCR.words[4]!.confidence).toBe(64);
  });

  it('returns the reading as it is without corrections', () => {
    expect(applyCorrections(OCR, [])).toBe(OCR);
  });

  it('refuses corrections that do not match the reading (another reading, a broken index)', () => {
    // Without skipping the empty word, index 1 would be '' and index 2 'Krasnlqi'.
    expect(() => applyCorrections(OCR, [fix(2, 0, 'Krasnlqi', 'Krasniqi')])).toThrow(/does not match/);
    expect(() => applyCorrections(OCR, [fix(1, 1, 'Krasnlqi', 'Krasniqi')])).toThrow(/does not match/);
    expect(() => applyCorrections(OCR, [fix(3, 1, 'Shkodër', 'Shkodra')])).toThrow(/not in the OCR reading/);
    expect(() => applyCorrections(OCR, [fix(1, 0, 'Krasnlqi', 'Kras niqi')])).toThrow(/not one word/);
  });

  it('puts the corrected words in ALTO (WC 1, the correction said in the processing step) and the PDF text layer', async () => {
    const corrected = applyCorrections(OCR, [fix(1, 0, 'Krasnlqi', 'Krasniqi')]);
    const alto = buildAlto(corrected, { sequence: 1, imageFileName: 'master.tif', corrections: { textRevision: 3, words: 1 } });
    expect(alto).toContain('CONTENT="Krasniqi" WC="1"');
    expect(alto).not.toContain('Krasnlqi');
    expect(alto).toContain("<processingStepDescription>OCR text with clerks' corrections up to text revision 3 (1 word(s) corrected, WC 1)</processingStepDescription>");
    expect(buildAlto(OCR, { sequence: 1, imageFileName: 'master.tif' })).not.toContain('processingStepDescription');
    const hex = (s: string) => [...s].map((c) => c.codePointAt(0)!.toString(16).padStart(4, '0')).join('');
    const ops = textLayerOps(corrected, 0.5, 200);
    expect(ops).toContain(`<${hex('Krasniqi')}> Tj`);
    expect(ops).not.toContain(hex('Krasnlqi'));
    if (haveXmllint()) {
      const dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'arkiva-alto-'));
      try {
        const file = path.join(dir, 'alto.xml');
        await fs.promises.writeFile(file, alto);
        const r = xmllintSchema(PROFILE_SCHEMAS.alto, file);
        expect(r.status, r.out).toBe(0);
      } finally {
        await fs.promises.rm(dir, { recursive: true, force: true });
      }
    }
  });
});

describe('package basis and ALTO variant by text revision', () => {
  const pages = [
    { id: 'a', sequence: 1, revision: 1, status: 'done' as const },
    { id: 'b', sequence: 2, revision: 1, status: 'done' as const },
  ];

  it('keeps the basis of books never corrected, and changes it with a text revision', () => {
    const before = packageBasis(pages);
    expect(packageBasis(pages.map((p) => ({ ...p, textRevision: 0 })))).toBe(before);
    const corrected = packageBasis([pages[0]!, { ...pages[1]!, textRevision: 1 }]);
    expect(corrected).not.toBe(before);
    expect(packageBasis([pages[0]!, { ...pages[1]!, textRevision: 2 }])).not.toBe(corrected);
  });

  it('names the ALTO of text revision 0 as before, later ones by their text revision', () => {
    expect(altoVariant(0)).toBe(ALTO_VARIANT);
    expect(altoVariant(2)).toBe(`${ALTO_VARIANT}-t2`);
  });
});
