import { describe, expect, it } from 'vitest';
import { renderTextPage } from '../test-support/synthetic-page.ts';
import { OrientationMemo } from './orientation-memo.ts';
import type { OrientationDetector } from './tesseract-osd.ts';
import { TesseractOcrEngine } from './tesseract.ocr-engine.ts';

describe('orientation found once per page image', () => {
  it('runs detection once for the same image, again for another, and forgets a failed one', async () => {
    const memo = new OrientationMemo();
    const a = Buffer.from('page a');
    const b = Buffer.from('page a');
    let calls = 0;
    const detect = async () => {
      calls += 1;
      return { rotate: 90 as const, confidence: 9 };
    };
    expect(await memo.detect(a, detect)).toEqual({ rotate: 90, confidence: 9 });
    expect(await memo.detect(a, detect)).toEqual({ rotate: 90, confidence: 9 });
    expect(calls).toBe(1);
    // Another buffer with the same bytes is another image as far as the memo knows: detected again.
    await memo.detect(b, detect);
    expect(calls).toBe(2);
    const c = Buffer.from('page c');
    await expect(memo.detect(c, async () => { throw new Error('aborted'); })).rejects.toThrow('aborted');
    await memo.detect(c, detect);
    expect(calls).toBe(3);
  });

  it('a page read with several orientation-detecting profiles (as the fallback chain does) is detected once', async () => {
    let detections = 0;
    const detector: OrientationDetector = {
      async detect() {
        detections += 1;
        return { rotate: 0, confidence: 12 };
      },
      close: async () => undefined,
    };
    const engine = new TesseractOcrEngine({ poolSize: 1, recycleAfterPages: 100, recycleRssMb: 16384, orientationDetector: detector });
    try {
      const page = (await renderTextPage({ width: 1200, height: 400, lines: ['Regjistri i lindjeve 1960', 'Ahmeti Donika Prishtinë'] })).png;
      for (const profile of [{ name: 'a', detectOrientation: true }, { name: 'b', detectOrientation: true, flip: true }, { name: 'c', detectOrientation: true, normalise: true }]) {
        const r = await engine.recognize(page, { languages: ['sqi'], profile });
        expect(r.profile).toBe(profile.name);
      }
      expect(detections).toBe(1);
      await engine.recognize(Buffer.from(page), { languages: ['sqi'], profile: { name: 'd', detectOrientation: true } });
      expect(detections).toBe(2);
    } finally {
      await engine.close();
    }
  }, 60_000);
});
