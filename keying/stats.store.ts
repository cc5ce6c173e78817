import type { Queryable } from '../db/index.ts';
import type { BookKeyingStats, KeyerStats } from './stats.ts';

/** Zones per book and keying state (live zones), books with any zone, oldest first. */
export async function bookZoneCounts(db: Queryable, bookId?: string): Promise<BookKeyingStats[]> {
  const r = await db.query<{ book_id: string; municipality: string; register_type: string; year_from: number; year_to: number; zones: string; open: string; keyed_once: string; disputed: string; verified: string; empty: string; first_page: number }>(
    `SELECT b.id AS book_id, b.municipality, b.register_type, b.year_from, b.year_to, count(*) AS zones,
            count(*) FILTER (WHERE z.status = 'open') AS open, count(*) FILTER (WHERE z.status = 'keyed-once') AS keyed_once,
            count(*) FILTER (WHERE z.status = 'disputed') AS disputed, count(*) FILTER (WHERE z.status = 'verified') AS verified,
            count(*) FILTER (WHERE z.status = 'empty') AS empty, min(p.sequence) AS first_page
       FROM entry_zones z JOIN books b ON b.id = z.book_id JOIN pages p ON p.id = z.page_id
      WHERE z.retired_at IS NULL AND ($1::uuid IS NULL OR z.book_id = $1)
      GROUP BY b.id ORDER BY min(b.created_at), b.id`,
    [bookId ?? null],
  );
  return r.rows.map((x) => ({
    bookId: x.book_id, municipality: x.municipality, registerType: x.register_type, yearFrom: x.year_from, yearTo: x.year_to,
    zones: Number(x.zones), open: Number(x.open), keyedOnce: Number(x.keyed_once), disputed: Number(x.disputed), verified: Number(x.verified), empty: Number(x.empty), firstPage: Number(x.first_page),
  }));
}

/**
 * Per keyer: keyings, those compared with a second keying, those that matched it on every field,
 * and the fields arbitration decided against them.
 */
export async function keyerCounts(db: Queryable, bookId?: string): Promise<Omit<KeyerStats, 'agreementRate'>[]> {
  const r = await db.query<{ keyer: string; keyings: string; compared: string; agreed: string; overruled: string }>(
    `SELECT k.keyer, count(*) AS keyings, count(k.agreed) AS compared, count(*) FILTER (WHERE k.agreed) AS agreed,
            (SELECT count(*) FROM keying_decisions d JOIN entry_zones z2 ON z2.id = d.zone_id
              WHERE k.keyer = ANY(d.overruled) AND ($1::uuid IS NULL OR z2.book_id = $1)) AS overruled
       FROM keyings k JOIN entry_zones z ON z.id = k.zone_id
      WHERE $1::uuid IS NULL OR z.book_id = $1
      GROUP BY k.keyer ORDER BY k.keyer`,
    [bookId ?? null],
  );
  return r.rows.map((x) => ({ keyer: x.keyer, keyings: Number(x.keyings), compared: Number(x.compared), agreed: Number(x.agreed), fieldsOverruled: Number(x.overruled) }));
}
