import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CHROMIUM, requireBrowser } from './browser.ts';
import { isCI } from './services.ts';

describe('requireBrowser', () => {
  const missing = { file: path.join(import.meta.dirname, 'no-such-file.js'), missing: 'no-such-file.js is missing (a test of the check)' };

  it('fails under CI and skips otherwise when something a browser test needs is missing', () => {
    const check = () => requireBrowser({ webBuild: false, needs: [missing] });
    if (isCI) expect(check).toThrow('CI=true but no-such-file.js is missing (a test of the check)');
    else expect(check()).toBe(false);
  });

  it('is ready when Chromium and what else is needed are there', () => {
    const check = () => requireBrowser({ webBuild: false, needs: [{ file: import.meta.filename, missing: 'this test file' }] });
    if (fs.existsSync(CHROMIUM)) expect(check()).toBe(true);
    else if (isCI) expect(check).toThrow(`CI=true but ${CHROMIUM} is missing`);
    else expect(check()).toBe(false);
  });
});
