import { describe, expect, it } from 'vitest';
import { planBook } from '../fixtures/book.ts';
import type { Box, PageTruth } from '../fixtures/truth.ts';
import { detectRegisterGrid, type GridBox } from './register-grid.ts';

const iou = (a: Box | GridBox, b: Box | GridBox): number => {
  const w = Math.max(0, Math.min(a.left + a.width, b.left + b.width) - Math.max(a.left, b.left));
  const h = Math.max(0, Math.min(a.top + a.height, b.top + b.height) - Math.max(a.top, b.top));
  return (w * h) / (a.width * a.height + b.width * b.height - w * h);
};

async function detect(opts: Parameters<typeof planBook>[0]) {
  const book = planBook(opts);
  const truth = book.truth.pages[0] as PageTruth;
  const grid = detectRegisterGrid(await book.renderRaw(1), { dpi: truth.dpi });
  const found = truth.entries.filter((e) => grid.zones.some((z) => iou(e.box, z.box) >= 0.5)).length;
  return { truth, grid, found };
}

describe('detectRegisterGrid', () => {
  it('finds every entry row, the columns and the header of a clean printed page', async () => {
    const { truth, grid, found } = await detect({ seed: 61, pages: 1, scale: 0.5, style: 'printed', entriesPerPage: [12, 12] });
    expect(found).toBe(truth.entries.length);
    // The form's two empty rows hold no writing, so they get no zone.
    expect(grid.zones).toHaveLength(12);
    expect(grid.columns).toHaveLength(truth.columns.length);
    expect(grid.headerRow).toBeDefined();
    const head = truth.columns[0]!.box;
    expect(Math.abs(grid.headerRow!.y0 - head.top)).toBeLessThan(4);
    // Cells line up with the truth's, column by column.
    const entry = truth.entries[5]!;
    const zone = grid.zones.find((z) => iou(entry.box, z.box) >= 0.5)!;
    entry.cells.forEach((c, i) => expect(iou(c.box, zone.cells[i]!)).toBeGreaterThan(0.8));
  });

  it('finds nearly all rows of a noisy, skewed handwritten Serbian page with faint, drifting rules', async () => {
    const { truth, grid, found } = await detect({
      seed: 62, pages: 1, scale: 0.5, style: 'handwritten', language: 'sr-Cyrl', noise: 3, skewDeg: -1.4, entriesPerPage: [13, 13],
    });
    expect(found).toBeGreaterThanOrEqual(truth.entries.length - 1);
    expect(grid.columns).toHaveLength(truth.columns.length);
    expect(grid.headerRow).toBeDefined();
    expect(Math.abs(grid.skewDeg - truth.skewDeg)).toBeLessThan(0.15);
  });

  it('splits rows by the lines of writing when the form rules only its columns', async () => {
    const { truth, grid, found } = await detect({
      seed: 63, pages: 1, scale: 0.5, style: 'handwritten', noise: 2, rowRules: false, entriesPerPage: [11, 11],
    });
    expect(found).toBeGreaterThanOrEqual(truth.entries.length - 1);
    expect(grid.rows.every((r) => r.source === 'text-lines')).toBe(true);
    expect(grid.headerRow).toBeDefined();
  });

  it('proposes no zones on a blank page, plain or noisy', async () => {
    const white = { data: new Uint8Array(1240 * 877).fill(255), width: 1240, height: 877 };
    expect(detectRegisterGrid(white, { dpi: 150 }).zones).toEqual([]);
    const noisy = await planBook({ seed: 64, pages: 1, scale: 0.5, noise: 3, entriesPerPage: [0, 0] }).renderRaw(1);
    // A form with no entries written: the rules are found, but no row holds writing.
    const grid = detectRegisterGrid(noisy, { dpi: 150 });
    expect(grid.columns.length).toBeGreaterThan(0);
    expect(grid.zones).toEqual([]);
  });
});
