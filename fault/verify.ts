/**
 * What "archived exactly once" means after a fault, checked against PostgreSQL and the object store:
 * every page done with each object role recorded once (no missing, no second row), every recorded
 * object present in the store with the SHA-256 the row says, nothing in the store that no row names.
 */
import { createHash } from 'node:crypto';
import type { AppDeps } from '../app/deps.ts';
import { DERIVATIVES } from '../workers/index.ts';

/** Objects every archived page has, by role: how many distinct variants. */
export const EXPECTED_ROLES: Readonly<Record<string, number>> = {
  source: 1,
  master: 1,
  // and the deep-zoom pyramid
  derivative: DERIVATIVES.length + 1,
  // the OCR JSON with word boxes and the hOCR
  ocr: 2,
};

/** A page as counted. */
export interface PageRow {
  id: string;
  sequence: number;
  status: string;
}

/** One stored_objects row of a page (superseded ones included: a second row is a duplicate either way). */
export interface ObjectRow {
  page_id: string;
  role: string;
  variant: string;
}

/**
 * Pages lost (not done, or missing an object of a role) and duplicated (some role and variant
 * recorded more than once), by sequence. A page can be both.
 */
export function tallyPages(pages: readonly PageRow[], rows: readonly ObjectRow[], expected: Readonly<Record<string, number>> = EXPECTED_ROLES): { lost: number[]; duplicated: number[] } {
  const byPage = new Map<string, Map<string, number>>();
  for (const r of rows) {
    const m = byPage.get(r.page_id) ?? new Map<string, number>();
    const k = `${r.role}\u0000${r.variant}`;
    m.set(k, (m.get(k) ?? 0) + 1);
    byPage.set(r.page_id, m);
  }
  const lost: number[] = [];
  const duplicated: number[] = [];
  for (const p of pages) {
    const m = byPage.get(p.id) ?? new Map<string, number>();
    const variants = new Map<string, number>();
    let twice = false;
    for (const [k, n] of m) {
      const role = k.split('\u0000')[0]!;
      variants.set(role, (variants.get(role) ?? 0) + 1);
      if (n > 1) twice = true;
    }
    const missing = Object.entries(expected).some(([role, n]) => (variants.get(role) ?? 0) < n);
    if (p.status !== 'done' || missing) lost.push(p.sequence);
    if (twice) duplicated.push(p.sequence);
  }
  return { lost, duplicated };
}

/** The outcome of one book after a fault. */
export interface BookCheck {
  bookStatus: string;
  pages: number;
  lost: number[];
  duplicated: number[];
  /** Rows whose object is missing from the store. */
  missingObjects: number;
  /** Objects whose SHA-256 read back differs from the row. */
  hashMismatches: number;
  /** Objects read back and hashed. */
  hashesVerified: number;
  /** Pages whose words were indexed twice. */
  duplicateWordPages: number;
}

async function sha256Of(stream: AsyncIterable<Buffer>): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of stream) h.update(chunk);
  return h.digest('hex');
}

/** Checks one book: counts, then every object of the book read back from the store and hashed. */
export async function checkBook(deps: Pick<AppDeps, 'db' | 'store'>, bookId: string, expectedPages: number): Promise<BookCheck> {
  const book = await deps.db.query<{ status: string }>('SELECT status FROM books WHERE id = $1', [bookId]);
  const pages = await deps.db.query<PageRow>('SELECT id, sequence, status FROM pages WHERE book_id = $1 ORDER BY sequence', [bookId]);
  const rows = await deps.db.query<ObjectRow & { store_key: string; sha256: string; version_id: string | null }>(
    'SELECT page_id, role, variant, store_key, sha256, version_id FROM stored_objects WHERE book_id = $1 AND page_id IS NOT NULL',
    [bookId],
  );
  const { lost, duplicated } = tallyPages(pages.rows, rows.rows);
  // pages the original has but the split never recorded count as lost too
  const recorded = new Set(pages.rows.map((p) => p.sequence));
  for (let s = 1; s <= expectedPages; s++) if (!recorded.has(s)) lost.push(s);
  let missingObjects = 0;
  let hashMismatches = 0;
  let hashesVerified = 0;
  for (const r of rows.rows) {
    try {
      const got = await sha256Of(await deps.store.get(r.store_key, r.version_id ? { versionId: r.version_id } : {}));
      hashesVerified++;
      if (got !== r.sha256) hashMismatches++;
    } catch (e) {
      if ((e as { code?: string }).code === 'ERR_OBJECT_NOT_FOUND') missingObjects++;
      else throw e;
    }
  }
  const words = await deps.db.query<{ n: number }>(
    `SELECT count(DISTINCT w.page_id)::int AS n FROM (
       SELECT page_id FROM page_words WHERE page_id IN (SELECT id FROM pages WHERE book_id = $1) GROUP BY page_id, word_index HAVING count(*) > 1) w`,
    [bookId],
  );
  return {
    bookStatus: book.rows[0]?.status ?? 'missing', pages: pages.rowCount, lost: [...new Set(lost)].sort((a, b) => a - b), duplicated,
    missingObjects, hashMismatches, hashesVerified, duplicateWordPages: words.rows[0]!.n,
  };
}

/** Keys in the store that no stored_objects row names (staging leftovers of cut writes excluded by list()). */
export async function unrecordedObjects(deps: Pick<AppDeps, 'db' | 'store'>): Promise<string[]> {
  const keys = new Set((await deps.db.query<{ store_key: string }>('SELECT store_key FROM stored_objects')).rows.map((r) => r.store_key));
  const out: string[] = [];
  // The catalogue's own objects (docs/catalogue-format.md) describe the archive; no stored_objects row names them.
  for await (const o of deps.store.list('')) if (!keys.has(o.key) && !o.key.startsWith('catalogue/')) out.push(o.key);
  return out;
}
