import { afterAll, describe, expect, it } from 'vitest';
import { planBook } from '../fixtures/book.ts';
import { surnameRecall } from '../fixtures/ocr-support.ts';
import type { Rotation } from '../fixtures/truth.ts';
import { recognizeBounded } from './ocr-attempts.ts';
import { OCR_PROFILES } from './ocr-profiles.ts';
import { TesseractOcrEngine } from './tesseract.ocr-engine.ts';

// Pages at scale 0.5 (1240×877, 150 dpi) keep each recognition near a second on two cores.
const engine = new TesseractOcrEngine({ poolSize: 2, recycleAfterPages: 1000, recycleRssMb: 16384 });
afterAll(() => engine.close());

describe('TesseractOcrEngine: preparation and orientation', () => {
  it.each([90, 180, 270] as Rotation[])('turns a page scanned at %i degrees upright, reads it, and reports the turn', async (rotate) => {
    const book = planBook({ seed: 300 + rotate, pages: 1, scale: 0.5, rotate });
    const png = await book.renderPng(1);
    const r = await engine.recognize(png, { languages: ['sqi'], profile: OCR_PROFILES.printed });
    expect(r.orientation).toBe((360 - rotate) % 360);
    expect(r.profile).toBe('printed');
    expect(surnameRecall(book.truth.pages[0]!, r.text).recall).toBeGreaterThanOrEqual(0.9);
    // Boxes stay in the pixels of the image given (sideways here), not of the turned copy.
    const sideways = rotate !== 180;
    expect([r.width, r.height]).toEqual(sideways ? [877, 1240] : [1240, 877]);
    for (const w of r.words) expect(w.bbox.x1 <= r.width && w.bbox.y1 <= r.height && w.bbox.x0 <= w.bbox.x1 && w.bbox.y0 <= w.bbox.y1).toBe(true);
    if (sideways) expect(r.words.filter((w) => w.text.length > 3).every((w) => w.bbox.y1 - w.bbox.y0 > w.bbox.x1 - w.bbox.x0)).toBe(true);
  });

  it('reports orientation 0 for an upright page', async () => {
    const book = planBook({ seed: 301, pages: 1, scale: 0.5, style: 'typewriter', noise: 2 });
    const r = await engine.recognize(await book.renderPng(1), { languages: ['sqi'], profile: OCR_PROFILES.typewriter });
    expect(r.orientation).toBe(0);
    expect(surnameRecall(book.truth.pages[0]!, r.text).recall).toBeGreaterThanOrEqual(0.9);
  });

  it('reads a noisy typewriter page (noise 3) with the typewriter profile', async () => {
    // Measured 98-100% with the chosen profile on the bench's noise-3 typewriter fixtures.
    const book = planBook({ seed: 303, pages: 1, scale: 0.5, style: 'typewriter', noise: 3 });
    const r = await engine.recognize(await book.renderPng(1), { languages: ['sqi'], profile: OCR_PROFILES.typewriter });
    expect(surnameRecall(book.truth.pages[0]!, r.text).recall).toBeGreaterThanOrEqual(0.9);
  });

  it('ends attempts over a tiny time bound, recycles the worker, lists the page for review, and reads the next page', async () => {
    const book = planBook({ seed: 304, pages: 1, scale: 0.5 });
    const png = await book.renderPng(1);
    const before = engine.stats().recycled;
    const started = performance.now();
    const bounded = await recognizeBounded(engine, png, { languages: ['sqi'], profiles: [OCR_PROFILES.printed, { name: 'fallback' }], timeoutMs: 5 });
    expect(performance.now() - started).toBeLessThan(10_000);
    expect(bounded.result).toBeUndefined();
    expect(bounded.review).toBe(true);
    expect(bounded.attempts.map((a) => [a.profile, a.outcome])).toEqual([['printed', 'timeout'], ['fallback', 'timeout']]);
    expect(engine.stats().recycled).toBeGreaterThanOrEqual(before + 2);
    const again = await recognizeBounded(engine, png, { languages: ['sqi'], profiles: [OCR_PROFILES.printed] });
    expect(surnameRecall(book.truth.pages[0]!, again.result!.text).recall).toBeGreaterThanOrEqual(0.9);
  });
});
