/**
 * The OCR stage's check for blank leaves: a blank page is recorded as read with no words (so the
 * index stage and the book complete as usual), typed 'blank' and flagged for review, instead of
 * spending an OCR run that would only produce noise words.
 */
import sharp from 'sharp';
import { findObject, recordEvent, recordObject, setPageOcr, type Page } from '../../archive/index.ts';
import { readObject } from '../../storage/read-object.ts';
import type { AppDeps } from '../../app/deps.ts';
import type { ArchivedOcr } from '../stages/archived-ocr.ts';
import { detectBlankPage } from './page-type.ts';

// The OCR stage's deps carry no config; the ingest pixel bound is used when they do.
type Deps = Pick<AppDeps, 'db' | 'store'> & Partial<Pick<AppDeps, 'config'>>;

/** True when the page's master is blank and has been recorded as such (the caller skips OCR). */
export async function skipBlankPage(deps: Deps, job: { bookId: string; pageId: string; revision: number }, page: Pick<Page, 'id' | 'sequence'>): Promise<boolean> {
  const place = { bookId: job.bookId, pageId: job.pageId, revision: job.revision };
  const master = await findObject(deps.db, { ...place, role: 'master' });
  if (!master) return false;
  const started = Date.now();
  const image = await readObject(deps.store, master.storeKey, { expectedSha256: master.sha256 });
  const maxPixels = deps.config?.ingest.maxPixels ?? 200_000_000;
  const verdict = await detectBlankPage(image, { maxPixels });
  if (!verdict) return false;
  const meta = await sharp(image, { limitInputPixels: maxPixels }).metadata();
  const archived: ArchivedOcr = {
    engine: 'none (blank page)', languages: [], width: meta.width ?? 0, height: meta.height ?? 0, meanConfidence: 0, text: '', words: [], lines: [],
    orientation: 0, profile: 'blank',
  };
  const put = await deps.store.putContentAddressed('ocr', Buffer.from(JSON.stringify(archived)), { contentType: 'application/json' });
  const { object } = await recordObject(deps.db, { ...place, role: 'ocr', variant: 'ocr-json' }, put, 'application/json');
  await setPageOcr(deps.db, page.id, '', 0, archived.engine);
  await deps.db.query(`UPDATE pages SET page_type = 'blank', page_type_reason = $2, updated_at = now() WHERE id = $1`, [page.id, verdict.reason]);
  await recordEvent(deps.db, {
    bookId: job.bookId, pageId: job.pageId, objectId: object.id, type: 'ocr', agent: 'arkiva page-type', outcome: 'warning',
    detail: `blank page, not read (${verdict.reason}); listed for review`, durationMs: Date.now() - started,
  });
  return true;
}
