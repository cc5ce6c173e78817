import { randomBytes } from 'node:crypto';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBook, findObject, recordObject, upsertPage } from '../../archive/index.ts';
import { planBook } from '../../fixtures/index.ts';
import { readObject } from '../../storage/read-object.ts';
import { listReviewQueue } from '../../review/index.ts';
import { openRealDeps, realServicesEnv } from '../../test-support/real-deps.ts';
import { requireService } from '../../test-support/services.ts';
import { skipBlankPage } from './blank-page.ts';

const run = requireService('databaseUrl');

describe.skipIf(!run)('blank pages in the OCR stage', () => {
  let real: Awaited<ReturnType<typeof openRealDeps>>;
  let bookId: string;

  beforeAll(async () => {
    real = await openRealDeps(realServicesEnv());
    ({ book: { id: bookId } } = await createBook(real.deps.db, { registerType: 'birth', municipality: 'Pejë', yearFrom: 1958, yearTo: 1958, languages: 'sqi', sourceFormat: 'tiff', sourceSha256: randomBytes(32).toString('hex'), sourceSize: 1 }));
  });
  afterAll(async () => real?.cleanup());

  async function pageWithMaster(sequence: number, png: Buffer) {
    const page = await upsertPage(real.deps.db, bookId, sequence);
    const put = await real.deps.store.putContentAddressed('masters', png, { contentType: 'image/png' });
    await recordObject(real.deps.db, { bookId, pageId: page.id, role: 'master', revision: 1 }, put, 'image/png');
    return page;
  }

  it('records a blank leaf as read with no words, typed blank and listed for review; a register page is left to OCR', async () => {
    const blankPng = await sharp({ create: { width: 1240, height: 877, channels: 3, background: '#000', noise: { type: 'gaussian', mean: 215, sigma: 8 } } }).greyscale().png().toBuffer();
    const blank = await pageWithMaster(1, blankPng);
    const job = { bookId, pageId: blank.id, revision: 1 };
    // Mastered before the master stage kept the ink ratio: measured on the master's bytes.
    expect(blank.inkRatio).toBeNull();
    expect(await skipBlankPage(real.deps, job, blank, async () => blankPng)).toBe(true);
    const ocr = await findObject(real.deps.db, { bookId, pageId: blank.id, role: 'ocr', variant: 'ocr-json', revision: 1 });
    const archived = JSON.parse((await readObject(real.deps.store, ocr!.storeKey)).toString('utf8')) as { words: unknown[]; engine: string; width: number };
    expect(archived).toMatchObject({ words: [], engine: 'none (blank page)', width: 1240 });
    const row = (await real.deps.db.query<{ page_type: string; ocr_confidence: number }>('SELECT page_type, ocr_confidence FROM pages WHERE id = $1', [blank.id])).rows[0];
    expect(row).toEqual({ page_type: 'blank', ocr_confidence: 0 });
    expect((await listReviewQueue(real.deps.db, { bookId })).map((p) => [p.sequence, p.reason])).toEqual([[1, 'blank']]);

    const registerPng = await planBook({ seed: 2, pages: 1, noise: 2, scale: 0.5 }).renderPng(1);
    const register = await pageWithMaster(2, registerPng);
    expect(await skipBlankPage(real.deps, { bookId, pageId: register.id, revision: 1 }, register, async () => registerPng)).toBe(false);
    expect(await findObject(real.deps.db, { bookId, pageId: register.id, role: 'ocr', variant: 'ocr-json', revision: 1 })).toBeUndefined();
  });

  it('decides from the ink ratio the master stage recorded, without reading the master again', async () => {
    const page = await pageWithMaster(3, await sharp({ create: { width: 300, height: 200, channels: 3, background: '#fff' } }).png().toBuffer());
    const notRead = async (): Promise<Buffer> => { throw new Error('the master was read'); };
    const recorded = { ...page, width: 300, height: 200 };
    expect(await skipBlankPage(real.deps, { bookId, pageId: page.id, revision: 1 }, { ...recorded, inkRatio: 0.05 }, notRead)).toBe(false);
    expect(await skipBlankPage(real.deps, { bookId, pageId: page.id, revision: 1 }, { ...recorded, inkRatio: 0.0005 }, notRead)).toBe(true);
    const ocr = await findObject(real.deps.db, { bookId, pageId: page.id, role: 'ocr', variant: 'ocr-json', revision: 1 });
    const archived = JSON.parse((await readObject(real.deps.store, ocr!.storeKey)).toString('utf8')) as { width: number; height: number };
    expect(archived).toMatchObject({ width: 300, height: 200 });
  });
});
