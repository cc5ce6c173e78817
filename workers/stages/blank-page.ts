/**
 * The OCR stage's check for blank leaves: a blank page is recorded as read with no words (so the
 * index stage and the book complete as usual), typed 'blank' and flagged for review, instead of
 * spending an OCR run that would only produce noise words.
 */
import sharp from 'sharp';
import { recordEvent, recordObject, setPageOcr, setPageType, type Page } from '../../archive/index.ts';
import type { AppDeps } from '../../app/deps.ts';
import type { ArchivedOcr } from '../../archive/archived-ocr.ts';
import { blankByInk, inkRatio } from '../../ocr/index.ts';

// The OCR stage's deps carry no config; the ingest pixel bound is used when they do.
type Deps = Pick<AppDeps, 'db' | 'store'> & Partial<Pick<AppDeps, 'config'>>;

/**
 * True when the page's master is blank and has been recorded as such (the caller skips OCR). The
 * ink ratio the master stage recorded decides; a page mastered before it was kept is measured on
 * the master's bytes, which the caller has read already.
 */
export async function skipBlankPage(
  deps: Deps,
  job: { bookId: string; pageId: string; revision: number },
  page: Pick<Page, 'id' | 'sequence' | 'inkRatio' | 'width' | 'height'>,
  masterBytes: () => Promise<Buffer>,
): Promise<boolean> {
  const place = { bookId: job.bookId, pageId: job.pageId, revision: job.revision };
  const started = Date.now();
  const maxPixels = deps.config?.ingest.maxPixels ?? 200_000_000;
  const ratio = page.inkRatio ?? (await inkRatio(await masterBytes(), { maxPixels }));
  const verdict = blankByInk(ratio);
  if (!verdict) return false;
  const size = page.width !== null && page.height !== null ? { width: page.width, height: page.height } : await sharp(await masterBytes(), { limitInputPixels: maxPixels }).metadata();
  const archived: ArchivedOcr = {
    engine: 'none (blank page)', languages: [], width: size.width ?? 0, height: size.height ?? 0, meanConfidence: 0, text: '', words: [], lines: [],
    orientation: 0, profile: 'blank',
  };
  const put = await deps.store.putContentAddressed('ocr', Buffer.from(JSON.stringify(archived)), { contentType: 'application/json' });
  const { object } = await recordObject(deps.db, { ...place, role: 'ocr', variant: 'ocr-json' }, put, 'application/json');
  await setPageOcr(deps.db, page.id, '', 0, archived.engine);
  await setPageType(deps.db, page.id, 'blank', verdict.reason);
  await recordEvent(deps.db, {
    bookId: job.bookId, pageId: job.pageId, objectId: object.id, type: 'ocr', agent: 'arkiva page-type', outcome: 'warning',
    detail: `blank page, not read (${verdict.reason}); listed for review`, durationMs: Date.now() - started,
  });
  return true;
}
