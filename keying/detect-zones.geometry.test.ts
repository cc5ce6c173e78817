import { describe, expect, it } from 'vitest';
import type { RegisterGrid } from '../ocr/index.ts';
import { headerWordsOf, zoneShapes } from './detect-zones.ts';
import { masterPointToUpright, uprightBoxToMaster } from './reading-order.ts';

const W = 1000;
const H = 600;

describe('zone geometry between the upright raster and the master', () => {
  it('maps a box of the page turned upright back onto the master, for every quarter turn', () => {
    for (const turn of [0, 90, 180, 270] as const) {
      const box = { x0: 100, y0: 40, x1: 180, y1: 70 };
      // Corners of the master box, seen upright, must span the upright box again.
      const m = uprightBoxToMaster(box, turn, W, H);
      const ups = [[m.x0, m.y0], [m.x1, m.y1]].map(([x, y]) => masterPointToUpright(x!, y!, turn, W, H));
      expect({ x0: Math.min(ups[0]!.x, ups[1]!.x), y0: Math.min(ups[0]!.y, ups[1]!.y), x1: Math.max(ups[0]!.x, ups[1]!.x), y1: Math.max(ups[0]!.y, ups[1]!.y) }, `turn ${turn}`).toEqual(box);
    }
    // A page scanned a quarter turn anticlockwise (stood upright by turning it 90° clockwise): the
    // upright top-left corner is the master's bottom-left.
    expect(uprightBoxToMaster({ x0: 0, y0: 0, x1: 10, y1: 20 }, 90, W, H)).toEqual({ x0: 0, y0: 590, x1: 20, y1: 600 });
  });

  const grid: RegisterGrid = {
    skewDeg: 0,
    columns: [{ x0: 100, x1: 200 }, { x0: 200, x1: 260 }, { x0: 260, x1: 400 }],
    headerRow: { y0: 50, y1: 90 },
    rows: [{ y0: 90, y1: 120, source: 'rules' }],
    zones: [{
      box: { left: 100, top: 90, width: 300, height: 30 },
      cells: [{ left: 100, top: 90, width: 100, height: 30 }, { left: 200, top: 90, width: 60, height: 30 }, { left: 260, top: 90, width: 140, height: 30 }],
    }],
    rules: { horizontal: [50, 90, 120], vertical: [100, 200, 260, 400] },
  };

  it('takes the header row words of the reading, in the raster frame of the columns', () => {
    const word = (text: string, x0: number, y0: number) => ({ text, confidence: 90, line: 0, block: 0, bbox: { x0, y0, x1: x0 + 40, y1: y0 + 20 } });
    // The raster is the master at half size: master pixels are twice the raster's.
    const reading = { words: [word('Nr.', 220, 120), word('Emri', 420, 130), word('Arbën', 220, 200), word(' ', 600, 120)] };
    const words = headerWordsOf(grid, reading, { turn: 0, masterWidth: W, masterHeight: H, scale: 0.5, rasterWidth: 500, rasterHeight: 300 });
    expect(words).toEqual([{ text: 'Nr.', x: 120 }, { text: 'Emri', x: 220 }]);
    expect(headerWordsOf(grid, undefined, { turn: 0, masterWidth: W, masterHeight: H, scale: 0.5, rasterWidth: 500, rasterHeight: 300 })).toEqual([]);
  });

  it('gives each layout column the box around its spans, in master pixels, or no cells when unmatched', () => {
    const frame = { turn: 0 as const, masterWidth: W, masterHeight: H, scale: 0.5 };
    const [z] = zoneShapes(grid, { matched: true, method: 'headings', groups: [[0], [1, 2]], dropped: [] }, frame);
    expect(z).toEqual({
      box: { x0: 200, y0: 180, x1: 800, y1: 240 },
      cells: [{ x0: 200, y0: 180, x1: 400, y1: 240 }, { x0: 400, y0: 180, x1: 800, y1: 240 }],
    });
    expect(zoneShapes(grid, { matched: false, reason: 'x' }, frame)[0]!.cells).toEqual([]);
  });
});
