import type { Readable } from 'node:stream';
import { AppError } from '../common/index.ts';
import {
  getBook, getPageBySequence, hasPageSource, listPages, recordEvent, recordObject, resetPage, setBookStatus, supersedePageObjects, type Page,
} from '../archive/index.ts';
import type { AppDeps } from '../app/deps.ts';
import { newRunId, queuePages } from '../pipeline/index.ts';
import { zonesAfterPageReplaced } from '../keying/index.ts';
import { detectFormat } from './detect.ts';
import { inspectBytes, inspectStream } from './inspect.ts';
import { imageHeader } from './limits.ts';

type Deps = Pick<AppDeps, 'db' | 'store' | 'queue' | 'log' | 'config'>;

/**
 * Sends failed pages (all of them, or the given sequence numbers) through the stages again. Pages
 * that are done are left alone; stages that already produced their output for a page skip.
 */
export async function retryPages(deps: Deps, bookId: string, sequences?: number[]): Promise<Page[]> {
  const book = await getBook(deps.db, bookId);
  if (!book) throw new AppError('ERR_BOOK_NOT_FOUND', `no book ${bookId}`);
  const failed = await listPages(deps.db, bookId, { status: 'failed' });
  const chosen = sequences ? failed.filter((p) => sequences.includes(p.sequence)) : failed;
  if (sequences) {
    const missing = sequences.filter((s) => !chosen.some((p) => p.sequence === s));
    if (missing.length) throw new AppError('ERR_CONFLICT', `pages ${missing.join(', ')} are not failed pages of this book`);
  }
  const noSource: number[] = [];
  const reset: Page[] = [];
  for (const p of chosen) {
    if (!(await hasPageSource(deps.db, p))) {
      noSource.push(p.sequence);
      continue;
    }
    reset.push(await resetPage(deps.db, p.id, { newRevision: false }));
  }
  if (noSource.length && reset.length === 0) {
    throw new AppError('ERR_CONFLICT', `pages ${noSource.join(', ')} could not be read from the original: replace them with a rescanned image`);
  }
  if (reset.length) {
    await setBookStatus(deps.db, bookId, 'processing');
    await queuePages(deps.queue, bookId, reset, newRunId());
    deps.log.info({ bookId, pages: reset.length }, 'pages retried');
  }
  return reset;
}

/**
 * Replaces one page's image with a rescan: the new image becomes the page's source for a new
 * revision; the old revision's objects stay archived (superseded), nothing is overwritten.
 */
export async function replacePage(deps: Deps, bookId: string, sequence: number, image: Buffer | Readable, opts: { replacedBy?: string } = {}): Promise<Page> {
  const book = await getBook(deps.db, bookId);
  if (!book) throw new AppError('ERR_BOOK_NOT_FOUND', `no book ${bookId}`);
  const page = await getPageBySequence(deps.db, bookId, sequence);
  if (!page) throw new AppError('ERR_PAGE_NOT_FOUND', `book has no page ${sequence}`);
  // The inspection every incoming file passes (ingest/inspect.ts), from the API and the CLI alike.
  const { maxPixels, uploadMaxBytes } = deps.config.ingest;
  const bytes = Buffer.isBuffer(image) ? inspectBytes(image, maxPixels) : await collect(inspectStream(image, maxPixels), uploadMaxBytes);
  const format = detectFormat(bytes.subarray(0, 1024));
  if (format !== 'png' && format !== 'jpeg' && format !== 'tiff') {
    throw new AppError('ERR_UNSUPPORTED_MEDIA', `a replacement page must be a PNG, JPEG or TIFF image, not ${format}`);
  }
  const header = await imageHeader(bytes, deps.config.ingest.maxPixels);
  const mediaType = format === 'png' ? 'image/png' : format === 'jpeg' ? 'image/jpeg' : 'image/tiff';
  const put = await deps.store.putContentAddressed('sources', bytes, { contentType: mediaType });
  const next = await deps.db.transaction(async (tx) => {
    await supersedePageObjects(tx, page.id);
    const updated = await resetPage(tx, page.id, { newRevision: true });
    const { object } = await recordObject(tx, { bookId, pageId: page.id, role: 'source', revision: updated.revision }, put, mediaType);
    const agent = opts.replacedBy ? `user ${opts.replacedBy}` : 'arkiva replace-page';
    // Entry zones were drawn on the old image: unkeyed detected ones go, the rest wait for review.
    const zones = await zonesAfterPageReplaced(tx, page.id, updated.revision, opts.replacedBy ?? 'arkiva replace-page');
    const zoneNote = zones.retired.length || zones.flagged.length ? `; entry zones: ${zones.retired.length} detected and unkeyed retired, ${zones.flagged.length} kept and flagged for review` : '';
    await recordEvent(tx, {
      bookId, pageId: page.id, objectId: object.id, type: 'replacement', agent,
      outcome: 'success', detail: `page ${sequence} replaced by a ${header.width}x${header.height} ${format} (revision ${updated.revision}), sha256 ${put.sha256}${zoneNote}`,
    });
    await setBookStatus(tx, bookId, 'processing');
    return updated;
  });
  await queuePages(deps.queue, bookId, [next], newRunId());
  return next;
}

async function collect(stream: Readable, max: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of stream as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > max) throw new AppError('ERR_PAYLOAD_TOO_LARGE', `the image is larger than ${max} bytes`);
    chunks.push(c);
  }
  return Buffer.concat(chunks, size);
}
