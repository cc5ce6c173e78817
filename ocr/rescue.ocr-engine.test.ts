import { afterAll, describe, expect, it } from 'vitest';
import { planBook } from '../fixtures/book.ts';
import { nameRecall } from '../fixtures/ocr-support.ts';
import { readsAsEmpty, recognizeBounded } from './ocr-attempts.ts';
import { profilesFor, RESCUE_PROFILE } from './ocr-profiles.ts';
import { TesseractOcrEngine } from './tesseract.ocr-engine.ts';

const engine = new TesseractOcrEngine({ poolSize: 1, recycleAfterPages: 1000, recycleRssMb: 16384 });
afterAll(() => engine.close());

describe('TesseractOcrEngine: the rescue of grey grainy carbon copies (issue 19)', () => {
  // Seed 11 at scale 0.5: every profile of the printed chain and the Sauvola rescue read no word of it (measured).
  const book = planBook({ seed: 11, pages: 1, scale: 0.5, style: 'typewriter', font: 'mono', paper: 'grey-grainy', entriesPerPage: [12, 12] });

  it('reads words on a page the Sauvola rescue read as nothing, by flattening its paper first', async () => {
    const png = await book.renderPng(1);
    const sauvola = await engine.recognize(png, { languages: ['sqi'], profile: RESCUE_PROFILE });
    expect(readsAsEmpty(sauvola)).toBe(true);

    const r = await recognizeBounded(engine, png, { languages: ['sqi'], profiles: profilesFor('printed') });
    expect(r.noText).toBe(false);
    expect(r.result!.profile).toBe('rescue:flatten');
    expect(r.result!.words.length).toBeGreaterThan(100);
    expect(nameRecall(book.truth.pages[0]!, r.result!.text).recall).toBeGreaterThanOrEqual(0.5);
  }, 30_000);
});
