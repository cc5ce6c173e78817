import type { Queryable } from '../db/index.ts';
import type { KeyingField } from '../common/vocabulary.ts';

/**
 * Values keyed before in columns holding `field`, from verified zones only (a keying not yet
 * compared could be wrong, and would tell one keyer what another typed), starting with `prefix`
 * (case-insensitive, as typed: Latin and Cyrillic are separate suggestions), with the books they
 * come from so the caller can leave out books the reader may not see. Most frequent first.
 */
export async function keyedValuesStartingWith(
  db: Queryable, field: KeyingField, prefix: string, opts: { bookId?: string; limit: number },
): Promise<{ value: string; bookId: string; uses: number }[]> {
  const like = `${prefix.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  const r = await db.query<{ value: string; book_id: string; uses: string | number }>(
    `SELECT z.final_fields -> (c.col ->> 'key') ->> 'value' AS value, z.book_id, count(*) AS uses
       FROM entry_zones z
       JOIN register_layouts l ON l.id = z.layout_id
       CROSS JOIN LATERAL jsonb_array_elements(l.columns) AS c(col)
      WHERE z.status = 'verified' AND z.retired_at IS NULL AND c.col ->> 'field' = $1
        AND ($3::uuid IS NULL OR z.book_id = $3::uuid)
        AND lower(z.final_fields -> (c.col ->> 'key') ->> 'value') LIKE $2
      GROUP BY 1, 2
      ORDER BY uses DESC, value
      LIMIT $4`,
    [field, like, opts.bookId ?? null, opts.limit],
  );
  return r.rows.map((x) => ({ value: x.value, bookId: x.book_id, uses: Number(x.uses) }));
}
