import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

// Read as text: the browser app may not import server files (scripts/architecture.ts), and i18n.ts
// reads localStorage when loaded.
const root = path.resolve(import.meta.dirname, '../..');
const read = (f: string) => fs.readFileSync(path.join(root, f), 'utf8');

describe('error codes in words', () => {
  it('has an English and an Albanian sentence for every code of the error registry and every refusal reason', () => {
    const registry = read('common/errors.ts');
    const codes = [...registry.slice(registry.indexOf('ERROR_CODES'), registry.indexOf('} as const')).matchAll(/^\s+(ERR_[A-Z_]+):/gm)].map((m) => m[1]!);
    expect(codes.length).toBeGreaterThan(10);
    const reasons = [...read('auth/policy.ts').matchAll(/reason: '([a-z-]+)'/g)].map((m) => m[1]!);
    expect(new Set(reasons)).toEqual(new Set(['closed-purpose-required', 'closed-role', 'closed-delegated']));
    const labels = read('web/src/i18n.ts');
    const missing = [...codes.map((c) => `err_${c}`), ...reasons.map((r) => `errr_${r}`)].filter((k) => {
      // A label is a pair of two non-empty strings: [English, Albanian].
      const m = new RegExp(`^\\s+'?${k}'?: \\['([^']+)', '([^']+)'\\],$`, 'm').exec(labels);
      return !m || m[1] === m[2];
    });
    expect(missing).toEqual([]);
  });
});
