/**
 * Test fixture of the extract suites: a register book with one page whose master shows three
 * written rows, and a verified entry over the second row, linked to a registry record.
 */
import { randomBytes } from 'node:crypto';
import sharp from 'sharp';
import type { AppDeps } from '../app/deps.ts';
import { createBook, recordObject, setPageImageInfo, upsertPage } from '../archive/index.ts';
import { createEntry, type Entry } from '../entries/index.ts';
import { createLink, upsertRecord } from '../records/index.ts';
import { setClosure } from '../test-support/closure.ts';

/** The names the seeded entry holds: Albanian, Serbian Latin and Cyrillic letters. */
export const SEEDED_NAMES = { subject: 'Drita Çitaku', father: 'Đorđe Šćekić', mother: 'Љиљана Петровић' } as const;

const W = 1200;
const H = 420;

/** A page image with three register rows; the second is the entry's. */
async function masterPng(): Promise<Buffer> {
  const row = (y: number, text: string) => `<text x="30" y="${y}" font-family="DejaVu Sans" font-size="40" fill="#222">${text}</text>`;
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}"><rect width="100%" height="100%" fill="#f4efe2"/>`
    + `${row(90, '41 Agim Krasniqi 1958-03-01 Pejë')}${row(230, '42 Drita Çitaku 1958-03-04 Gjakovë')}${row(370, '43 Marko Jovanović 1958-03-09 Peć')}</svg>`;
  return sharp(Buffer.from(svg)).removeAlpha().png().toBuffer();
}

/** Seeds the book, page, master, verified entry and its record link; `closedUntil` in the future closes the book. */
export async function seedEntry(deps: Pick<AppDeps, 'db' | 'store'>, opts: { closedUntil?: string; verified?: boolean } = {}): Promise<{ entry: Entry; bookId: string; recordId: string }> {
  const { db } = deps;
  const { book } = await createBook(db, {
    registerType: 'birth', municipality: 'Pejë', yearFrom: 1958, yearTo: 1960, volume: 'II', languages: 'sqi+srp',
    sourceFormat: 'images', sourceSha256: randomBytes(32).toString('hex'), sourceSize: 1,
  });
  const png = await masterPng();
  const put = await deps.store.putContentAddressed('masters', png, { contentType: 'image/png' });
  const page = await upsertPage(db, book.id, 3);
  await recordObject(db, { bookId: book.id, pageId: page.id, role: 'master', revision: 1 }, put, 'image/png');
  await setPageImageInfo(db, page.id, { width: W, height: H, dpiX: 300, dpiY: 300, orientation: 0 });
  await setClosure(db, book.id, opts.closedUntil ?? '2000-12-31');
  const entry = await createEntry(db, page.id, {
    box: { x0: 10, y0: 170, x1: W - 10, y1: 260 }, eventType: 'birth', entryNumber: '42', eventDate: '1958-03-04', place: 'Gjakovë',
    marginalNotes: 'Lidhi martesë / Zaključila brak 1980, Pejë, nr. 17',
    names: [{ role: 'subject', name: SEEDED_NAMES.subject }, { role: 'father', name: SEEDED_NAMES.father }, { role: 'mother', name: SEEDED_NAMES.mother }],
  }, { user: 'seed-clerk', ...(opts.verified === false ? { source: 'ocr' as const } : {}) });
  const { record } = await upsertRecord(db, {
    system: 'CRS', recordType: 'birth', recordId: `RB-${randomBytes(4).toString('hex')}`, personNames: [SEEDED_NAMES.subject], eventDate: '1958-03-04', municipality: 'Pejë',
  }, { user: 'seed-clerk' });
  await createLink(db, { recordId: record.id, target: { kind: 'entry', entryId: entry.id }, linkType: 'original-entry' }, { user: 'seed-clerk' });
  return { entry, bookId: book.id, recordId: record.id };
}
