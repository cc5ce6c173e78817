import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { createRng, planBook } from '../fixtures/index.ts';
import { HANDWRITING_MAX_CONFIDENCE, blankByInk, classifyPageWords, handwritingByReading, inkRatio } from './page-type.ts';

const blankVerdict = async (image: Buffer) => blankByInk(await inkRatio(image));

// A blank leaf as scanners deliver it: yellowed, unevenly lit, with sensor noise and dust specks.
async function blankLeaf(width: number, height: number, seed: number): Promise<Buffer> {
  const rng = createRng(seed);
  const data = Buffer.alloc(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const tone = 200 + 35 * (x / width) - 10 * Math.sin((3 * y) / height);
      const noise = (rng.next() + rng.next() + rng.next() - 1.5) * 20;
      data[y * width + x] = Math.max(0, Math.min(255, Math.round(tone + noise)));
    }
  }
  for (let i = 0; i < 60; i++) data[Math.floor(rng.next() * data.length)] = 30;
  return sharp(data, { raw: { width, height, channels: 1 } }).png().toBuffer();
}

describe('page type', () => {
  it('finds blank leaves from the pixels, and not register pages at any noise level', async () => {
    for (const seed of [1, 2]) expect(await blankVerdict(await blankLeaf(1240, 877, seed))).toMatchObject({ type: 'blank' });
    for (const noise of [0, 3] as const) {
      const book = planBook({ seed: 5, pages: 1, style: 'typewriter', noise, lowContrast: noise === 3, scale: 0.5 });
      const png = await book.renderPng(1);
      expect(await blankVerdict(png)).toBeUndefined();
      expect(await inkRatio(png)).toBeGreaterThan(0.005);
    }
    // A cover: a few large words on an empty sheet is not blank.
    const cover = await sharp(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="1240" height="877"><rect width="100%" height="100%" fill="#eee"/><text x="300" y="400" font-size="72" font-family="serif">REGJISTRI I LINDJEVE</text><text x="520" y="520" font-size="64" font-family="serif">1958</text></svg>')).png().toBuffer();
    expect(await blankVerdict(cover)).toBeUndefined();
  });

  it('tells register, index and cover pages apart by their words', () => {
    const book = planBook({ seed: 9, pages: 1, scale: 0.5 });
    const truth = book.truth.pages[0]!;
    const words = [...truth.header.lines.map((h, i) => ({ text: h.text, line: i }))];
    truth.entries.forEach((e, i) => e.cells.forEach((c) => c.text.split(/\s+/).forEach((t) => words.push({ text: t, line: 100 + i }))));
    expect(classifyPageWords(words).type).toBe('register');
    const index = Array.from({ length: 12 }, (_, i) => [{ text: `Krasniqi${i}`, line: i }, { text: 'Arbën', line: i }, { text: String(10 + i), line: i }]).flat();
    expect(classifyPageWords(index).type).toBe('index');
    expect(classifyPageWords([{ text: 'REGJISTRI', line: 0 }, { text: 'I', line: 0 }, { text: 'LINDJEVE', line: 0 }, { text: '1958', line: 1 }]).type).toBe('cover');
    expect(classifyPageWords([])).toEqual({ type: 'blank', reason: 'no words were read' });
  });
});

describe('handwriting verdict', () => {
  // Word confidences as tesseract gives them: a hand's letters read as something, unsurely.
  const words = (confs: readonly number[], text = 'Krasniqi') => confs.map((confidence) => ({ text, confidence }));
  const mean = (c: readonly number[]) => c.reduce((a, b) => a + b, 0) / c.length;

  it('flags a reading of many unsure words at low mean confidence, saying what it measured', () => {
    const confs = Array.from({ length: 60 }, (_, i) => (i % 3 === 0 ? 88 : i % 3 === 1 ? 35 : 20));
    const v = handwritingByReading({ meanConfidence: mean(confs), words: words(confs) });
    expect(v).toEqual({ type: 'handwritten', reason: 'reads as handwriting: mean OCR confidence 47.7 (below 67), 67% of 60 words of 3+ letters read below 50' });
  });

  it('leaves printed readings alone, noisy ones included, and readings too short to judge', () => {
    // Noisy typewriter pages read at ~70-80 with a few unsure words.
    const noisy = Array.from({ length: 80 }, (_, i) => (i % 5 === 0 ? 30 : 85));
    expect(handwritingByReading({ meanConfidence: mean(noisy), words: words(noisy) })).toBeUndefined();
    // Low confidence alone is not enough: the words must be unsure too (one surely read line with ink specks around it).
    const specks = Array.from({ length: 40 }, () => 60);
    expect(handwritingByReading({ meanConfidence: 60, words: words(specks) })).toBeUndefined();
    // A cover or an empty reading goes to review, not keying.
    expect(handwritingByReading({ meanConfidence: 20, words: words([20, 10, 15]) })).toBeUndefined();
    // Words of fewer than three letters (numbers, sexes, initials) do not count.
    expect(handwritingByReading({ meanConfidence: 30, words: words(Array.from({ length: 50 }, () => 20), '12') })).toBeUndefined();
    expect(handwritingByReading({ meanConfidence: HANDWRITING_MAX_CONFIDENCE, words: words(Array.from({ length: 50 }, () => 20)) })).toBeUndefined();
  });
});
