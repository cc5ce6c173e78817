import { randomBytes } from 'node:crypto';
import { readFile, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBook, upsertPage } from '../archive/index.ts';
import { silentLogger } from '../common/index.ts';
import { MIGRATIONS_DIR, openDb, type Db } from '../db/index.ts';
import { createEntry, searchEntries } from '../entries/index.ts';
import { insertPageWords, type SeedWord } from '../test-support/seed-words.ts';
import { searchPages } from './search-pages.ts';

const word = (text: string, i: number, line = 0, confidence = 90): SeedWord => ({ text, confidence, line, block: 0, box: { x0: i * 100, y0: line * 40, x1: i * 100 + 90, y1: line * 40 + 30 } });

// Folding and fuzzy precision end to end on the embedded database: what the search form and the
// edit budget promise (search/normalise.ts), seen through page and entry search.
describe('search folding and precision (embedded)', () => {
  let dir: string;
  let db: Db;
  let bookId: string;
  let pageId: string;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'arkiva-folding-'));
    db = await openDb({ kind: 'pglite', dir }, silentLogger());
    ({ book: { id: bookId } } = await createBook(db, { registerType: 'birth', municipality: 'Pejë', yearFrom: 1960, yearTo: 1960, languages: 'sqi+srp', sourceFormat: 'tiff', sourceSha256: randomBytes(32).toString('hex'), sourceSize: 1 }));
    pageId = (await upsertPage(db, bookId, 1)).id;
    await insertPageWords(db, { bookId, pageId, revision: 1 }, [
      word('1', 0, 0), word('Тијана', 1, 0), word('Бошковић', 2, 0),
      word('2', 0, 1), word('Marko', 1, 1), word('Здравковић', 2, 1),
      word('3', 0, 2), word('Era', 1, 2), word('Gashi', 2, 2),
    ]);
    const page2 = (await upsertPage(db, bookId, 2)).id;
    await insertPageWords(db, { bookId, pageId: page2, revision: 1 }, [
      word('4', 0, 0), word('Тијана', 1, 0), word('Живковић', 2, 0),
      word('5', 0, 1), word('Ега', 1, 1), word('Кгаsniqi', 2, 1),
    ]);
    const page3 = (await upsertPage(db, bookId, 3)).id;
    await insertPageWords(db, { bookId, pageId: page3, revision: 1 }, [word('6', 0, 0), word('Ђорђевић', 1, 0), word('Živkovlć', 2, 0)]);
    // The same two words on one line, and scattered over two lines read with more confidence.
    const together = (await upsertPage(db, bookId, 4)).id;
    await insertPageWords(db, { bookId, pageId: together, revision: 1 }, [word('7', 0, 0), word('Arta', 1, 0), word('Hoxha', 2, 0)]);
    const scattered = (await upsertPage(db, bookId, 5)).id;
    await insertPageWords(db, { bookId, pageId: scattered, revision: 1 }, [word('Hoxha', 1, 0, 97), word('Drita', 2, 0, 97), word('Arta', 1, 1, 97), word('Gashi', 2, 1, 97)]);
    for (const [i, name] of ['Djordjevic Petar', 'Đorđević Ana', 'Ђорђевић Марко', 'Zdravković Ivan', 'Bošković Mila', 'Živković Jovan', 'Krasniqi Arbën'].entries()) {
      await createEntry(db, pageId, { box: { x0: 0, y0: i * 50, x1: 100, y1: i * 50 + 40 }, eventType: 'birth', names: [{ role: 'subject', name: name }] }, { user: 'clerk' });
    }
  }, 120_000);
  afterAll(async () => {
    await db?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const pageWords = async (q: string, opts: { mode?: 'words' | 'phrase' | 'prefix'; fuzzy?: boolean } = {}) =>
    (await searchPages(db, { q, ...opts })).hits.flatMap((h) => h.words.map((w) => w.text)).sort();
  const entryNames = async (name: string) => (await searchEntries(db, { name, bookId })).map((e) => e.names[0]!.name).sort();

  it('finds Đorđević by Djordjevic, Dordevic, Đorđević and Ђорђевић, and a name keyed as Djordjevic by each', async () => {
    const all = ['Djordjevic Petar', 'Đorđević Ana', 'Ђорђевић Марко'];
    for (const q of ['Djordjevic', 'Dordevic', 'Đorđević', 'Ђорђевић', 'DJORDJEVIC']) {
      expect(await entryNames(q), q).toEqual(all.sort());
      expect(await pageWords(q, { fuzzy: false }), q).toEqual(['Ђорђевић']);
    }
  });

  it('finds a Latin word read in Cyrillic look-alikes, wholly (Ега) or partly (Кгаsniqi)', async () => {
    expect(await pageWords('Era')).toEqual(['Era', 'Ега']);
    expect(await pageWords('Krasniqi', { fuzzy: false })).toEqual(['Кгаsniqi']);
    // Exact means exact: the look-alike reading is a fuzzy match.
    expect(await pageWords('Era', { fuzzy: false })).toEqual(['Era']);
  });

  it('keeps OCR variants of a long name but not other names with the same ending', async () => {
    expect(await pageWords('Živković')).toEqual(['Živkovlć', 'Живковић']);
    expect(await entryNames('Zivkovic')).toEqual(['Živković Jovan']);
    expect(await entryNames('Krasnigi')).toEqual(['Krasniqi Arbën']);
  });

  it('matches a phrase only for the same name, OCR variants within the budget included', async () => {
    const phrase = async (q: string) => (await searchPages(db, { q, mode: 'phrase' })).hits.map((h) => h.snippet);
    expect(await phrase('Tijana Živković')).toEqual(['4 «Тијана» «Живковић»']);
    expect(await phrase('Tijana Boskovic')).toEqual(['1 «Тијана» «Бошковић»']);
  });

  it('ranks the whole name on one line above its words scattered over the page', async () => {
    const r = await searchPages(db, { q: 'Arta Hoxha' });
    expect(r.hits.map((h) => h.sequence)).toEqual([4, 5]);
    expect(r.hits[0]!.score).toBeGreaterThan(r.hits[1]!.score);
  });

  it('migration 023 moves forms stored before it to the new folding', async () => {
    // Stored as the previous normaliseWord wrote them: dj kept.
    const stale = (await upsertPage(db, bookId, 9)).id;
    await insertPageWords(db, { bookId, pageId: stale, revision: 1 }, [word('Djukic', 0)]);
    await db.query(`UPDATE page_words SET norm = 'djukic' WHERE page_id = $1`, [stale]);
    expect(await pageWords('Đukić', { fuzzy: false })).toEqual([]);
    const sql = await readFile(path.join(MIGRATIONS_DIR, '023_search_folding.sql'), 'utf8');
    await db.transaction(async (tx) => {
      for (const statement of sql.replace(/--.*$/gm, '').split(';').map((s) => s.trim()).filter(Boolean)) await tx.query(statement);
    });
    expect(await pageWords('Đukić', { fuzzy: false })).toEqual(['Djukic']);
    expect((await db.query(`SELECT count(*)::int AS n FROM search_terms WHERE norm LIKE '%dj%'`)).rows[0]).toEqual({ n: 0 });
  });
});
