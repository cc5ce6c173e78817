/**
 * The accessibility helper itself: it must find what axe-core calls serious or critical (an
 * unlabelled field, an image without text, low contrast) and, as the browser tests enforce, moderate
 * (a skipped heading level), leave the moderate out when asked for graver ones only, and pass a
 * clean page; otherwise every browser test's accessibility check could pass without checking anything.
 */
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { axeViolations, expectAccessible } from './axe.ts';
import { isCI } from './services.ts';

const CHROMIUM = '/usr/bin/chromium';
const haveChromium = fs.existsSync(CHROMIUM);
if (isCI && !haveChromium) throw new Error(`CI=true but ${CHROMIUM} is missing (apt-get install chromium)`);

const SHELL = (body: string): string => `<!doctype html><html lang="en"><head><title>t</title></head><body><main><h1>Screen</h1>${body}</main></body></html>`;

describe.skipIf(!haveChromium)('axe helper', () => {
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    page = await browser.newPage();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
  });

  it('reports an unlabelled input, an image without text and low contrast, naming rule and element', async () => {
    await page.setContent(SHELL('<input id="q" type="text"><img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" id="pic"><p id="faint" style="color:#bbb;background:#fff">faint</p>'));
    const found = await axeViolations(page);
    expect(found.map((v) => v.id).sort()).toEqual(['color-contrast', 'image-alt', 'label']);
    expect(found.find((v) => v.id === 'label')!.targets).toEqual(['#q']);
    await expect(expectAccessible(page, 'broken screen')).rejects.toThrow(/broken screen: 3 violation\(s\) of impact moderate or above\n.*#/);
  }, 30_000);

  it('enforces a moderate finding (a skipped heading level) by default, and only graver ones when asked', async () => {
    await page.setContent(SHELL('<h3 id="deep">Details</h3><p>text</p>'));
    expect((await axeViolations(page)).map((v) => [v.id, v.impact, v.targets])).toEqual([['heading-order', 'moderate', ['#deep']]]);
    await expect(expectAccessible(page, 'deep heading')).rejects.toThrow(/deep heading: 1 violation\(s\) of impact moderate or above\n.*heading-order/);
    expect(await axeViolations(page, { minImpact: 'serious' })).toEqual([]);
    await expect(expectAccessible(page, 'deep heading', { minImpact: 'serious' })).resolves.toBeUndefined();
  }, 30_000);

  it('passes a labelled page, can be scoped to a part of it, and lets a screen skip a named rule', async () => {
    await page.setContent(SHELL('<label for="q">Name</label><input id="q" type="text"><img alt="a seal" src="data:image/gif;base64,R0lGODlhAQABAAAAACw="><p style="color:#333;background:#fff">dark</p>'));
    await expect(expectAccessible(page, 'clean screen')).resolves.toBeUndefined();
    await page.setContent(SHELL('<div id="good"><p>fine</p></div><div id="bad"><input type="text"></div>'));
    expect(await axeViolations(page, { include: '#good' })).toEqual([]);
    expect((await axeViolations(page, { disableRules: ['label'] })).map((v) => v.id)).toEqual([]);
    expect((await axeViolations(page)).map((v) => v.id)).toEqual(['label']);
  }, 30_000);
});
