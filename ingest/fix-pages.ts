import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { AppError } from '../common/index.ts';
import { getBook, getPageBySequence, listPages, recordEvent, recordObject, resetPage, setBookStatus, type Page } from '../archive/index.ts';
import type { AppDeps } from '../app/deps.ts';
import { bookFlow } from '../pipeline/index.ts';
import { detectFormat } from './detect.ts';
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
    const src = await deps.db.query('SELECT 1 FROM stored_objects WHERE page_id = $1 AND role = $2 AND revision = $3', [p.id, 'source', p.revision]);
    if (src.rowCount === 0) {
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
    await deps.queue.addFlow(bookFlow(bookId, reset.map((p) => ({ id: p.id, revision: p.revision })), randomUUID().slice(0, 8)));
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
  const bytes = Buffer.isBuffer(image) ? image : await collect(image, deps.config.ingest.uploadMaxBytes);
  const format = detectFormat(bytes.subarray(0, 1024));
  if (format !== 'png' && format !== 'jpeg' && format !== 'tiff') {
    throw new AppError('ERR_UNSUPPORTED_MEDIA', `a replacement page must be a PNG, JPEG or TIFF image, not ${format}`);
  }
  const header = await imageHeader(bytes, deps.config.ingest.maxPixels);
  const mediaType = format === 'png' ? 'image/png' : format === 'jpeg' ? 'image/jpeg' : 'image/tiff';
  const put = await deps.store.putContentAddressed('sources', bytes, { contentType: mediaType });
  const next = await deps.db.transaction(async (tx) => {
    await tx.query('UPDATE stored_objects SET superseded_at = now() WHERE page_id = $1 AND superseded_at IS NULL', [page.id]);
    const updated = await resetPage(tx, page.id, { newRevision: true });
    const { object } = await recordObject(tx, { bookId, pageId: page.id, role: 'source', revision: updated.revision }, put, mediaType);
    await recordEvent(tx, {
      bookId, pageId: page.id, objectId: object.id, type: 'replacement', agent: opts.replacedBy ? `user ${opts.replacedBy}` : 'arkiva replace-page',
      outcome: 'success', detail: `page ${sequence} replaced by a ${header.width}x${header.height} ${format} (revision ${updated.revision}), sha256 ${put.sha256}`,
    });
    await setBookStatus(tx, bookId, 'processing');
    return updated;
  });
  await deps.queue.addFlow(bookFlow(bookId, [{ id: next.id, revision: next.revision }], randomUUID().slice(0, 8)));
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
