import { describe, expect, it } from 'vitest';
import { newSerial, normaliseSerial, SERIAL_PATTERN } from './serial.ts';

describe('extract serials', () => {
  it('are the year of issue and ten random Crockford base32 characters', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 500; i++) {
      const s = newSerial(new Date('2026-03-04T10:00:00Z'));
      expect(s).toMatch(SERIAL_PATTERN);
      expect(s.startsWith('2026-')).toBe(true);
      expect(s).not.toMatch(/[ILOU]/);
      seen.add(s);
    }
    expect(seen.size).toBe(500);
  });

  it('are read back as people type them: case, spaces, O for 0 and I/L for 1 forgiven; anything else refused', () => {
    expect(normaliseSerial(' 2026-7k3qx-m9pad ')).toBe('2026-7K3QX-M9PAD');
    expect(normaliseSerial('2026-7K3QX-M9PAO')).toBe('2026-7K3QX-M9PA0');
    expect(normaliseSerial('2026-IK3QX-M9PAL')).toBe('2026-1K3QX-M9PA1');
    expect(normaliseSerial('2026 - 7K3QX - M9PAD')).toBe('2026-7K3QX-M9PAD');
    for (const bad of ['', '2026-7K3QX', '26-7K3QX-M9PAD', '2026-7K3QX-M9PAU', "2026-7K3QX-M9PA'; --", '2026-7K3QX-M9PADD']) expect(normaliseSerial(bad), bad).toBeUndefined();
  });
});
