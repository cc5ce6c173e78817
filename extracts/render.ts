import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import fontkit from '@pdf-lib/fontkit';
import QRCode from 'qrcode';
import { AFRelationship, PDFDocument, PDFHexString, PDFName, PDFString, rgb, type PDFFont, type PDFPage } from 'pdf-lib';
import type { ExtractType, NameRole } from '../common/vocabulary.ts';
import { srgbIccProfile } from '../preservation/index.ts';

/** Everything printed on an extract; the same object travels inside it as `extract.json`. */
export interface ExtractContent {
  serial: string;
  type: ExtractType;
  issuedAt: Date;
  issuingOffice: string;
  issuedBy: string;
  requestReference: string;
  /** The public verification address, also in the QR code. */
  verifyUrl: string;
  book: { id: string; registerType: ExtractType; municipality: string; yearFrom: number; yearTo: number; volume: string | null };
  page: number;
  entry: {
    id: string;
    entryNumber: string | null;
    eventDate: string | null;
    place: string | null;
    names: { role: NameRole; name: string }[];
    marginalNotes: string | null;
    source: string;
    verifiedBy: string | null;
  };
  record: { id: string; system: string; recordType: string; recordId: string } | null;
  /** Serial of the extract this one replaces, when re-issued. */
  supersedes: string | null;
  /** The signing certificate's subject. */
  signer: string;
}

/** A label in the agency's languages: Albanian, Serbian (Latin), English. */
type Label = { sq: string; sr: string; en: string };

/** The extract's labels; Albanian and Serbian are the official languages, English helps holders abroad. */
export const LABELS = {
  serial: { sq: 'Numri serik', sr: 'Serijski broj', en: 'Serial number' },
  issuedAt: { sq: 'Data e lëshimit', sr: 'Datum izdavanja', en: 'Date of issue' },
  municipality: { sq: 'Komuna', sr: 'Opština', en: 'Municipality' },
  year: { sq: 'Viti', sr: 'Godina', en: 'Year' },
  volume: { sq: 'Vëllimi', sr: 'Tom', en: 'Volume' },
  page: { sq: 'Faqja', sr: 'Strana', en: 'Page' },
  entryNumber: { sq: 'Numri rendor', sr: 'Redni broj', en: 'Entry number' },
  eventDate: { sq: 'Data e ngjarjes', sr: 'Datum događaja', en: 'Date of the event' },
  place: { sq: 'Vendi', sr: 'Mesto', en: 'Place' },
  marginalNotes: { sq: 'Shënime të mëvonshme', sr: 'Naknadni upisi', en: 'Later annotations' },
  record: { sq: 'Regjistri qendror', sr: 'Centralni registar', en: 'Registry record' },
  office: { sq: 'Zyra lëshuese', sr: 'Organ koji izdaje', en: 'Issuing office' },
  issuedBy: { sq: 'Nëpunësi', sr: 'Službenik', en: 'Official' },
  requestReference: { sq: 'Numri i kërkesës', sr: 'Broj zahteva', en: 'Request reference' },
  crop: { sq: 'Shënimi në libër', sr: 'Upis u matičnoj knjizi', en: 'The entry as written in the book' },
  verify: { sq: 'Verifikoni në', sr: 'Proverite na', en: 'Verify at' },
  supersedes: { sq: 'Zëvendëson ekstraktin', sr: 'Zamenjuje izvod', en: 'Replaces extract' },
  signed: {
    sq: 'Dokument i nënshkruar elektronikisht. Vlefshmëria verifikohet me numrin serik ose kodin QR.',
    sr: 'Elektronski potpisan dokument. Važenje se proverava serijskim brojem ili QR kodom.',
    en: 'Electronically signed document. Its validity is checked with the serial number or the QR code.',
  },
} as const satisfies Record<string, Label>;

/** Labels of the persons named in an entry, by role. */
export const ROLE_LABELS: Record<NameRole, Label> = {
  subject: { sq: 'Personi', sr: 'Lice', en: 'Person' },
  father: { sq: 'Babai', sr: 'Otac', en: 'Father' },
  mother: { sq: 'Nëna', sr: 'Majka', en: 'Mother' },
  spouse: { sq: 'Bashkëshorti/ja', sr: 'Supružnik', en: 'Spouse' },
  other: { sq: 'Tjetër', sr: 'Drugo', en: 'Other' },
};

/** The title of an extract of each register. */
export const TITLES: Record<ExtractType, Label> = {
  birth: { sq: 'Ekstrakt nga libri amë i të lindurve', sr: 'Izvod iz matične knjige rođenih', en: 'Extract from the register of births' },
  marriage: { sq: 'Ekstrakt nga libri amë i të kurorëzuarve', sr: 'Izvod iz matične knjige venčanih', en: 'Extract from the register of marriages' },
  death: { sq: 'Ekstrakt nga libri amë i të vdekurve', sr: 'Izvod iz matične knjige umrlih', en: 'Extract from the register of deaths' },
  other: { sq: 'Ekstrakt nga libri amë', sr: 'Izvod iz matične knjige', en: 'Extract from the civil register' },
};

/** The label line printed above a value: the three languages, Albanian first. */
export function labelLine(l: Label): string {
  return `${l.sq} / ${l.sr} / ${l.en}`;
}

/** The entry data attached to the PDF (AFRelationship Data): exactly what it prints, in JSON. */
export function extractJson(c: ExtractContent): Buffer {
  return Buffer.from(`${JSON.stringify({ ...c, issuedAt: c.issuedAt.toISOString(), format: 'arkiva-extract/1' }, null, 2)}\n`, 'utf8');
}

const require = createRequire(import.meta.url);
let fonts: { regular: Buffer; bold: Buffer } | undefined;

/** DejaVu Sans (npm dejavu-fonts-ttf): Albanian, Serbian Latin and Cyrillic; embedded (subset), as PDF/A requires. */
function fontBytes(): { regular: Buffer; bold: Buffer } {
  if (!fonts) {
    const dir = `${require.resolve('dejavu-fonts-ttf/package.json').replace(/package\.json$/, '')}ttf/`;
    fonts = { regular: fs.readFileSync(`${dir}DejaVuSans.ttf`), bold: fs.readFileSync(`${dir}DejaVuSans-Bold.ttf`) };
  }
  return fonts;
}

const A4: [number, number] = [595.28, 841.89];
const MARGIN = 48;
const GREY = rgb(0.35, 0.35, 0.35);

function xmlEscape(s: string): string {
  return s.replace(/[<>&'"]/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

function xmpDate(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * The XMP packet: PDF/A-3B identification and the same title, producer and dates as the Info
 * dictionary (PDF/A wants them equal).
 */
function xmpPacket(c: ExtractContent, title: string, producer: string): string {
  const d = xmpDate(c.issuedAt);
  return `<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about="" xmlns:pdfaid="http://www.aiim.org/pdfa/ns/id/" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmlns:pdf="http://ns.adobe.com/pdf/1.3/">
   <pdfaid:part>3</pdfaid:part>
   <pdfaid:conformance>B</pdfaid:conformance>
   <dc:format>application/pdf</dc:format>
   <dc:title><rdf:Alt><rdf:li xml:lang="x-default">${xmlEscape(title)}</rdf:li></rdf:Alt></dc:title>
   <dc:creator><rdf:Seq><rdf:li>${xmlEscape(c.issuingOffice)}</rdf:li></rdf:Seq></dc:creator>
   <dc:identifier>${xmlEscape(c.serial)}</dc:identifier>
   <xmp:CreatorTool>Arkiva</xmp:CreatorTool>
   <xmp:CreateDate>${d}</xmp:CreateDate>
   <xmp:ModifyDate>${d}</xmp:ModifyDate>
   <pdf:Producer>${xmlEscape(producer)}</pdf:Producer>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
<?xpacket end="w"?>`;
}

/** Writes text top-down on A4 pages, wrapping on spaces. */
class Flow {
  y = A4[1] - MARGIN;
  constructor(private readonly page: PDFPage, private readonly font: PDFFont, private readonly bold: PDFFont) {}

  text(s: string, opts: { size?: number; bold?: boolean; colour?: ReturnType<typeof rgb>; x?: number; width?: number } = {}): void {
    const size = opts.size ?? 10;
    const font = opts.bold ? this.bold : this.font;
    const x = opts.x ?? MARGIN;
    const width = opts.width ?? A4[0] - MARGIN - x;
    for (const para of s.split('\n')) {
      let rest = para;
      do {
        let n = rest.length;
        while (n > 1 && font.widthOfTextAtSize(rest.slice(0, n), size) > width) {
          const space = rest.lastIndexOf(' ', n - 1);
          n = space > 0 ? space : n - 1;
        }
        this.page.drawText(rest.slice(0, n), { x, y: this.y - size, size, font, color: opts.colour ?? rgb(0, 0, 0) });
        this.y -= size * 1.3;
        rest = rest.slice(n).trimStart();
      } while (rest.length);
    }
  }

  field(label: Label, value: string, opts: { x?: number; width?: number } = {}): void {
    this.text(labelLine(label), { size: 6.5, colour: GREY, ...opts });
    this.text(value || '—', { size: 10.5, ...opts });
    this.y -= 3;
  }

  gap(h: number): void {
    this.y -= h;
  }
}

/** Draws the QR code of `text` as filled squares (vector: sharp at any zoom, no image to embed). */
function drawQr(page: PDFPage, text: string, x: number, y: number, size: number): void {
  const qr = QRCode.create(text, { errorCorrectionLevel: 'M' });
  const n = qr.modules.size;
  const quiet = 2;
  const m = size / (n + 2 * quiet);
  for (let r = 0; r < n; r++) {
    // One rectangle per run of dark modules in a row.
    let c = 0;
    while (c < n) {
      if (!qr.modules.get(r, c)) { c++; continue; }
      const start = c;
      while (c < n && qr.modules.get(r, c)) c++;
      page.drawRectangle({ x: x + (quiet + start) * m, y: y + size - (quiet + r + 1) * m, width: (c - start) * m, height: m, color: rgb(0, 0, 0) });
    }
  }
}

/** The register's year span as printed. */
function years(b: ExtractContent['book']): string {
  return b.yearFrom === b.yearTo ? String(b.yearFrom) : `${b.yearFrom}–${b.yearTo}`;
}

/**
 * Renders the extract as a PDF/A-3B document ready to sign: one A4 page with the title in both
 * languages, serial and date, the book's reference, the entry's fields under trilingual labels, the
 * crop of the entry as it stands in the book, the issuing office and official, the QR code of the
 * verification address; the entry data attached as `extract.json` (AFRelationship Data); XMP, an
 * sRGB OutputIntent, embedded fonts and a file identifier. The signature placeholder is added by
 * the caller (it must be the last change before saving).
 */
export async function renderExtract(c: ExtractContent, crop: { jpeg: Buffer; width: number; height: number } | null): Promise<PDFDocument> {
  const doc = await PDFDocument.create({ updateMetadata: false });
  doc.registerFontkit(fontkit);
  const { regular, bold } = fontBytes();
  const font = await doc.embedFont(regular, { subset: true });
  const boldFont = await doc.embedFont(bold, { subset: true });
  const page = doc.addPage(A4);
  const f = new Flow(page, font, boldFont);
  const title = TITLES[c.type];

  f.text(title.sq, { size: 15, bold: true });
  f.text(title.sr, { size: 15, bold: true });
  f.text(title.en, { size: 9, colour: GREY });
  f.gap(6);
  const top = f.y;
  const qrSize = 92;
  drawQr(page, c.verifyUrl, A4[0] - MARGIN - qrSize, top - qrSize, qrSize);
  const colW = (A4[0] - 2 * MARGIN - qrSize - 20) / 2;
  const col2 = MARGIN + colW + 10;
  f.field(LABELS.serial, c.serial, { width: colW });
  const afterSerial = f.y;
  f.y = top;
  f.field(LABELS.issuedAt, c.issuedAt.toISOString().slice(0, 10), { x: col2, width: colW });
  f.y = afterSerial;
  f.field(LABELS.municipality, c.book.municipality, { width: colW });
  f.y = afterSerial;
  f.field(LABELS.year, `${years(c.book)}${c.book.volume ? ` · ${LABELS.volume.sq}/${LABELS.volume.sr}/${LABELS.volume.en} ${c.book.volume}` : ''}`, { x: col2, width: colW });
  const afterBook = f.y;
  f.field(LABELS.page, String(c.page), { width: colW });
  f.y = afterBook;
  f.field(LABELS.entryNumber, c.entry.entryNumber ?? '—', { x: col2, width: colW });
  f.y = Math.min(f.y, top - qrSize - 4);
  page.drawText(`${LABELS.verify.sq} / ${LABELS.verify.sr} / ${LABELS.verify.en}:`, { x: MARGIN, y: f.y - 7, size: 6.5, font, color: GREY });
  f.y -= 9;
  f.text(c.verifyUrl, { size: 8 });
  f.gap(6);
  page.drawLine({ start: { x: MARGIN, y: f.y }, end: { x: A4[0] - MARGIN, y: f.y }, thickness: 0.5, color: GREY });
  f.gap(8);

  // The person the entry is about first, then parents, spouse, others; as written within a role.
  const order = Object.keys(ROLE_LABELS);
  for (const n of [...c.entry.names].sort((a, b) => order.indexOf(a.role) - order.indexOf(b.role))) f.field(ROLE_LABELS[n.role], n.name);
  f.field(LABELS.eventDate, c.entry.eventDate ?? '');
  f.field(LABELS.place, c.entry.place ?? '');
  if (c.entry.marginalNotes) f.field(LABELS.marginalNotes, c.entry.marginalNotes);
  if (c.record) f.field(LABELS.record, `${c.record.system} · ${c.record.recordType} · ${c.record.recordId}`);
  if (c.supersedes) f.field(LABELS.supersedes, c.supersedes);

  if (crop) {
    f.gap(4);
    f.text(labelLine(LABELS.crop), { size: 6.5, colour: GREY });
    const img = await doc.embedJpg(crop.jpeg);
    const maxW = A4[0] - 2 * MARGIN;
    const maxH = Math.max(40, Math.min(220, f.y - MARGIN - 150));
    const scale = Math.min(maxW / crop.width, maxH / crop.height);
    const w = crop.width * scale;
    const h = crop.height * scale;
    page.drawImage(img, { x: MARGIN, y: f.y - h - 2, width: w, height: h });
    page.drawRectangle({ x: MARGIN, y: f.y - h - 2, width: w, height: h, borderColor: GREY, borderWidth: 0.5 });
    f.y -= h + 10;
  }

  page.drawLine({ start: { x: MARGIN, y: f.y }, end: { x: A4[0] - MARGIN, y: f.y }, thickness: 0.5, color: GREY });
  f.gap(8);
  f.field(LABELS.office, c.issuingOffice);
  const afterOffice = f.y;
  f.field(LABELS.issuedBy, c.issuedBy, { width: (A4[0] - 2 * MARGIN) / 2 - 10 });
  f.y = afterOffice;
  f.field(LABELS.requestReference, c.requestReference, { x: A4[0] / 2, width: A4[0] / 2 - MARGIN });
  f.gap(4);
  f.text(`${LABELS.signed.sq}\n${LABELS.signed.sr}\n${LABELS.signed.en}`, { size: 7, colour: GREY });

  const docTitle = `${title.en} ${c.serial}`;
  const producer = 'Arkiva (pdf-lib)';
  doc.setTitle(docTitle, { showInWindowTitleBar: true });
  doc.setAuthor(c.issuingOffice);
  doc.setCreator('Arkiva');
  doc.setProducer(producer);
  doc.setCreationDate(c.issuedAt);
  doc.setModificationDate(c.issuedAt);
  doc.setLanguage('sq');

  await doc.attach(extractJson(c), 'extract.json', {
    mimeType: 'application/json',
    description: 'The entry data of this extract (Arkiva extract format 1)',
    creationDate: c.issuedAt,
    modificationDate: c.issuedAt,
    afRelationship: AFRelationship.Data,
  });

  const ctx = doc.context;
  // dc:creator must be a Seq of the Info /Author; dc:title the /Title.
  const metadata = ctx.stream(Buffer.from(xmpPacket(c, docTitle, producer), 'utf8'), { Type: 'Metadata', Subtype: 'XML' });
  doc.catalog.set(PDFName.of('Metadata'), ctx.register(metadata));
  const icc = ctx.flateStream(await srgbIccProfile(), { N: 3 });
  const intent = ctx.obj({
    Type: 'OutputIntent', S: 'GTS_PDFA1', OutputConditionIdentifier: PDFString.of('sRGB IEC61966-2.1'), Info: PDFString.of('sRGB IEC61966-2.1'),
    RegistryName: PDFString.of('http://www.color.org'), DestOutputProfile: ctx.register(icc),
  });
  doc.catalog.set(PDFName.of('OutputIntents'), ctx.obj([ctx.register(intent)]));
  // PDF/A needs a file identifier; the serial's digest makes it unique per extract.
  const id = createHash('md5').update(`arkiva-extract:${c.serial}`).digest('hex');
  ctx.trailerInfo.ID = ctx.obj([PDFHexString.of(id), PDFHexString.of(id)]);
  return doc;
}

