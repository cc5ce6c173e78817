import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDb, type Db } from '../db/index.ts';
import { silentLogger } from '../common/index.ts';
import { createBook, upsertPage, type RegisterType } from '../archive/index.ts';
import { planBook, surnamesOnPage, type PageTruth } from '../fixtures/index.ts';
import { requireService, testServices } from '../test-support/services.ts';
import { insertPageWords, wordsFromTruth, type SeedWord } from '../test-support/seed-words.ts';
import { normaliseWord } from './normalise.ts';
import { searchPages } from './search-pages.ts';
import { findWords } from './find-words.ts';

const run = requireService('databaseUrl');

interface SeededPage { bookId: string; pageId: string; truth: PageTruth }

describe.skipIf(!run)('searchPages on PostgreSQL', () => {
  const schema = `test_${randomBytes(6).toString('hex')}`;
  let db: Db;
  const pages: SeededPage[] = [];
  const bookIds: Record<string, string> = {};

  // OCR damage injected into the page words: a misread letter, a lost diacritic.
  const damage = (w: SeedWord): SeedWord => {
    if (w.text === 'Krasniqi') return { ...w, text: 'Krasnlqi', confidence: 60 };
    return { ...w, text: w.text.replace(/ë/g, 'e') };
  };

  async function seed(key: string, registerType: Exclude<RegisterType, 'other'>, municipality: string, year: number, style: 'printed' | 'cyrillic' | 'mixed', seedN: number) {
    const planned = planBook({ seed: seedN, pages: 2, style, registerType, year, scale: 0.5 });
    const { book } = await createBook(db, {
      registerType, municipality, yearFrom: year, yearTo: year, languages: 'sqi+srp', sourceFormat: 'tiff',
      sourceSha256: randomBytes(32).toString('hex'), sourceSize: 1,
    });
    bookIds[key] = book.id;
    for (const truth of planned.truth.pages) {
      const page = await upsertPage(db, book.id, truth.sequence);
      await insertPageWords(db, { bookId: book.id, pageId: page.id, revision: page.revision }, wordsFromTruth(truth).map(damage));
      pages.push({ bookId: book.id, pageId: page.id, truth });
    }
  }

  beforeAll(async () => {
    db = await openDb({ kind: 'pg', url: testServices().databaseUrl!, schema }, silentLogger());
    await seed('sq', 'birth', 'Prizren', 1958, 'printed', 11);
    await seed('sr', 'birth', 'Vučitrn', 1962, 'cyrillic', 12);
    await seed('mixed', 'marriage', 'Pejë', 1975, 'mixed', 13);
    // A page that certainly holds the OCR-damaged Krasniqi, whatever the seeds drew.
    const extra = await upsertPage(db, bookIds.sq!, 3);
    await insertPageWords(db, { bookId: bookIds.sq!, pageId: extra.id, revision: 1 }, [
      { text: '7', confidence: 90, line: 0, block: 0, box: { x0: 10, y0: 10, x1: 20, y1: 30 } },
      { text: 'Arbën', confidence: 90, line: 0, block: 0, box: { x0: 30, y0: 10, x1: 90, y1: 30 } },
      { text: 'Krasniqi', confidence: 90, line: 0, block: 0, box: { x0: 100, y0: 10, x1: 190, y1: 30 } },
    ].map(damage));
    pages.push({ bookId: bookIds.sq!, pageId: extra.id, truth: { entries: [] } as unknown as PageTruth });
  });

  afterAll(async () => {
    if (!db) return;
    await db.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await db.close();
  });

  const latinPlain = (s: string) => normaliseWord(s);

  /** Every hit of a search, page after page through its cursor, as a clerk paging on would see them. */
  async function everyHitByCursor(query: Omit<Parameters<typeof searchPages>[1], 'cursor'>): Promise<{ pageId: string; score: number }[]> {
    const seen: { pageId: string; score: number }[] = [];
    let cursor: string | undefined;
    for (let i = 0; i < 200; i++) {
      const r = await searchPages(db, { ...query, ...(cursor ? { cursor } : {}) });
      seen.push(...r.hits.map((h) => ({ pageId: h.pageId, score: h.score })));
      if (!r.nextCursor) return seen;
      cursor = r.nextCursor;
    }
    throw new Error(`more than 200 pages of results for ${query.q}`);
  }

  it('finds ≥ 95% of ground-truth surnames by their Latin spelling without diacritics, in the top 5', async () => {
    let total = 0;
    let found = 0;
    const missed: string[] = [];
    for (const p of pages.filter((x) => x.truth.entries.length > 0)) {
      for (const surname of new Set(surnamesOnPage(p.truth))) {
        total++;
        const r = await searchPages(db, { q: latinPlain(surname), limit: 5 });
        if (r.hits.some((h) => h.pageId === p.pageId)) found++;
        else missed.push(surname);
      }
    }
    expect(total).toBeGreaterThan(50);
    expect(found / total, `missed: ${missed.join(', ')}`).toBeGreaterThanOrEqual(0.95);
  });

  it('finds names with one wrong letter (fuzzy)', async () => {
    let total = 0;
    let found = 0;
    for (const p of pages.filter((x) => x.truth.entries.length > 0)) {
      for (const surname of new Set(surnamesOnPage(p.truth))) {
        const plain = latinPlain(surname);
        if (plain.length < 5) continue;
        total++;
        const typo = `${plain.slice(0, 3)}${plain[3] === 'x' ? 'y' : 'x'}${plain.slice(4)}`;
        const r = await searchPages(db, { q: typo, limit: 5 });
        if (r.hits.some((h) => h.pageId === p.pageId)) found++;
      }
    }
    expect(found / total).toBeGreaterThanOrEqual(0.9);
  });

  it('survives OCR errors on the page and returns the boxes of the matched words', async () => {
    const r = await searchPages(db, { q: 'Krasniqi' });
    const hit = r.hits.find((h) => h.sequence === 3 && h.bookId === bookIds.sq);
    expect(hit).toBeDefined();
    expect(hit!.words[0]).toMatchObject({ text: 'Krasnlqi', box: { x0: 100, y0: 10, x1: 190, y1: 30 } });
    expect(hit!.snippet).toBe('7 Arben «Krasnlqi»');
    // A fuzzy match scores below what an exact reading would (≥ 0.9).
    expect(hit!.score).toBeLessThan(0.9);
    expect(hit!.score).toBeGreaterThan(0.3);
  });

  it('is accent-insensitive both ways and crosses Cyrillic and Latin both ways', async () => {
    const sr = pages.find((p) => p.bookId === bookIds.sr && p.truth.entries.length > 0)!;
    const cyr = String(sr.truth.entries[0]!.fields.surname);
    expect(cyr).toMatch(/[\u0400-\u04ff]/);
    const latinQuery = normaliseWord(cyr);
    const byLatin = await searchPages(db, { q: latinQuery, bookId: bookIds.sr });
    expect(byLatin.hits.map((h) => h.pageId)).toContain(sr.pageId);
    const byCyrillic = await searchPages(db, { q: cyr, bookId: bookIds.sr });
    expect(byCyrillic.hits.map((h) => h.pageId)).toContain(sr.pageId);
    // A Cyrillic query finds a Latin page.
    const r = await searchPages(db, { q: 'Арбен Краснићи', bookId: bookIds.sq, mode: 'words' });
    expect(r.hits.map((h) => h.sequence)).toContain(3);
  });

  it('matches phrases only when the words are adjacent and in order', async () => {
    const ok = await searchPages(db, { q: 'Arben Krasniqi', mode: 'phrase', bookId: bookIds.sq });
    expect(ok.hits.map((h) => h.sequence)).toContain(3);
    expect(ok.hits.find((h) => h.sequence === 3)!.words.map((w) => w.text)).toEqual(['Arben', 'Krasnlqi']);
    const reversed = await searchPages(db, { q: 'Krasniqi Arben', mode: 'phrase', bookId: bookIds.sq });
    expect(reversed.hits.map((h) => h.sequence)).not.toContain(3);
    const words = await searchPages(db, { q: 'Krasniqi Arben', mode: 'words', bookId: bookIds.sq });
    expect(words.hits.map((h) => h.sequence)).toContain(3);
  });

  it('matches prefixes', async () => {
    const r = await searchPages(db, { q: 'Krasn', mode: 'prefix', fuzzy: false, bookId: bookIds.sq });
    expect(r.hits.map((h) => h.sequence)).toContain(3);
    expect((await findWords(db, 'krasn', { bookId: bookIds.sq })).length).toBeGreaterThan(0);
  });

  it('applies filters: register type, municipality, years, book', async () => {
    const q = 'Krasniqi';
    expect((await searchPages(db, { q, registerType: 'death' })).hits).toHaveLength(0);
    expect((await searchPages(db, { q, municipality: 'prizren' })).hits.every((h) => h.bookId === bookIds.sq)).toBe(true);
    expect((await searchPages(db, { q, yearFrom: 1959, yearTo: 1970 })).hits.every((h) => h.book.yearFrom >= 1959)).toBe(true);
    expect((await searchPages(db, { q, yearFrom: 1950, yearTo: 1958 })).hits.length).toBeGreaterThan(0);
    expect((await searchPages(db, { q, bookId: bookIds.mixed })).hits.every((h) => h.bookId === bookIds.mixed)).toBe(true);
  });

  it('pages with a keyset cursor: no duplicates, no gaps, same order as one big page', async () => {
    const q = 'ic';
    const all = await searchPages(db, { q: 'a', mode: 'prefix', fuzzy: false, limit: 100 });
    expect(all.hits.length).toBeGreaterThan(3);
    const seen: string[] = [];
    let cursor: string | undefined;
    for (let i = 0; i < 20; i++) {
      const r = await searchPages(db, { q: 'a', mode: 'prefix', fuzzy: false, limit: 2, ...(cursor ? { cursor } : {}) });
      seen.push(...r.hits.map((h) => h.pageId));
      if (!r.nextCursor) break;
      cursor = r.nextCursor;
    }
    expect(seen).toEqual(all.hits.map((h) => h.pageId));
    await expect(searchPages(db, { q, cursor: 'nonsense' })).rejects.toMatchObject({ code: 'ERR_VALIDATION' });
  });

  it('several words and phrases stop early yet rank as a full ranking would, and page by cursor without gaps', async () => {
    // 150 pages, more than the walk's first batches: a third hold the name on one line, a third
    // its words scattered, a third only the given name (the surname, rarer, drives the walk).
    const { book } = await createBook(db, {
      registerType: 'birth', municipality: 'Rahovec', yearFrom: 1931, yearTo: 1931, languages: 'sqi', sourceFormat: 'tiff', sourceSha256: randomBytes(32).toString('hex'), sourceSize: 1,
    });
    const oneLine: string[] = [];
    const scattered: string[] = [];
    const box = (i: number) => ({ x0: 10 + i * 100, y0: 10, x1: 90 + i * 100, y1: 30 });
    for (let i = 0; i < 150; i++) {
      const page = await upsertPage(db, book.id, i + 1);
      const words: SeedWord[] = i % 3 === 0
        ? [{ text: 'Vllaznim', confidence: 90, line: 0, block: 0, box: box(0) }, { text: 'Qorraj', confidence: 50 + (i % 40), line: 0, block: 0, box: box(1) }]
        : i % 3 === 1
          ? [{ text: 'Qorraj', confidence: 90, line: 0, block: 0, box: box(0) }, { text: 'Shtëpia', confidence: 90, line: 1, block: 0, box: box(0) }, { text: 'Vllaznim', confidence: 90, line: 2, block: 0, box: box(0) }]
          : [{ text: 'Vllaznim', confidence: 90, line: 0, block: 0, box: box(0) }];
      await insertPageWords(db, { bookId: book.id, pageId: page.id, revision: 1 }, words);
      if (i % 3 === 0) oneLine.push(page.id);
      if (i % 3 === 1) scattered.push(page.id);
    }
    const desc = (xs: string[]) => [...xs].sort((a, b) => (a < b ? 1 : -1));
    // The full ranking: the whole name on one line (0.9) above scattered words (0.7), then page id.
    const wordsRanking = [...desc(oneLine), ...desc(scattered)];
    const walk = (q: string, mode: 'words' | 'phrase', fuzzy: boolean, limit: number) => everyHitByCursor({ q, mode, fuzzy, limit, bookId: book.id });
    const words = await walk('Vllaznim Qorraj', 'words', false, 3);
    expect(words.map((h) => h.pageId)).toEqual(wordsRanking);
    expect(new Set(words.slice(0, 50).map((h) => h.score))).toEqual(new Set([0.9]));
    expect(new Set(words.slice(50).map((h) => h.score))).toEqual(new Set([0.7]));
    expect((await walk('Vllaznim Qorraj', 'phrase', false, 4)).map((h) => h.pageId)).toEqual(desc(oneLine));
    expect((await walk('Qorraj Vllaznim', 'phrase', false, 4)).map((h) => h.pageId)).toEqual([]);
    // Fuzzy on: a page of 20 from the walk is the head of the whole ranking, and the cursor goes on without gaps.
    const fuzzyAll = (await searchPages(db, { q: 'Vllaznim Qorraj', fuzzy: true, limit: 100, bookId: book.id })).hits.map((h) => h.pageId);
    expect((await searchPages(db, { q: 'Vllaznim Qorraj', fuzzy: true, limit: 20, bookId: book.id })).hits.map((h) => h.pageId)).toEqual(fuzzyAll.slice(0, 20));
    expect((await walk('Vllaznim Qorraj', 'words', true, 7)).map((h) => h.pageId)).toEqual(wordsRanking);
    expect(fuzzyAll).toEqual(wordsRanking.slice(0, 100));
  });

  it('ranks the whole name together above its words apart, in either order, and walks pairs without losing a page', async () => {
    // 120 pages in six layouts, the name's two words: next to each other (0.9) as written or
    // surname first; on one line but apart, or on different lines (0.7); next to each other with
    // one misread (0.9 × its similarity, or 0.7 for the exact words scattered on the page, if more);
    // and a misread word between the exact words on one line (fuzzy on, the given name is next to
    // the misread surname: as the misread pair; off, the misread word parts them: 0.7).
    const { book } = await createBook(db, {
      registerType: 'birth', municipality: 'Rahovec', yearFrom: 1932, yearTo: 1932, languages: 'sqi', sourceFormat: 'tiff', sourceSha256: randomBytes(32).toString('hex'), sourceSize: 1,
    });
    const at = (text: string, line: number, i: number): SeedWord => ({ text, confidence: 90, line, block: 0, box: { x0: 10 + i * 100, y0: 10 + line * 40, x1: 90 + i * 100, y1: 30 + line * 40 } });
    const layouts: SeedWord[][] = [
      [at('12', 0, 0), at('Dardan', 0, 1), at('Mehmetaj', 0, 2), at('1932', 0, 3)],
      [at('Mehmetaj', 0, 0), at('Dardan', 0, 1)],
      [at('Dardan', 0, 0), at('Ahmet', 0, 1), at('Mehmetaj', 0, 2)],
      [at('Dardan', 0, 0), at('Mehmetaj', 1, 0)],
      [at('Dardan', 0, 0), at('Mehmetal', 0, 1), at('Mehmetaj', 2, 0)],
      [at('Dardan', 0, 0), at('Mehmetal', 0, 1), at('Mehmetaj', 0, 2)],
    ];
    const byLayout: string[][] = layouts.map(() => []);
    for (let i = 0; i < 120; i++) {
      const page = await upsertPage(db, book.id, i + 1);
      await insertPageWords(db, { bookId: book.id, pageId: page.id, revision: 1 }, layouts[i % 6]!);
      byLayout[i % 6]!.push(page.id);
    }
    const inPages = (q: string, fuzzy: boolean, limit: number) => everyHitByCursor({ q, fuzzy, limit, bookId: book.id });
    // The largest pages a search gives (100), as near as it comes to ranking everything at once.
    const everything = (q: string, fuzzy: boolean) => inPages(q, fuzzy, 100);
    const scoreOf = (hits: { pageId: string; score: number }[], layout: number) => new Set(byLayout[layout]!.map((id) => hits.find((h) => h.pageId === id)?.score));
    for (const q of ['Dardan Mehmetaj', 'Mehmetaj Dardan']) {
      const exact = await everything(q, false);
      expect(exact).toHaveLength(120);
      for (const [layout, score] of [[0, 0.9], [1, 0.9], [2, 0.7], [3, 0.7], [4, 0.7], [5, 0.7]] as const) expect(scoreOf(exact, layout), `${q}, layout ${layout}`).toEqual(new Set([score]));
      const fuzzy = await everything(q, true);
      expect(fuzzy).toHaveLength(120);
      // Fuzzy on, the misread pair scores 0.9 × (1 + its similarity) / 2: above the words scattered, below the exact pair.
      const misread = [...scoreOf(fuzzy, 4)];
      expect(misread).toHaveLength(1);
      expect(misread[0]).toBeGreaterThan(0.7);
      expect(misread[0]).toBeLessThan(0.9);
      // Two words are together when next to each other: "Dardan Mehmetal Mehmetaj" has Dardan
      // next to the misread surname only, and scores as the misread pair.
      expect(scoreOf(fuzzy, 5)).toEqual(new Set(misread));
      // Small pages, walked by cursor and stopping early, give the whole ranking in its order.
      for (const limit of [1, 7]) {
        expect((await inPages(q, true, limit)).map((h) => h.pageId), `${q}, limit ${limit}`).toEqual(fuzzy.map((h) => h.pageId));
        expect((await inPages(q, false, limit)).map((h) => h.pageId), `${q}, limit ${limit}, exact`).toEqual(exact.map((h) => h.pageId));
      }
    }
    // A phrase holds its words in order, next to each other, whichever pair of its words drives the walk.
    const phrase = async (q: string, fuzzy: boolean) => new Set((await searchPages(db, { q, mode: 'phrase', fuzzy, limit: 100, bookId: book.id })).hits.map((h) => h.pageId));
    expect(await phrase('Dardan Mehmetaj', false)).toEqual(new Set(byLayout[0]));
    expect(await phrase('Dardan Mehmetaj', true)).toEqual(new Set([...byLayout[0]!, ...byLayout[4]!, ...byLayout[5]!]));
    expect(await phrase('12 Dardan Mehmetaj 1932', false)).toEqual(new Set(byLayout[0]));
    expect(await phrase('Dardan Ahmet Mehmetaj', false)).toEqual(new Set(byLayout[2]));
    expect(await phrase('Mehmetaj Dardan', false)).toEqual(new Set(byLayout[1]));
  });

  it('finds three words together in any order through the triples of their forms, and three words in a row only', async () => {
    // Pages with the three words next to each other in each of their six orders (0.9); with one
    // misread (fuzzy on: 0.9 × the mean similarity); on three lines (0.7); two people on one line,
    // "Besnik Kastrati" and "Kastrati Lulzim", no three words in a row holding the name (0.7); and
    // pages holding only "Kastrati Lulzim" side by side, which make that link the commonest.
    const { book } = await createBook(db, {
      registerType: 'birth', municipality: 'Rahovec', yearFrom: 1933, yearTo: 1933, languages: 'sqi', sourceFormat: 'tiff', sourceSha256: randomBytes(32).toString('hex'), sourceSize: 1,
    });
    const at = (text: string, line: number, i: number): SeedWord => ({ text, confidence: 90, line, block: 0, box: { x0: 10 + i * 100, y0: 10 + line * 40, x1: 90 + i * 100, y1: 30 + line * 40 } });
    const orders = [[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]];
    const name = ['Besnik', 'Kastrati', 'Lulzim'];
    const misspelt = ['Besnik', 'Kastratl', 'Lulzim'];
    const together: string[] = [];
    const misread: string[] = [];
    const apart: string[] = [];
    // More pages hold the rarest word than the walk's second batch reads (128): were the triples
    // to list nothing, pages together would turn up only among the words apart, and out of order.
    for (let i = 0; i < 200; i++) {
      const page = await upsertPage(db, book.id, i + 1);
      const words = i < 36 ? [at('7', 0, 0), ...orders[i % 6]!.map((k, j) => at(name[k]!, 0, j + 1)), at('1933', 0, 4)]
        : i < 48 ? orders[i % 6]!.map((k, j) => at(misspelt[k]!, 0, j))
          : i < 152 ? name.map((w, j) => at(w, j, 0))
            : i < 164 ? ['Besnik', 'Kastrati', 'Kastrati', 'Lulzim'].map((w, j) => at(w, 0, j))
              : [at('Kastrati', 0, 0), at('Lulzim', 0, 1)];
      await insertPageWords(db, { bookId: book.id, pageId: page.id, revision: 1 }, words);
      (i < 36 ? together : i < 48 ? misread : i < 164 ? apart : []).push(page.id);
    }
    const desc = (xs: string[]) => [...xs].sort((a, b) => (a < b ? 1 : -1));
    for (const q of ['Besnik Kastrati Lulzim', 'Lulzim Besnik Kastrati']) {
      for (const fuzzy of [false, true]) {
        for (const limit of [1, 5, 100]) {
          const seen = await everyHitByCursor({ q, fuzzy, limit, bookId: book.id });
          const walk = `${q}, fuzzy ${fuzzy}, limit ${limit}`;
          expect(seen.map((h) => h.pageId), walk).toEqual([...desc(together), ...(fuzzy ? desc(misread) : []), ...desc(apart)]);
          expect(new Set(seen.slice(0, 36).map((h) => h.score)), walk).toEqual(new Set([0.9]));
          expect(new Set(seen.slice(-apart.length).map((h) => h.score)), walk).toEqual(new Set([0.7]));
          if (fuzzy) {
            const scores = new Set(seen.slice(36, 48).map((h) => h.score));
            expect(scores.size, walk).toBe(1);
            expect([...scores][0], walk).toBeGreaterThan(0.7);
            expect([...scores][0], walk).toBeLessThan(0.9);
          }
        }
      }
    }
  });

  it('walks past withheld books in requests of bounded work: every visible hit once, in ranking order, each withheld hit counted once', async () => {
    // Ten pages holding one name, ranked by their distinct confidences in this pattern (H: a closed
    // book's page, V: an open one's): withheld runs at the start, inside and at batch ends.
    const pattern = 'VHHHVVHVHH';
    const book = async () => (await createBook(db, {
      registerType: 'birth', municipality: 'Gjakovë', yearFrom: 2020, yearTo: 2020, languages: 'sqi', sourceFormat: 'tiff', sourceSha256: randomBytes(32).toString('hex'), sourceSize: 1,
    })).book.id;
    const closed = await book();
    const open = await book();
    const expected: string[] = [];
    for (const [i, kind] of [...pattern].entries()) {
      const bookId = kind === 'H' ? closed : open;
      const page = await upsertPage(db, bookId, i + 1);
      await insertPageWords(db, { bookId, pageId: page.id, revision: 1 }, [{ text: 'Dushkaj', confidence: 99 - i, line: 0, block: 0, box: { x0: 10, y0: 10, x1: 90, y1: 30 } }]);
      if (kind === 'V') expected.push(page.id);
    }
    const withhold = async (ids: readonly string[]) => new Set(ids.filter((id) => id === closed));
    for (const [limit, maxScanned] of [[1, undefined], [1, 1], [2, 3], [3, undefined]] as const) {
      const seen: string[] = [];
      let withheld = 0;
      let emptyButGoingOn = 0;
      let cursor: string | undefined;
      for (let i = 0; i < 50; i++) {
        const r = await searchPages(db, { q: 'Dushkaj', fuzzy: false, limit, ...(cursor ? { cursor } : {}) }, { withhold, ...(maxScanned ? { maxScanned } : {}) });
        expect(r.hits.every((h) => h.bookId === open)).toBe(true);
        seen.push(...r.hits.map((h) => h.pageId));
        withheld += r.withheld;
        if (!r.nextCursor) break;
        if (r.hits.length === 0) emptyButGoingOn++;
        cursor = r.nextCursor;
      }
      const walk = `limit ${limit}, at most ${maxScanned ?? 'the default'} scanned`;
      expect(seen, walk).toEqual(expected);
      expect(withheld, walk).toBe([...pattern].filter((k) => k === 'H').length);
      // With one ranked page of work a request, answers that hold nothing go on past the closed pages.
      if (maxScanned === 1) expect(emptyButGoingOn, walk).toBeGreaterThan(0);
    }
  });
});
