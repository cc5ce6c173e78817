import type { Queryable } from '../db/index.ts';
import type { ZoneSource } from '../common/vocabulary.ts';

/**
 * Locks the page's row until the transaction ends, so two detections of one page (a retried OCR
 * job beside an on-demand request) check and write its zones one after the other; false when the
 * page does not exist.
 */
export async function lockPageForZones(tx: Queryable, pageId: string): Promise<boolean> {
  const r = await tx.query<{ id: string }>('SELECT id FROM pages WHERE id = $1 FOR UPDATE', [pageId]);
  return r.rows.length > 0;
}

/** The page's type as the OCR stage recorded it (null: printed or not decided). */
export async function pageTypeOf(db: Queryable, pageId: string): Promise<string | null | undefined> {
  const r = await db.query<{ page_type: string | null }>('SELECT page_type FROM pages WHERE id = $1', [pageId]);
  return r.rows[0] ? r.rows[0].page_type : undefined;
}

/** The live zones of a page with what a re-detection must not throw away: keyings, and zones a person drew or corrected. */
export async function liveZonesOfPage(tx: Queryable, pageId: string): Promise<{ id: string; source: ZoneSource; keyed: boolean }[]> {
  const r = await tx.query<{ id: string; source: ZoneSource; keyed: boolean }>(
    `SELECT z.id, z.source, (z.status <> 'open' OR EXISTS (SELECT 1 FROM keyings k WHERE k.zone_id = z.id)) AS keyed
       FROM entry_zones z WHERE z.page_id = $1 AND z.retired_at IS NULL ORDER BY z.y0, z.id`,
    [pageId],
  );
  return r.rows;
}
