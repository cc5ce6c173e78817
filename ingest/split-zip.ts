import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import yauzl from 'yauzl';
import { AppError } from '../common/errors.ts';
import { errorMessage, formatBytes, formatCount, tooManyPagesError } from './limits.ts';
import { isIgnoredName, naturalCompare, splitImageFile } from './split-images.ts';
import type { PageDraft, SplitContext } from './split.ts';

const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;
const MADE_BY_UNIX = 3;

interface PageEntry {
  name: string;
  entry: yauzl.Entry;
}

/** Counts bytes through a stream and fails once they pass `max` (belt to yauzl's size checks). */
class ByteCap extends Transform {
  private seen = 0;
  constructor(private readonly max: number) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.seen += chunk.length;
    if (this.seen > this.max) cb(new Error(`entry inflates past ${formatBytes(this.max)}`));
    else cb(null, chunk);
  }
}

function bad(message: string): AppError {
  return new AppError('ERR_BAD_INPUT_FILE', message);
}

/**
 * Reads the whole central directory first and refuses the archive before any page when an entry is
 * unsafe (absolute or '..' path, symlink, encrypted), when it holds more page files than `maxPages`,
 * or when its declared uncompressed total passes `maxTotalBytes`. Hidden files, folders and
 * __MACOSX clutter are skipped.
 */
async function readDirectory(zip: yauzl.ZipFile, ctx: SplitContext): Promise<PageEntry[]> {
  const { maxPages, maxTotalBytes } = ctx.limits;
  // Clutter (__MACOSX doubles the count) is allowed for, a directory of millions of entries is not.
  if (zip.entryCount > maxPages * 4 + 64) throw tooManyPagesError('ZIP archive', maxPages, zip.entryCount);
  const pages: PageEntry[] = [];
  let total = 0;
  for await (const entry of zip.eachEntry()) {
    // Names are decoded here (decodeStrings: false) so that an unsafe one gets our message.
    const name = yauzl.getFileNameLowLevel(entry.generalPurposeBitFlag, entry.fileNameRaw, entry.extraFields, false);
    const unsafe = yauzl.validateFileName(name);
    if (unsafe !== null || name.includes('\0')) {
      throw bad(`ZIP entry "${name}" has an unsafe path (${unsafe ?? 'NUL character'}); the archive is refused`);
    }
    if (name.endsWith('/') || isIgnoredName(name)) continue;
    if (entry.versionMadeBy >> 8 === MADE_BY_UNIX && ((entry.externalFileAttributes >>> 16) & S_IFMT) === S_IFLNK) {
      throw bad(`ZIP entry "${name}" is a symbolic link; the archive is refused`);
    }
    if (entry.isEncrypted()) throw bad(`ZIP entry "${name}" is encrypted; upload an unencrypted archive`);
    pages.push({ name, entry });
    if (pages.length > maxPages) throw tooManyPagesError('ZIP archive', maxPages);
    total += entry.uncompressedSize;
    if (total > maxTotalBytes) {
      throw new AppError(
        'ERR_PAYLOAD_TOO_LARGE',
        `ZIP archive inflates to more than ${formatBytes(maxTotalBytes)} (the limit); the archive is refused`,
        { maxTotalBytes },
      );
    }
  }
  if (pages.length === 0) throw bad('ZIP archive contains no page files');
  return pages.sort((a, b) => naturalCompare(a.name, b.name));
}

/**
 * Splits a ZIP of page images, entry by entry in natural order of name. Each entry is inflated to a
 * scratch file (capped at `maxFileBytes`, never held whole in memory), handled like a folder file,
 * and deleted before the next one. TIFF frames inside entries count towards `maxPages` as they are
 * read, so that limit can end the split midway for such archives.
 */
export async function* splitZip(file: string, ctx: SplitContext): AsyncGenerator<PageDraft, void, undefined> {
  let zip: yauzl.ZipFile;
  try {
    zip = await yauzl.openPromise(file, { autoClose: false, decodeStrings: false, validateEntrySizes: true, strictFileNames: false });
  } catch (e) {
    throw bad(`ZIP archive cannot be read: ${errorMessage(e)}`);
  }
  // eachEntry() listens for errors only while iterating; an unheard 'error' event would crash the process.
  zip.on('error', () => {});
  try {
    let pages: PageEntry[];
    try {
      pages = await readDirectory(zip, ctx);
    } catch (e) {
      if (e instanceof AppError) throw e;
      throw bad(`ZIP archive is damaged: ${errorMessage(e)}`);
    }
    const dir = await ctx.scratchDir();
    for (const { name, entry } of pages) {
      const origin = `zip entry ${name}`;
      const fail = (why: string): PageDraft => ({ ok: false, origin, reason: `${origin}: ${why}` });
      if (entry.uncompressedSize > ctx.limits.maxFileBytes) {
        yield fail(`inflates to ${formatBytes(entry.uncompressedSize)}, over the limit of ${formatBytes(ctx.limits.maxFileBytes)} for one page file`);
        continue;
      }
      if (!entry.canDecodeFileData()) {
        yield fail(`uses compression method ${formatCount(entry.compressionMethod)}, which cannot be read (only stored and deflated entries)`);
        continue;
      }
      const scratch = path.join(dir, `entry-${randomUUID()}${path.extname(name).slice(0, 8)}`);
      try {
        try {
          const stream = await zip.openReadStreamPromise(entry);
          await pipeline(stream, new ByteCap(ctx.limits.maxFileBytes), createWriteStream(scratch, { flags: 'wx' }));
        } catch (e) {
          yield fail(`cannot be extracted: ${errorMessage(e)}`);
          continue;
        }
        yield* splitImageFile(scratch, origin, ctx, { ownFile: true });
      } finally {
        await fs.rm(scratch, { force: true });
      }
    }
  } finally {
    zip.close();
  }
}
