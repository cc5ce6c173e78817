import { describe, expect, it } from 'vitest';
import { orientationFromOsd } from './native-output.ts';

// What `tesseract … --psm 0` prints for a page (Tesseract 5).
const report = (rotate: number, script: string) => `Page number: 0
Orientation in degrees: ${(360 - rotate) % 360}
Rotate: ${rotate}
Orientation confidence: 7.42
Script: ${script}
Script confidence: 3.18
`;

describe('native OSD report', () => {
  it('reads the turn, its confidence and the script OSD found', () => {
    expect(orientationFromOsd(report(90, 'Cyrillic'))).toEqual({ rotate: 90, confidence: 7.42, script: 'Cyrillic', scriptConfidence: 3.18 });
    expect(orientationFromOsd(report(0, 'Latin'))).toMatchObject({ rotate: 0, script: 'Latin' });
  });

  it('leaves the script out when OSD names none, and gives no orientation without a turn', () => {
    expect(orientationFromOsd('Rotate: 180\nOrientation confidence: 2.5\n')).toEqual({ rotate: 180, confidence: 2.5 });
    expect(orientationFromOsd('Too few characters. Skipping this page\n')).toBeUndefined();
  });
});
