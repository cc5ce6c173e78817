import { PDFDocument, StandardFonts, type PDFFont, type PDFPage } from 'pdf-lib';
import { cyrillicToLatin } from '../search/index.ts';
import { canonicalJson, type DisposalRecord } from './disposal.ts';

const A4: [number, number] = [595.28, 841.89];
const MARGIN = 50;

/**
 * Text the standard Helvetica font can show (WinAnsi): Cyrillic transliterated to Latin, Latin-1
 * kept (Albanian ë and ç included), anything else as '?'. The exact text stays in the attached JSON.
 */
export function pdfSafeText(s: string): string {
  return [...cyrillicToLatin(s)].map((c) => {
    const cp = c.codePointAt(0)!;
    return (cp >= 0x20 && cp <= 0x7e) || (cp >= 0xa0 && cp <= 0xff) ? c : '?';
  }).join('');
}

class Writer {
  page!: PDFPage;
  y = 0;
  constructor(private readonly doc: PDFDocument, private readonly font: PDFFont, private readonly bold: PDFFont) {
    this.newPage();
  }

  newPage(): void {
    this.page = this.doc.addPage(A4);
    this.y = A4[1] - MARGIN;
  }

  line(text: string, opts: { size?: number; bold?: boolean; indent?: number } = {}): void {
    const size = opts.size ?? 10;
    const font = opts.bold ? this.bold : this.font;
    const width = A4[0] - 2 * MARGIN - (opts.indent ?? 0);
    // Wraps on spaces, and inside words too long for a line (hashes, keys).
    let rest = pdfSafeText(text);
    do {
      let n = rest.length;
      while (n > 1 && font.widthOfTextAtSize(rest.slice(0, n), size) > width) {
        const space = rest.lastIndexOf(' ', n - 1);
        n = space > 0 ? space : n - 1;
      }
      if (this.y < MARGIN + size) this.newPage();
      this.page.drawText(rest.slice(0, n), { x: MARGIN + (opts.indent ?? 0), y: this.y - size, size, font });
      this.y -= size * 1.35;
      rest = rest.slice(n).trimStart();
    } while (rest.length);
  }

  gap(h = 8): void {
    this.y -= h;
  }
}

/**
 * The disposal certificate as a PDF: what was disposed of, under which rule, approved by whom, the
 * objects removed with their SHA-256, and the SHA-256 of the certificate's canonical JSON, which
 * is attached to the PDF as `certificate.json` so the printed hash can be checked from the PDF
 * alone. Built from the stored certificate only (dates from it), so the same certificate always
 * gives the same bytes.
 */
export async function certificatePdf(rec: DisposalRecord): Promise<Uint8Array> {
  if (!rec.certificate) throw new Error(`book ${rec.bookId} has no certificate yet`);
  const c = rec.certificate.content as Record<string, any>;
  const disposedAt = new Date(String(c.disposedAt));
  const doc = await PDFDocument.create({ updateMetadata: false });
  doc.setTitle(`Certificate of disposal, book ${rec.bookId}`);
  doc.setSubject('Arkiva disposal certificate');
  doc.setCreator('Arkiva');
  doc.setProducer('Arkiva (pdf-lib)');
  doc.setCreationDate(disposedAt);
  doc.setModificationDate(disposedAt);
  const w = new Writer(doc, await doc.embedFont(StandardFonts.Helvetica), await doc.embedFont(StandardFonts.HelveticaBold));

  const book = (c.book ?? {}) as Record<string, unknown>;
  const rule = (c.rule ?? null) as Record<string, unknown> | null;
  const ret = (c.retention ?? {}) as Record<string, unknown>;
  const appr = (c.approvals ?? {}) as Record<string, unknown>;
  const objects = (c.objects ?? []) as { key: string; sha256: string; size: number; role: string }[];
  w.line('Certificate of disposal', { size: 18, bold: true });
  w.gap();
  w.line(`Book ${rec.bookId}`, { bold: true });
  w.line(`${book.registerType} register, ${book.municipality}, ${book.yearFrom === book.yearTo ? book.yearFrom : `${book.yearFrom}-${book.yearTo}`}${book.volume ? `, volume ${book.volume}` : ''}; ${book.pageCount} pages`);
  w.line(`Source SHA-256 ${book.sourceSha256} (${book.sourceSize} bytes), archived ${book.createdAt}`);
  w.gap();
  w.line('Retention', { bold: true });
  w.line(rule ? `Rule ${rule.rule_key} v${rule.version}: ${rule.name} (action ${rule.action})` : 'No rule recorded');
  w.line(`Retained until ${ret.retainUntil}; ${ret.explanation}`);
  w.gap();
  w.line('Approvals (four eyes)', { bold: true });
  w.line(`Disposal batch ${appr.batchId}`);
  w.line(`Proposed by ${appr.proposedBy} at ${appr.proposedAt}`);
  w.line(`Approved by ${appr.approvedBy} at ${appr.approvedAt}`);
  w.gap();
  w.line('Disposal', { bold: true });
  w.line(`Disposed of at ${c.disposedAt} by ${c.agent}`);
  w.line(`${objects.length} recorded objects, ${objects.reduce((n, o) => n + Number(o.size), 0)} bytes; ${c.storeVersionsDeleted} store versions deleted; ${(c.sharedKeysKept ?? []).length} keys kept because other books use them`);
  w.gap();
  w.line('Certificate SHA-256 (canonical JSON, attached as certificate.json)', { bold: true });
  w.line(rec.certificate.sha256, { size: 9 });
  w.gap();
  w.line('Objects removed', { bold: true });
  for (const o of objects) w.line(`${o.role}  ${o.size} bytes  ${o.sha256}`, { size: 8, indent: 10 });

  await doc.attach(Buffer.from(canonicalJson(c), 'utf8'), 'certificate.json', {
    mimeType: 'application/json', description: 'The certificate content whose SHA-256 is printed', creationDate: disposedAt, modificationDate: disposedAt,
  });
  return doc.save({ useObjectStreams: false });
}
