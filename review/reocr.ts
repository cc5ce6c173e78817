/**
 * Re-OCR: reading pages again with another profile or language set, as a new text revision. The
 * original and the master are only read; the earlier OCR objects stay archived (marked superseded),
 * so every reading the archive ever had can be shown.
 */
import { AppError, PermanentError } from '../common/index.ts';
import { findObject, getBook, recordEvent, recordObject, replacePageWords, setPageOcr } from '../archive/index.ts';
import { readObject } from '../storage/read-object.ts';
import { normaliseWord } from '../search/normalise.ts';
import type { AppDeps } from '../app/deps.ts';
import type { JobContext, JobOutcome } from '../queue/index.ts';
import type { JobOf } from '../pipeline/index.ts';
import { isIndexedWord, type ArchivedOcr } from '../archive/archived-ocr.ts';
import { recognizeBounded, OCR_PROFILES, type OcrProfile, type OcrResult, scanOcrData, validateOcrLanguages } from '../ocr/index.ts';
import { BOOK_OCR_PROFILES, type BookOcrProfile } from '../common/vocabulary.ts';
import { enqueueRepackage } from '../preservation/package-book.ts';
import {
  lockPageTextRevision, pageRevisions, pagesWithMaster, raiseTextRevision, supersedeOcrReadings,
} from './reocr.store.ts';

/** Profiles a re-OCR may ask for. */
export const REOCR_PROFILES: readonly BookOcrProfile[] = BOOK_OCR_PROFILES;

/** Bound of one re-OCR attempt: a clerk asked for it, so it may take longer than a pipeline page. */
export const REOCR_TIMEOUT_MS = 300_000;

/** Queues a re-OCR of a book's pages (all of them, or those numbered in `pages`). Returns the pages queued. */
export async function requestReocr(
  deps: Pick<AppDeps, 'db' | 'queue'>,
  req: { bookId: string; pages?: number[]; profile: BookOcrProfile; languages?: string[] },
  by: { user: string },
): Promise<{ queued: number[] }> {
  if (!REOCR_PROFILES.includes(req.profile)) throw new AppError('ERR_VALIDATION', `profile must be one of ${REOCR_PROFILES.join(', ')}`, { field: 'profile' });
  const book = await getBook(deps.db, req.bookId);
  if (!book) throw new AppError('ERR_BOOK_NOT_FOUND', `no book ${req.bookId}`);
  const languages = req.languages?.length ? validateOcrLanguages(req.languages, await scanOcrData()) : undefined;
  const pages = await pagesWithMaster(deps.db, req.bookId, req.pages?.length ? req.pages : null);
  if (req.pages?.length) {
    const missing = req.pages.filter((s) => !pages.some((p) => p.sequence === s));
    if (missing.length) throw new AppError('ERR_PAGE_NOT_FOUND', `pages without a master (or not in the book): ${missing.join(', ')}`);
  }
  for (const p of pages) {
    await deps.queue.add('page.reocr', {
      bookId: req.bookId, pageId: p.id, revision: p.revision, fromTextRevision: p.textRevision, profile: req.profile,
      ...(languages ? { languages } : {}), requestedBy: by.user,
    });
  }
  return { queued: pages.map((p) => p.sequence) };
}

/**
 * The `page.reocr` job: reads the master with the asked profile within a time bound and, in one
 * transaction, replaces the page's words with the new reading as text revision +1. A job delivered
 * twice finds the text revision already moved on and skips.
 */
export async function reocrPageJob(deps: Pick<AppDeps, 'db' | 'store' | 'ocr' | 'queue'>, job: JobOf<'page.reocr'>, ctx: JobContext): Promise<JobOutcome> {
  const page = await pageRevisions(deps.db, job.pageId);
  if (!page) throw new PermanentError(`page ${job.pageId} does not exist`);
  if (page.revision !== job.revision || page.textRevision !== job.fromTextRevision) {
    // A retry after the new reading was committed but before the rebuild was queued lands here:
    // queueing is idempotent per state of the book, so queue it (again) when the text moved on.
    if (page.revision === job.revision && page.textRevision > job.fromTextRevision) await enqueueRepackage(deps, job.bookId);
    return 'skipped';
  }
  const book = await getBook(deps.db, job.bookId);
  if (!book) throw new PermanentError(`book ${job.bookId} does not exist`);
  const image = await readMaster(deps, job, page.sequence);
  const languages = job.languages ?? book.languages.split('+').filter(Boolean);
  const reading = await readAgain(deps, image, job, languages, page.sequence, ctx.signal);
  const done = await writeReading(deps, job, reading);
  // The package's ALTO and PDF text layer come from the current reading: rebuild it (ended books only).
  if (done) await enqueueRepackage(deps, job.bookId);
  return done ? 'done' : 'skipped';
}

/** The page revision's master image, checked against its SHA-256. */
async function readMaster(deps: Pick<AppDeps, 'db' | 'store'>, job: JobOf<'page.reocr'>, sequence: number): Promise<Buffer> {
  const master = await findObject(deps.db, { bookId: job.bookId, pageId: job.pageId, revision: job.revision, role: 'master' });
  if (!master) throw new PermanentError(`page ${sequence} has no master`);
  return readObject(deps.store, master.storeKey, { expectedSha256: master.sha256 });
}

/** A new reading of a page: the engine's result, as archived, and the profile it was read with. */
interface Reading {
  result: OcrResult;
  archived: ArchivedOcr;
  profile: OcrProfile;
  languages: string[];
}

/** Reads the master with the job's profile within REOCR_TIMEOUT_MS; running out of time is permanent. */
async function readAgain(
  deps: Pick<AppDeps, 'ocr'>, image: Buffer, job: JobOf<'page.reocr'>, languages: string[], sequence: number, signal: AbortSignal,
): Promise<Reading> {
  const profile = OCR_PROFILES[job.profile as BookOcrProfile];
  const bounded = await recognizeBounded(deps.ocr(), image, { languages, hocr: true, imageName: 'master.tif', signal, timeoutMs: REOCR_TIMEOUT_MS, profiles: [profile], minConfidence: 0 });
  const result = bounded.result;
  if (!result) throw new PermanentError(`page ${sequence}: re-OCR with profile ${profile.name} exceeded ${REOCR_TIMEOUT_MS} ms`);
  const archived: ArchivedOcr = {
    engine: result.engine, languages, width: result.width, height: result.height, meanConfidence: result.meanConfidence, text: result.text,
    words: result.words.map((w) => ({ text: w.text, confidence: w.confidence, bbox: w.bbox, line: w.line, block: w.block })),
    lines: result.lines.map((l) => ({ text: l.text, confidence: l.confidence, bbox: l.bbox, block: l.block })),
    orientation: result.orientation ?? 0, profile: result.profile ?? profile.name,
  };
  return { result, archived, profile, languages };
}

/**
 * Archives the reading (OCR JSON and hOCR) and, in one transaction holding the page row, makes it
 * the page's current text: earlier readings superseded, the words replaced, text revision +1,
 * the PREMIS event. False when the text moved on since the job was queued (nothing written).
 */
async function writeReading(deps: Pick<AppDeps, 'db' | 'store'>, job: JobOf<'page.reocr'>, reading: Reading): Promise<boolean> {
  const { result, archived, profile, languages } = reading;
  const place = { bookId: job.bookId, pageId: job.pageId, revision: job.revision };
  const jsonPut = await deps.store.putContentAddressed('ocr', Buffer.from(JSON.stringify(archived)), { contentType: 'application/json' });
  const hocrPut = result.hocr ? await deps.store.putContentAddressed('ocr', Buffer.from(result.hocr), { contentType: 'text/vnd.hocr+html' }) : undefined;
  const words = archived.words.filter(isIndexedWord);
  return deps.db.transaction(async (tx) => {
    if ((await lockPageTextRevision(tx, job.pageId, job.revision)) !== job.fromTextRevision) return false;
    // The earlier readings stay archived; only the current pointer moves.
    await supersedeOcrReadings(tx, job.pageId, job.revision);
    const { object } = await recordObject(tx, { ...place, role: 'ocr', variant: 'ocr-json' }, jsonPut, 'application/json');
    if (hocrPut) await recordObject(tx, { ...place, role: 'ocr', variant: 'hocr' }, hocrPut, 'text/vnd.hocr+html');
    await replacePageWords(tx, place, words.map((w) => ({ ...w, norm: normaliseWord(w.text) })));
    await setPageOcr(tx, job.pageId, result.text, result.meanConfidence, result.engine);
    await raiseTextRevision(tx, job.pageId);
    await recordEvent(tx, {
      bookId: job.bookId, pageId: job.pageId, objectId: object.id, type: 'ocr', agent: result.engine, outcome: 'success',
      detail: `re-OCR requested by ${job.requestedBy}: profile ${profile.name}, languages ${languages.join('+')}; ${words.length} words; mean confidence ${result.meanConfidence.toFixed(1)}; text revision ${job.fromTextRevision + 1}`,
      durationMs: result.durationMs,
    });
    return true;
  });
}
