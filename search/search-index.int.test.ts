import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDb, type Db } from '../db/index.ts';
import { silentLogger } from '../common/index.ts';
import { createBook, upsertPage } from '../archive/index.ts';
import { createLink, linksOfRecord, removedLinksOfRecord, searchRecords, unlink, upsertRecord } from '../records/index.ts';
import { requireService, testServices } from '../test-support/services.ts';
import { insertPageWords, type SeedWord } from '../test-support/seed-words.ts';
import { searchPages } from './search-pages.ts';
import { pruneSearchTerms } from './search.store.ts';

const run = requireService('databaseUrl');
const word = (text: string, i: number, confidence = 90): SeedWord => ({ text, confidence, line: 0, block: 0, box: { x0: i * 100, y0: 0, x1: i * 100 + 90, y1: 30 } });

describe.skipIf(!run)('search index upkeep, place folding and link history on PostgreSQL', () => {
  const schema = `test_${randomBytes(6).toString('hex')}`;
  let db: Db;
  let books: Record<string, string>;
  const pages: Record<string, { id: string; bookId: string }> = {};

  beforeAll(async () => {
    db = await openDb({ kind: 'pg', url: testServices().databaseUrl!, schema }, silentLogger());
    books = {};
    for (const [key, municipality] of [['shkoder', 'Shkodër'], ['pec', 'Peć'], ['other', 'Prizren']] as const) {
      const { book } = await createBook(db, { registerType: 'birth', municipality, yearFrom: 1960, yearTo: 1960, languages: 'sqi', sourceFormat: 'tiff', sourceSha256: randomBytes(32).toString('hex'), sourceSize: 1 });
      books[key] = book.id;
      const page = await upsertPage(db, book.id, 1);
      pages[key] = { id: page.id, bookId: book.id };
      await insertPageWords(db, { bookId: book.id, pageId: page.id, revision: 1 }, [word('1', 0), word('Drita', 1), word('Berisha', 2, 70)]);
    }
  });
  afterAll(async () => {
    if (!db) return;
    await db.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await db.close();
  });

  it('folds place names across accents and scripts in the municipality filter', async () => {
    const find = async (m: string) => (await searchPages(db, { q: 'berisha', municipality: m })).hits.map((h) => h.bookId);
    for (const m of ['Shkodër', 'Shkoder', 'shkodër', 'Шкодер', 'SHKODËR']) expect(await find(m), m).toEqual([books.shkoder]);
    for (const m of ['Peć', 'Pec', 'Пећ', 'PEĆ']) expect(await find(m), m).toEqual([books.pec]);
    expect(await find('Prishtinë')).toEqual([]);
    await upsertRecord(db, { system: 'CRS', recordType: 'birth', recordId: 'SH-1', personNames: ['Ana Gashi'], municipality: 'Shkodër' }, { user: 'clerk' });
    for (const m of ['Shkoder', 'Шкодер']) expect((await searchRecords(db, { municipality: m })).map((r) => r.recordId), m).toEqual(['SH-1']);
  });

  it('keeps page_terms in step with page_words through insert, update and delete', async () => {
    const terms = async (pageId: string) => (await db.query<{ norm: string; confidence: number }>('SELECT norm, confidence FROM page_terms WHERE page_id = $1 ORDER BY norm', [pageId])).rows;
    const p = pages.other!;
    expect(await terms(p.id)).toEqual([{ norm: '1', confidence: 90 }, { norm: 'berisha', confidence: 70 }, { norm: 'drita', confidence: 90 }]);
    await db.query(`UPDATE page_words SET text = 'Gashi', norm = 'gashi' WHERE page_id = $1 AND word_index = 2`, [p.id]);
    expect(await terms(p.id)).toEqual([{ norm: '1', confidence: 90 }, { norm: 'drita', confidence: 90 }, { norm: 'gashi', confidence: 70 }]);
    expect((await searchPages(db, { q: 'gashi', fuzzy: false })).hits.map((h) => h.pageId)).toEqual([p.id]);
    // A second word with the same form keeps the best confidence; removing it recounts.
    await insertPageWords(db, { bookId: p.bookId, pageId: p.id, revision: 1 }, [word('Drita', 0, 40), word('Drita', 1, 95)]);
    expect(await terms(p.id)).toEqual([{ norm: 'drita', confidence: 95 }]);
    await db.query('DELETE FROM page_words WHERE page_id = $1 AND word_index = 1', [p.id]);
    expect(await terms(p.id)).toEqual([{ norm: 'drita', confidence: 40 }]);
    // 'gashi' is now on no page: pruning drops it from the vocabulary, and only it.
    expect(await pruneSearchTerms(db)).toBeGreaterThanOrEqual(1);
    const vocab = (await db.query<{ norm: string }>('SELECT norm FROM search_terms ORDER BY norm')).rows.map((r) => r.norm);
    expect(vocab).toEqual(['1', 'berisha', 'drita']);
  });

  it('keeps page_pairs (adjacent forms on one line) in step with page_words through insert, update and delete', async () => {
    const { book } = await createBook(db, {
      registerType: 'birth', municipality: 'Prizren', yearFrom: 1960, yearTo: 1960, languages: 'sqi', sourceFormat: 'tiff', sourceSha256: randomBytes(32).toString('hex'), sourceSize: 1,
    });
    const page = await upsertPage(db, book.id, 1);
    const on = (line: number, text: string, i: number): SeedWord => ({ ...word(text, i), line });
    const pairs = async () => (await db.query<{ pair: string }>(
      `SELECT pair::text FROM page_pairs WHERE page_id = $1 ORDER BY 1`, [page.id])).rows.map((r) => r.pair);
    const keys = async (...xs: [string, string][]) => (await db.query<{ k: string }>(
      `SELECT arkiva_pair_key(a, b)::text AS k FROM unnest($1::text[], $2::text[]) AS t(a, b) ORDER BY 1`, [xs.map((x) => x[0]), xs.map((x) => x[1])])).rows.map((r) => r.k);
    // Line 0: "Drita Berisha Gashi"; line 1: "Arta". The last word of a line and the first of the next are no pair.
    await insertPageWords(db, { bookId: book.id, pageId: page.id, revision: 1 }, [on(0, 'Drita', 0), on(0, 'Berisha', 1), on(0, 'Gashi', 2), on(1, 'Arta', 0)]);
    expect(await pairs()).toEqual(await keys(['drita', 'berisha'], ['berisha', 'gashi']));
    // A corrected word changes the pairs on both its sides.
    await db.query(`UPDATE page_words SET text = 'Krasniqi', norm = 'krasniqi' WHERE page_id = $1 AND word_index = 1`, [page.id]);
    expect(await pairs()).toEqual(await keys(['drita', 'krasniqi'], ['krasniqi', 'gashi']));
    // A new revision of the page has pairs of its own; a word removed from the old one leaves a
    // gap there (its neighbours are not next to each other) and the new revision's pairs as they were.
    await db.query(`INSERT INTO page_words (page_id, revision, word_index, book_id, text, confidence, line_index, block_index, x0, y0, x1, y1, norm)
      SELECT page_id, 2, word_index, book_id, text, confidence, line_index, block_index, x0, y0, x1, y1, norm FROM page_words WHERE page_id = $1 AND revision = 1`, [page.id]);
    await db.query('DELETE FROM page_words WHERE page_id = $1 AND revision = 1 AND word_index = 1', [page.id]);
    const byRevision = async () => (await db.query<{ revision: number; pair: string }>('SELECT revision, pair::text FROM page_pairs WHERE page_id = $1 ORDER BY 1, 2', [page.id])).rows;
    expect(await byRevision()).toEqual((await keys(['drita', 'krasniqi'], ['krasniqi', 'gashi'])).map((pair) => ({ revision: 2, pair })));
    await db.query('DELETE FROM page_words WHERE page_id = $1', [page.id]);
    expect((await db.query('SELECT 1 FROM page_pairs WHERE page_id = $1', [page.id])).rowCount).toBe(0);
  });

  it('keeps page_triples (three consecutive forms on one line, in any order) in step with page_words', async () => {
    const { book } = await createBook(db, {
      registerType: 'birth', municipality: 'Prizren', yearFrom: 1961, yearTo: 1961, languages: 'sqi', sourceFormat: 'tiff', sourceSha256: randomBytes(32).toString('hex'), sourceSize: 1,
    });
    const page = await upsertPage(db, book.id, 1);
    const on = (line: number, text: string, i: number): SeedWord => ({ ...word(text, i), line });
    const triples = async () => (await db.query<{ revision: number; triple: string }>(
      'SELECT revision, triple::text FROM page_triples WHERE page_id = $1 ORDER BY 1, 2', [page.id])).rows;
    const keys = async (revision: number, ...xs: [string, string, string][]) => (await db.query<{ k: string }>(
      `SELECT arkiva_triple_key(a, b, c)::text AS k FROM unnest($1::text[], $2::text[], $3::text[]) AS t(a, b, c) ORDER BY 1`,
      [xs.map((x) => x[0]), xs.map((x) => x[1]), xs.map((x) => x[2])])).rows.map((r) => ({ revision, triple: r.k }));
    // The key is the same whatever the order of the three forms (a name typed in any order), and
    // another set of forms has another key.
    const orders = await db.query<{ k: string }>(`SELECT DISTINCT arkiva_triple_key(a, b, c)::text AS k FROM (VALUES
      ('drita', 'hasan', 'gashi'), ('drita', 'gashi', 'hasan'), ('hasan', 'drita', 'gashi'), ('hasan', 'gashi', 'drita'), ('gashi', 'drita', 'hasan'), ('gashi', 'hasan', 'drita')) t(a, b, c)`);
    expect(orders.rowCount).toBe(1);
    expect(await keys(1, ['drita', 'hasan', 'gashi'])).not.toEqual(await keys(1, ['drita', 'hasan', 'hasan']));
    // Line 0: "Drita Hasan Gashi Arta"; line 1: "Besa Krasniqi". Windows do not cross lines.
    await insertPageWords(db, { bookId: book.id, pageId: page.id, revision: 1 },
      [on(0, 'Drita', 0), on(0, 'Hasan', 1), on(0, 'Gashi', 2), on(0, 'Arta', 3), on(1, 'Besa', 4), on(1, 'Krasniqi', 5)]);
    expect(await triples()).toEqual(await keys(1, ['drita', 'hasan', 'gashi'], ['hasan', 'gashi', 'arta']));
    // A corrected word changes every window it is in.
    await db.query(`UPDATE page_words SET text = 'Ahmet', norm = 'ahmet' WHERE page_id = $1 AND word_index = 1`, [page.id]);
    expect(await triples()).toEqual(await keys(1, ['drita', 'ahmet', 'gashi'], ['ahmet', 'gashi', 'arta']));
    // A second revision has windows of its own; a word removed from the first leaves a gap there.
    await db.query(`INSERT INTO page_words (page_id, revision, word_index, book_id, text, confidence, line_index, block_index, x0, y0, x1, y1, norm)
      SELECT page_id, 2, word_index, book_id, text, confidence, line_index, block_index, x0, y0, x1, y1, norm FROM page_words WHERE page_id = $1 AND revision = 1`, [page.id]);
    await db.query('DELETE FROM page_words WHERE page_id = $1 AND revision = 1 AND word_index = 2', [page.id]);
    expect(await triples()).toEqual(await keys(2, ['drita', 'ahmet', 'gashi'], ['ahmet', 'gashi', 'arta']));
    await db.query('DELETE FROM page_words WHERE page_id = $1', [page.id]);
    expect(await triples()).toEqual([]);
  });

  it('never rewrites a link, and leaves a tombstone when a link row is removed with its book', async () => {
    const { record } = await upsertRecord(db, { system: 'CRS', recordType: 'birth', recordId: 'B-77', personNames: ['Drita Berisha'] }, { user: 'clerk' });
    const link = await createLink(db, { recordId: record.id, target: { kind: 'page', pageId: pages.pec!.id }, linkType: 'original-entry' }, { user: 'clerk' });
    await expect(db.query('UPDATE record_links SET link_type = $2 WHERE id = $1', [link.id, 'amendment'])).rejects.toThrow(/never rewritten/);
    await unlink(db, link.id, { user: 'clerk', reason: 'wrong page' });
    await expect(db.query('UPDATE record_links SET unlinked_at = NULL, unlinked_by = NULL WHERE id = $1', [link.id])).rejects.toThrow(/never rewritten/);
    const again = await createLink(db, { recordId: record.id, target: { kind: 'book', bookId: books.pec! }, linkType: 'original-entry' }, { user: 'clerk' });
    expect((await linksOfRecord(db, record.id, { history: true })).map((l) => l.id)).toEqual([link.id, again.id]);
    // What a disposal does to the rows of a disposed book.
    await db.query('DELETE FROM record_links WHERE book_id = $1', [books.pec]);
    expect(await linksOfRecord(db, record.id, { history: true })).toEqual([]);
    const removed = await removedLinksOfRecord(db, record.id);
    expect(removed.map((r) => [r.linkId, r.targetKind, r.bookId, r.unlinkedAt !== null])).toEqual([
      [link.id, 'page', books.pec, true], [again.id, 'book', books.pec, false],
    ]);
  });
});
