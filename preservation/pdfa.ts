import { createHash } from 'node:crypto';
import { deflateSync } from 'node:zlib';
import sharp from 'sharp';
import type { ArchivedOcr } from '../archive/archived-ocr.ts';
import { GLYPHLESS_ADVANCE, GLYPHLESS_FONT_NAME, glyphLessFont, glyphLessWidth, identityToUnicodeCMap } from './glyphless-font.ts';
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
 * Builds a PDF/A-2b document (collected in memory; `writePdfA` streams it). One page per image with
 * an invisible text layer, a bookmark per page, XMP with the PDF/A identification, an sRGB OutputIntent.
 */
export async function buildPdfA(info: PdfBookInfo, pages: Iterable<PdfPageInput> | AsyncIterable<PdfPageInput>): Promise<Uint8Array> {
  const parts: Buffer[] = [];
  for await (const chunk of writePdfA(info, pages)) parts.push(chunk);
  return Buffer.concat(parts);
}

// Object numbers fixed before the first page; pages and outline items follow from 14 on.
const OBJ = { catalog: 1, pages: 2, font: 3, cidFont: 4, descriptor: 5, fontFile: 6, cidToGid: 7, toUnicode: 8, icc: 9, metadata: 10, info: 11, outlines: 12, intent: 13 } as const;
const FIRST_FREE = 14;

/** A PDF text string: literal when plain ASCII, else UTF-16BE with a byte order mark. */
function pdfText(s: string): string {
  if (/^[\x20-\x7e]*$/.test(s)) return `(${s.replace(/[\\()]/g, (c) => `\\${c}`)})`;
  return `<FEFF${[...s].map((ch) => { const cp = ch.codePointAt(0)!; return cp > 0xffff ? Buffer.from(ch, 'utf16le').swap16().toString('hex') : cp.toString(16).padStart(4, '0'); }).join('')}>`;
}

function pdfDate(d: Date): string {
  return `D:${d.toISOString().replace(/[-:T]/g, '').slice(0, 14)}Z`;
}

/**
 * Writes a PDF/A-2b document as a stream of chunks while the pages arrive: each page's JPEG is
 * written out as soon as it is read and only object offsets, page numbers and bookmark titles are
 * kept, so memory stays at about one page whatever the book's length (pdf-lib holds the whole
 * document until it saves). Objects: a glyph-less TrueType font for the invisible OCR text, the
 * sRGB OutputIntent, the XMP metadata; then per page its dictionary, image XObject (the JPEG as
 * is, DCTDecode), image content stream and text-layer stream; then the page tree, outline,
 * Info dictionary and catalog, and the cross-reference table.
 */
export async function* writePdfA(info: PdfBookInfo, pages: Iterable<PdfPageInput> | AsyncIterable<PdfPageInput>): AsyncGenerator<Buffer> {
  const created = new Date(Math.floor(info.createdAt.getTime() / 1000) * 1000);
  const offsets = new Map<number, number>();
  let pos = 0;
  let next = FIRST_FREE;
  // The file identifier is a digest of the bytes before it, so the same book and time give the
  // same file: a packaging run repeated after a crash stores the same content-addressed PDF
  // instead of leaving the first one behind with no row.
  const digest = createHash('md5');
  const out = (b: Buffer): Buffer => {
    pos += b.length;
    digest.update(b);
    return b;
  };
  const obj = (n: number, body: string): Buffer => {
    offsets.set(n, pos);
    return out(Buffer.from(`${n} 0 obj\n${body}\nendobj\n`, 'latin1'));
  };
  const stream = (n: number, dict: string, data: Buffer): Buffer => {
    offsets.set(n, pos);
    return out(Buffer.concat([Buffer.from(`${n} 0 obj\n<< ${dict} /Length ${data.length} >>\nstream\n`, 'latin1'), data, Buffer.from('\nendstream\nendobj\n', 'latin1')]));
  };
  const flate = (n: number, dict: string, data: Buffer | string): Buffer => stream(n, `${dict} /Filter /FlateDecode`.trim(), deflateSync(typeof data === 'string' ? Buffer.from(data, 'latin1') : data));

  // Header, then a comment of bytes above 127 so transfer tools treat the file as binary (PDF/A).
  yield out(Buffer.concat([Buffer.from('%PDF-1.7\n%', 'latin1'), Buffer.from([0xe2, 0xe3, 0xcf, 0xd3]), Buffer.from('\n', 'latin1')]));

  const font = glyphLessFont();
  yield flate(OBJ.fontFile, `/Length1 ${font.length}`, font);
  // Descent -1, not 0: readers (poppler among them) take a Descent of 0 as missing and assume
  // -0.35 em, which would hang every word's box a third of the line below the line.
  yield obj(OBJ.descriptor, `<< /Type /FontDescriptor /FontName /${GLYPHLESS_FONT_NAME} /Flags 4 /FontBBox [0 0 ${GLYPHLESS_ADVANCE} 1000] /ItalicAngle 0 /Ascent 1000 /Descent -1 /CapHeight 1000 /StemV 80 /FontFile2 ${OBJ.fontFile} 0 R >>`);
  // Every code (a UTF-16 unit) shows glyph 1: 65536 big-endian GIDs, tiny once deflated.
  const map = Buffer.alloc(65536 * 2);
  for (let i = 0; i < 65536; i++) map.writeUInt16BE(1, i * 2);
  yield flate(OBJ.cidToGid, '', map);
  yield obj(OBJ.cidFont, `<< /Type /Font /Subtype /CIDFontType2 /BaseFont /${GLYPHLESS_FONT_NAME} /CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> /FontDescriptor ${OBJ.descriptor} 0 R /DW ${GLYPHLESS_ADVANCE} /CIDToGIDMap ${OBJ.cidToGid} 0 R >>`);
  yield flate(OBJ.toUnicode, '', identityToUnicodeCMap());
  yield obj(OBJ.font, `<< /Type /Font /Subtype /Type0 /BaseFont /${GLYPHLESS_FONT_NAME} /Encoding /Identity-H /DescendantFonts [${OBJ.cidFont} 0 R] /ToUnicode ${OBJ.toUnicode} 0 R >>`);
  yield flate(OBJ.icc, '/N 3', await srgbIccProfile());
  yield obj(OBJ.intent, `<< /Type /OutputIntent /S /GTS_PDFA1 /OutputConditionIdentifier (sRGB IEC61966-2.1) /Info (sRGB IEC61966-2.1) /RegistryName (http://www.color.org) /DestOutputProfile ${OBJ.icc} 0 R >>`);
  const producer = `${info.creatorTool} (Arkiva PDF writer)`;
  // The XMP packet is never compressed, so archival tools can read it without a PDF parser.
  yield stream(OBJ.metadata, '/Type /Metadata /Subtype /XML', Buffer.from(xmpPacket(info, producer, created), 'utf8'));

  const pageRefs: { n: number; title: string }[] = [];
  for await (const p of pages) {
    const dpi = p.dpi ?? DEFAULT_DPI;
    const w = (p.width * 72) / dpi;
    const h = (p.height * 72) / dpi;
    const [pageN, imageN, drawN] = [next++, next++, next++];
    const textN = p.ocr && p.ocr.words.some((x) => x.text.trim()) ? next++ : undefined;
    const grey = jpegComponents(p.jpeg) === 1;
    yield stream(imageN, `/Type /XObject /Subtype /Image /Width ${p.width} /Height ${p.height} /ColorSpace /${grey ? 'DeviceGray' : 'DeviceRGB'} /BitsPerComponent 8 /Filter /DCTDecode`, p.jpeg);
    yield flate(drawN, '', `q ${num(w)} 0 0 ${num(h)} 0 0 cm /Im0 Do Q`);
    if (textN !== undefined) yield flate(textN, '', textLayerOps(p.ocr!, w / p.ocr!.width, h));
    yield obj(pageN, `<< /Type /Page /Parent ${OBJ.pages} 0 R /MediaBox [0 0 ${num(w)} ${num(h)}] /Resources << /XObject << /Im0 ${imageN} 0 R >> /Font << /FOcr ${OBJ.font} 0 R >> >> /Contents [${drawN} 0 R${textN !== undefined ? ` ${textN} 0 R` : ''}] >>`);
    pageRefs.push({ n: pageN, title: p.label ?? `Page ${p.sequence}` });
  }
  if (!pageRefs.length) throw new Error('a PDF needs at least one page');

  yield obj(OBJ.pages, `<< /Type /Pages /Kids [${pageRefs.map((r) => `${r.n} 0 R`).join(' ')}] /Count ${pageRefs.length} >>`);
  const items = pageRefs.map(() => next++);
  for (let i = 0; i < pageRefs.length; i++) {
    const prev = i > 0 ? ` /Prev ${items[i - 1]} 0 R` : '';
    const nxt = i < pageRefs.length - 1 ? ` /Next ${items[i + 1]} 0 R` : '';
    yield obj(items[i]!, `<< /Title ${pdfText(pageRefs[i]!.title)} /Parent ${OBJ.outlines} 0 R${prev}${nxt} /Dest [${pageRefs[i]!.n} 0 R /Fit] >>`);
  }
  yield obj(OBJ.outlines, `<< /Type /Outlines /First ${items[0]} 0 R /Last ${items.at(-1)} 0 R /Count ${items.length} >>`);
  yield obj(OBJ.info, `<< /Title ${pdfText(info.title)} /Subject ${pdfText(info.subject)} /Keywords ${pdfText(info.keywords.join(' '))} /Creator ${pdfText(info.creatorTool)} /Producer ${pdfText(producer)} /CreationDate (${pdfDate(created)}) /ModDate (${pdfDate(created)}) >>`);
  yield obj(OBJ.catalog, `<< /Type /Catalog /Pages ${OBJ.pages} 0 R /Metadata ${OBJ.metadata} 0 R /OutputIntents [${OBJ.intent} 0 R] /Outlines ${OBJ.outlines} 0 R /PageMode /UseOutlines /ViewerPreferences << /DisplayDocTitle true >> >>`);

  const size = next;
  const xrefAt = pos;
  const lines = ['xref', `0 ${size}`, '0000000000 65535 f\r'];
  for (let n = 1; n < size; n++) {
    const at = offsets.get(n);
    if (at === undefined) throw new Error(`PDF object ${n} was never written`);
    lines.push(`${String(at).padStart(10, '0')} 00000 n\r`);
  }
  // PDF/A requires a file identifier in the trailer.
  const id = digest.digest('hex');
  yield Buffer.from(`${lines.join('\n')}\ntrailer\n<< /Size ${size} /Root ${OBJ.catalog} 0 R /Info ${OBJ.info} 0 R /ID [<${id}> <${id}>] >>\nstartxref\n${xrefAt}\n%%EOF\n`, 'latin1');
}

/** Number of colour components of a baseline or progressive JPEG (from its SOF marker). */
export function jpegComponents(jpeg: Buffer): number {
  let i = 2;
  while (i + 9 < jpeg.length) {
    if (jpeg[i] !== 0xff) throw new Error('not a JPEG: marker expected');
    const marker = jpeg[i + 1]!;
    if (marker === 0xd8 || (marker >= 0xd0 && marker <= 0xd7) || marker === 0x01 || marker === 0xff) {
      i += marker === 0xff ? 1 : 2;
      continue;
    }
    // SOF0..SOF15, except DHT (C4), JPG (C8) and DAC (CC), carry the component count.
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) return jpeg[i + 9]!;
    i += 2 + jpeg.readUInt16BE(i + 2);
  }
  throw new Error('not a JPEG: no frame header');
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

/**
 * The invisible text layer of a page (rendering mode 3) in the OCR's reading order: per line the
 * font size from the line's height and the baseline at the line's bottom; per word a horizontal
 * scale (Tz) so the word spans exactly its own box, and between words a space scaled to the gap
 * up to the next word, so a viewer's selection of a word covers that word and extracted text keeps
 * words apart.
 */
export function textLayerOps(ocr: ArchivedOcr, scale: number, pageHeight: number): string {
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
    const space = glyphLessWidth(' ', size);
    ops.push(`/FOcr ${num(size)} Tf`);
    words.forEach((w, i) => {
      const text = w.text.trim();
      const width = Math.max(MIN_WIDTH, (w.bbox.x1 - w.bbox.x0) * scale);
      ops.push(`${num((100 * width) / glyphLessWidth(text, size))} Tz`);
      ops.push(`1 0 0 1 ${num(w.bbox.x0 * scale)} ${num(baseline)} Tm`);
      ops.push(`<${hexUtf16(text)}> Tj`);
      const next = words[i + 1];
      if (next) {
        // Boxes that touch or overlap still get a space (a sliver wide), or extraction would join the words.
        const gap = Math.max(MIN_WIDTH, (next.bbox.x0 - w.bbox.x1) * scale);
        ops.push(`${num((100 * gap) / space)} Tz`);
        ops.push('<0020> Tj');
      }
    });
  }
  ops.push('ET');
  return ops.join('\n');
}

// Narrowest a word or a space is drawn, in points: a zero or negative width would mirror or hide it.
const MIN_WIDTH = 0.1;

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
