/** Autocomplete for keyers from what is already verified: given names and surnames repeat heavily within a village's books. */
import { AppError } from '../common/index.ts';
import type { Queryable } from '../db/index.ts';
import type { KeyingField } from '../common/vocabulary.ts';
import type { BookWithholding } from './keyings.ts';
import { keyedValuesStartingWith } from './suggestions.store.ts';

/** Fields whose keyed values are offered as suggestions: names, which repeat; never dates or numbers. */
export const SUGGESTED_FIELDS = ['given_name', 'surname', 'father', 'mother', 'spouse', 'spouse_given_name', 'spouse_surname'] as const satisfies readonly KeyingField[];
/** A field whose keyed values may be suggested. */
export type SuggestedField = (typeof SUGGESTED_FIELDS)[number];

/**
 * Verified values of `field` starting with `prefix` (at least one character), most used first,
 * from the books the reader may see (`withhold` names those they may not).
 */
export async function suggestKeyedValues(
  db: Queryable, field: SuggestedField, prefix: string, opts: { bookId?: string; limit?: number; withhold?: BookWithholding } = {},
): Promise<{ value: string; uses: number }[]> {
  if (!(SUGGESTED_FIELDS as readonly string[]).includes(field)) throw new AppError('ERR_VALIDATION', `suggestions are given for ${SUGGESTED_FIELDS.join(', ')}`, { field: 'field' });
  const q = prefix.trim();
  if (q.length === 0) return [];
  const limit = Math.min(opts.limit ?? 10, 50);
  // Rows are per value and book: ask for more than the limit, since withheld books drop some.
  const rows = await keyedValuesStartingWith(db, field, q, { ...(opts.bookId ? { bookId: opts.bookId } : {}), limit: limit * 5 });
  const withheld = opts.withhold ? await opts.withhold([...new Set(rows.map((r) => r.bookId))]) : new Set<string>();
  const uses = new Map<string, number>();
  for (const r of rows) if (!withheld.has(r.bookId)) uses.set(r.value, (uses.get(r.value) ?? 0) + r.uses);
  return [...uses].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, limit).map(([value, n]) => ({ value, uses: n }));
}
