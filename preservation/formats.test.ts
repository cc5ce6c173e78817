import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { PDFDocument, StandardFonts } from 'pdf-lib';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import type { ArchivedOcr } from '../archive/archived-ocr.ts';
import { buildAlto } from './alto.ts';
import { bagTagFiles, type PayloadFile } from './bagit.ts';
import { buildMets } from './mets.ts';
import { buildPdfA, pageJpeg } from './pdfa.ts';
import { checkPdfA } from '../test-support/pdfa-check.ts';
import { readTar, tarStream, type TarEntry } from './tar.ts';
import { verifyBagDir, verifyBagTar } from './verify.ts';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

const OCR: ArchivedOcr = {
  engine: 'test-engine 1.0', languages: ['sqi'], width: 1000, height: 700, meanConfidence: 88.5, text: 'Gjergj Kastrioti\nЂорђе',
  words: [
    { text: 'Gjergj', confidence: 91, bbox: { x0: 100, y0: 100, x1: 220, y1: 130 }, line: 0, block: 0 },
    { text: 'Kastrioti', confidence: 80.4, bbox: { x0: 240, y0: 100, x1: 400, y1: 130 }, line: 0, block: 0 },
    { text: 'Ђорђе&<', confidence: 70, bbox: { x0: 100, y0: 400, x1: 260, y1: 432 }, line: 1, block: 1 },
  ],
  lines: [
    { text: 'Gjergj Kastrioti', confidence: 85, bbox: { x0: 100, y0: 100, x1: 400, y1: 130 }, block: 0 },
    { text: 'Ђорђе&<', confidence: 70, bbox: { x0: 100, y0: 400, x1: 260, y1: 432 }, block: 1 },
  ],
};

async function collect(it: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of it) parts.push(c);
  return Buffer.concat(parts);
}

describe('ALTO', () => {
  const xml = buildAlto(OCR, { sequence: 3, imageFileName: 'master.tif' });
  it('is ALTO 4 in pixels with the page size', () => {
    expect(xml).toContain('xmlns="http://www.loc.gov/standards/alto/ns-v4#"');
    expect(xml).toContain('<MeasurementUnit>pixel</MeasurementUnit>');
    expect(xml).toMatch(/<Page ID="P3" PHYSICAL_IMG_NR="3" WIDTH="1000" HEIGHT="700" PC="0.885">/);
  });
  it('has blocks, lines and words with coordinates and confidences (WC 0-1), escaped', () => {
    expect(xml.match(/<TextBlock /g)).toHaveLength(2);
    expect(xml.match(/<TextLine /g)).toHaveLength(2);
    expect(xml).toContain('<String ID="P3_L1_W1" HPOS="100" VPOS="100" WIDTH="120" HEIGHT="30" CONTENT="Gjergj" WC="0.91"/>');
    expect(xml).toContain('CONTENT="Kastrioti" WC="0.804"');
    expect(xml).toContain('CONTENT="Ђорђе&amp;&lt;" WC="0.7"');
    expect(xml).toContain('<SP HPOS="220" VPOS="100" WIDTH="20"/>');
    expect(xml).toMatch(/<TextBlock ID="P3_B1" HPOS="100" VPOS="100" WIDTH="300" HEIGHT="30">/);
  });
  it('is well-formed: every element closed in order', () => {
    const stack: string[] = [];
    for (const m of xml.matchAll(/<(\/?)([A-Za-z][\w:]*)[^>]*?(\/?)>/g)) {
      if (m[3]) continue;
      if (m[1]) expect(stack.pop()).toBe(m[2]);
      else stack.push(m[2]!);
    }
    expect(stack).toEqual([]);
  });
});

describe('tar', () => {
  it('round-trips files of any size, long paths included, streaming bodies', async () => {
    const big = Buffer.alloc(70_000, 7);
    const long = `root/${'d'.repeat(90)}/${'f'.repeat(80)}.bin`;
    const entries: TarEntry[] = [
      { path: 'root/a.txt', size: 5, body: Buffer.from('hello') },
      { path: 'root/empty', size: 0, body: Buffer.alloc(0) },
      { path: long, size: big.length, body: async () => (async function* () { yield big.subarray(0, 1000); yield big.subarray(1000); })() },
    ];
    const tar = await collect(tarStream(entries));
    expect(tar.length % 512).toBe(0);
    const back: { path: string; data: Buffer }[] = [];
    for await (const e of readTar((async function* () { for (let i = 0; i < tar.length; i += 3000) yield tar.subarray(i, i + 3000); })())) {
      back.push({ path: e.path, data: await collect(e.body) });
    }
    expect(back.map((b) => b.path)).toEqual(['root/a.txt', 'root/empty', long]);
    expect(back[0]!.data.toString()).toBe('hello');
    expect(back[2]!.data.equals(big)).toBe(true);
  });
  it('refuses a body that does not have its announced size', async () => {
    await expect(collect(tarStream([{ path: 'x', size: 10, body: Buffer.alloc(0) }, { path: 'y', size: 3, body: async () => (async function* () { yield Buffer.from('abcd'); })() }]))).rejects.toThrow(/longer|announced/);
  });
});

describe('BagIt writer and verifier', () => {
  async function writeBag(dir: string): Promise<void> {
    const files: Record<string, Buffer> = { 'data/pages/0001/master.tif': Buffer.from('master one'), 'data/pages/0002/master.tif': Buffer.from('master two'), 'data/mets.xml': Buffer.from('<mets/>') };
    const payload: PayloadFile[] = Object.entries(files).map(([p, b]) => ({ path: p, size: b.length, sha256: sha(b) }));
    const tags = bagTagFiles(payload, { sourceOrganization: 'Test', externalIdentifier: 'book-1', baggingDate: new Date('2024-05-01T10:00:00Z') });
    for (const [p, b] of [...Object.entries(files), ...tags.map((t) => [t.path, t.content] as const)]) {
      await fs.promises.mkdir(path.dirname(path.join(dir, p)), { recursive: true });
      await fs.promises.writeFile(path.join(dir, p), b);
    }
  }

  it('writes a valid bag with the RFC 8493 tag files', async () => {
    const dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'bag-'));
    try {
      await writeBag(dir);
      expect(await fs.promises.readFile(path.join(dir, 'bagit.txt'), 'utf8')).toBe('BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n');
      const info = await fs.promises.readFile(path.join(dir, 'bag-info.txt'), 'utf8');
      expect(info).toContain('Payload-Oxum: 27.3\n');
      expect(info).toContain('Bagging-Date: 2024-05-01\n');
      expect(info).toContain('External-Identifier: book-1\n');
      expect(info).toContain('Source-Organization: Test\n');
      const tm = await fs.promises.readFile(path.join(dir, 'tagmanifest-sha256.txt'), 'utf8');
      expect(tm.split('\n').filter(Boolean).map((l) => l.split('  ')[1])).toEqual(['bag-info.txt', 'bagit.txt', 'manifest-sha256.txt']);
      const report = await verifyBagDir(dir);
      expect(report.problems).toEqual([]);
      expect(report.valid).toBe(true);
    } finally {
      await fs.promises.rm(dir, { recursive: true, force: true });
    }
  });

  it('reports a changed byte, a missing file and an extra file', async () => {
    const dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'bag-'));
    try {
      await writeBag(dir);
      const f = path.join(dir, 'data/pages/0001/master.tif');
      const b = await fs.promises.readFile(f);
      b[3] = b[3]! ^ 1;
      await fs.promises.writeFile(f, b);
      await fs.promises.rm(path.join(dir, 'data/pages/0002/master.tif'));
      await fs.promises.writeFile(path.join(dir, 'data/stray.txt'), 'x');
      const report = await verifyBagDir(dir);
      expect(report.valid).toBe(false);
      const got = report.problems.map((p) => `${p.kind} ${p.path}`);
      expect(got).toContain('changed data/pages/0001/master.tif');
      expect(got).toContain('missing data/pages/0002/master.tif');
      expect(got).toContain('extra data/stray.txt');
      expect(got).toContain('invalid bag-info.txt'); // Payload-Oxum no longer matches
    } finally {
      await fs.promises.rm(dir, { recursive: true, force: true });
    }
  });

  it('verifies a bag packed as a tar under a top directory', async () => {
    const payload = [{ path: 'data/a.txt', size: 1, sha256: sha(Buffer.from('a')) }];
    const tags = bagTagFiles(payload, { sourceOrganization: 'T', externalIdentifier: 'x', baggingDate: new Date() });
    const entries: TarEntry[] = [...tags.map((t) => ({ path: `bag/${t.path}`, size: t.content.length, body: t.content })), { path: 'bag/data/a.txt', size: 1, body: Buffer.from('a') }];
    expect((await verifyBagTar(tarStream(entries))).valid).toBe(true);
    entries[entries.length - 1] = { path: 'bag/data/a.txt', size: 1, body: Buffer.from('b') };
    const bad = await verifyBagTar(tarStream(entries));
    expect(bad.problems.map((p) => p.kind)).toEqual(['changed']);
  });
});

describe('METS', () => {
  const mets = buildMets({
    bookId: '00000000-0000-4000-8000-000000000001', title: 'Birth register, Prizren, 1958', createdAt: new Date('2024-05-01T10:00:00Z'), creatorAgent: 'test',
    dc: { title: 'Birth register', type: 'birth register', coverage: 'Prizren, 1958', date: '1958', identifier: 'urn:uuid:x' },
    pages: [{ sequence: 2, label: 'Page 2' }, { sequence: 1, label: 'Page 1' }],
    files: [
      { id: 'FILE_1', href: 'pages/0002/master.tif', use: 'master', mimeType: 'image/tiff', size: 10, sha256: 'a'.repeat(64), page: 2, objectId: 'o2' },
      { id: 'FILE_2', href: 'pages/0001/master.tif', use: 'master', mimeType: 'image/tiff', size: 11, sha256: 'b'.repeat(64), page: 1, objectId: 'o1' },
      { id: 'FILE_3', href: 'book.pdf', use: 'pdf', mimeType: 'application/pdf', size: 12, sha256: 'c'.repeat(64) },
    ],
    events: [{ id: 'EVENT_1', type: 'normalization', at: new Date(), agent: 'sharp', outcome: 'success', detail: 'master', fileIds: ['FILE_2'] }],
  });
  it('lists pages in order in the physical structMap, each with its files', () => {
    const order = [...mets.matchAll(/<mets:div ID="PAGE_(\d+)" TYPE="page" ORDER="(\d+)"/g)].map((m) => Number(m[2]));
    expect(order).toEqual([1, 2]);
    expect(mets).toMatch(/ORDER="1"[^>]*>\s*<mets:fptr FILEID="FILE_2"\/>/);
    expect(mets).toMatch(/ORDER="2"[^>]*>\s*<mets:fptr FILEID="FILE_1"\/>/);
  });
  it('carries PREMIS fixity, size and format per file, and events linked to files', () => {
    expect(mets).toContain(`<premis:messageDigestAlgorithm>SHA-256</premis:messageDigestAlgorithm><premis:messageDigest>${'b'.repeat(64)}</premis:messageDigest>`);
    expect(mets).toContain('<premis:size>12</premis:size>');
    expect(mets).toContain('<premis:formatName>application/pdf</premis:formatName>');
    expect(mets).toContain('CHECKSUM="' + 'a'.repeat(64) + '" CHECKSUMTYPE="SHA-256"');
    expect(mets).toContain('ADMID="TECH_FILE_2 EVENT_1"');
    expect(mets).toContain('<premis:eventType>normalization</premis:eventType>');
  });
});

describe('PDF/A-2b', () => {
  it('has every page, XMP with the PDF/A-2b id, an sRGB OutputIntent, an embedded font and extractable OCR text', async () => {
    const png = await sharp({ create: { width: 1000, height: 700, channels: 3, background: '#ffffff' } }).greyscale().png().toBuffer();
    const img = await pageJpeg(png);
    const pdf = Buffer.from(await buildPdfA(
      { title: 'Birth register, Prizren, 1958', subject: 's', keywords: ['birth', 'Prizren'], identifier: 'urn:uuid:x', coverage: 'Prizren, 1958', type: 'birth register', creatorTool: 'Arkiva', createdAt: new Date() },
      [{ sequence: 1, ...img, dpi: 150, ocr: OCR }, { sequence: 2, ...img, dpi: 150 }],
    ));
    const text = pdf.toString('latin1');
    expect(text).toContain('<pdfaid:part>2</pdfaid:part>');
    expect(text).toContain('<pdfaid:conformance>B</pdfaid:conformance>');
    expect(text).toMatch(/\/Type \/OutputIntent/);
    expect(text).toMatch(/\/S \/GTS_PDFA1/);
    expect(text).toMatch(/\/FontFile2 \d+ 0 R/);
    expect(text).toMatch(/\/Outlines \d+ 0 R/);
    expect(text).toMatch(/\/ID \[/);
    // The image is embedded as is: the PDF is barely bigger than its JPEGs.
    expect(pdf.length).toBeLessThan(img.jpeg.length * 2 + 20_000);

    const pdfjs = await import('pdfjs-dist/legacy/build/pdf.mjs');
    const doc = await pdfjs.getDocument({ data: new Uint8Array(pdf), isEvalSupported: false, stopAtErrors: true, verbosity: 0 }).promise;
    try {
      expect(doc.numPages).toBe(2);
      const page = await doc.getPage(1);
      expect(page.view[2]).toBeCloseTo(480); // 1000 px at 150 dpi
      const words = (await page.getTextContent()).items.map((i) => ('str' in i ? i.str : '')).join(' ').split(/\s+/).filter(Boolean);
      expect(words).toEqual(['Gjergj', 'Kastrioti', 'Ђорђе&<']);
      const outline = await doc.getOutline();
      expect(outline.map((o) => o.title)).toEqual(['Page 1', 'Page 2']);
      const meta = await doc.getMetadata();
      expect((meta.info as Record<string, unknown>).Title).toBe('Birth register, Prizren, 1958');
    } finally {
      await doc.destroy();
    }
  });
});

describe('PDF/A-2b structure (what can be asserted without veraPDF), qpdf and pdftotext', () => {
  const tool = (name: string) => {
    const ok = !spawnSync(name, ['--version']).error;
    // Under CI the tools are installed by scripts/services.sh: missing is a failure, not a skip.
    if (!ok && process.env.CI === 'true') throw new Error(`${name} is required under CI (scripts/services.sh installs it)`);
    return ok;
  };
  const info = { title: 'Birth register, Prizren, 1958', subject: 's', keywords: ['birth'], identifier: 'urn:uuid:x', coverage: 'Prizren, 1958', type: 'birth register', creatorTool: 'Arkiva', createdAt: new Date() };

  it('meets the structural requirements: XMP 2B, sRGB OutputIntent, every font embedded, no encryption or JavaScript, a file id', async () => {
    const png = await sharp({ create: { width: 800, height: 600, channels: 3, background: '#f0f0f0' } }).png().toBuffer();
    const img = await pageJpeg(png);
    const pdf = await buildPdfA(info, [{ sequence: 1, ...img, dpi: 200, ocr: OCR }]);
    const r = await checkPdfA(pdf);
    expect(r.problems).toEqual([]);
    expect(r).toMatchObject({ pdfaPart: '2', pdfaConformance: 'B', encrypted: false, javascript: false, hasFileId: true });
    expect(r.outputIntent).toMatchObject({ subtype: '/GTS_PDFA1', iccColourSpace: 'RGB' });
    expect(r.fonts.length).toBeGreaterThan(0);
    expect(r.fonts.every((f) => f.embedded)).toBe(true);
  });

  it('writes the same bytes for the same book and time (a repeated packaging run stores the same object), other bytes for another time', async () => {
    const png = await sharp({ create: { width: 600, height: 400, channels: 3, background: '#ffffff' } }).png().toBuffer();
    const page = { sequence: 1, ...(await pageJpeg(png)), dpi: 150, ocr: OCR };
    const a = Buffer.from(await buildPdfA(info, [page]));
    const b = Buffer.from(await buildPdfA(info, [page]));
    expect(b.equals(a)).toBe(true);
    const later = Buffer.from(await buildPdfA({ ...info, createdAt: new Date(info.createdAt.getTime() + 60_000) }, [page]));
    expect(later.equals(a)).toBe(false);
    // the trailer still carries a file identifier, as PDF/A requires
    expect(a.toString('latin1')).toMatch(/\/ID \[<[0-9a-f]{32}> <[0-9a-f]{32}>\]/);
  });

  it('reports what a plain PDF lacks', async () => {
    const plain = await PDFDocument.create();
    const page = plain.addPage();
    page.drawText('x', { font: await plain.embedFont(StandardFonts.Helvetica) });
    const r = await checkPdfA(await plain.save());
    expect(r.problems).toEqual(expect.arrayContaining(['no XMP metadata stream in the catalog', 'no OutputIntent', 'font /Helvetica is not embedded']));
  });

  it.skipIf(!tool('qpdf') || !tool('pdftotext'))('qpdf --check finds no errors and pdftotext reads the OCR words in order', async () => {
    const png = await sharp({ create: { width: 1000, height: 700, channels: 3, background: '#ffffff' } }).png().toBuffer();
    const pdf = Buffer.from(await buildPdfA(info, [{ sequence: 1, ...(await pageJpeg(png)), dpi: 150, ocr: OCR }]));
    const dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'pdfa-'));
    try {
      const f = path.join(dir, 'b.pdf');
      await fs.promises.writeFile(f, pdf);
      const check = spawnSync('qpdf', ['--check', f], { encoding: 'utf8' });
      expect(check.stdout).toContain('No syntax or stream encoding errors found');
      expect(check.status).toBe(0);
      const text = spawnSync('pdftotext', [f, '-'], { encoding: 'utf8' }).stdout;
      expect(text.split(/\s+/).filter(Boolean)).toEqual(['Gjergj', 'Kastrioti', 'Ђорђе&<']);
    } finally {
      await fs.promises.rm(dir, { recursive: true, force: true });
    }
  });

  it.skipIf(!tool('pdftotext'))("puts each invisible word on its own box (pdftotext -bbox), not stretched to the next word's start", async () => {
    // One line with wide gaps between words (columns of a register), one whose boxes touch, at 150 dpi.
    const word = (text: string, x0: number, x1: number, line: number) => ({ text, confidence: 90, bbox: { x0, y0: line ? 300 : 100, x1, y1: line ? 330 : 140 }, line, block: 0 });
    const ocr: ArchivedOcr = {
      engine: 'test-engine 1.0', languages: ['sqi', 'srp'], width: 1200, height: 600, meanConfidence: 90, text: '',
      words: [word('Gjergj', 100, 220, 0), word('Krasniqi', 520, 700, 0), word('Ђорђе', 1000, 1100, 0), word('12.03.1958', 100, 300, 1), word('Prizren', 300, 420, 1)],
      lines: [
        { text: 'Gjergj Krasniqi Ђорђе', confidence: 90, bbox: { x0: 100, y0: 100, x1: 1100, y1: 140 }, block: 0 },
        { text: '12.03.1958 Prizren', confidence: 90, bbox: { x0: 100, y0: 300, x1: 420, y1: 330 }, block: 0 },
      ],
    };
    const png = await sharp({ create: { width: 1200, height: 600, channels: 3, background: '#ffffff' } }).png().toBuffer();
    const pdf = Buffer.from(await buildPdfA(info, [{ sequence: 1, ...(await pageJpeg(png)), dpi: 150, ocr }]));
    const dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'pdfa-'));
    try {
      const f = path.join(dir, 'b.pdf');
      await fs.promises.writeFile(f, pdf);
      const out = spawnSync('pdftotext', ['-bbox', f, '-'], { encoding: 'utf8' });
      expect(out.status, out.stderr).toBe(0);
      const boxes = [...out.stdout.matchAll(/<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)<\/word>/g)]
        .map((m) => ({ text: m[5]!.replace(/&amp;/g, '&'), box: m.slice(1, 5).map(Number) }));
      // pdftotext orders by its own column analysis (wide gaps read as columns): match words by text.
      expect(boxes.map((b) => b.text).sort()).toEqual(ocr.words.map((w) => w.text).sort());
      const pt = 72 / 150;
      ocr.words.forEach((w) => {
        const line = ocr.lines[w.line]!.bbox;
        // Across, the word's own box; down, its line's (the layer keeps one baseline and size per line).
        const expected = [w.bbox.x0 * pt, line.y0 * pt, w.bbox.x1 * pt, line.y1 * pt];
        boxes.find((b) => b.text === w.text)!.box.forEach((v, k) => expect(Math.abs(v - expected[k]!), `${w.text} edge ${k}: ${v} vs ${expected[k]}`).toBeLessThan(0.05));
      });
    } finally {
      await fs.promises.rm(dir, { recursive: true, force: true });
    }
  });
});

describe('streaming PDF writer', () => {
  it('writes each page out before reading the next (memory stays at about one page)', async () => {
    const { writePdfA, jpegComponents } = await import('./pdfa.ts');
    const grey = await pageJpeg(await sharp({ create: { width: 300, height: 200, channels: 3, background: '#808080' } }).toColourspace('b-w').png().toBuffer());
    const rgb = await pageJpeg(await sharp({ create: { width: 300, height: 200, channels: 3, background: '#ff8000' } }).png().toBuffer());
    expect([jpegComponents(grey.jpeg), jpegComponents(rgb.jpeg)]).toEqual([1, 3]);
    let read = 0;
    const pages = async function* () {
      for (let i = 1; i <= 4; i++) {
        read = i;
        yield { sequence: i, ...(i % 2 ? grey : rgb), dpi: 100, ocr: i === 1 ? OCR : undefined };
      }
    };
    const info = { title: 'Regjistri i lindjeve, Gjakovë (Ђаковица) 1958', subject: 's', keywords: [], identifier: 'urn:uuid:x', coverage: 'c', type: 't', creatorTool: 'Arkiva', createdAt: new Date() };
    const seenAt: number[] = [];
    const parts: Buffer[] = [];
    for await (const chunk of writePdfA(info, pages())) {
      if (chunk.includes(grey.jpeg) || chunk.includes(rgb.jpeg)) seenAt.push(read);
      parts.push(chunk);
    }
    // Page n's image left the writer while page n was the last one read.
    expect(seenAt).toEqual([1, 2, 3, 4]);
    const pdf = Buffer.concat(parts);
    expect(pdf.toString('latin1')).toMatch(/\/ColorSpace \/DeviceGray[\s\S]*\/ColorSpace \/DeviceRGB/);
    expect((await checkPdfA(pdf)).problems).toEqual([]);
    const doc = await PDFDocument.load(pdf);
    expect(doc.getPageCount()).toBe(4);
    expect(doc.getTitle()).toBe(info.title);
    expect(doc.getPage(0).getWidth()).toBeCloseTo(216); // 300 px at 100 dpi
  });
});
