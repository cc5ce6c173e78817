import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { AppError } from '../common/errors.ts';
import { detectFormat } from './detect.ts';
import { resolveLimits, tooManyPagesError, type ResolvedLimits, type SplitLimits } from './limits.ts';
import { splitFolder, splitImageFile } from './split-images.ts';
import { splitPdf } from './split-pdf.ts';
import { splitTiff } from './split-tiff.ts';
import { splitZip } from './split-zip.ts';

export { detectFormat, sniffFormat, readHead, MEDIA_TYPES, SNIFF_BYTES, type BookFormat } from './detect.ts';
export {
  imageHeader,
  pixelLimitReason,
  resolveLimits,
  tooManyPagesError,
  formatCount,
  formatBytes,
  errorMessage,
  roundDpi,
  DEFAULT_MAX_FILE_BYTES,
  DEFAULT_MAX_TOTAL_BYTES,
  type ImageHeader,
  type SplitLimits,
  type ResolvedLimits,
} from './limits.ts';
export { readTiffLayout, splitTiff, type TiffLayout, type TiffFrame } from './split-tiff.ts';
export { splitPdf, PDF_RENDER_DPI } from './split-pdf.ts';
export { splitImageFile, splitFolder, listFolder, naturalCompare, isIgnoredName, type FolderEntry } from './split-images.ts';
export { splitZip } from './split-zip.ts';

/**
 * How a page image was obtained: 'original' = the uploaded PNG/JPEG file's bytes unchanged;
 * 'converted' = a TIFF frame decoded and re-encoded as lossless PNG; 'pdf-image' = the pixels of
 * the one image that paints a PDF page, as lossless PNG; 'pdf-render' = the PDF page rasterised.
 */
export type PageExtraction = 'original' | 'converted' | 'pdf-image' | 'pdf-render';

/**
 * A page the splitter could produce. `image` is PNG (lossless) or, for an uploaded JPEG/PNG file,
 * that file's original bytes; decode it with sharp `autoOrient: true` to get `width`×`height`.
 */
export interface PageImage {
  /** 1-based position in the book, counting failed pages too. */
  sequence: number;
  ok: true;
  image: Buffer;
  mediaType: 'image/png' | 'image/jpeg';
  /** Upright width in pixels (after EXIF orientation, which converted images already have applied). */
  width: number;
  /** Upright height in pixels. */
  height: number;
  /** Horizontal resolution, when the source declares one (or, for PDF, as placed on the page). */
  dpiX?: number;
  /** Vertical resolution, when known. */
  dpiY?: number;
  /** Where the page came from, e.g. 'tiff frame 3 of 12', 'pdf page 2 image', 'zip entry p-0003.png'. */
  origin: string;
  extraction: PageExtraction;
}

/** A page that could not be produced; the rest of the book is unaffected. */
export interface PageFailure {
  /** 1-based position in the book. */
  sequence: number;
  ok: false;
  /** What went wrong, naming the page and the problem; safe to show to the uploader. */
  reason: string;
  /** Where the page came from, as in `PageImage.origin`. */
  origin: string;
}

/** One item of a split book. */
export type PageSource = PageImage | PageFailure;

type WithoutSequence<T> = T extends unknown ? Omit<T, 'sequence'> : never;

/** A page before the book-level numbering is applied (what the format splitters yield). */
export type PageDraft = WithoutSequence<PageSource>;

/** What every format splitter receives: the limits and a lazily created private scratch folder. */
export interface SplitContext {
  limits: ResolvedLimits;
  /** A folder private to this split, deleted when the split ends (ZIP entries, repaired TIFF copies). */
  scratchDir(): Promise<string>;
}

/**
 * Splits an uploaded book (a TIFF, PDF, PNG, JPEG or ZIP file, or a folder of page images) into page
 * images, one at a time. Problems of a single page yield `{ ok: false }` and the split goes on;
 * problems of the whole input throw an AppError (ERR_UNSUPPORTED_MEDIA, ERR_BAD_INPUT_FILE or
 * ERR_PAYLOAD_TOO_LARGE), before the first page whenever they are detectable from headers.
 * Stop early with `return()` (or `break` in `for await`): scratch files and PDF resources are freed.
 */
export async function* splitBook(input: { path: string }, limits: SplitLimits): AsyncGenerator<PageSource, void, undefined> {
  const resolved = resolveLimits(limits);
  let scratch: string | undefined;
  const ctx: SplitContext = {
    limits: resolved,
    async scratchDir() {
      scratch ??= await fs.mkdtemp(path.join(os.tmpdir(), 'arkiva-split-'));
      return scratch;
    },
  };
  try {
    const format = await detectFormat(input.path);
    const drafts =
      format === 'folder' ? splitFolder(input.path, ctx)
      : format === 'tiff' ? splitTiff(input.path, '', ctx, { ownFile: false })
      : format === 'pdf' ? splitPdf(input.path, ctx)
      : format === 'zip' ? splitZip(input.path, ctx)
      : splitImageFile(input.path, 'image file', ctx, { ownFile: false });
    let sequence = 0;
    for await (const draft of drafts) {
      sequence += 1;
      // The format splitters check their own counts up front; this catches what only shows while
      // reading (TIFF frames inside a ZIP entry).
      if (sequence > resolved.maxPages) throw tooManyPagesError('book', resolved.maxPages);
      yield { ...draft, sequence } as PageSource;
    }
    if (sequence === 0) throw new AppError('ERR_BAD_INPUT_FILE', 'book contains no pages');
  } finally {
    if (scratch !== undefined) await fs.rm(scratch, { recursive: true, force: true });
  }
}
