import { inflateSync } from 'node:zlib';
import { PDFArray, PDFDict, PDFDocument, PDFName, PDFRawStream, PDFRef, PDFStream, type PDFObject } from 'pdf-lib';

/**
 * What can be asserted about PDF/A-2b conformance without a full validator (veraPDF is not in
 * Debian): the structural requirements Arkiva's writer must meet. Not a conformance verdict.
 */
export interface PdfAReport {
  pdfaPart: string | null;
  pdfaConformance: string | null;
  outputIntent: { subtype: string | null; iccBytes: number; iccColourSpace: string | null } | null;
  fonts: { name: string; embedded: boolean }[];
  encrypted: boolean;
  javascript: boolean;
  hasFileId: boolean;
  /** Each unmet requirement, in words. */
  problems: string[];
}

function streamBytes(s: PDFStream): Buffer {
  const raw = s instanceof PDFRawStream ? Buffer.from(s.contents) : Buffer.from(s.getContents());
  const filter = s.dict.get(PDFName.of('Filter'));
  return filter instanceof PDFName && filter.asString() === '/FlateDecode' ? inflateSync(raw) : raw;
}

/** Checks the PDF/A-2b requirements Arkiva's PDFs are built to meet (see `PdfAReport`). */
export async function checkPdfA(pdf: Uint8Array): Promise<PdfAReport> {
  const doc = await PDFDocument.load(pdf, { updateMetadata: false, ignoreEncryption: true });
  const ctx = doc.context;
  const look = <T extends PDFObject>(o: PDFObject | undefined): T | undefined => (o instanceof PDFRef ? (ctx.lookup(o) as T) : (o as T | undefined));
  const problems: string[] = [];

  const meta = look<PDFStream>(doc.catalog.get(PDFName.of('Metadata')));
  const xmp = meta instanceof PDFStream ? streamBytes(meta).toString('utf8') : '';
  const pdfaPart = /<pdfaid:part>(\d)<\/pdfaid:part>|pdfaid:part="(\d)"/.exec(xmp)?.slice(1).find(Boolean) ?? null;
  const pdfaConformance = /<pdfaid:conformance>([A-Z])<\/pdfaid:conformance>|pdfaid:conformance="([A-Z])"/.exec(xmp)?.slice(1).find(Boolean) ?? null;
  if (!meta) problems.push('no XMP metadata stream in the catalog');
  if (pdfaPart !== '2' || pdfaConformance !== 'B') problems.push(`XMP identifies PDF/A part ${pdfaPart ?? '-'} conformance ${pdfaConformance ?? '-'}, not 2B`);

  let outputIntent: PdfAReport['outputIntent'] = null;
  const intents = look<PDFArray>(doc.catalog.get(PDFName.of('OutputIntents')));
  if (intents instanceof PDFArray && intents.size() > 0) {
    const oi = look<PDFDict>(intents.get(0));
    const subtype = (oi?.get(PDFName.of('S')) as PDFName | undefined)?.asString() ?? null;
    const icc = look<PDFStream>(oi?.get(PDFName.of('DestOutputProfile')));
    const bytes = icc instanceof PDFStream ? streamBytes(icc) : Buffer.alloc(0);
    outputIntent = { subtype, iccBytes: bytes.length, iccColourSpace: bytes.length >= 40 && bytes.subarray(36, 40).toString('ascii') === 'acsp' ? bytes.subarray(16, 20).toString('ascii').trim() : null };
    if (subtype !== '/GTS_PDFA1') problems.push(`OutputIntent subtype ${subtype}, not /GTS_PDFA1`);
    if (outputIntent.iccColourSpace !== 'RGB') problems.push('OutputIntent has no RGB ICC profile');
  } else {
    problems.push('no OutputIntent');
  }

  const fonts: PdfAReport['fonts'] = [];
  let javascript = false;
  for (const [, obj] of ctx.enumerateIndirectObjects()) {
    const dict = obj instanceof PDFDict ? obj : obj instanceof PDFStream ? obj.dict : undefined;
    if (!dict) continue;
    for (const key of ['JS', 'JavaScript', 'AA']) if (dict.has(PDFName.of(key))) javascript = true;
    const s = dict.get(PDFName.of('S'));
    if (s instanceof PDFName && s.asString() === '/JavaScript') javascript = true;
    if ((dict.get(PDFName.of('Type')) as PDFName | undefined)?.asString() !== '/Font') continue;
    const subtype = (dict.get(PDFName.of('Subtype')) as PDFName | undefined)?.asString();
    if (subtype === '/Type0') continue; // its descendant CIDFont carries the descriptor
    const name = (dict.get(PDFName.of('BaseFont')) as PDFName | undefined)?.asString() ?? '?';
    const fd = look<PDFDict>(dict.get(PDFName.of('FontDescriptor')));
    const embedded = !!fd && ['FontFile', 'FontFile2', 'FontFile3'].some((k) => fd.has(PDFName.of(k)));
    fonts.push({ name, embedded });
    if (!embedded) problems.push(`font ${name} is not embedded`);
  }
  const names = look<PDFDict>(doc.catalog.get(PDFName.of('Names')));
  if (names?.has(PDFName.of('JavaScript'))) javascript = true;
  if (javascript) problems.push('JavaScript or additional actions present');

  const encrypted = ctx.trailerInfo.Encrypt !== undefined;
  if (encrypted) problems.push('encrypted');
  const hasFileId = ctx.trailerInfo.ID !== undefined;
  if (!hasFileId) problems.push('no file identifier (trailer /ID)');
  return { pdfaPart, pdfaConformance, outputIntent, fonts, encrypted, javascript, hasFileId, problems };
}
