import fs from 'node:fs/promises';
import { AppError } from '../common/errors.ts';

/** The file formats a book may be uploaded as. */
export type BookFormat = 'tiff' | 'pdf' | 'png' | 'jpeg' | 'zip';

/** How many leading bytes detection reads (`%PDF-` may sit anywhere in the first 1024). */
export const SNIFF_BYTES = 1024;

/** MIME type of each accepted format. */
export const MEDIA_TYPES: Readonly<Record<BookFormat, string>> = {
  tiff: 'image/tiff',
  pdf: 'application/pdf',
  png: 'image/png',
  jpeg: 'image/jpeg',
  zip: 'application/zip',
};

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const PDF_MARKER = Buffer.from('%PDF-', 'latin1');

function startsWith(head: Uint8Array, bytes: readonly number[], at = 0): boolean {
  if (head.length < at + bytes.length) return false;
  return bytes.every((b, i) => head[at + i] === b);
}

function ascii(head: Uint8Array, at: number, text: string): boolean {
  return startsWith(head, [...Buffer.from(text, 'latin1')], at);
}

// Formats we refuse, named so the message tells the uploader what they actually sent.
const KNOWN_OTHERS: ReadonlyArray<readonly [string, (h: Uint8Array) => boolean]> = [
  ['a JPEG 2000 image (not supported by the image library)', (h) => startsWith(h, [0, 0, 0, 0x0c, 0x6a, 0x50, 0x20, 0x20, 0x0d, 0x0a, 0x87, 0x0a]) || startsWith(h, [0xff, 0x4f, 0xff, 0x51])],
  ['a GIF image', (h) => ascii(h, 0, 'GIF87a') || ascii(h, 0, 'GIF89a')],
  ['a WebP image', (h) => ascii(h, 0, 'RIFF') && ascii(h, 8, 'WEBP')],
  ['a BMP image', (h) => ascii(h, 0, 'BM') && h.length >= 14],
  ['a DjVu document', (h) => ascii(h, 0, 'AT&TFORM')],
  ['an ISO media file (HEIF/AVIF image or video)', (h) => ascii(h, 4, 'ftyp')],
  ['a RAR archive', (h) => ascii(h, 0, 'Rar!')],
  ['a 7-Zip archive', (h) => startsWith(h, [0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c])],
  ['a gzip file', (h) => startsWith(h, [0x1f, 0x8b])],
  ['an HTML or XML text', (h) => /^\s*</.test(Buffer.from(h.subarray(0, 64)).toString('latin1'))],
  ['a text file (a note or a list, not a scan)', (h) => h.length > 0 && h.subarray(0, 64).every((b) => b === 9 || b === 10 || b === 13 || (b >= 0x20 && b < 0x7f))],
];

/**
 * Identifies a book file from its first bytes only (never its name or declared Content-Type).
 * Throws ERR_UNSUPPORTED_MEDIA naming the leading bytes when the format is not accepted.
 */
export function sniffFormat(head: Uint8Array): BookFormat {
  const format = formatOf(head);
  if (format === undefined) throw unsupported(head);
  return format;
}

/**
 * The one rule for what a file is, from its first `SNIFF_BYTES`: detection (`sniffFormat`) and the
 * upload inspection (inspect.ts) both use it, so a file is inspected as what it is archived as.
 * Undefined when the format is not accepted.
 */
export function formatOf(head: Uint8Array): BookFormat | undefined {
  if (startsWith(head, [0x49, 0x49, 0x2a, 0x00]) || startsWith(head, [0x4d, 0x4d, 0x00, 0x2a])) return 'tiff';
  // BigTIFF: version 43, offsets of 8 bytes.
  if (startsWith(head, [0x49, 0x49, 0x2b, 0x00, 0x08, 0x00]) || startsWith(head, [0x4d, 0x4d, 0x00, 0x2b, 0x00, 0x08])) return 'tiff';
  if (startsWith(head, PNG_SIGNATURE)) return 'png';
  if (startsWith(head, [0xff, 0xd8, 0xff])) return 'jpeg';
  // A local file header, or the end record alone (an empty archive, refused later as having no pages).
  if (startsWith(head, [0x50, 0x4b, 0x03, 0x04]) || startsWith(head, [0x50, 0x4b, 0x05, 0x06])) return 'zip';
  // Some generators put a header before %PDF-; readers accept it within the first 1024 bytes.
  if (Buffer.from(head.buffer, head.byteOffset, Math.min(head.length, SNIFF_BYTES)).indexOf(PDF_MARKER) !== -1) return 'pdf';
  return undefined;
}

function unsupported(head: Uint8Array): AppError {
  if (head.length === 0) return new AppError('ERR_UNSUPPORTED_MEDIA', 'file is empty');
  const hex = Buffer.from(head.subarray(0, 8)).toString('hex').replace(/(..)(?!$)/g, '$1 ');
  const known = KNOWN_OTHERS.find(([, test]) => test(head));
  const what = known ? `; it looks like ${known[0]}` : '; its kind is not recognised';
  // The first bytes go in the details, not the message: the message reaches staff as the page's
  // failure reason, where a byte dump says nothing; the details keep it for whoever diagnoses.
  return new AppError('ERR_UNSUPPORTED_MEDIA', `file is not a TIFF, PDF, PNG, JPEG or ZIP${what}`, { head: hex });
}

/** Reads the first `SNIFF_BYTES` of a file. */
export async function readHead(path: string): Promise<Buffer> {
  const handle = await fs.open(path, 'r');
  try {
    const buf = Buffer.alloc(SNIFF_BYTES);
    const { bytesRead } = await handle.read(buf, 0, SNIFF_BYTES, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/**
 * Detects the format of a buffer holding a file's first bytes (synchronously), or of a file path; a
 * folder path gives 'folder', its files being detected one by one by `listFolder` (split-images.ts).
 */
export function detectFormat(path: string): Promise<BookFormat | 'folder'>;
// Last, so that ReturnType<typeof detectFormat> (which takes the last overload) is the sync form.
export function detectFormat(head: Uint8Array): BookFormat;
export function detectFormat(input: string | Uint8Array): BookFormat | Promise<BookFormat | 'folder'> {
  return typeof input === 'string' ? detectPath(input) : sniffFormat(input);
}

async function detectPath(input: string): Promise<BookFormat | 'folder'> {
  const st = await fs.stat(input);
  if (st.isDirectory()) return 'folder';
  if (!st.isFile()) throw new AppError('ERR_BAD_INPUT_FILE', 'input is neither a regular file nor a folder');
  return sniffFormat(await readHead(input));
}
