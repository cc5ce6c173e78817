import { PermanentError } from '../../common/index.ts';
import { findObject, getBook, recordEvent, recordObject, setPageOcr } from '../../archive/index.ts';
import { readObject } from '../../storage/read-object.ts';
import type { AppDeps } from '../../app/deps.ts';
import type { JobContext, JobOutcome } from '../../queue/index.ts';
import type { JobOf } from '../catalogue.ts';
import { runPageStage } from './page-stage.ts';

type Deps = Pick<AppDeps, 'db' | 'store' | 'log' | 'ocr'>;

/** The OCR result as archived (role 'ocr', variant 'ocr-json'): what indexing and ALTO are built from. */
export interface ArchivedOcr {
  engine: string;
  languages: string[];
  width: number;
  height: number;
  meanConfidence: number;
  text: string;
  words: { text: string; confidence: number; bbox: { x0: number; y0: number; x1: number; y1: number }; line: number; block: number }[];
  lines: { text: string; confidence: number; bbox: { x0: number; y0: number; x1: number; y1: number }; block: number }[];
}

/** A page that takes longer than this is stopped (its OCR worker recycled) and retried. */
export const OCR_PAGE_TIMEOUT_MS = 180_000;

/**
 * Master → OCR: text, words with boxes and confidences, hOCR. The result is archived as JSON and
 * hOCR objects and the page's text and mean confidence are recorded.
 */
export async function ocrPage(deps: Deps, job: JobOf<'page.ocr'>, ctx: JobContext, maxAttempts: number): Promise<JobOutcome> {
  return runPageStage(deps, 'page.ocr', job, ctx, maxAttempts, async (page) => {
    const place = { bookId: job.bookId, pageId: job.pageId, revision: job.revision };
    const existing = await findObject(deps.db, { ...place, role: 'ocr', variant: 'ocr-json' });
    if (existing && page.ocrConfidence !== null) return 'skipped';

    const book = await getBook(deps.db, job.bookId);
    if (!book) throw new PermanentError(`book ${job.bookId} does not exist`);
    const master = await findObject(deps.db, { ...place, role: 'master' });
    if (!master) throw new Error(`page ${page.sequence} has no master yet`);
    const image = await readObject(deps.store, master.storeKey, { expectedSha256: master.sha256 });
    const languages = book.languages.split('+').filter(Boolean);

    const result = await deps.ocr().recognize(image, { languages, hocr: true, signal: ctx.signal, timeoutMs: OCR_PAGE_TIMEOUT_MS });
    const archived: ArchivedOcr = {
      engine: result.engine,
      languages,
      width: result.width,
      height: result.height,
      meanConfidence: result.meanConfidence,
      text: result.text,
      words: result.words.map((w) => ({ text: w.text, confidence: w.confidence, bbox: w.bbox, line: w.line, block: w.block })),
      lines: result.lines.map((l) => ({ text: l.text, confidence: l.confidence, bbox: l.bbox, block: l.block })),
    };
    const json = Buffer.from(JSON.stringify(archived));
    const jsonPut = await deps.store.putContentAddressed('ocr', json, { contentType: 'application/json' });
    const { object } = await recordObject(deps.db, { ...place, role: 'ocr', variant: 'ocr-json' }, jsonPut, 'application/json');
    if (result.hocr) {
      const hocrPut = await deps.store.putContentAddressed('ocr', Buffer.from(result.hocr), { contentType: 'text/vnd.hocr+html' });
      await recordObject(deps.db, { ...place, role: 'ocr', variant: 'hocr' }, hocrPut, 'text/vnd.hocr+html');
    }
    await setPageOcr(deps.db, page.id, result.text, result.meanConfidence, result.engine);
    await recordEvent(deps.db, {
      bookId: job.bookId,
      pageId: job.pageId,
      objectId: object.id,
      type: 'ocr',
      agent: result.engine,
      outcome: 'success',
      detail: `languages ${languages.join('+')}; ${result.words.length} words; mean confidence ${result.meanConfidence.toFixed(1)}`,
      durationMs: result.durationMs,
    });
    return 'done';
  });
}
