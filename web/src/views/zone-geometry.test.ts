import { describe, expect, it } from 'vitest';
import { adjacent, mergedCells, reshape, splitShapes, type Zone } from './zone-geometry.ts';

const zone = (id: string, y0: number, y1: number, cells: Zone['cells'] = []): Zone => ({
  id, pageSequence: 1, layoutKey: 'birth-default', layoutVersion: 1, box: { x0: 100, y0, x1: 500, y1 }, cells, source: 'detected', status: 'open',
});
const cols = (y0: number, y1: number) => [{ x0: 100, y0, x1: 200, y1 }, { x0: 200, y0, x1: 500, y1 }];

describe('zone geometry', () => {
  it('moves the cells with the box, and stretches them with a resized one', () => {
    const shape = { box: { x0: 100, y0: 50, x1: 500, y1: 90 }, cells: cols(50, 90) };
    expect(reshape(shape, { x0: 110, y0: 60, x1: 510, y1: 100 }).cells).toEqual([{ x0: 110, y0: 60, x1: 210, y1: 100 }, { x0: 210, y0: 60, x1: 510, y1: 100 }]);
    // Twice as wide from the same left edge: the column rule at 200 goes to 300.
    expect(reshape(shape, { x0: 100, y0: 50, x1: 900, y1: 130 }).cells).toEqual([{ x0: 100, y0: 50, x1: 300, y1: 130 }, { x0: 300, y0: 50, x1: 900, y1: 130 }]);
    expect(reshape({ box: shape.box, cells: [] }, { x0: 0, y0: 0, x1: 10, y1: 10 })).toEqual({ box: { x0: 0, y0: 0, x1: 10, y1: 10 }, cells: [] });
  });

  it('splits a zone at a height into two, each with the columns over its own height', () => {
    const [a, b] = splitShapes({ box: { x0: 100, y0: 50, x1: 500, y1: 130 }, cells: cols(50, 130) }, 90);
    expect(a).toEqual({ box: { x0: 100, y0: 50, x1: 500, y1: 90 }, cells: cols(50, 90) });
    expect(b).toEqual({ box: { x0: 100, y0: 90, x1: 500, y1: 130 }, cells: cols(90, 130) });
  });

  it('merges only neighbouring zones, and keeps their columns when every part has them', () => {
    const all = [zone('a', 0, 40), zone('b', 40, 60, cols(40, 60)), zone('c', 60, 80, [{ x0: 90, y0: 60, x1: 210, y1: 80 }, { x0: 210, y0: 60, x1: 520, y1: 80 }]), zone('d', 90, 120)];
    const [a, b, c, d] = all as [Zone, Zone, Zone, Zone];
    expect(adjacent([b, c], all)).toBe(true);
    expect(adjacent([c, b, d], all)).toBe(true);
    expect(adjacent([a, c], all)).toBe(false);
    expect(adjacent([a], all)).toBe(false);
    const box = { x0: 100, y0: 40, x1: 500, y1: 80 };
    expect(mergedCells([b, c], box)).toEqual([{ x0: 90, y0: 40, x1: 210, y1: 80 }, { x0: 200, y0: 40, x1: 520, y1: 80 }]);
    // A part without cells: the merged zone has none rather than columns guessed for it.
    expect(mergedCells([a, b], { x0: 100, y0: 0, x1: 500, y1: 60 })).toEqual([]);
  });
});
