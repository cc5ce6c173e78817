import { Transform, pipeline, type Readable, type TransformCallback } from 'node:stream';
import { inflateSync } from 'node:zlib';
import { AppError } from '../common/index.ts';
import { pixelLimitReason } from './limits.ts';

/** Bytes of the upload's start kept to read image headers from. */
const HEAD_BYTES = 256 * 1024;

// Names of PDF objects that run code or act on open: JavaScript, auto-run actions, launching files.
const ACTIVE_PDF_NAMES = new Set(['JavaScript', 'JS', 'OpenAction', 'AA', 'Launch']);
const STREAM_RE = /(?<!end)stream(?:\r\n|\n|\r)/g;
const PDF_NAME_RE = /\/([^\s/<>[\]()%{}]{1,40})/g;
// A name cut at a chunk end is caught in the next chunk with this much overlap.
const OVERLAP = 64;
// PDFs up to this size are also kept whole while streaming, so their compressed object streams
// (where PDF 1.5+ writers put the catalog and actions) can be inflated and scanned at the end.
const PDF_DEEP_SCAN_BYTES = 64 * 1024 * 1024;

/**
 * The one inspection every incoming file passes before anything is archived: a book's original
 * (`ingestBook`, for the API and `arkiva ingest` alike) and a replacement page image. It refuses
 * (ERR_BAD_INPUT_FILE) a file that is
 * - an image whose header declares more than `maxPixels` (a decompression bomb: a small PNG, JPEG
 *   or TIFF that would decode to gigabytes), read from the first 256 KiB before decoding anything; or
 * - a PDF with active content (JavaScript, OpenAction, additional actions, Launch): refused rather
 *   than neutralised, because the original is archived byte for byte. Names are looked for in the
 *   raw bytes (with #hh escapes decoded) and, for PDFs up to 64 MiB, in their inflated object
 *   streams too. In a larger PDF a name inside a compressed object stream is not seen; Arkiva never
 *   runs PDF code (pdf.js without eval renders page images only), so that is a residual risk only
 *   for whoever downloads the original.
 * Fed chunk by chunk as the bytes arrive; `push` and `end` throw the refusal.
 */
class Inspection {
  private head: Buffer[] = [];
  private headSize = 0;
  private checkedHead = false;
  private pdf = false;
  private tail = '';
  private inStream = false;
  private whole: Buffer[] | null = [];
  private wholeSize = 0;

  constructor(private readonly maxPixels: number) {}

  push(chunk: Buffer): void {
    if (!this.checkedHead) {
      this.head.push(chunk);
      this.headSize += chunk.length;
      if (this.headSize >= HEAD_BYTES) this.checkHead();
    } else if (this.pdf) {
      this.scanPdf(chunk);
      this.keep(chunk);
    }
  }

  end(): void {
    if (!this.checkedHead) this.checkHead();
    if (this.pdf && this.whole) scanObjectStreams(Buffer.concat(this.whole));
  }

  private checkHead(): void {
    this.checkedHead = true;
    const head = Buffer.concat(this.head);
    this.head = [];
    if (head.subarray(0, 5).toString('latin1') === '%PDF-') {
      this.pdf = true;
      this.scanPdf(head);
      this.keep(head);
      return;
    }
    for (const [w, h] of imageDimensions(head)) {
      if (pixelLimitReason(w, h, this.maxPixels)) {
        throw new AppError('ERR_BAD_INPUT_FILE', `the image declares ${w}×${h} pixels, more than the limit of ${this.maxPixels}; nothing was archived`);
      }
    }
  }

  private keep(chunk: Buffer): void {
    if (!this.whole) return;
    this.wholeSize += chunk.length;
    if (this.wholeSize > PDF_DEEP_SCAN_BYTES) this.whole = null;
    else this.whole.push(chunk);
  }

  /**
   * Looks for active names in the PDF's syntax, skipping stream data (binary image data would
   * contain short names like /JS by chance). A keyword or name cut at a chunk end is caught with
   * the carried-over end of the previous chunk.
   */
  private scanPdf(chunk: Buffer): void {
    const text = this.tail + chunk.toString('latin1');
    const outside: string[] = [];
    let i = 0;
    let outsideFrom = 0;
    while (i < text.length) {
      if (this.inStream) {
        const e = text.indexOf('endstream', i);
        if (e < 0) break;
        this.inStream = false;
        i = e + 9;
        outsideFrom = i;
        continue;
      }
      outsideFrom = i;
      STREAM_RE.lastIndex = i;
      const m = STREAM_RE.exec(text);
      if (!m) {
        outside.push(text.slice(i));
        break;
      }
      outside.push(text.slice(i, m.index));
      this.inStream = true;
      i = m.index + m[0].length;
    }
    refuseActiveNames(outside.join(' '));
    // Only syntax is carried over, never stream bytes (which could fake a name).
    this.tail = this.inStream ? text.slice(-9) : text.slice(Math.max(outsideFrom, text.length - OVERLAP));
  }
}

/** The inspection as a stream stage: bytes pass through unchanged, and the stream fails with the refusal. */
export class UploadInspector extends Transform {
  private readonly inspection: Inspection;

  constructor(maxPixels: number) {
    super();
    this.inspection = new Inspection(maxPixels);
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    try {
      this.inspection.push(chunk);
      cb(null, chunk);
    } catch (e) {
      cb(e as Error);
    }
  }

  override _flush(cb: TransformCallback): void {
    try {
      this.inspection.end();
      cb();
    } catch (e) {
      cb(e as Error);
    }
  }
}

/** `source` read through an inspector: what the caller archives from instead of `source`. */
export function inspectStream(source: Readable, maxPixels: number): UploadInspector {
  const inspector = new UploadInspector(maxPixels);
  // The consumer (the store's write) sees the error through its own listener; this one keeps an
  // error after the consumer gave up from becoming an uncaught exception.
  inspector.on('error', () => undefined);
  // Either side failing ends both: a source that failed before the inspection was attached (an
  // upload over its limit) fails the inspector too, and a refused file's source is closed.
  pipeline(source, inspector, () => undefined);
  return inspector;
}

/** Inspects bytes already in memory: gives them back, or throws the refusal. */
export function inspectBytes(bytes: Buffer, maxPixels: number): Buffer {
  const inspection = new Inspection(maxPixels);
  inspection.push(bytes);
  inspection.end();
  return bytes;
}

function refuseActiveNames(text: string): void {
  for (const m of text.matchAll(PDF_NAME_RE)) {
    const name = m[1]!.replace(/#([0-9a-fA-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
    if (ACTIVE_PDF_NAMES.has(name)) {
      throw new AppError('ERR_BAD_INPUT_FILE', `the PDF contains active content (/${name}); send a PDF of scans without JavaScript or actions; nothing was archived`);
    }
  }
}

/** Inflates every Flate-compressed object stream (/Type /ObjStm) of a PDF and looks for active names in it. */
function scanObjectStreams(pdf: Buffer): void {
  const text = pdf.toString('latin1');
  const re = /\/Type\s*\/ObjStm/g;
  for (const m of text.matchAll(re)) {
    const start = text.indexOf('stream', m.index);
    if (start < 0) continue;
    let from = start + 6;
    if (text[from] === '\r') from++;
    if (text[from] === '\n') from++;
    const end = text.indexOf('endstream', from);
    if (end < 0) continue;
    let inflated: Buffer;
    try {
      inflated = inflateSync(pdf.subarray(from, end), { maxOutputLength: 64 * 1024 * 1024 });
    } catch {
      // Not Flate, damaged, or a bomb: the splitter decides about such a PDF; no names can be read here.
      continue;
    }
    refuseActiveNames(inflated.toString('latin1'));
  }
}

const DELIMITERS = new Set([0x00, 0x09, 0x0a, 0x0c, 0x0d, 0x20, 0x28, 0x29, 0x3c, 0x3e, 0x5b, 0x5d, 0x7b, 0x7d, 0x2f, 0x25]);

/**
 * Finds the name /JavaScript in the raw bytes (action dictionaries, the catalog's name tree).
 * A backstop for what pdfjs does not report (link and outline actions); it cannot see inside
 * compressed object streams, so it complements pdfjs's checks rather than replacing them.
 */
function rawJavaScriptName(bytes: Buffer): boolean {
  const needle = Buffer.from('/JavaScript', 'latin1');
  for (let at = bytes.indexOf(needle); at !== -1; at = bytes.indexOf(needle, at + 1)) {
    const after = bytes[at + needle.length];
    if (after === undefined || DELIMITERS.has(after)) return true;
  }
  return false;
}

/**
 * The PDF splitter's byte-level backstop over a whole PDF, stream data included (which the
 * streaming inspection skips): refuses one that names /JavaScript anywhere.
 */
export function refuseRawJavaScript(pdf: Buffer): void {
  if (rawJavaScriptName(pdf)) throw new AppError('ERR_BAD_INPUT_FILE', 'PDF contains JavaScript (a /JavaScript action); documents with scripts are refused');
}

/** Width and height of every image the header declares (PNG, JPEG, TIFF frames within the head). */
export function imageDimensions(b: Buffer): [number, number][] {
  if (b.length >= 24 && b.readUInt32BE(0) === 0x89504e47 && b.subarray(12, 16).toString('latin1') === 'IHDR') {
    return [[b.readUInt32BE(16), b.readUInt32BE(20)]];
  }
  if (b.length >= 4 && b[0] === 0xff && b[1] === 0xd8) return jpegDimensions(b);
  const order = b.subarray(0, 2).toString('latin1');
  if (b.length >= 8 && (order === 'II' || order === 'MM')) return tiffDimensions(b, order === 'II');
  return [];
}

function jpegDimensions(b: Buffer): [number, number][] {
  let i = 2;
  while (i + 9 < b.length) {
    if (b[i] !== 0xff) return [];
    const marker = b[i + 1]!;
    if (marker === 0xd9 || marker === 0xda) return [];
    const len = b.readUInt16BE(i + 2);
    // SOF0..SOF15 except DHT (C4), JPG (C8), DAC (CC)
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      return [[b.readUInt16BE(i + 7), b.readUInt16BE(i + 5)]];
    }
    i += 2 + len;
  }
  return [];
}

function tiffDimensions(b: Buffer, le: boolean): [number, number][] {
  const u16 = (o: number) => (le ? b.readUInt16LE(o) : b.readUInt16BE(o));
  const u32 = (o: number) => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
  if (u16(2) !== 42) return [];
  const out: [number, number][] = [];
  let ifd = u32(4);
  const seen = new Set<number>();
  while (ifd > 0 && ifd + 2 <= b.length && !seen.has(ifd) && out.length < 10_000) {
    seen.add(ifd);
    const n = u16(ifd);
    if (ifd + 2 + n * 12 + 4 > b.length) break;
    let w = 0;
    let h = 0;
    for (let k = 0; k < n; k++) {
      const e = ifd + 2 + k * 12;
      const tag = u16(e);
      const type = u16(e + 2);
      const value = type === 3 ? u16(e + 8) : u32(e + 8);
      if (tag === 256) w = value;
      if (tag === 257) h = value;
    }
    if (w && h) out.push([w, h]);
    ifd = u32(ifd + 2 + n * 12);
  }
  return out;
}
