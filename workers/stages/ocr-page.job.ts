import { PermanentError } from '../../common/index.ts';
import { findPageObjects, getBook, listRecentOcrDurations, listRecentPageTurns, recordEvent, recordObjects, setPageOcr, setPageOrientation, setPageType } from '../../archive/index.ts';
import { readObject } from '../../storage/read-object.ts';
import type { AppDeps } from '../../app/deps.ts';
import type { JobContext, JobOutcome } from '../../queue/index.ts';
import type { JobOf } from '../../pipeline/index.ts';
import { runPageStage } from './page-stage.ts';
import type { ArchivedOcr } from '../../archive/archived-ocr.ts';
import { DECLARED_HANDWRITTEN, handwritingByReading, pageTimeBound, recognizeBounded, bookOcrProfileOf, profilesFor, readOrientationFirst } from '../../ocr/index.ts';
import { skipBlankPage } from './blank-page.ts';
import { detectZonesAfterRouting, pageAwaitsZones } from '../../keying/detect-zones.ts';

type Deps = Pick<AppDeps, 'db' | 'store' | 'log' | 'ocr'>;

/** Bound before the book has enough timed pages, and ceiling of the bound relative to the book's median. */
export const OCR_PAGE_TIMEOUT_MS = 180_000;

/**
 * Master → OCR: text, words with boxes and confidences, hOCR. The result is archived as JSON and
 * hOCR objects and the page's text and mean confidence are recorded.
 */
export async function ocrPage(deps: Deps, job: JobOf<'page.ocr'>, ctx: JobContext, maxAttempts: number): Promise<JobOutcome> {
  return runPageStage(deps, 'page.ocr', job, ctx, maxAttempts, async (page) => {
    const place = { bookId: job.bookId, pageId: job.pageId, revision: job.revision };
    const objects = await findPageObjects(deps.db, place);
    const existing = objects.get('ocr/ocr-json');
    if (existing && page.ocrConfidence !== null) {
      // A retry after a crash between routing the page to keying and proposing its zones: propose them now.
      if (await pageAwaitsZones(deps, page.id)) await detectZonesAfterRouting(deps, { bookId: job.bookId, pageId: job.pageId });
      return 'skipped';
    }
    const master = objects.get('master');
    if (!master) throw new Error(`page ${page.sequence} has no master yet`);
    let read: Promise<Buffer> | undefined;
    const masterBytes = () => (read ??= readObject(deps.store, master.storeKey, { expectedSha256: master.sha256 }));
    if (await skipBlankPage(deps, job, page, masterBytes)) return 'done';

    const book = await getBook(deps.db, job.bookId);
    if (!book) throw new PermanentError(`book ${job.bookId} does not exist`);
    const image = await masterBytes();
    const languages = book.languages.split('+').filter(Boolean);

    const timeoutMs = await bookPageTimeBound(deps, job.bookId);
    // The book's profile, chosen at ingest (printed unless staff said typewriter or mixed), then its
    // orientation and flip fallbacks and the rescue profiles while the reading is empty or below the floor.
    // A book whose pages come turned (or a page of another shape than its neighbours) is read with
    // orientation detection first: an upright first reading of a turned page is a whole reading wasted.
    const shape = page.width !== null && page.height !== null ? { landscape: page.width > page.height } : undefined;
    const orientationFirst = readOrientationFirst(await listRecentPageTurns(deps.db, job.bookId), shape);
    const bookProfile = bookOcrProfileOf(book.ocrProfile);
    const profiles = profilesFor(bookProfile, { orientationFirst });
    const bounded = await recognizeBounded(deps.ocr(), image, { languages, hocr: true, imageName: 'master.tif', signal: ctx.signal, timeoutMs, profiles });
    const tries = bounded.attempts.map((a) => `${a.profile} ${a.outcome === 'timeout' ? `timeout ${a.durationMs} ms` : `${a.meanConfidence!.toFixed(1)}${a.outcome === 'not-upright' ? ' (not upright)' : ''}`}`).join(', ');
    const result = bounded.result;
    if (!result) {
      // No retry: the same bound would stop it again; the page fails and the book completes without it.
      throw new PermanentError(`OCR exceeded the page time bound of ${timeoutMs} ms with every profile (${tries}); needs review`);
    }
    const archived: ArchivedOcr = {
      engine: result.engine,
      languages,
      width: result.width,
      height: result.height,
      meanConfidence: result.meanConfidence,
      text: result.text,
      words: result.words.map((w) => ({ text: w.text, confidence: w.confidence, bbox: w.bbox, line: w.line, block: w.block })),
      lines: result.lines.map((l) => ({ text: l.text, confidence: l.confidence, bbox: l.bbox, block: l.block })),
      orientation: result.orientation ?? 0,
      profile: result.profile,
    };
    const previous = existing ? (JSON.parse((await readObject(deps.store, existing.storeKey, { expectedSha256: existing.sha256 })).toString('utf8')) as ArchivedOcr) : undefined;
    const json = Buffer.from(JSON.stringify(archived));
    const jsonPut = await deps.store.putContentAddressed('ocr', json, { contentType: 'application/json' });
    const outputs = [{ place: { ...place, role: 'ocr' as const, variant: 'ocr-json' }, put: jsonPut, mediaType: 'application/json' }];
    if (result.hocr) {
      const hocrPut = await deps.store.putContentAddressed('ocr', Buffer.from(result.hocr), { contentType: 'text/vnd.hocr+html' });
      outputs.push({ place: { ...place, role: 'ocr', variant: 'hocr' }, put: hocrPut, mediaType: 'text/vnd.hocr+html' });
    }
    const object = (await recordObjects(deps.db, outputs))[0]!;
    await setPageOcr(deps.db, page.id, result.text, result.meanConfidence, result.engine, result.orientation ?? 0);
    // pages.orientation is the clockwise turn that shows the source upright: the EXIF part set with
    // the master plus what OSD found on the master (less what an earlier reading of it had added).
    const orientation = (((page.orientation - (previous?.orientation ?? 0) + (result.orientation ?? 0)) % 360) + 360) % 360;
    if (orientation !== page.orientation) await setPageOrientation(deps.db, page.id, orientation);
    await recordEvent(deps.db, {
      bookId: job.bookId,
      pageId: job.pageId,
      objectId: object.id,
      type: 'ocr',
      agent: result.engine,
      outcome: 'success',
      detail: `languages ${languages.join('+')}; ${result.words.length} words; mean confidence ${result.meanConfidence.toFixed(1)}; profile ${result.profile}; orientation ${result.orientation ?? 0}; attempts: ${tries}`,
      durationMs: result.durationMs,
    });
    // Handwriting goes to keying, not to the OCR review: correcting OCR text of a hand is retyping it.
    const handwriting = bookProfile === 'handwritten' ? DECLARED_HANDWRITTEN : handwritingByReading(result);
    if (handwriting) {
      await setPageType(deps.db, page.id, handwriting.type, handwriting.reason);
      await recordEvent(deps.db, {
        bookId: job.bookId, pageId: job.pageId, objectId: object.id, type: 'ocr', agent: 'arkiva page-type', outcome: 'success',
        detail: `routed to keying: ${handwriting.reason}`,
      });
      // Zones from the ruling, so a keyer asking for work finds the page's rows; a failure here is a warning, not the page's.
      await detectZonesAfterRouting(deps, { bookId: job.bookId, pageId: job.pageId }, archived);
    } else if (bounded.review) {
      await recordEvent(deps.db, {
        bookId: job.bookId,
        pageId: job.pageId,
        objectId: object.id,
        type: 'ocr',
        agent: 'arkiva ocr review',
        outcome: 'warning',
        // A page here has ink (blank ones were skipped above): reading nothing on it is a failure of OCR, not an empty page.
        detail: bounded.noText
          ? `no text read (${result.words.length} words) on a page with ink${page.inkRatio !== null ? ` (${(page.inkRatio * 100).toFixed(1)}%)` : ''} after ${tries}; needs review`
          : `low OCR confidence ${result.meanConfidence.toFixed(1)} after ${tries}; needs review`,
      });
    }
    return 'done';
  });
}

/** The OCR time bound of a page of `bookId`: relative to the median of the book's pages read so far. */
async function bookPageTimeBound(deps: Pick<Deps, 'db'>, bookId: string): Promise<number> {
  return pageTimeBound(await listRecentOcrDurations(deps.db, bookId), { maxMs: OCR_PAGE_TIMEOUT_MS });
}
