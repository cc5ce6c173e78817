/**
 * Re-OCR: reading pages again with another profile or language set, as a new text revision. The
 * original and the master are only read; the earlier OCR objects stay archived (marked superseded),
 * so every reading the archive ever had can be shown.
 */
import { AppError, PermanentError } from '../common/index.ts';
import { findObject, getBook, recordEvent, recordObject, setPageOcr } from '../archive/index.ts';
import { readObject } from '../storage/read-object.ts';
import { normaliseWord } from '../search/normalise.ts';
import type { AppDeps } from '../app/deps.ts';
import type { JobContext, JobOutcome } from '../queue/index.ts';
import type { JobOf } from '../pipeline/index.ts';
import { isIndexedWord, type ArchivedOcr } from '../archive/archived-ocr.ts';
import { recognizeBounded, OCR_PROFILES, type OcrPageType, scanOcrData, validateOcrLanguages } from '../ocr/index.ts';
import { enqueueRepackage } from '../preservation/package-book.ts';

/** Profiles a re-OCR may ask for. */
export const REOCR_PROFILES = Object.keys(OCR_PROFILES) as OcrPageType[];

/** Bound of one re-OCR attempt: a clerk asked for it, so it may take longer than a pipeline page. */
export const REOCR_TIMEOUT_MS = 300_000;

/** Queues a re-OCR of a book's pages (all of them, or those numbered in `pages`). Returns the pages queued. */
export async function requestReocr(
  deps: Pick<AppDeps, 'db' | 'queue'>,
  req: { bookId: string; pages?: number[]; profile: OcrPageType; languages?: string[] },
  by: { user: string },
): Promise<{ queued: number[] }> {
  if (!REOCR_PROFILES.includes(req.profile)) throw new AppError('ERR_VALIDATION', `profile must be one of ${REOCR_PROFILES.join(', ')}`, { field: 'profile' });
  const book = await getBook(deps.db, req.bookId);
  if (!book) throw new AppError('ERR_BOOK_NOT_FOUND', `no book ${req.bookId}`);
  const languages = req.languages?.length ? validateOcrLanguages(req.languages, await scanOcrData()) : undefined;
  const r = await deps.db.query<{ id: string; sequence: number; revision: number; text_revision: number }>(
    `SELECT p.id, p.sequence, p.revision, p.text_revision FROM pages p
      WHERE p.book_id = $1 AND ($2::int[] IS NULL OR p.sequence = ANY($2))
        AND EXISTS (SELECT 1 FROM stored_objects o WHERE o.page_id = p.id AND o.revision = p.revision AND o.role = 'master' AND o.superseded_at IS NULL)
      ORDER BY p.sequence`,
    [req.bookId, req.pages?.length ? req.pages : null],
  );
  if (req.pages?.length) {
    const missing = req.pages.filter((s) => !r.rows.some((p) => p.sequence === s));
    if (missing.length) throw new AppError('ERR_PAGE_NOT_FOUND', `pages without a master (or not in the book): ${missing.join(', ')}`);
  }
  for (const p of r.rows) {
    await deps.queue.add('page.reocr', {
      bookId: req.bookId, pageId: p.id, revision: p.revision, fromTextRevision: p.text_revision, profile: req.profile,
      ...(languages ? { languages } : {}), requestedBy: by.user,
    });
  }
  return { queued: r.rows.map((p) => p.sequence) };
}

/**
 * The `page.reocr` job: reads the master with the asked profile within a time bound and, in one
 * transaction, replaces the page's words with the new reading as text revision +1. A job delivered
 * twice finds the text revision already moved on and skips.
 */
export async function reocrPageJob(deps: Pick<AppDeps, 'db' | 'store' | 'ocr' | 'queue'>, job: JobOf<'page.reocr'>, ctx: JobContext): Promise<JobOutcome> {
  const page = (await deps.db.query<{ sequence: number; revision: number; text_revision: number }>('SELECT sequence, revision, text_revision FROM pages WHERE id = $1', [job.pageId])).rows[0];
  if (!page) throw new PermanentError(`page ${job.pageId} does not exist`);
  if (page.revision !== job.revision || page.text_revision !== job.fromTextRevision) {
    // A retry after the new reading was committed but before the rebuild was queued lands here:
    // queueing is idempotent per state of the book, so queue it (again) when the text moved on.
    if (page.revision === job.revision && page.text_revision > job.fromTextRevision) await enqueueRepackage(deps, job.bookId);
    return 'skipped';
  }
  const book = await getBook(deps.db, job.bookId);
  if (!book) throw new PermanentError(`book ${job.bookId} does not exist`);
  const place = { bookId: job.bookId, pageId: job.pageId, revision: job.revision };
  const master = await findObject(deps.db, { ...place, role: 'master' });
  if (!master) throw new PermanentError(`page ${page.sequence} has no master`);
  const image = await readObject(deps.store, master.storeKey, { expectedSha256: master.sha256 });
  const languages = job.languages ?? book.languages.split('+').filter(Boolean);
  const profile = OCR_PROFILES[job.profile as OcrPageType];
  const bounded = await recognizeBounded(deps.ocr(), image, { languages, hocr: true, signal: ctx.signal, timeoutMs: REOCR_TIMEOUT_MS, profiles: [profile], minConfidence: 0 });
  const result = bounded.result;
  if (!result) throw new PermanentError(`page ${page.sequence}: re-OCR with profile ${profile.name} exceeded ${REOCR_TIMEOUT_MS} ms`);
  const archived: ArchivedOcr = {
    engine: result.engine, languages, width: result.width, height: result.height, meanConfidence: result.meanConfidence, text: result.text,
    words: result.words.map((w) => ({ text: w.text, confidence: w.confidence, bbox: w.bbox, line: w.line, block: w.block })),
    lines: result.lines.map((l) => ({ text: l.text, confidence: l.confidence, bbox: l.bbox, block: l.block })),
    orientation: result.orientation ?? 0, profile: result.profile ?? profile.name,
  };
  const jsonPut = await deps.store.putContentAddressed('ocr', Buffer.from(JSON.stringify(archived)), { contentType: 'application/json' });
  const hocrPut = result.hocr ? await deps.store.putContentAddressed('ocr', Buffer.from(result.hocr), { contentType: 'text/vnd.hocr+html' }) : undefined;
  const words = archived.words.filter(isIndexedWord);
  const done = await deps.db.transaction(async (tx) => {
    const locked = await tx.query<{ text_revision: number }>('SELECT text_revision FROM pages WHERE id = $1 AND revision = $2 FOR UPDATE', [job.pageId, job.revision]);
    if (locked.rows[0]?.text_revision !== job.fromTextRevision) return false;
    // The earlier readings stay archived; only the current pointer moves.
    await tx.query(
      `UPDATE stored_objects SET superseded_at = now()
        WHERE page_id = $1 AND revision = $2 AND role = 'ocr' AND variant IN ('ocr-json', 'hocr') AND superseded_at IS NULL`,
      [job.pageId, job.revision],
    );
    const { object } = await recordObject(tx, { ...place, role: 'ocr', variant: 'ocr-json' }, jsonPut, 'application/json');
    if (hocrPut) await recordObject(tx, { ...place, role: 'ocr', variant: 'hocr' }, hocrPut, 'text/vnd.hocr+html');
    await tx.query('DELETE FROM page_words WHERE page_id = $1', [job.pageId]);
    if (words.length) {
      await tx.query(
        `INSERT INTO page_words (page_id, revision, word_index, book_id, text, confidence, line_index, block_index, x0, y0, x1, y1, norm)
         SELECT $1, $2, i - 1, $3, t, c, l, b, x0, y0, x1, y1, n
           FROM unnest($4::text[], $5::real[], $6::int[], $7::int[], $8::int[], $9::int[], $10::int[], $11::int[], $12::text[]) WITH ORDINALITY AS u(t, c, l, b, x0, y0, x1, y1, n, i)`,
        [job.pageId, job.revision, job.bookId, words.map((w) => w.text), words.map((w) => w.confidence), words.map((w) => w.line), words.map((w) => w.block),
         words.map((w) => Math.round(w.bbox.x0)), words.map((w) => Math.round(w.bbox.y0)), words.map((w) => Math.round(w.bbox.x1)), words.map((w) => Math.round(w.bbox.y1)),
         words.map((w) => normaliseWord(w.text))],
      );
    }
    await setPageOcr(tx, job.pageId, result.text, result.meanConfidence, result.engine);
    await tx.query(`UPDATE pages SET text_revision = text_revision + 1, page_type = CASE WHEN page_type = 'blank' THEN NULL ELSE page_type END, updated_at = now() WHERE id = $1`, [job.pageId]);
    await recordEvent(tx, {
      bookId: job.bookId, pageId: job.pageId, objectId: object.id, type: 'ocr', agent: result.engine, outcome: 'success',
      detail: `re-OCR requested by ${job.requestedBy}: profile ${profile.name}, languages ${languages.join('+')}; ${words.length} words; mean confidence ${result.meanConfidence.toFixed(1)}; text revision ${job.fromTextRevision + 1}`,
      durationMs: result.durationMs,
    });
    return true;
  });
  // The package's ALTO and PDF text layer come from the current reading: rebuild it (ended books only).
  if (done) await enqueueRepackage(deps, job.bookId);
  return done ? 'done' : 'skipped';
}
