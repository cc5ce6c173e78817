import type { ArchivedOcr } from '../archive/archived-ocr.ts';
import { xmlEscape as x } from './xml.ts';

/** What ALTO says about the page besides its OCR. */
export interface AltoPageInfo {
  /** 1-based page number in the book. */
  sequence: number;
  /** File name of the image the coordinates refer to (the master), as the package names it. */
  imageFileName: string;
  /** When the OCR ran, if known. */
  processedAt?: Date;
  /** Clerks' corrections in the words: said in the processing step (counts only, never the words). */
  corrections?: { textRevision: number; words: number };
}

/** ALTO 4's namespace and the schema location written into each file. */
export const ALTO_NS = 'http://www.loc.gov/standards/alto/ns-v4#';
const ALTO_XSD = 'http://www.loc.gov/alto/v4/alto-4-2.xsd';

type Box = { x0: number; y0: number; x1: number; y1: number };

function pos(b: Box): string {
  return `HPOS="${Math.round(b.x0)}" VPOS="${Math.round(b.y0)}" WIDTH="${Math.max(0, Math.round(b.x1 - b.x0))}" HEIGHT="${Math.max(0, Math.round(b.y1 - b.y0))}"`;
}

function union(boxes: Box[]): Box {
  return boxes.reduce((u, b) => ({ x0: Math.min(u.x0, b.x0), y0: Math.min(u.y0, b.y0), x1: Math.max(u.x1, b.x1), y1: Math.max(u.y1, b.y1) }), {
    x0: Infinity, y0: Infinity, x1: -Infinity, y1: -Infinity,
  });
}

// ALTO word confidence (WC) and page confidence (PC) run from 0 to 1; the OCR port gives 0-100.
function conf(c: number): string {
  return (Math.min(100, Math.max(0, c)) / 100).toFixed(3).replace(/\.?0+$/, '') || '0';
}

/**
 * ALTO 4.2 XML of one page from its archived OCR: blocks, lines and words (String with WC) in
 * reading order, coordinates in pixels of the master image (MeasurementUnit pixel).
 */
export function buildAlto(ocr: ArchivedOcr, page: AltoPageInfo): string {
  const p = `P${page.sequence}`;
  const wordsByLine = new Map<number, ArchivedOcr['words']>();
  for (const w of ocr.words) {
    if (!w.text.trim()) continue;
    const list = wordsByLine.get(w.line) ?? [];
    list.push(w);
    wordsByLine.set(w.line, list);
  }
  // Blocks in order of first appearance; a line belongs to the block the OCR gave it.
  const blocks = new Map<number, number[]>();
  ocr.lines.forEach((l, i) => {
    if (!wordsByLine.has(i)) return;
    const list = blocks.get(l.block) ?? [];
    list.push(i);
    blocks.set(l.block, list);
  });

  const out: string[] = [];
  out.push('<?xml version="1.0" encoding="UTF-8"?>');
  out.push(`<alto xmlns="${ALTO_NS}" xmlns:xlink="http://www.w3.org/1999/xlink" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="${ALTO_NS} ${ALTO_XSD}">`);
  out.push('  <Description>');
  out.push('    <MeasurementUnit>pixel</MeasurementUnit>');
  out.push(`    <sourceImageInformation><fileName>${x(page.imageFileName)}</fileName></sourceImageInformation>`);
  out.push('    <OCRProcessing ID="OCR_0"><ocrProcessingStep>');
  if (page.processedAt) out.push(`      <processingDateTime>${page.processedAt.toISOString()}</processingDateTime>`);
  if (page.corrections) {
    out.push(`      <processingStepDescription>OCR text with clerks' corrections up to text revision ${page.corrections.textRevision} (${page.corrections.words} word(s) corrected, WC 1)</processingStepDescription>`);
  }
  out.push(`      <processingStepSettings>languages=${x(ocr.languages.join('+'))}</processingStepSettings>`);
  out.push(`      <processingSoftware><softwareName>${x(ocr.engine)}</softwareName></processingSoftware>`);
  out.push('    </ocrProcessingStep></OCRProcessing>');
  out.push('  </Description>');
  out.push('  <Layout>');
  out.push(`    <Page ID="${p}" PHYSICAL_IMG_NR="${page.sequence}" WIDTH="${ocr.width}" HEIGHT="${ocr.height}" PC="${conf(ocr.meanConfidence)}">`);
  out.push(`      <PrintSpace ID="${p}_PS" HPOS="0" VPOS="0" WIDTH="${ocr.width}" HEIGHT="${ocr.height}">`);
  let b = 0;
  for (const lineIdx of blocks.values()) {
    b++;
    const blockBox = union(lineIdx.map((i) => ocr.lines[i]!.bbox));
    out.push(`        <TextBlock ID="${p}_B${b}" ${pos(blockBox)}>`);
    for (const li of lineIdx) {
      const line = ocr.lines[li]!;
      const words = wordsByLine.get(li)!;
      out.push(`          <TextLine ID="${p}_L${li + 1}" ${pos(line.bbox)}>`);
      words.forEach((w, wi) => {
        if (wi > 0) {
          const prev = words[wi - 1]!;
          out.push(`            <SP HPOS="${Math.round(prev.bbox.x1)}" VPOS="${Math.round(Math.min(prev.bbox.y0, w.bbox.y0))}" WIDTH="${Math.max(0, Math.round(w.bbox.x0 - prev.bbox.x1))}"/>`);
        }
        out.push(`            <String ID="${p}_L${li + 1}_W${wi + 1}" ${pos(w.bbox)} CONTENT="${x(w.text)}" WC="${conf(w.confidence)}"/>`);
      });
      out.push('          </TextLine>');
    }
    out.push('        </TextBlock>');
  }
  out.push('      </PrintSpace>');
  out.push('    </Page>');
  out.push('  </Layout>');
  out.push('</alto>');
  return `${out.join('\n')}\n`;
}
