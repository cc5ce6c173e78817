import sharp from 'sharp';
import fs from 'node:fs';
import { buildPdfA, pageJpeg } from './pdfa.ts';
const img = await sharp({ create: { width: 1000, height: 700, channels: 1, background: 255 } } as any).png().toBuffer();
const j = await pageJpeg(img);
console.log(j.width, j.height, j.dpi, j.jpeg.length);
const ocr = { engine: 'x', languages: ['sqi'], width: 1000, height: 700, meanConfidence: 90, text: '', words: [
 { text: 'Gjergj', confidence: 91, bbox: { x0: 100, y0: 100, x1: 220, y1: 130 }, line: 0, block: 0 },
 { text: 'Kastrioti', confidence: 80, bbox: { x0: 240, y0: 100, x1: 400, y1: 130 }, line: 0, block: 0 },
 { text: 'Ђорђе', confidence: 70, bbox: { x0: 100, y0: 200, x1: 220, y1: 230 }, line: 1, block: 0 }],
 lines: [{ text: 'Gjergj Kastrioti', confidence: 85, bbox: { x0: 100, y0: 100, x1: 400, y1: 130 }, block: 0 }, { text: 'Ђорђе', confidence: 70, bbox: { x0: 100, y0: 200, x1: 220, y1: 230 }, block: 0 }] };
const pdf = await buildPdfA({ title: 'T', subject: 'S', keywords: ['a', 'b'], identifier: 'urn:uuid:x', coverage: 'c', type: 'birth register', creatorTool: 'Arkiva', createdAt: new Date() }, [{ sequence: 1, ...j, ocr }, { sequence: 2, ...j }]);
fs.writeFileSync('/tmp/t.pdf', pdf);
const pdfjs = await import('pdfjs-dist/legacy/build/pdf.mjs');
const d = await pdfjs.getDocument({ data: new Uint8Array(pdf), isEvalSupported: false, verbosity: 0 } as any).promise;
const pg = await d.getPage(1);
const tc = await pg.getTextContent();
console.log(d.numPages, tc.items.map((i: any) => i.str));
