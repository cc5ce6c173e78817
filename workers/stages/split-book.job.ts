import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { AppError, PermanentError } from '../../common/index.ts';
import {
  findObject, getBook, markPageFailed, recordEvent, recordObject, setBookPageCount, setBookStatus, upsertPage,
} from '../../archive/index.ts';
import { splitBook } from '../../ingest/split.ts';
import type { AppDeps } from '../../app/deps.ts';
import type { JobContext, JobOutcome } from '../../queue/index.ts';
import { type JobOf, queueSplitPages, splitBlockOf } from '../../pipeline/index.ts';

type Deps = Pick<AppDeps, 'db' | 'store' | 'queue' | 'log' | 'config'>;

/**
 * Original → page sources, one page row each, and the page stages fanned out with book
 * completion as fan-in. A page that cannot be taken from the original is recorded as failed with
 * its reason; the others go on. Re-running it finds the pages and objects already recorded.
 *
 * Pages are queued in blocks (`splitBlockOf`) while the split goes on, so OCR starts on page 1
 * rather than after the last page. A block is queued only once a later page's row exists and is
 * pending outside any flow: every completion job of an earlier block then finds a pending page and
 * leaves the book open; the last blocks are queued after every page row exists, and whichever
 * completion runs last closes the book.
 */
export async function splitBookJob(deps: Deps, job: JobOf<'book.split'>, ctx: JobContext, maxAttempts: number): Promise<JobOutcome> {
  const book = await getBook(deps.db, job.bookId);
  if (!book) throw new PermanentError(`book ${job.bookId} does not exist`);
  if (book.status === 'failed') return 'skipped';
  const original = await findObject(deps.db, { bookId: book.id, role: 'original' });
  if (!original) throw new PermanentError(`book ${book.id} has no original recorded`);

  await setBookStatus(deps.db, book.id, 'splitting');
  const dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'arkiva-split-'));
  const file = path.join(dir, 'original');
  const started = Date.now();
  try {
    await pipeline(await deps.store.get(original.storeKey), fs.createWriteStream(file));
    // Pages to queue, by block, not queued yet.
    const held = new Map<number, { id: string; revision: number }[]>();
    const queueBlocks = async (before: number) => {
      for (const [block, pages] of [...held].sort((a, b) => a[0] - b[0])) {
        if (block >= before) continue;
        // Deterministic job ids: a re-run of this job while the flow is pending adds nothing.
        await queueSplitPages(deps.queue, book.id, pages, block);
        held.delete(block);
      }
    };
    let queuedAny = false;
    let total = 0;
    let failed = 0;
    for await (const src of splitBook({ path: file }, { maxPixels: deps.config.ingest.maxPixels, maxPages: deps.config.ingest.maxPages })) {
      if (ctx.signal.aborted) throw new Error('worker shutting down');
      total++;
      const page = await upsertPage(deps.db, book.id, src.sequence);
      if (!src.ok) {
        failed++;
        if (page.status !== 'failed') {
          await markPageFailed(deps.db, page.id, 'book.split', src.reason);
          await recordEvent(deps.db, { bookId: book.id, pageId: page.id, type: 'capture', agent: 'arkiva book.split', outcome: 'failure', detail: src.reason });
        }
        continue;
      }
      const place = { bookId: book.id, pageId: page.id, role: 'source' as const, revision: page.revision };
      if (!(await findObject(deps.db, place))) {
        const put = await deps.store.putContentAddressed('sources', src.image, { contentType: src.mediaType });
        const { object } = await recordObject(deps.db, place, put, src.mediaType);
        await recordEvent(deps.db, {
          bookId: book.id, pageId: page.id, objectId: object.id, type: 'capture', agent: 'arkiva book.split', outcome: 'success',
          detail: `${src.origin}: ${src.width}x${src.height}, sha256 ${put.sha256}`,
        });
      }
      if (page.status !== 'failed' && page.status !== 'done') {
        const block = splitBlockOf(src.sequence);
        // This page is pending and in no flow yet: the blocks before it may go.
        if ([...held.keys()].some((b) => b < block)) {
          await queueBlocks(block);
          queuedAny = true;
        }
        held.set(block, [...(held.get(block) ?? []), { id: page.id, revision: page.revision }]);
      }
    }
    if (total === 0) throw new PermanentError('the original holds no pages');
    await setBookPageCount(deps.db, book.id, total);
    await recordEvent(deps.db, {
      bookId: book.id, objectId: original.id, type: 'validation', agent: 'arkiva book.split', outcome: failed > 0 ? 'warning' : 'success',
      detail: `${total} pages found, ${failed} unreadable`, durationMs: Date.now() - started,
    });
    if (held.size > 0) await queueBlocks(Infinity);
    // Nothing left to process (every page failed, or all were done before a re-run): completion alone.
    else if (!queuedAny) await queueSplitPages(deps.queue, book.id, []);
    return 'done';
  } catch (e) {
    const permanent = e instanceof PermanentError || (e instanceof AppError && e.status < 500);
    if (permanent || ctx.attempt >= maxAttempts) {
      const reason = e instanceof Error ? e.message : String(e);
      await setBookStatus(deps.db, book.id, 'failed', reason);
      await recordEvent(deps.db, { bookId: book.id, type: 'validation', agent: 'arkiva book.split', outcome: 'failure', detail: reason });
      if (e instanceof AppError && permanent) throw new PermanentError(e.message, { cause: e });
    }
    throw e;
  } finally {
    await fs.promises.rm(dir, { recursive: true, force: true });
  }
}
