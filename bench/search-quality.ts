/**
 * Precision at 5 and top-5 recall of page search on generated books with ground truth (issue 23),
 * for the search as it is and for the previous matching (trigram similarity ≥ 0.25 as the only
 * floor, Dj not folded) as a baseline in the same run. Used by bench/search.bench.ts.
 */
import { randomBytes } from 'node:crypto';
import { createBook, upsertPage } from '../archive/index.ts';
import { silentLogger } from '../common/index.ts';
import { openDb, type Db } from '../db/index.ts';
import { createRng, planBook, surnamesOnPage, toSerbianCyrillic, type Rng } from '../fixtures/index.ts';
import { insertPageWords, wordsFromTruth, type SeedWord } from '../test-support/seed-words.ts';
import { cyrillicToLatin, normaliseWord } from '../search/normalise.ts';
import { FUZZY_THRESHOLD, searchPages } from '../search/search-pages.ts';
import { applySearchSettings, rankPages, type CandidateForm } from '../search/search.store.ts';
import { prefixUpperBound } from '../search/search-pages.ts';

// Cyrillic look-alikes OCR puts into Latin words, and the reverse.
const LOOK_ALIKE: Readonly<Record<string, string>> = { a: 'а', e: 'е', o: 'о', p: 'р', c: 'с', x: 'х', y: 'у', r: 'г', а: 'a', е: 'e', о: 'o', р: 'p', с: 'c', х: 'x', у: 'y' };

/** OCR damage: a misread letter (4%), a look-alike letter of the other script (3%), a lost diacritic (5%). */
function damage(rng: Rng, w: SeedWord): SeedWord {
  let text = w.text;
  const r = rng.next();
  if (text.length >= 4 && r < 0.04) {
    const i = 1 + Math.floor(rng.next() * (text.length - 2));
    text = text.slice(0, i) + (/\p{Script=Cyrillic}/u.test(text) ? 'и' : 'l') + text.slice(i + 1);
  } else if (r < 0.07) {
    text = [...text].map((ch) => (LOOK_ALIKE[ch] && rng.next() < 0.5 ? LOOK_ALIKE[ch] : ch)).join('');
  } else if (r < 0.12) {
    text = text.normalize('NFD').replace(/\p{M}/gu, '').normalize('NFC');
  }
  return { ...w, text };
}

/** How a clerk types a name without diacritics: Latin, Đ as Dj, other marks dropped. */
function typedPlain(name: string): string {
  return cyrillicToLatin(name).replace(/Đ/g, 'Dj').replace(/đ/g, 'dj').normalize('NFD').replace(/\p{M}/gu, '');
}
/** The name in the other script: Latin → Serbian Cyrillic, Cyrillic → Serbian Latin. */
function otherScript(name: string): string {
  return /\p{Script=Cyrillic}/u.test(name) ? cyrillicToLatin(name) : toSerbianCyrillic(name);
}

// The search form as it was before issue 23 (Dj kept, no script-mix folding), for the baseline's queries.
function previousForm(word: string): string {
  const latin = cyrillicToLatin(word.toLowerCase()).normalize('NFD').replace(/\p{M}/gu, '');
  return [...latin].map((ch) => ({ đ: 'd', ł: 'l' } as Record<string, string>)[ch] ?? ch).join('').replace(/[^\p{L}\p{N}]/gu, '');
}

/** The previous ranking's top 5: every vocabulary form with trigram similarity ≥ 0.25, scored by it. */
async function baselineTop5(db: Db, q: string, bookId: string): Promise<string[]> {
  const term = previousForm(q);
  return db.transaction(async (tx) => {
    await applySearchSettings(tx, FUZZY_THRESHOLD);
    const forms = (await tx.query<{ norm: string; sim: number }>(
      'SELECT norm, similarity(norm, $1)::float8 AS sim FROM search_terms WHERE norm % $1 OR norm = $1', [term],
    )).rows.map((r): CandidateForm => [1, r.norm, r.norm === term ? 1 : Number(r.sim)]);
    if (forms.length === 0) return [];
    const { pages } = await rankPages(tx, { terms: [term], uppers: [prefixUpperBound(term)], mode: 'words', forms, filters: { bookId }, limit: 5 });
    return pages.slice(0, 5).map((p) => p.pageId);
  });
}

export interface QualityRow { kind: string; queries: number; recallAt5: number; precisionAt5: number }

/**
 * Loads `books` generated books (Albanian Latin, Serbian Cyrillic, mixed) with OCR damage into a
 * schema of its own, asks for every surname of a sample of pages typed without diacritics and in
 * the other script within its book, and returns top-5 recall and precision at 5 per kind of query, now and before.
 */
export async function measureSearchQuality(url: string, opts: { books: number; pagesPerBook: number; queries: number }): Promise<{ now: QualityRow[]; before: QualityRow[]; pages: number }> {
  const schema = `benchq_${randomBytes(4).toString('hex')}`;
  const db = await openDb({ kind: 'pg', url, schema }, silentLogger());
  const rng = createRng(23);
  try {
    const truth: { pageId: string; bookId: string; surnames: string[] }[] = [];
    const styles = ['printed', 'cyrillic', 'mixed'] as const;
    for (let b = 0; b < opts.books; b++) {
      const style = styles[b % 3]!;
      const planned = planBook({ seed: 500 + b, pages: opts.pagesPerBook, style, registerType: 'birth', year: 1950 + b, scale: 0.5 });
      const { book } = await createBook(db, { registerType: 'birth', municipality: `M${b}`, yearFrom: 1950 + b, yearTo: 1950 + b, languages: 'sqi+srp', sourceFormat: 'tiff', sourceSha256: randomBytes(32).toString('hex'), sourceSize: 1 });
      for (const page of planned.truth.pages) {
        const p = await upsertPage(db, book.id, page.sequence);
        await insertPageWords(db, { bookId: book.id, pageId: p.id, revision: p.revision }, wordsFromTruth(page).map((w) => damage(rng, w)));
        truth.push({ pageId: p.id, bookId: book.id, surnames: surnamesOnPage(page) });
      }
    }
    await db.query('ANALYZE');
    // Asked within one book, as a clerk looks through a register (across the whole archive a
    // surname fills any top 5). Relevant: the book's pages whose ground truth holds the surname,
    // in whatever script or spelling.
    const pagesOf = new Map<string, Set<string>>();
    for (const t of truth) for (const s of t.surnames) {
      const key = `${t.bookId}\u0000${normaliseWord(s)}`;
      pagesOf.set(key, (pagesOf.get(key) ?? new Set()).add(t.pageId));
    }
    const asked = new Map<string, { kind: string; q: string; key: string; bookId: string }>();
    for (const t of [...truth].sort(() => rng.next() - 0.5)) {
      for (const s of t.surnames) {
        for (const [kind, q] of [['without diacritics', typedPlain(s)], ['other script', otherScript(s)]] as const) asked.set(`${kind}\u0000${t.bookId}\u0000${q}`, { kind, q, key: `${t.bookId}\u0000${normaliseWord(s)}`, bookId: t.bookId });
      }
      if (asked.size >= opts.queries) break;
    }
    const score = async (top: (q: string, bookId: string) => Promise<string[]>) => {
      const rows = new Map<string, { n: number; recall: number; precision: number }>();
      for (const a of asked.values()) {
        const relevant = pagesOf.get(a.key)!;
        const got = await top(a.q, a.bookId);
        const hits = got.filter((id) => relevant.has(id)).length;
        const row = rows.get(a.kind) ?? { n: 0, recall: 0, precision: 0 };
        row.n++;
        row.recall += hits / Math.min(5, relevant.size);
        row.precision += got.length ? hits / got.length : 0;
        rows.set(a.kind, row);
      }
      return [...rows].map(([kind, r]) => ({ kind, queries: r.n, recallAt5: r.recall / r.n, precisionAt5: r.precision / r.n }));
    };
    const now = await score(async (q, bookId) => (await searchPages(db, { q, bookId, limit: 5 })).hits.map((h) => h.pageId));
    const before = await score((q, bookId) => baselineTop5(db, q, bookId));
    return { now, before, pages: truth.length };
  } finally {
    await db.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await db.close();
  }
}
