import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type Tesseract from 'tesseract.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveXmllint } from '../test-support/xml-schema.ts';
import { hocrDocument } from './hocr-document.ts';
import { hocrPageFragment } from './native-output.ts';
import { hocrFromPage } from './tesseract-page.ts';

const xmllint = haveXmllint();
if (!xmllint && process.env.CI === 'true') throw new Error('xmllint (Debian libxml2-utils) is required under CI');

// What Debian's tesseract 5.3.0 wrote for a 900x300 page read from stdin (trimmed to two lines).
const NATIVE = `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN"
    "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<html xmlns="http://www.w3.org/1999/xhtml" xml:lang="en" lang="en">
 <head>
  <title></title>
  <meta http-equiv="Content-Type" content="text/html;charset=utf-8"/>
  <meta name='ocr-system' content='tesseract 5.3.0' />
  <meta name='ocr-capabilities' content='ocr_page ocr_carea ocr_par ocr_line ocrx_word ocrp_wconf'/>
 </head>
 <body>
  <div class='ocr_page' id='page_1' title='image "stdin"; bbox 0 0 900 300; ppageno 0; scan_res 72 72'>
   <div class='ocr_carea' id='block_1_1' title="bbox 62 90 772 216">
    <p class='ocr_par' id='par_1_1' lang='sqi' title="bbox 62 90 772 216">
     <span class='ocr_line' id='line_1_1' title="bbox 62 90 772 128; baseline 0 -8; x_size 37; x_descenders 7; x_ascenders 8">
      <span class='ocrx_word' id='word_1_1' title='bbox 62 90 175 128; x_wconf 96'>Gjergj</span>
      <span class='ocrx_word' id='word_1_2' title='bbox 193 90 346 128; x_wconf 96'>Krasniqi&amp;</span>
     </span>
     <span class='ocr_line' id='line_1_2' title="bbox 64 178 722 216; baseline 0.002 -8; x_size 38; x_descenders 8; x_ascenders 7">
      <span class='ocrx_word' id='word_1_3' title='bbox 442 178 536 209; x_wconf 90'>1961</span>
     </span>
    </p>
   </div>
  </div>
 </body>
</html>
`;

// The same reading as tesseract.js hands it over (its block tree), with a leading space, an
// empty word and text that must be escaped.
function jsPage(): Tesseract.Page {
  const word = (text: string, x0: number, y0: number, x1: number, y1: number, confidence: number) => ({ text, confidence, bbox: { x0, y0, x1, y1 } });
  const line = (bbox: { x0: number; y0: number; x1: number; y1: number }, words: ReturnType<typeof word>[]) => ({
    bbox, baseline: { x0: bbox.x0, y0: bbox.y1 - 8, x1: bbox.x1, y1: bbox.y1 - 8 }, rowAttributes: { rowHeight: 37, ascenders: 8, descenders: 7 }, words,
  });
  return {
    blocks: [{
      blocktype: '1', bbox: { x0: 62, y0: 90, x1: 772, y1: 216 },
      paragraphs: [{
        bbox: { x0: 62, y0: 90, x1: 772, y1: 216 },
        lines: [
          line({ x0: 62, y0: 90, x1: 772, y1: 128 }, [word(' Gjergj', 62, 90, 175, 128, 96.4), word('Krasniqi&', 193, 90, 346, 128, 95.6), word('  ', 350, 90, 360, 128, 10)]),
          line({ x0: 64, y0: 178, x1: 722, y1: 216 }, [word('1961', 442, 178, 536, 209, 90)]),
        ],
      }],
    }, {
      blocktype: '2', bbox: { x0: 10, y0: 10, x1: 300, y1: 40 },
      paragraphs: [{ bbox: { x0: 10, y0: 10, x1: 300, y1: 40 }, lines: [line({ x0: 10, y0: 10, x1: 300, y1: 40 }, [word('a<b"c\'', 10, 10, 300, 40, 80)])] }],
    }],
  } as unknown as Tesseract.Page;
}

const META = { system: 'tesseract.js 7.0.0 / tesseract.js-core 7.0.0 (Tesseract 5.1.0, LSTM) / sqi+srp 4.0.0_best_int', languages: ['sqi', 'srp'], imageName: 'master.tif' };

describe.skipIf(!xmllint)('hOCR 1.2 documents (parsed by xmllint)', () => {
  let dir: string;
  let n = 0;
  beforeAll(async () => {
    dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'arkiva-hocr-'));
  });
  afterAll(async () => fs.promises.rm(dir, { recursive: true, force: true }));

  /** Writes the document and checks it is well-formed XML; returns an XPath evaluator over it. */
  const parse = (doc: string) => {
    const file = path.join(dir, `p${n++}.hocr.html`);
    fs.writeFileSync(file, doc);
    const check = spawnSync('xmllint', ['--noout', '--nonet', file], { encoding: 'utf8' });
    expect(check.status, check.stderr).toBe(0);
    return (expr: string) => {
      const r = spawnSync('xmllint', ['--nonet', '--xpath', `string(${expr})`, file], { encoding: 'utf8' });
      return r.stdout.trim();
    };
  };
  const el = (name: string) => `//*[local-name()='${name}']`;
  const meta = (name: string) => `${el('meta')}[@name='${name}']/@content`;
  const cls = (c: string) => `//*[@class='${c}']`;

  const documents = () => ({
    js: hocrDocument(hocrFromPage(jsPage(), { width: 900, height: 300, dpi: 72 }), META),
    native: hocrDocument(hocrPageFragment(NATIVE), { ...META, system: 'tesseract 5.3.0 (native, LSTM) / sqi+srp 4.0.0_best_int' }),
  });

  it.each(['js', 'native'] as const)('%s: a whole XHTML document with the required metadata, capabilities of exactly what it uses, words without spaces', (engine) => {
    const doc = documents()[engine];
    expect(doc.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN"')).toBe(true);
    const x = parse(doc);
    expect(x(`namespace-uri(/*)`)).toBe('http://www.w3.org/1999/xhtml');
    expect(x(`/*/@lang`)).toBe('sq');
    expect(x(`count(${el('head')}/${el('title').slice(2)})`)).toBe('1');
    expect(x(meta('ocr-system'))).toBe(engine === 'js' ? META.system : 'tesseract 5.3.0 (native, LSTM) / sqi+srp 4.0.0_best_int');
    expect(x(meta('ocr-langs'))).toBe('sq sr');
    expect(x(meta('ocr-scripts'))).toBe('Latn Cyrl');
    expect(x(meta('ocr-number-of-pages'))).toBe('1');
    const capabilities = x(meta('ocr-capabilities')).split(' ');
    // Every class in the document is listed, and nothing it does not use.
    const used = new Set([...doc.matchAll(/class=["'](ocrx?_[a-z]+)["']/g)].map((m) => m[1]!));
    expect(capabilities.filter((c) => !c.startsWith('ocrp_')).sort()).toEqual([...used].sort());
    expect(capabilities.slice(0, 5)).toEqual(['ocr_page', 'ocr_carea', 'ocr_par', 'ocr_line', 'ocrx_word']);
    expect(capabilities.includes('ocrp_lang')).toBe(engine === 'native');
    expect(capabilities).toContain('ocrp_wconf');
    for (const c of used) expect(Number(x(`count(${cls(c)})`))).toBeGreaterThan(0);

    expect(x(`count(${cls('ocr_page')})`)).toBe('1');
    expect(x(`${cls('ocr_page')}/@title`)).toBe(`image 'master.tif'; bbox 0 0 900 300; ppageno 0; scan_res 72 72`);
    const words = Number(x(`count(${cls('ocrx_word')})`));
    expect(words).toBe(engine === 'js' ? 4 : 3);
    for (let i = 1; i <= words; i++) {
      const title = x(`(${cls('ocrx_word')})[${i}]/@title`);
      expect(title).toMatch(/^bbox \d+ \d+ \d+ \d+; x_wconf \d+$/);
      const text = x(`(${cls('ocrx_word')})[${i}]`);
      expect(text).toBe(text.trim());
      expect(text.length).toBeGreaterThan(0);
    }
    expect(x(`(${cls('ocrx_word')})[1]`)).toBe('Gjergj');
    expect(x(`(${cls('ocrx_word')})[2]`)).toBe('Krasniqi&');
    if (engine === 'js') {
      expect(x(`(${cls('ocrx_word')})[4]`)).toBe('a<b"c\'');
      expect(capabilities).toContain('ocr_header');
    } else {
      expect(x(`${cls('ocr_par')}/@lang`)).toBe('sq');
    }
  });

  it('gives both engines the same head and page properties for the same reading', () => {
    const { js, native } = documents();
    // The engine's name and what it can mark up (native tesseract says a paragraph's language) may differ; nothing else.
    const head = (doc: string) => /<head>[\s\S]*<\/head>/.exec(doc)![0].replace(/(name="ocr-(?:system|capabilities)" content=")[^"]*/g, '$1');
    expect(head(native)).toBe(head(js));
    const pageTitle = (doc: string) => /<div class="ocr_page"[^>]*>/.exec(doc)![0];
    expect(pageTitle(native)).toBe(pageTitle(js));
  });

  it('leaves the image out when not named, and refuses names that would break the title, and a page that is not an ocr_page', () => {
    const page = hocrFromPage(jsPage(), { width: 900, height: 300, dpi: 72 });
    const x = parse(hocrDocument(page, { system: 's', languages: ['srp_latn', 'xyz'] }));
    expect(x(`${cls('ocr_page')}/@title`)).toBe('bbox 0 0 900 300; ppageno 0; scan_res 72 72');
    expect(x(`/*/@lang`)).toBe('sr-Latn');
    expect(x(meta('ocr-langs'))).toBe('sr xyz');
    expect(x(meta('ocr-scripts'))).toBe('unknown');
    for (const imageName of ["a'b.tif", 'a;b.tif', 'C:\\scan.tif', '']) {
      expect(() => hocrDocument(page, { ...META, imageName })).toThrow(/not a plain path/);
    }
    expect(() => hocrDocument('<div class="ocr_carea"></div>', META)).toThrow(/not one ocr_page/);
    expect(() => hocrDocument("<div class='ocr_page' title='ppageno 0'></div>", META)).toThrow(/no bbox/);
  });
});
