import { describe, expect, it } from 'vitest';
import { minRuleRun, otsuThreshold, removeVerticalRules, type GreyImage } from './ruling-lines.ts';

/** A page of `paper` grey with dark rectangles drawn on it. */
function page(width: number, height: number, paper: number, marks: { x: number; y: number; w: number; h: number; v?: number }[]): GreyImage {
  const data = new Uint8Array(width * height).fill(paper);
  for (const m of marks) for (let y = m.y; y < m.y + m.h; y++) for (let x = m.x; x < m.x + m.w; x++) data[y * width + x] = m.v ?? 20;
  return { data, width, height };
}
const at = (img: GreyImage, x: number, y: number) => img.data[y * img.width + x]!;

describe('vertical rule removal', () => {
  it('paints a column rule over in the paper tone and leaves letter strokes, horizontal rules and the rest alone', () => {
    const img = page(200, 300, 230, [
      { x: 50, y: 10, w: 2, h: 280 }, // a column rule, two pixels wide
      { x: 10, y: 150, w: 180, h: 1 }, // a row rule
      { x: 80, y: 100, w: 3, h: 30 }, // the stem of an 'l', 30 px at 150 dpi
      { x: 90, y: 100, w: 12, h: 3 }, // a crossbar
    ]);
    const before = Uint8Array.from(img.data);
    const r = removeVerticalRules(img, { minRun: minRuleRun(150) });
    expect(r.runs).toBe(2);
    expect(at(img, 50, 20)).toBe(230);
    expect(at(img, 51, 280)).toBe(230);
    expect(at(img, 80, 110)).toBe(20);
    expect(at(img, 95, 101)).toBe(20);
    // The row rule keeps every pixel except where the column rule crossed it.
    for (let x = 10; x < 190; x++) if (x !== 50 && x !== 51) expect(at(img, x, 150)).toBe(20);
    const changed = img.data.reduce((n, v, i) => n + (v !== before[i] ? 1 : 0), 0);
    expect(changed).toBe(r.cleared);
    expect(r.cleared).toBe(2 * 280);
  });

  it('follows a rule across small breaks, and takes its grey anti-aliased edge with it, but not ink touching it', () => {
    const img = page(100, 200, 250, [
      { x: 40, y: 0, w: 1, h: 90 },
      { x: 40, y: 92, w: 1, h: 100 }, // broken by two light pixels (scanner noise)
      { x: 41, y: 0, w: 1, h: 192, v: 160 }, // anti-aliased edge: lighter than ink, darker than paper
      { x: 36, y: 50, w: 4, h: 10 }, // a letter touching the rule on its left
    ]);
    removeVerticalRules(img, { minRun: 48, maxGap: 2 });
    for (const y of [0, 91, 150, 191]) expect([at(img, 40, y), at(img, 41, y)]).toEqual([250, 250]);
    expect(at(img, 39, 55)).toBe(20);
  });

  it('leaves a blank page and a page of short strokes exactly as they were', () => {
    const blank = page(50, 80, 255, []);
    expect(removeVerticalRules(blank, { minRun: 30 })).toEqual({ runs: 0, cleared: 0 });
    expect(blank.data.every((v) => v === 255)).toBe(true);
    const text = page(120, 120, 240, Array.from({ length: 30 }, (_, i) => ({ x: 4 * i, y: (i % 3) * 40, w: 2, h: 25 })));
    const before = Uint8Array.from(text.data);
    expect(removeVerticalRules(text, { minRun: minRuleRun(150) }).runs).toBe(0);
    expect(text.data).toEqual(before);
  });

  it('refuses an image whose bytes do not match its size', () => {
    expect(() => removeVerticalRules({ data: new Uint8Array(10), width: 5, height: 5 }, { minRun: 10 })).toThrow(/needs 25 bytes/);
  });

  it("splits paper from ink by Otsu's threshold whatever the paper's tone", () => {
    const hist = new Array<number>(256).fill(0);
    hist[40] = 100;
    hist[200] = 900;
    const t = otsuThreshold(hist);
    expect(t).toBeGreaterThanOrEqual(40);
    expect(t).toBeLessThan(200);
  });
});
