/**
 * A book's OCR profile, chosen at upload, through the whole pipeline on embedded deps (PGlite,
 * filesystem store, in-process queue, tesseract.js): the OCR stage reads its pages with it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planBook } from '../fixtures/index.ts';
import type { WorkerHandle } from '../queue/index.ts';
import { startWorkers } from '../workers/index.ts';
import { multipart, openTestApp, waitForBook, type TestApp } from './test-kit.ts';

/** The detail of each successful pipeline OCR event of a book's pages. */
async function ocrDetails(t: TestApp, bookId: string): Promise<string[]> {
  const r = await t.deps.db.query<{ detail: string }>(
    `SELECT detail FROM processing_events WHERE book_id = $1 AND event_type = 'ocr' AND outcome = 'success' AND page_id IS NOT NULL ORDER BY id`,
    [bookId],
  );
  return r.rows.map((x) => x.detail);
}

describe('OCR profile per book', () => {
  let t: TestApp;
  let workers: WorkerHandle;
  let typewriterPage: Buffer;
  let printedPage: Buffer;

  beforeAll(async () => {
    // Small pages keep OCR at about a second each; two seeds so the uploads are not duplicates.
    [t, typewriterPage, printedPage] = await Promise.all([
      openTestApp(),
      planBook({ seed: 41, pages: 1, style: 'typewriter', scale: 0.4 }).renderPng(1),
      planBook({ seed: 42, pages: 1, style: 'typewriter', scale: 0.4 }).renderPng(1),
    ]);
    workers = await startWorkers(t.deps);
  });
  afterAll(async () => {
    await workers?.close({ timeoutMs: 10_000 });
    await t?.close();
  });

  it('reads the pages of a book uploaded as typewriter with the typewriter profile, and of one given none as printed', async () => {
    const fields: (readonly [string, string])[] = [['registerType', 'birth'], ['municipality', 'Pejë'], ['year', '1961'], ['languages', 'sqi']];
    const typed = await t.api.inject({ method: 'POST', url: '/books', ...multipart([...fields, ['ocrProfile', 'typewriter'], { data: typewriterPage, filename: 'p.png', contentType: 'image/png' }]) });
    expect(typed.statusCode, typed.body).toBe(201);
    expect(typed.json().book.ocrProfile).toBe('typewriter');
    const plain = await t.api.inject({ method: 'POST', url: '/books?registerType=birth&municipality=Pej%C3%AB&year=1961&languages=sqi', headers: { 'content-type': 'image/png' }, payload: printedPage });
    expect(plain.statusCode, plain.body).toBe(201);
    expect(plain.json().book.ocrProfile).toBe('printed');
    const typedId: string = typed.json().book.id;
    const plainId: string = plain.json().book.id;

    expect(await waitForBook(t.api, typedId, 120_000)).toMatchObject({ status: 'complete', ocrProfile: 'typewriter' });
    expect(await waitForBook(t.api, plainId, 120_000)).toMatchObject({ status: 'complete', ocrProfile: 'printed' });

    // The first reading is always with the book's own profile; its fallbacks carry its name too.
    const typedOcr = await ocrDetails(t, typedId);
    expect(typedOcr).toHaveLength(1);
    expect(typedOcr[0]).toMatch(/; attempts: typewriter \d/);
    expect(typedOcr[0]).toMatch(/; profile (typewriter(\+osd|\+flip)?|rescue);/);
    expect(typedOcr[0]).not.toMatch(/printed/);
    const plainOcr = await ocrDetails(t, plainId);
    expect(plainOcr).toHaveLength(1);
    expect(plainOcr[0]).toMatch(/; attempts: printed \d/);
    expect(plainOcr[0]).not.toMatch(/typewriter/);

    // The same bytes again with another profile: the existing book, its profile unchanged.
    const again = await t.api.inject({ method: 'POST', url: '/books', ...multipart([...fields, ['ocrProfile', 'mixed'], { data: typewriterPage, filename: 'p.png', contentType: 'image/png' }]) });
    expect(again.statusCode).toBe(200);
    expect(again.json()).toMatchObject({ duplicate: true, book: { id: typedId, ocrProfile: 'typewriter' } });

    // The column refuses a profile the OCR stage does not have, whatever writes it.
    const bad = await t.deps.db.query("UPDATE books SET ocr_profile = 'cursive' WHERE id = $1", [typedId]).catch((e: unknown) => e);
    expect(String(bad)).toMatch(/books_ocr_profile_check/);
  }, 240_000);
});
