/**
 * How a page's failure is recorded when the stage that fails is not the one that broke: the index
 * stage of a page whose OCR failed for good, and a stage cut short by its own worker.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PermanentError, silentLogger } from '../../common/index.ts';
import { createBook, getBook, getPage, markPageDone, upsertPage } from '../../archive/index.ts';
import type { FailedChild, JobContext } from '../../queue/index.ts';
import { openRealDeps, realServicesEnv } from '../../test-support/real-deps.ts';
import { requireService } from '../../test-support/services.ts';
import { completeBookJob } from './complete-book.job.ts';
import { indexPage } from './index-page.job.ts';
import { runPageStage } from './page-stage.ts';

const run = requireService('databaseUrl') && requireService('redisUrl') && requireService('s3');

function contextOf(attempt: number, failedChildren: FailedChild[] = [], signal = new AbortController().signal): JobContext {
  return { jobId: `job-${attempt}`, attempt, signal, log: silentLogger(), failedChildren: async () => failedChildren };
}

describe.skipIf(!run)('page failures recorded in the words of the stage that broke', () => {
  let real: Awaited<ReturnType<typeof openRealDeps>>;

  beforeAll(async () => {
    real = await openRealDeps(realServicesEnv());
  });
  afterAll(async () => real?.cleanup());

  async function newBook(pages: number) {
    const { book } = await createBook(real.deps.db, {
      registerType: 'birth', municipality: 'Pejë', yearFrom: 1958, yearTo: 1958, languages: 'sqi', sourceFormat: 'tiff', sourceSha256: randomBytes(32).toString('hex'), sourceSize: 1,
    });
    const rows = [];
    for (let sequence = 1; sequence <= pages; sequence++) rows.push(await upsertPage(real.deps.db, book.id, sequence));
    return { bookId: book.id, pages: rows };
  }

  it('page.index of a page whose OCR failed for good records the OCR failure as the page’s, on its first try, and the book summary says so', async () => {
    const { bookId, pages } = await newBook(2);
    const [lost, fine] = pages;
    await markPageDone(real.deps.db, fine!.id, 1);
    const ocrFailure = { name: 'page.ocr', jobId: `page.ocr-${lost!.id}-r1-run1`, reason: 'OCR did not finish within 26890 ms; its worker was stopped' };

    const thrown = await indexPage(real.deps, { bookId, pageId: lost!.id, revision: 1 }, contextOf(1, [ocrFailure]), 5).catch((e: unknown) => e);

    // not "page 1 has no OCR result yet", retried five times: the queue fails it at once
    expect(thrown).toBeInstanceOf(PermanentError);
    expect((thrown as Error).message).toBe('page.ocr: OCR did not finish within 26890 ms; its worker was stopped');
    const page = await getPage(real.deps.db, lost!.id);
    expect(page).toMatchObject({ status: 'failed', stage: 'page.ocr', failureReason: 'page.ocr: OCR did not finish within 26890 ms; its worker was stopped' });
    const events = await real.deps.db.query<{ type: string; outcome: string; detail: string }>(
      `SELECT event_type AS type, outcome, detail FROM processing_events WHERE page_id = $1 AND outcome = 'failure'`, [lost!.id],
    );
    expect(events.rows).toEqual([{ type: 'ocr', outcome: 'failure', detail: 'page.ocr: OCR did not finish within 26890 ms; its worker was stopped' }]);

    await completeBookJob(real.deps, { bookId }, contextOf(1));
    const book = await getBook(real.deps.db, bookId);
    expect(book?.status).toBe('complete_with_failures');
    expect(book?.summary?.failures).toEqual([{ sequence: 1, reason: 'page.ocr: OCR did not finish within 26890 ms; its worker was stopped' }]);
  });

  it('page.index of a page whose OCR ended without a result says so at once instead of waiting for it', async () => {
    const { bookId, pages } = await newBook(1);
    const thrown = await indexPage(real.deps, { bookId, pageId: pages[0]!.id, revision: 1 }, contextOf(1), 5).catch((e: unknown) => e);
    expect(thrown).toBeInstanceOf(PermanentError);
    expect(await getPage(real.deps.db, pages[0]!.id)).toMatchObject({ status: 'failed', stage: 'page.ocr', failureReason: 'page.ocr: ended without an OCR result for page 1' });
  });

  it('a stage stopped by its worker on its last attempt (shutdown, lost claim) leaves the page to the job’s next run', async () => {
    const { bookId, pages } = await newBook(1);
    const page = pages[0]!;
    const worker = new AbortController();
    const thrown = await runPageStage(real.deps, 'page.ocr', { bookId, pageId: page.id, revision: 1 }, contextOf(3, [], worker.signal), 3, async () => {
      // the worker loses its claim while the page is being read; the reading stops with the abort's reason
      worker.abort(new Error('lost the claim on this job: another worker may run it'));
      throw worker.signal.reason;
    }).catch((e: unknown) => e);
    expect((thrown as Error).message).toMatch(/lost the claim/);
    const after = await getPage(real.deps.db, page.id);
    expect(after?.status).toBe('processing');
    expect(after?.failureReason).toBeNull();
  });
});
