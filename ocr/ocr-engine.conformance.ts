import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAppError } from '../common/index.ts';
import { planBook } from '../fixtures/book.ts';
import { surnameRecall } from '../fixtures/ocr-support.ts';
import type { Rotation } from '../fixtures/truth.ts';
import { REGISTER_LINES, renderTextPage, type DrawnWord, type SyntheticPage } from '../test-support/synthetic-page.ts';
import { OcrTimeoutError, type OcrBox, type OcrEngine, type OcrResult } from './ocr-engine.ts';
import { OCR_PROFILES } from './ocr-profiles.ts';

/** Opens a fresh engine for one conformance run; the suite closes it. */
export type OpenOcrEngine = (options: { poolSize: number }) => OcrEngine;

const LANGS = ['sqi', 'srp', 'eng'];

/** Whether native `tesseract` runs here, and what the suite should do about it (CI must have it). */
export function nativeTesseractStatus(binary = 'tesseract'): { available: boolean; failInCi: boolean; message: string } {
  const r = spawnSync(binary, ['--version'], { encoding: 'utf8' });
  const available = r.status === 0 && /^tesseract 5\./m.test(`${r.stdout}${r.stderr}`);
  return {
    available,
    failInCi: !available && process.env.CI === 'true',
    message: available ? '' : `native tesseract 5 not found (\`${binary} --version\` failed); install Debian's tesseract-ocr to run the native OCR tests`,
  };
}

/** The word found with this exact text; fails the test naming what was read instead. */
export function wordOf(r: OcrResult, text: string) {
  const w = r.words.find((x) => x.text === text);
  if (!w) throw new Error(`"${text}" not read; got: ${r.text}`);
  return w;
}

/** The recognised box hugs the drawn ink: edges within `tol`, except the right edge, which LSTM may place up to half an em short. */
export function expectNearInk(box: OcrBox, drawn: DrawnWord, tol: number, scale = 1): void {
  const { ink } = drawn;
  expect(Math.abs(box.x0 - ink.x0), `x0 of ${drawn.text}`).toBeLessThanOrEqual(tol);
  expect(Math.abs(box.y0 - ink.y0), `y0 of ${drawn.text}`).toBeLessThanOrEqual(tol);
  expect(Math.abs(box.y1 - ink.y1), `y1 of ${drawn.text}`).toBeLessThanOrEqual(tol);
  expect(box.x1, `x1 of ${drawn.text}`).toBeLessThanOrEqual(ink.x1 + tol);
  expect(box.x1, `x1 of ${drawn.text}`).toBeGreaterThanOrEqual(ink.x1 - drawn.size * 0.5 * scale);
}

/** The word drawn on a synthetic page with this text. */
export function drawnWord(page: SyntheticPage, text: string): DrawnWord {
  return page.words.find((w) => w.text === text)!;
}

/**
 * The behaviour every OcrEngine adapter must show, as one vitest suite: what the OCR stage relies
 * on, whichever engine reads. `open` is called when the tests run, so a skipped suite starts nothing.
 * With `failBecause`, the suite is one failing test saying why (an adapter CI must run is missing).
 */
export function describeOcrEngineConformance(label: string, open: OpenOcrEngine, opts: { skip?: string; failBecause?: string } = {}): void {
  if (opts.failBecause) {
    describe(`OcrEngine conformance: ${label}`, () => {
      it('can run here', () => {
        expect.fail(opts.failBecause);
      });
    });
    return;
  }
  if (opts.skip) console.warn(`OcrEngine conformance: ${label} skipped: ${opts.skip}`);
  describe.skipIf(opts.skip !== undefined)(`OcrEngine conformance: ${label}`, () => {
    let engine: OcrEngine;
    let mixed: SyntheticPage;
    let small: SyntheticPage;
    beforeAll(async () => {
      engine = open({ poolSize: 2 });
      [mixed, small] = await Promise.all([
        renderTextPage({ width: 1400, height: 700, lines: REGISTER_LINES.slice(0, 6) }),
        renderTextPage({ width: 800, height: 220, lines: ['Gjergj Krasniqi 1958'] }),
      ]);
    });
    afterAll(() => engine?.close());

    it('reads Albanian and Serbian Cyrillic, with boxes where the words were drawn and confidences in 0..100', async () => {
      const r = await engine.recognize(mixed.png, { languages: LANGS });
      expect([r.width, r.height]).toEqual([1400, 700]);
      expect(r.engine).toMatch(/LSTM.* \/ sqi\+srp\+eng 4\.0\.0_best_int$/);
      for (const text of ['Gjergj', 'Krasniqi', '12.03.1958', 'Prishtinë', 'Милош', 'Јовановић', 'Београд', 'Gjakovë', 'Петровић']) {
        expectNearInk(wordOf(r, text).bbox, drawnWord(mixed, text), 6);
      }
      for (const w of [...r.words, ...r.lines]) {
        expect(w.confidence).toBeGreaterThanOrEqual(0);
        expect(w.confidence).toBeLessThanOrEqual(100);
      }
      expect(r.meanConfidence).toBeGreaterThan(80);
      expect(r.meanConfidence).toBeLessThanOrEqual(100);
      expect(r.lines).toHaveLength(6);
      expect(r.lines[wordOf(r, 'Јовановић').line]!.text).toBe('Милош Јовановић 1961 Београд');
      expect(r.lines.reduce((n, l) => n + l.words, 0)).toBe(r.words.length);
      expect(r.text).toContain('Gjergj Krasniqi 12.03.1958 Prishtinë\n');
      expect(r.hocr).toBeUndefined();
      expect(r.pdf).toBeUndefined();
    });

    it('gives the mean confidence weighted by characters, from the words it returns', async () => {
      const r = await engine.recognize(mixed.png, { languages: LANGS });
      const chars = r.words.reduce((n, w) => n + [...w.text].length, 0);
      const weighted = r.words.reduce((n, w) => n + w.confidence * [...w.text].length, 0) / chars;
      // words carry confidences rounded to 0.1, the mean is taken before rounding
      expect(Math.abs(r.meanConfidence - weighted)).toBeLessThan(0.1);
    });

    it.each([90, 180, 270] as Rotation[])('stands a page scanned at %i degrees upright with detectOrientation, reads it and reports the turn', async (rotate) => {
      const book = planBook({ seed: 300 + rotate, pages: 1, scale: 0.5, rotate });
      const r = await engine.recognize(await book.renderPng(1), { languages: ['sqi'], profile: OCR_PROFILES.printed });
      expect(r.orientation).toBe((360 - rotate) % 360);
      expect(r.orientationConfidence).toBeGreaterThan(0);
      expect(r.profile).toBe('printed');
      expect(surnameRecall(book.truth.pages[0]!, r.text).recall).toBeGreaterThanOrEqual(0.9);
      const sideways = rotate !== 180;
      // boxes in the pixels of the image given (sideways here), not of the turned copy
      expect([r.width, r.height]).toEqual(sideways ? [877, 1240] : [1240, 877]);
      if (sideways) expect(r.words.filter((w) => w.text.length > 3).every((w) => w.bbox.y1 - w.bbox.y0 > w.bbox.x1 - w.bbox.x0)).toBe(true);
    });

    it('gives words and hOCR in the pixels of the page given when it downscaled the page for OCR', async () => {
      // Text placed right of x = 3500, so a box left in OCR-image pixels could not pass.
      const page = await renderTextPage({ width: 5000, height: 1300, size: 90, left: 2600, lines: REGISTER_LINES.slice(0, 4) });
      const r = await engine.recognize(page.png, { languages: LANGS, hocr: true, imageName: 'master.png' });
      expect([r.width, r.height]).toEqual([5000, 1300]);
      const scale = 5000 / 3500;
      for (const text of ['Krasniqi', 'Prishtinë', 'Јовановић', 'Gjakovë']) expectNearInk(wordOf(r, text).bbox, drawnWord(page, text), Math.ceil(6 * scale), scale);
      // A whole hOCR 1.2 document, whichever engine read the page (ocr/hocr-document.test.ts checks it in depth).
      expect(r.hocr).toMatch(/^<\?xml version="1\.0" encoding="UTF-8"\?>\n<!DOCTYPE html /);
      expect(r.hocr).toContain('<meta name="ocr-langs" content="sq sr en"/>');
      expect(r.hocr).toContain(`<meta name="ocr-system" content="${r.engine}"/>`);
      expect(r.hocr).toContain(`<div class="ocr_page" id="page_1" title="image 'master.png'; bbox 0 0 5000 1300; ppageno 0`);
      expect(r.hocr).toMatch(/<meta name="ocr-capabilities" content="ocr_page ocr_carea ocr_par ocr_line ocrx_word[ a-z_]*"\/>/);
      expect(r.hocr).not.toMatch(/class='ocrx_word'[^>]*>\s/);
      // Well-formed XML, parsed by libxml2 where it is installed (CI has it: preservation/schemas.test.ts needs it).
      const lint = spawnSync('xmllint', ['--noout', '--nonet', '-'], { input: r.hocr, encoding: 'utf8' });
      if (!lint.error) expect(lint.status, lint.stderr).toBe(0);
      for (const text of ['Prishtinë', 'Јовановић']) {
        const b = wordOf(r, text).bbox;
        expect(r.hocr).toMatch(new RegExp(`bbox ${b.x0} ${b.y0} ${b.x1} ${b.y1}; x_wconf \\d+'[^>]*>${text}<`));
      }
    });

    it('refuses unknown languages with ERR_VALIDATION naming them, before starting any worker', async () => {
      const fresh = open({ poolSize: 1 });
      try {
        for (const languages of [['sqi', 'klingon'], ['osd'], []]) {
          const e = await fresh.recognize(small.png, { languages }).catch((x: unknown) => x);
          expect(isAppError(e, 'ERR_VALIDATION'), String(e)).toBe(true);
          if (languages.length) expect((e as Error).message).toContain(JSON.stringify(languages.at(-1)));
        }
        expect(isAppError(await fresh.recognize(small.png, { languages: ['sqi'], timeoutMs: -1 }).catch((x: unknown) => x), 'ERR_VALIDATION')).toBe(true);
        expect(fresh.stats()).toEqual({ workers: 0, busy: 0, recycled: 0, pagesDone: 0 });
      } finally {
        await fresh.close();
      }
    });

    it('stops a page over its time bound with OcrTimeoutError and reads the next one', async () => {
      const before = engine.stats();
      const e = await engine.recognize(mixed.png, { languages: LANGS, timeoutMs: 50 }).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(OcrTimeoutError);
      expect(engine.stats().recycled).toBe(before.recycled + 1);
      const r = await engine.recognize(small.png, { languages: ['sqi'], timeoutMs: 30_000 });
      expect(r.text.trim()).toBe('Gjergj Krasniqi 1958');
      expect(engine.stats()).toMatchObject({ busy: 0, pagesDone: before.pagesDone + 1 });
    });

    it('rejects a page with its signal’s reason when aborted while reading, and reads the next one', async () => {
      const controller = new AbortController();
      const reason = new Error('operator stopped the book');
      const page = engine.recognize(mixed.png, { languages: LANGS, signal: controller.signal }).catch((x: unknown) => x);
      while (engine.stats().busy === 0) await new Promise((r) => setTimeout(r, 2));
      await new Promise((r) => setTimeout(r, 100));
      controller.abort(reason);
      expect(await page).toBe(reason);
      expect(await engine.recognize(small.png, { languages: ['sqi'], signal: AbortSignal.abort(reason) }).catch((x: unknown) => x)).toBe(reason);
      expect((await engine.recognize(small.png, { languages: ['sqi'] })).text.trim()).toBe('Gjergj Krasniqi 1958');
    });

    it('close() fails the page in flight and refuses later calls', async () => {
      const closing = open({ poolSize: 1 });
      await closing.recognize(small.png, { languages: ['sqi'] });
      const inFlight = closing.recognize(mixed.png, { languages: LANGS }).catch((x: unknown) => x);
      const queued = closing.recognize(mixed.png, { languages: LANGS }).catch((x: unknown) => x);
      while (closing.stats().busy === 0) await new Promise((r) => setTimeout(r, 2));
      await closing.close();
      expect(isAppError(await inFlight, 'ERR_UNAVAILABLE'), String(await inFlight)).toBe(true);
      expect(isAppError(await queued, 'ERR_UNAVAILABLE'), String(await queued)).toBe(true);
      expect(closing.stats()).toMatchObject({ workers: 0, busy: 0 });
      expect(isAppError(await closing.recognize(small.png, { languages: ['sqi'] }).catch((x: unknown) => x), 'ERR_UNAVAILABLE')).toBe(true);
    });
  });
}
