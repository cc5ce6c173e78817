import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Transform, pipeline, type Readable, type TransformCallback } from 'node:stream';
import { AppError, isAppError } from '../common/index.ts';
import { formatOf, SNIFF_BYTES, type BookFormat } from './detect.ts';
import { PdfActiveContentScan } from './inspect-pdf.ts';
import { pixelLimitReason } from './limits.ts';
import { readTiffLayout } from './split-tiff.ts';

/** Bytes of the upload's start kept to read image headers from. */
const HEAD_BYTES = 256 * 1024;

/** How many frames of a streamed TIFF are walked when the caller names no page limit. */
const DEFAULT_TIFF_FRAMES = 10_000;

/**
 * The one inspection every incoming file passes before anything is archived: a book's original
 * (`ingestBook`, for the API and `arkiva ingest` alike) and a replacement page image. What the
 * file is comes from `formatOf`, the rule detection uses (`%PDF-` anywhere in the first 1024
 * bytes makes a PDF), so a file is inspected as what it is archived as. It refuses
 * (ERR_BAD_INPUT_FILE) a file that is
 * - an image whose header declares more than `maxPixels` (a decompression bomb: a small PNG, JPEG
 *   or TIFF that would decode to gigabytes), read from the first 256 KiB before decoding anything;
 *   a streamed TIFF's every directory is walked too, at its end (`UploadInspector`); or
 * - a PDF with active content (JavaScript, OpenAction, additional actions, Launch): refused rather
 *   than neutralised, because the original is archived byte for byte (inspect-pdf.ts says how it
 *   is looked for and what a PDF over 64 MiB can still hide).
 * Fed chunk by chunk as the bytes arrive; `push` and `end` throw the refusal.
 */
class Inspection {
  /** What the file is, by detection's rule; set once the head is read, undefined for a format not accepted. */
  format: BookFormat | undefined;
  private head: Buffer[] = [];
  private headSize = 0;
  private checkedHead = false;
  private pdf: PdfActiveContentScan | undefined;

  constructor(private readonly maxPixels: number) {}

  /** True once the head has been read and `format` is known. */
  get decided(): boolean {
    return this.checkedHead;
  }

  push(chunk: Buffer): void {
    if (!this.checkedHead) {
      this.head.push(chunk);
      this.headSize += chunk.length;
      if (this.headSize >= HEAD_BYTES) this.checkHead();
    } else {
      this.pdf?.push(chunk);
    }
  }

  end(): void {
    if (!this.checkedHead) this.checkHead();
    this.pdf?.end();
  }

  private checkHead(): void {
    this.checkedHead = true;
    const head = Buffer.concat(this.head);
    this.head = [];
    this.format = formatOf(head.subarray(0, SNIFF_BYTES));
    if (this.format === 'pdf') {
      this.pdf = new PdfActiveContentScan();
      this.pdf.push(head);
      return;
    }
    for (const [w, h] of imageDimensions(head)) refuseOverPixelLimit(w, h, this.maxPixels);
  }
}

function refuseOverPixelLimit(width: number, height: number, maxPixels: number): void {
  if (pixelLimitReason(width, height, maxPixels)) {
    throw new AppError('ERR_BAD_INPUT_FILE', `the image declares ${width}×${height} pixels, more than the limit of ${maxPixels}; nothing was archived`);
  }
}

/**
 * A scratch copy of an incoming TIFF, in the system's temporary folder (mode 0600: scans are
 * personal data), removed after the walk or when the upload fails.
 */
class TiffScratchCopy {
  private constructor(
    readonly path: string,
    private handle: fs.FileHandle | undefined,
  ) {}

  static async create(): Promise<TiffScratchCopy> {
    const file = path.join(os.tmpdir(), `arkiva-inspect-${randomUUID()}.tif`);
    return new TiffScratchCopy(file, await fs.open(file, 'wx', 0o600));
  }

  async write(bytes: Buffer): Promise<void> {
    if (!this.handle) throw new Error('the scratch copy of the TIFF is already closed');
    for (let at = 0; at < bytes.length; ) at += (await this.handle.write(bytes, at, bytes.length - at)).bytesWritten;
  }

  async close(): Promise<void> {
    const handle = this.handle;
    this.handle = undefined;
    await handle?.close();
  }

  async remove(): Promise<void> {
    await this.close().catch(() => undefined);
    await fs.rm(this.path, { force: true });
  }
}

/**
 * The inspection as a stream stage: bytes pass through unchanged, and the stream fails with the
 * refusal. A TIFF's directories may lie anywhere, before or after the bytes that point to them
 * (libtiff appends a rewritten directory at the end and links back), so a TIFF is copied to a
 * scratch file as it passes and its every directory walked at the end with the splitter's own
 * walker (`readTiffLayout`, never decoding pixels): the frames checked are the frames the split
 * will read. The refusal then fails the stream before its end, so the store's write is aborted.
 * Memory stays bounded (the head only); disk use is the upload's size, for the upload's duration.
 */
export class UploadInspector extends Transform {
  private readonly inspection: Inspection;
  /** Bytes that passed before the format was known: the start of a TIFF's scratch copy. */
  private early: Buffer[] | null = [];
  private copy: TiffScratchCopy | undefined;
  /** The copying of the last chunk: a destroyed stream waits for it before removing the copy. */
  private copying: Promise<void> = Promise.resolve();

  /** `maxFrames`: how many of a TIFF's frames to walk; the splitter refuses a book with more pages than its limit anyway. */
  constructor(
    private readonly maxPixels: number,
    private readonly maxFrames = DEFAULT_TIFF_FRAMES,
  ) {
    super();
    this.inspection = new Inspection(maxPixels);
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    try {
      this.inspection.push(chunk);
    } catch (e) {
      cb(e as Error);
      return;
    }
    this.copying = this.keepTiff(chunk);
    this.copying.then(() => cb(null, chunk), (e: unknown) => cb(e as Error));
  }

  override _flush(cb: TransformCallback): void {
    try {
      this.inspection.end();
    } catch (e) {
      cb(e as Error);
      return;
    }
    this.copying = this.keepTiff(undefined);
    this.copying.then(() => this.walkTiff()).then(() => cb(), (e: unknown) => cb(e as Error));
  }

  override _destroy(err: Error | null, cb: (error?: Error | null) => void): void {
    this.early = null;
    this.copying
      .catch(() => undefined)
      .then(async () => {
        const copy = this.copy;
        this.copy = undefined;
        await copy?.remove();
      })
      .then(() => cb(err), () => cb(err));
  }

  /** Copies a TIFF's bytes to its scratch file as they pass (`chunk` undefined: the upload ended). */
  private async keepTiff(chunk: Buffer | undefined): Promise<void> {
    if (this.early) {
      if (chunk) this.early.push(chunk);
      if (!this.inspection.decided) return;
      const early = this.early;
      this.early = null;
      if (this.inspection.format !== 'tiff') return;
      this.copy = await TiffScratchCopy.create();
      for (const b of early) if (!this.destroyed) await this.copy.write(b);
      return;
    }
    if (chunk && this.copy) await this.copy.write(chunk);
  }

  /** Walks every directory of the TIFF copied so far and refuses a frame over the pixel limit. */
  private async walkTiff(): Promise<void> {
    const copy = this.copy;
    if (!copy) return;
    this.copy = undefined;
    try {
      await copy.close();
      const layout = await readTiffLayout(copy.path, this.maxFrames).catch((e: unknown) => {
        // Not even a first directory: the splitter fails the book, saying so.
        if (isAppError(e, 'ERR_BAD_INPUT_FILE')) return undefined;
        throw e;
      });
      for (const frame of layout?.frames ?? []) {
        if (frame.width && frame.height) refuseOverPixelLimit(frame.width, frame.height, this.maxPixels);
      }
    } finally {
      await copy.remove();
    }
  }
}

/**
 * `source` read through an inspector: what the caller archives from instead of `source`.
 * `maxFrames`: the page limit, the frames of a TIFF worth walking.
 */
export function inspectStream(source: Readable, maxPixels: number, maxFrames?: number): UploadInspector {
  const inspector = new UploadInspector(maxPixels, maxFrames);
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
 * The PDF splitter's byte-level backstop over a whole PDF, stream data included: refuses one
 * that names /JavaScript anywhere (for originals archived before the inspection did the same).
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
