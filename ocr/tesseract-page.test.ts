import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Tesseract from 'tesseract.js';
import { ocrLangPath, planBook } from '../fixtures/index.ts';
import { hocrFromPage } from './tesseract-page.ts';

// The hOCR Arkiva writes from the block tree must say what tesseract's own hOCR says: the same
// areas, paragraphs, lines and words, with the same boxes, baselines, sizes and confidences.
describe('hOCR from the block tree', () => {
  let worker: Tesseract.Worker;
  beforeAll(async () => {
    worker = await Tesseract.createWorker(['sqi'], Tesseract.OEM.LSTM_ONLY, { langPath: ocrLangPath('sqi'), gzip: true, cacheMethod: 'none', logger: () => undefined });
    await worker.setParameters({ tessedit_pageseg_mode: Tesseract.PSM.AUTO });
  }, 60_000);
  afterAll(async () => worker.terminate());

  it("matches tesseract's own hOCR word for word, line for line", async () => {
    const png = await planBook({ seed: 31, pages: 1, scale: 0.4 }).renderPng(1);
    const { data } = await worker.recognize(png, {}, { text: true, blocks: true, hocr: true });
    const ours = hocrFromPage(data, { width: 992, height: 702, dpi: 120 });
    const theirs = data.hocr!;
    const spans = (h: string, cls: RegExp) => [...h.matchAll(new RegExp(`<(?:span|div|p) class='(${cls.source})' id='([^']+)'[^>]*title=["']([^"']+)["']`, 'g'))].map((m) => [m[1], m[2], m[3]]);
    const words = (h: string) => [...h.matchAll(/<span class='ocrx_word' id='([^']+)' title='([^']+)'>([^<]*)</g)].map((m) => [m[1], m[2], m[3]]);
    expect(words(theirs).length).toBeGreaterThan(80);
    expect(words(ours)).toEqual(words(theirs));
    // Lines: same class, id and box; baseline offsets and sizes agree to within rounding.
    const lines = (h: string) => spans(h, /ocr_line|ocr_header|ocr_textfloat|ocr_caption/).map(([c, id, t]) => {
      const n = (k: string) => Number(new RegExp(`${k} (-?[\\d.]+)`).exec(t!)?.[1]);
      return { c, id, bbox: /bbox [\d ]+/.exec(t!)![0], offset: Number(/baseline -?[\d.]+ (-?[\d.]+)/.exec(t!)![1]), size: n('x_size'), desc: n('x_descenders') };
    });
    const a = lines(ours);
    const b = lines(theirs);
    expect(a.map(({ c, id, bbox }) => [c, id, bbox])).toEqual(b.map(({ c, id, bbox }) => [c, id, bbox]));
    a.forEach((l, i) => {
      expect(Math.abs(l.offset - b[i]!.offset)).toBeLessThanOrEqual(1);
      expect(l.size).toBeCloseTo(b[i]!.size, 1);
      expect(l.desc).toBeCloseTo(b[i]!.desc, 1);
    });
    // Text areas and paragraphs with the same boxes in the same order. Rules and pictures, which hold
    // no text, are not in the block tree: tesseract's separator areas are left out, and area ids
    // are numbered over text areas only.
    const boxes = (h: string, cls: RegExp) => spans(h, cls).map(([, , t]) => /bbox [\d ]+/.exec(t!)![0]);
    expect(boxes(ours, /ocr_carea/)).toEqual(boxes(theirs, /ocr_carea/));
    expect(boxes(ours, /ocr_par/)).toEqual(boxes(theirs, /ocr_par/));
    expect(ours).toContain("title='image \"unknown\"; bbox 0 0 992 702; ppageno 0; scan_res 120 120'");
  }, 60_000);

  it('escapes what it writes as text', () => {
    const word = { text: 'a<b&"c\'', confidence: 91.6, bbox: { x0: 1, y0: 2, x1: 3, y1: 4 } };
    const page = { blocks: [{ blocktype: '1', bbox: word.bbox, paragraphs: [{ bbox: word.bbox, lines: [{ bbox: word.bbox, baseline: { x0: 1, y0: 4, x1: 3, y1: 4 }, rowAttributes: { rowHeight: 2, ascenders: 0, descenders: 0 }, words: [word] }] }] }] } as unknown as Tesseract.Page;
    expect(hocrFromPage(page, { width: 10, height: 10, dpi: 300 })).toContain(">a&lt;b&amp;&quot;c&#39;</span>");
  });
});
