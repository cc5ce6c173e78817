import fs from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { AppError, isAppError } from '../common/errors.ts';
import { readHead, sniffFormat, type BookFormat } from './detect.ts';
import { errorMessage, formatBytes, imageHeader, pixelLimitReason, tooManyPagesError } from './limits.ts';
import { readTiffLayout, splitTiff } from './split-tiff.ts';
import type { PageDraft, SplitContext } from './split.ts';

const collator = new Intl.Collator('en', { numeric: true, sensitivity: 'base' });

/** Orders names as people number pages: 'page-2' before 'page-10', case-insensitively. */
export function naturalCompare(a: string, b: string): number {
  // The code-unit tie-break keeps the order total ('a.png' vs 'A.png', 'p1' vs 'p01').
  return collator.compare(a, b) || (a < b ? -1 : a > b ? 1 : 0);
}

// Files operating systems drop into folders; they are not pages.
const OS_CLUTTER = new Set(['thumbs.db', 'desktop.ini', 'ehthumbs.db']);

/** True for names a splitter skips silently: hidden files and OS clutter (Thumbs.db, __MACOSX). */
export function isIgnoredName(name: string): boolean {
  return name.split('/').some((part) => part.startsWith('.') || part === '__MACOSX' || OS_CLUTTER.has(part.toLowerCase()));
}

/** A file of a page folder, with its detected format or why it is not a page image. */
export interface FolderEntry {
  name: string;
  path: string;
  format?: BookFormat;
  /** Set when the file's format is not accepted (message from detection). */
  problem?: string;
}

/**
 * Lists a folder's page files in natural order of name: regular files only (no subfolders, no
 * symlinks, which could point outside the upload), hidden files and OS clutter skipped, each
 * detected by its magic bytes.
 */
export async function listFolder(dir: string): Promise<FolderEntry[]> {
  const dirents = await fs.readdir(dir, { withFileTypes: true });
  const names = dirents.filter((d) => d.isFile() && !isIgnoredName(d.name)).map((d) => d.name).sort(naturalCompare);
  const entries: FolderEntry[] = [];
  for (const name of names) {
    const file = path.join(dir, name);
    try {
      entries.push({ name, path: file, format: sniffFormat(await readHead(file)) });
    } catch (e) {
      entries.push({ name, path: file, problem: isAppError(e) ? e.message : errorMessage(e) });
    }
  }
  return entries;
}

/** A page folder split into its page images and the other files, each with why it is not a page. */
export interface FolderPages {
  /** TIFF, PNG and JPEG files, in natural order of name (the pages' order). */
  pages: FolderEntry[];
  /** Files that are not page images (checksums.md5, notes.txt, a PDF): never made into pages. */
  skipped: { name: string; reason: string }[];
}

// A file named as an image is a page even when its bytes are damaged: it fails with its reason and
// keeps its place, so the pages after it keep their numbers and the scan can be replaced.
const PAGE_EXTENSIONS = /\.(tiff?|png|jpe?g)$/i;

/**
 * Which files of a folder become pages (issue 22): a scanner's folder often holds a checksum list
 * or notes beside the images, and each of those used to become a failed page. A page is a file
 * whose bytes are a TIFF, PNG or JPEG, or whose name says it is one; hidden files and OS clutter are
 * left out silently, as `listFolder` does.
 */
export async function folderPages(dir: string): Promise<FolderPages> {
  const pages: FolderEntry[] = [];
  const skipped: FolderPages['skipped'] = [];
  for (const entry of await listFolder(dir)) {
    const image = entry.format === 'tiff' || entry.format === 'png' || entry.format === 'jpeg';
    if (image || PAGE_EXTENSIONS.test(entry.name)) pages.push(entry);
    else skipped.push({ name: entry.name, reason: entry.problem ?? `a ${entry.format!.toUpperCase()} file, not a page image` });
  }
  return { pages, skipped };
}

/**
 * Turns one file of a folder or ZIP into pages: a PNG or JPEG is one page (its original bytes), a
 * TIFF gives one page per frame, anything else is one failed page saying what the file is.
 * `origin` names the file, e.g. 'file page-0003.png' or 'zip entry scans/page-0003.png'.
 */
export async function* splitImageFile(
  file: string,
  origin: string,
  ctx: SplitContext,
  opts: { ownFile: boolean; format?: BookFormat; problem?: string },
): AsyncGenerator<PageDraft, void, undefined> {
  const fail = (why: string): PageDraft => ({ ok: false, origin, reason: `${origin}: ${why}` });
  let format = opts.format;
  if (!format && !opts.problem) {
    try {
      format = sniffFormat(await readHead(file));
    } catch (e) {
      yield fail(isAppError(e) ? e.message : errorMessage(e));
      return;
    }
  }
  if (!format) {
    yield fail(opts.problem ?? 'not a page image');
    return;
  }
  if (format === 'pdf' || format === 'zip') {
    yield fail(`is a ${format.toUpperCase()} file, not a page image (a folder or ZIP must hold TIFF, PNG or JPEG pages)`);
    return;
  }
  if (format === 'tiff') {
    try {
      yield* splitTiff(file, `${origin}, `, ctx, { ownFile: opts.ownFile });
    } catch (e) {
      // A damaged TIFF among page files spoils only its own pages; too many pages still ends the book.
      if (isAppError(e, 'ERR_PAYLOAD_TOO_LARGE')) throw e;
      yield fail(isAppError(e) ? e.message : `cannot be read: ${errorMessage(e)}`);
    }
    return;
  }
  yield await singleImage(file, format, origin, ctx, fail);
}

async function singleImage(
  file: string,
  format: 'png' | 'jpeg',
  origin: string,
  ctx: SplitContext,
  fail: (why: string) => PageDraft,
): Promise<PageDraft> {
  const { maxPixels, maxFileBytes } = ctx.limits;
  try {
    const { size } = await fs.stat(file);
    if (size > maxFileBytes) return fail(`file is ${formatBytes(size)}, over the limit of ${formatBytes(maxFileBytes)} for one page file`);
    const header = await imageHeader(file);
    const tooBig = pixelLimitReason(header.width, header.height, maxPixels);
    if (tooBig) return fail(`image is ${tooBig}`);
    const bytes = await fs.readFile(file);
    // Decode every pixel once, streaming, so a cut-off or corrupt file fails here rather than in a
    // later stage. 'error' rejects truncated JPEG/PNG data (measured); it lets through JPEG
    // entropy-data damage that libjpeg only warns about.
    await sharp(bytes, { failOn: 'error', limitInputPixels: maxPixels, sequentialRead: true }).stats();
    return {
      ok: true,
      image: bytes,
      mediaType: format === 'png' ? 'image/png' : 'image/jpeg',
      width: header.upright.width,
      height: header.upright.height,
      ...(header.density !== undefined ? { dpiX: header.density, dpiY: header.density } : {}),
      origin,
      extraction: 'original',
    };
  } catch (e) {
    return fail(`cannot be decoded: ${errorMessage(e)}`);
  }
}

/**
 * Splits a folder of page images. The whole folder is listed and every TIFF's directory chain is
 * counted first, so a folder with too many pages is refused before the first page.
 */
export async function* splitFolder(dir: string, ctx: SplitContext): AsyncGenerator<PageDraft, void, undefined> {
  const entries = await listFolder(dir);
  if (entries.length === 0) throw new AppError('ERR_BAD_INPUT_FILE', 'folder contains no page files');
  let pages = 0;
  for (const entry of entries) {
    if (entry.format === 'tiff') {
      try {
        const layout = await readTiffLayout(entry.path, ctx.limits.maxPages);
        pages += layout.tooMany ? ctx.limits.maxPages + 1 : layout.frames.length + (layout.brokenChain ? 1 : 0);
      } catch {
        pages += 1; // reported as one failed page when its turn comes
      }
    } else {
      pages += 1;
    }
    if (pages > ctx.limits.maxPages) throw tooManyPagesError('folder', ctx.limits.maxPages);
  }
  for (const entry of entries) {
    yield* splitImageFile(entry.path, `file ${entry.name}`, ctx, {
      ownFile: false,
      ...(entry.format ? { format: entry.format } : {}),
      ...(entry.problem ? { problem: entry.problem } : {}),
    });
  }
}
