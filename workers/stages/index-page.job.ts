import { PermanentError } from '../../common/index.ts';
import { findObject, markPageDone, recordEvent, replacePageWords } from '../../archive/index.ts';
import { readObject } from '../../storage/read-object.ts';
import type { AppDeps } from '../../app/deps.ts';
import type { JobContext, JobOutcome } from '../../queue/index.ts';
import type { JobOf } from '../../pipeline/index.ts';
import { isIndexedWord, type ArchivedOcr } from '../../archive/archived-ocr.ts';
import { EarlierStageFailed, runPageStage } from './page-stage.ts';
import { normaliseWord } from '../../search/normalise.ts';

type Deps = Pick<AppDeps, 'db' | 'store' | 'log'>;

/**
 * OCR result → page_words rows (replacing any earlier revision's), then the page is done. Runs in
 * one transaction, so a crash leaves either the old index or the new one, never half.
 */
export async function indexPage(deps: Deps, job: JobOf<'page.index'>, ctx: JobContext, maxAttempts: number): Promise<JobOutcome> {
  return runPageStage(deps, 'page.index', job, ctx, maxAttempts, async (page) => {
    if (page.indexedRevision === job.revision && page.status === 'done') return 'skipped';
    const place = { bookId: job.bookId, pageId: job.pageId, revision: job.revision };
    const ocr = await findObject(deps.db, { ...place, role: 'ocr', variant: 'ocr-json' });
    if (!ocr) {
      // This job runs once its OCR child has ended, so the result will not come by waiting: say
      // why it is missing (the OCR's own failure, e.g. lost with its workers too often) and stop.
      const ocrFailure = (await ctx.failedChildren()).find((c) => c.name === 'page.ocr');
      throw new EarlierStageFailed('page.ocr', ocrFailure?.reason ?? `ended without an OCR result for page ${page.sequence}`);
    }
    const started = Date.now();
    let archived: ArchivedOcr;
    // Outside the try: a store that does not answer is retried (and waited for), not a broken OCR result.
    const body = await readObject(deps.store, ocr.storeKey, { expectedSha256: ocr.sha256 });
    try {
      archived = JSON.parse(body.toString('utf8')) as ArchivedOcr;
    } catch (e) {
      throw new PermanentError(`page ${page.sequence}: OCR result unreadable (${(e as Error).message})`);
    }
    const words = archived.words.filter(isIndexedWord);
    await deps.db.transaction(async (tx) => {
      await replacePageWords(tx, job, words.map((w) => ({ ...w, norm: normaliseWord(w.text) })));
      await markPageDone(tx, job.pageId, job.revision);
    });
    await recordEvent(deps.db, {
      bookId: job.bookId,
      pageId: job.pageId,
      type: 'indexing',
      agent: 'arkiva page.index',
      outcome: 'success',
      detail: `${words.length} words indexed (revision ${job.revision})`,
      durationMs: Date.now() - started,
    });
    return 'done';
  });
}
