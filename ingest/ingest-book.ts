import fs from 'node:fs';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import yazl from 'yazl';
import { AppError } from '../common/index.ts';
import {
  BOOK_OCR_PROFILES, DEFAULT_OCR_PROFILE, findObject, getBook, recordEvent, recordObject, REGISTER_TYPES,
  type Book, type BookMetadata, type BookOcrProfile, type SourceFormat,
} from '../archive/index.ts';
import type { AppDeps } from '../app/deps.ts';
import { queueBookSplit } from '../pipeline/index.ts';
import { createBookWithRetention } from '../retention/index.ts';
import { detectFormat, type BookFormat } from './detect.ts';
import { inspectStream } from './inspect.ts';
import { folderPages } from './split-images.ts';
import { ocrLanguages } from '../ocr/index.ts';

type Deps = Pick<AppDeps, 'db' | 'store' | 'queue' | 'log' | 'config'>;

/** Where a book's bytes come from. */
export type BookSource =
  | { kind: 'file'; path: string }
  | { kind: 'folder'; path: string }
  | { kind: 'stream'; stream: Readable };

/** What ingest answers: the book, and whether these bytes were already archived as another upload. */
export interface IngestResult {
  book: Book;
  duplicate: boolean;
}

const LANGUAGE_RE = /^[a-z]{3}(_[a-z]{4})?(\+[a-z]{3}(_[a-z]{4})?)*$/;

/** True when `v` names an OCR profile a book may be read with. */
export function isBookOcrProfile(v: unknown): v is BookOcrProfile {
  return (BOOK_OCR_PROFILES as readonly unknown[]).includes(v);
}

/** Why an OCR profile is refused, after the field's name: the allowed profiles and what was given. */
export function ocrProfileProblem(value: string): string {
  return `must be one of ${BOOK_OCR_PROFILES.join(', ')}, got "${value.slice(0, 40)}"`;
}

/** Validates book metadata at the edge; throws ERR_VALIDATION naming the field. The OCR profile defaults to printed. */
export function validateMetadata(m: BookMetadata): BookMetadata & { ocrProfile: BookOcrProfile } {
  const problems: { field: string; message: string }[] = [];
  const bad = (field: string, message: string) => problems.push({ field, message });
  if (!REGISTER_TYPES.includes(m.registerType)) bad('registerType', `register type must be one of ${REGISTER_TYPES.join(', ')}`);
  if (!m.municipality || m.municipality.trim().length === 0 || m.municipality.length > 200) bad('municipality', 'municipality is required (at most 200 characters)');
  if (!Number.isInteger(m.yearFrom) || !Number.isInteger(m.yearTo) || m.yearFrom < 1000 || m.yearTo > 9999 || m.yearTo < m.yearFrom) {
    bad('year', 'year must be yyyy or yyyy-yyyy with the first year not after the second');
  }
  if (m.volume !== undefined && m.volume.length > 50) bad('volume', 'volume is at most 50 characters');
  if (!LANGUAGE_RE.test(m.languages)) bad('languages', 'languages must be OCR codes joined by +, e.g. sqi+srp_latn+srp');
  const ocrProfile = m.ocrProfile ?? DEFAULT_OCR_PROFILE;
  if (!isBookOcrProfile(ocrProfile)) bad('ocrProfile', `ocrProfile ${ocrProfileProblem(String(ocrProfile))}`);
  if (problems.length) {
    // One bad field is named for the API's error body; several are only listed in the message.
    const details = problems.length === 1 ? { field: problems[0]!.field } : undefined;
    throw new AppError('ERR_VALIDATION', `invalid book metadata: ${problems.map((p) => p.message).join('; ')}`, details);
  }
  return { ...m, municipality: m.municipality.trim(), ocrProfile };
}

/** Parses `yyyy` or `yyyy-yyyy`. */
export function parseYears(s: string): { yearFrom: number; yearTo: number } {
  const m = /^\s*(\d{4})\s*(?:-\s*(\d{4}))?\s*$/.exec(s);
  if (!m) throw new AppError('ERR_VALIDATION', `year must be yyyy or yyyy-yyyy, got "${s.slice(0, 20)}"`);
  return { yearFrom: Number(m[1]), yearTo: Number(m[2] ?? m[1]) };
}

/**
 * Archives a book's original and queues its splitting. The bytes stream into the store while
 * being hashed and inspected (ingest/inspect.ts: decompression bombs, active PDF content; a refusal
 * fails the write, so nothing is stored), the same for the API and `arkiva ingest`; the format is
 * checked from the first bytes before anything is stored. The same
 * bytes uploaded again return the existing book (and nothing new is stored or queued, unless the
 * first upload stopped before its splitting was queued).
 */
export async function ingestBook(deps: Deps, source: BookSource, metadata: BookMetadata, opts: { createdBy?: string } = {}): Promise<IngestResult> {
  const meta = validateMetadata(metadata);
  // Refused here rather than failing every page at OCR.
  const installed = await ocrLanguages();
  const unknown = meta.languages.split('+').filter((l) => !installed.includes(l));
  if (unknown.length) throw new AppError('ERR_VALIDATION', `invalid book metadata: no OCR data installed for ${unknown.join(', ')} (installed: ${installed.join(', ')})`);
  const { stream, format } = await openSource(source, deps.config.ingest);
  const put = await deps.store.putContentAddressed('originals', stream, { contentType: mediaTypeOf(format) });
  // Its retention and privacy closure are computed with it: a book is never readable before its closure is known.
  const { book, created } = await createBookWithRetention(deps.db, { ...meta, sourceFormat: format, sourceSha256: put.sha256, sourceSize: put.size, createdBy: opts.createdBy });
  const { object, created: objectCreated } = await recordObject(deps.db, { bookId: book.id, role: 'original' }, put, mediaTypeOf(format));
  if (created || objectCreated) {
    await recordEvent(deps.db, { bookId: book.id, objectId: object.id, type: 'ingestion', agent: opts.createdBy ? `user ${opts.createdBy}` : 'arkiva ingest', outcome: 'success', detail: `${format} original, ${put.size} bytes` });
    await recordEvent(deps.db, { bookId: book.id, objectId: object.id, type: 'message digest calculation', agent: 'arkiva ingest (node:crypto)', outcome: 'success', detail: `sha256 ${put.sha256}, md5 ${put.md5}` });
  }
  if (created || book.status === 'received') {
    await queueBookSplit(deps.queue, book.id);
  }
  deps.log.info({ bookId: book.id, duplicate: !created, size: put.size, format }, 'book ingested');
  return { book: (await getBook(deps.db, book.id)) ?? book, duplicate: !created };
}

/** The original's stored record of a book, for downloads. */
export async function bookOriginal(deps: Pick<AppDeps, 'db'>, bookId: string) {
  return findObject(deps.db, { bookId, role: 'original' });
}

async function openSource(source: BookSource, limits: { maxPixels: number; maxPages: number }): Promise<{ stream: Readable; format: SourceFormat }> {
  if (source.kind === 'folder') {
    const stat = await fs.promises.stat(source.path).catch(() => undefined);
    if (!stat?.isDirectory()) throw new AppError('ERR_VALIDATION', 'the given folder does not exist');
    return { stream: inspectStream(await zipFolder(source.path), limits.maxPixels, limits.maxPages), format: 'images' };
  }
  const input = inspectStream(source.kind === 'file' ? await openFile(source.path) : source.stream, limits.maxPixels, limits.maxPages);
  const { head, stream } = await peek(input, 1024);
  let detected: BookFormat;
  try {
    detected = detectFormat(head);
  } catch (e) {
    input.destroy();
    stream.destroy();
    throw e;
  }
  const format: SourceFormat = detected === 'tiff' ? 'tiff' : detected === 'pdf' ? 'pdf' : detected === 'zip' ? 'zip' : 'images';
  return { stream, format };
}

async function openFile(p: string): Promise<Readable> {
  const stat = await fs.promises.stat(p).catch(() => undefined);
  if (!stat) throw new AppError('ERR_VALIDATION', `no such file: ${path.basename(p)}`);
  if (stat.isDirectory()) throw new AppError('ERR_VALIDATION', 'expected a file, got a folder');
  return fs.createReadStream(p);
}

/** Reads at least `n` bytes (or all, if shorter) and gives back a stream that still yields them. */
async function peek(input: Readable, n: number): Promise<{ head: Buffer; stream: Readable }> {
  const chunks: Buffer[] = [];
  let size = 0;
  const iterator = input[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  while (size < n) {
    const next = await iterator.next();
    if (next.done) break;
    const chunk = Buffer.isBuffer(next.value) ? next.value : Buffer.from(next.value);
    chunks.push(chunk);
    size += chunk.length;
  }
  const head = Buffer.concat(chunks);
  if (size === 0) throw new AppError('ERR_BAD_INPUT_FILE', 'the upload is empty');
  async function* rest(): AsyncGenerator<Buffer> {
    yield head;
    for (;;) {
      const next = await iterator.next();
      if (next.done) return;
      yield next.value;
    }
  }
  return { head, stream: Readable.from(rest(), { objectMode: false }) };
}

/**
 * A folder of page images becomes one ZIP original (stored entries, fixed dates, sorted names), so
 * the same folder always yields the same bytes and duplicate detection works for folders too.
 */
async function zipFolder(dir: string): Promise<Readable> {
  // Only page images go into the book; the CLI lists what was left out (folderPages).
  const names = (await folderPages(dir)).pages.map((p) => p.name);
  if (names.length === 0) throw new AppError('ERR_BAD_INPUT_FILE', 'the folder holds no page images (TIFF, PNG or JPEG)');
  const zip = new yazl.ZipFile();
  const fixed = new Date(Date.UTC(2000, 0, 1));
  for (const name of names) zip.addFile(path.join(dir, name), name, { compress: false, mtime: fixed, mode: 0o100644 });
  zip.end();
  const out = new PassThrough();
  zip.outputStream.pipe(out);
  return out;
}

function mediaTypeOf(format: SourceFormat): string {
  switch (format) {
    case 'tiff': return 'image/tiff';
    case 'pdf': return 'application/pdf';
    case 'zip': case 'images': return 'application/zip';
  }
}
