import { randomBytes } from 'node:crypto';
import sharp from 'sharp';
import { PDFDocument, PDFHexString, PDFName, PDFNumber, PDFString, type PDFRef, type PDFPage } from 'pdf-lib';
import type { ArchivedOcr } from '../workers/stages/ocr-page.job.ts';
import { GLYPHLESS_ADVANCE, GLYPHLESS_FONT_NAME, glyphLessFont, identityToUnicodeCMap } from './glyphless-font.ts';
import { xmlEscape as x } from './xml.ts';

/** One page of the book's PDF: a JPEG of the master and, when read, its OCR. */
export interface PdfPageInput {
  sequence: number;
  /** Baseline JPEG (greyscale or sRGB), embedded as is. */
  jpeg: Buffer;
  /** Pixel size of the JPEG, equal to the master's (OCR boxes are in these pixels). */
  width: number;
  height: number;
  /** Scan resolution; the page size in points follows from it. */
  dpi: number | null;
  ocr?: ArchivedOcr | undefined;
  /** Bookmark title; default "Page N". */
  label?: string;
}

/** Document metadata, written both to the Info dictionary and to XMP (PDF/A wants them equal). */
export interface PdfBookInfo {
  title: string;
  subject: string;
  keywords: string[];
  /** e.g. 'urn:uuid:<book id>'. */
  identifier: string;
  /** Place and time the register covers, e.g. 'Prizren, 1958-1960'. */
  coverage: string;
  /** e.g. 'birth register'. */
  type: string;
  creatorTool: string;
  createdAt: Date;
}

/** Resolution assumed for a scan that does not record one. */
export const DEFAULT_DPI = 300;
/** JPEG quality of the page images in the PDF. */
export const PDF_JPEG_QUALITY = 85;

let srgb: Promise<Buffer> | undefined;

/**
 * The sRGB ICC profile of the OutputIntent: libvips' built-in compact sRGB profile (ICC v4.2,
 * display class, 480 bytes), taken from sharp so no profile file ships with Arkiva. PDF/A-2 accepts
 * ICC v4 profiles (ISO 19005-2 cites ICC.1:2004-10).
 */
export function srgbIccProfile(): Promise<Buffer> {
  srgb ??= (async () => {
    const probe = await sharp({ create: { width: 1, height: 1, channels: 3, background: '#ffffff' } }).withIccProfile('srgb').jpeg().toBuffer();
    const icc = (await sharp(probe).metadata()).icc;
    if (!icc || icc.subarray(36, 40).toString('ascii') !== 'acsp') throw new Error('sharp returned no sRGB ICC profile');
    return icc;
  })();
  return srgb;
}

/**
 * A baseline JPEG of a master for the PDF: greyscale masters stay single-channel (a third of the
 * bytes of RGB), never enlarged or resampled, so the PDF stays close to the images' own size.
 */
export async function pageJpeg(master: Buffer, opts: { maxPixels?: number; quality?: number } = {}): Promise<{ jpeg: Buffer; width: number; height: number; dpi: number | null }> {
  const sh = () => sharp(master, { limitInputPixels: opts.maxPixels ?? 200_000_000, failOn: 'error' });
  const meta = await sh().metadata();
  const grey = (meta.channels ?? 3) <= 2 || meta.space === 'b-w' || meta.space === 'grey16';
  let p = sh();
  p = grey ? p.toColourspace('b-w') : p.toColourspace('srgb');
  const { data, info } = await p.jpeg({ quality: opts.quality ?? PDF_JPEG_QUALITY, progressive: false, mozjpeg: false }).toBuffer({ resolveWithObject: true });
  return { jpeg: data, width: info.width, height: info.height, dpi: meta.density && meta.density > 1 ? meta.density : null };
}

/**
 * Builds a PDF/A-2b document: one page per image with an invisible text layer (rendering mode 3,
 * in the OCR's reading order, in an embedded glyph-less font), a bookmark per page, XMP metadata
 * with the PDF/A identification and an sRGB OutputIntent.
 */
export async function buildPdfA(info: PdfBookInfo, pages: Iterable<PdfPageInput> | AsyncIterable<PdfPageInput>): Promise<Uint8Array> {
  const doc = await PDFDocument.create({ updateMetadata: false });
  const ctx = doc.context;
  const created = new Date(Math.floor(info.createdAt.getTime() / 1000) * 1000);

  const fontRef = embedGlyphLessFont(doc);
  const pageRefs: { ref: PDFRef; title: string }[] = [];
  for await (const p of pages) {
    const dpi = p.dpi ?? DEFAULT_DPI;
    const w = (p.width * 72) / dpi;
    const h = (p.height * 72) / dpi;
    const page = doc.addPage([w, h]);
    const image = await doc.embedJpg(p.jpeg);
    page.drawImage(image, { x: 0, y: 0, width: w, height: h });
    if (p.ocr && p.ocr.words.length) addTextLayer(doc, page, fontRef, p.ocr, w / p.ocr.width, h);
    pageRefs.push({ ref: page.ref, title: p.label ?? `Page ${p.sequence}` });
  }
  if (!pageRefs.length) throw new Error('a PDF needs at least one page');
  addOutline(doc, pageRefs);

  doc.setTitle(info.title, { showInWindowTitleBar: true });
  doc.setSubject(info.subject);
  doc.setKeywords(info.keywords);
  doc.setCreator(info.creatorTool);
  doc.setProducer(`${info.creatorTool} (pdf-lib)`);
  doc.setCreationDate(created);
  doc.setModificationDate(created);

  const xmp = xmpPacket(info, `${info.creatorTool} (pdf-lib)`, created);
  const metadata = ctx.stream(xmp, { Type: 'Metadata', Subtype: 'XML', Length: Buffer.byteLength(xmp) });
  doc.catalog.set(PDFName.of('Metadata'), ctx.register(metadata));

  const icc = await srgbIccProfile();
  const iccRef = ctx.register(ctx.flateStream(icc, { N: 3 }));
  const intent = ctx.obj({
    Type: 'OutputIntent',
    S: 'GTS_PDFA1',
    OutputConditionIdentifier: PDFString.of('sRGB IEC61966-2.1'),
    Info: PDFString.of('sRGB IEC61966-2.1'),
    RegistryName: PDFString.of('http://www.color.org'),
    DestOutputProfile: iccRef,
  });
  doc.catalog.set(PDFName.of('OutputIntents'), ctx.obj([ctx.register(intent)]));
  doc.catalog.set(PDFName.of('PageMode'), PDFName.of('UseOutlines'));

  // PDF/A requires a file identifier in the trailer.
  const id = PDFHexString.of(randomBytes(16).toString('hex'));
  ctx.trailerInfo.ID = ctx.obj([id, id]);
  return doc.save({ useObjectStreams: false, addDefaultPage: false, updateFieldAppearances: false });
}

function embedGlyphLessFont(doc: PDFDocument): PDFRef {
  const ctx = doc.context;
  const fontFile = ctx.register(ctx.flateStream(glyphLessFont()));
  const descriptor = ctx.register(ctx.obj({
    Type: 'FontDescriptor',
    FontName: GLYPHLESS_FONT_NAME,
    Flags: 4,
    FontBBox: [0, 0, GLYPHLESS_ADVANCE, 1000],
    ItalicAngle: 0,
    Ascent: 1000,
    Descent: 0,
    CapHeight: 1000,
    StemV: 80,
    FontFile2: fontFile,
  }));
  // Every code (a UTF-16 unit) shows glyph 1: 65536 big-endian GIDs, tiny once deflated.
  const map = Buffer.alloc(65536 * 2);
  for (let i = 0; i < 65536; i++) map.writeUInt16BE(1, i * 2);
  const cidToGid = ctx.register(ctx.flateStream(map));
  const cidFont = ctx.register(ctx.obj({
    Type: 'Font',
    Subtype: 'CIDFontType2',
    BaseFont: GLYPHLESS_FONT_NAME,
    CIDSystemInfo: { Registry: PDFString.of('Adobe'), Ordering: PDFString.of('Identity'), Supplement: 0 },
    FontDescriptor: descriptor,
    DW: GLYPHLESS_ADVANCE,
    CIDToGIDMap: cidToGid,
  }));
  const toUnicode = ctx.register(ctx.flateStream(identityToUnicodeCMap()));
  return ctx.register(ctx.obj({
    Type: 'Font',
    Subtype: 'Type0',
    BaseFont: GLYPHLESS_FONT_NAME,
    Encoding: 'Identity-H',
    DescendantFonts: [cidFont],
    ToUnicode: toUnicode,
  }));
}

function hexUtf16(s: string): string {
  let out = '';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    // Codes are UTF-16 units; a character outside the BMP would need two, which the CMap cannot join.
    out += (cp > 0xffff ? 0xfffd : cp).toString(16).padStart(4, '0');
  }
  return out;
}

const num = (n: number) => (Math.round(n * 1000) / 1000).toString();

function addTextLayer(doc: PDFDocument, page: PDFPage, fontRef: PDFRef, ocr: ArchivedOcr, scale: number, pageHeight: number): void {
  const fontName = PDFName.of('FOcr');
  page.node.setFontDictionary(fontName, fontRef);
  const ops: string[] = ['BT', '3 Tr'];
  const byLine = new Map<number, ArchivedOcr['words']>();
  const order: number[] = [];
  for (const w of ocr.words) {
    if (!w.text.trim()) continue;
    if (!byLine.has(w.line)) order.push(w.line);
    byLine.set(w.line, [...(byLine.get(w.line) ?? []), w]);
  }
  for (const li of order) {
    const words = byLine.get(li)!;
    const lineBox = ocr.lines[li]?.bbox ?? words[0]!.bbox;
    const size = Math.max(1, (lineBox.y1 - lineBox.y0) * scale);
    const baseline = pageHeight - lineBox.y1 * scale;
    ops.push(`/${fontName.asString().slice(1)} ${num(size)} Tf`);
    words.forEach((w, i) => {
      const next = words[i + 1];
      // A space after each word but the last keeps words apart when the text is extracted.
      const text = next ? `${w.text} ` : w.text;
      const right = next ? next.bbox.x0 : w.bbox.x1;
      const width = Math.max(1, (right - w.bbox.x0) * scale);
      const natural = ([...text].length * GLYPHLESS_ADVANCE * size) / 1000;
      ops.push(`${num((100 * width) / natural)} Tz`);
      ops.push(`1 0 0 1 ${num(w.bbox.x0 * scale)} ${num(baseline)} Tm`);
      ops.push(`<${hexUtf16(text)}> Tj`);
    });
  }
  ops.push('ET');
  const stream = doc.context.flateStream(ops.join('\n'));
  page.node.addContentStream(doc.context.register(stream));
}

function addOutline(doc: PDFDocument, pages: { ref: PDFRef; title: string }[]): void {
  const ctx = doc.context;
  const outlineRef = ctx.nextRef();
  const itemRefs = pages.map(() => ctx.nextRef());
  pages.forEach((p, i) => {
    const item = ctx.obj({ Title: PDFHexString.fromText(p.title), Parent: outlineRef, Dest: [p.ref, 'Fit'] });
    if (i > 0) item.set(PDFName.of('Prev'), itemRefs[i - 1]!);
    if (i < pages.length - 1) item.set(PDFName.of('Next'), itemRefs[i + 1]!);
    ctx.assign(itemRefs[i]!, item);
  });
  ctx.assign(outlineRef, ctx.obj({ Type: 'Outlines', First: itemRefs[0]!, Last: itemRefs[itemRefs.length - 1]!, Count: PDFNumber.of(pages.length) }));
  doc.catalog.set(PDFName.of('Outlines'), outlineRef);
}

function xmpDate(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** The XMP packet: PDF/A-2b identification and Dublin Core properties mirroring the Info dictionary. */
export function xmpPacket(info: PdfBookInfo, producer: string, created: Date): string {
  const date = xmpDate(created);
  return `<?xpacket begin="\uFEFF" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about=""
    xmlns:pdfaid="http://www.aiim.org/pdfa/ns/id/"
    xmlns:dc="http://purl.org/dc/elements/1.1/"
    xmlns:xmp="http://ns.adobe.com/xap/1.0/"
    xmlns:pdf="http://ns.adobe.com/pdf/1.3/">
   <pdfaid:part>2</pdfaid:part>
   <pdfaid:conformance>B</pdfaid:conformance>
   <dc:format>application/pdf</dc:format>
   <dc:title><rdf:Alt><rdf:li xml:lang="x-default">${x(info.title)}</rdf:li></rdf:Alt></dc:title>
   <dc:description><rdf:Alt><rdf:li xml:lang="x-default">${x(info.subject)}</rdf:li></rdf:Alt></dc:description>
   <dc:subject><rdf:Bag>${info.keywords.map((k) => `<rdf:li>${x(k)}</rdf:li>`).join('')}</rdf:Bag></dc:subject>
   <dc:identifier>${x(info.identifier)}</dc:identifier>
   <dc:coverage>${x(info.coverage)}</dc:coverage>
   <dc:type><rdf:Bag><rdf:li>${x(info.type)}</rdf:li></rdf:Bag></dc:type>
   <pdf:Keywords>${x(info.keywords.join(' '))}</pdf:Keywords>
   <pdf:Producer>${x(producer)}</pdf:Producer>
   <xmp:CreatorTool>${x(info.creatorTool)}</xmp:CreatorTool>
   <xmp:CreateDate>${date}</xmp:CreateDate>
   <xmp:ModifyDate>${date}</xmp:ModifyDate>
   <xmp:MetadataDate>${date}</xmp:MetadataDate>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
<?xpacket end="w"?>`;
}
