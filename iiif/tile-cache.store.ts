import type { Queryable } from '../db/index.ts';

/** Where one IIIF rendering of a page revision is cached in the store. */
export interface CachedRendering {
  storeKey: string;
  sha256: string;
  mediaType: string;
}

/** The cached rendering `spec` of a page revision, if one was made (the viewer images' table, `iiif3:` specs). */
export async function findRendering(db: Queryable, page: { pageId: string; revision: number }, spec: string): Promise<CachedRendering | undefined> {
  const r = await db.query<{ store_key: string; sha256: string; media_type: string }>(
    'SELECT store_key, sha256, media_type FROM page_image_cache WHERE page_id = $1 AND revision = $2 AND spec = $3',
    [page.pageId, page.revision, spec],
  );
  const row = r.rows[0];
  return row ? { storeKey: row.store_key, sha256: row.sha256, mediaType: row.media_type } : undefined;
}

/** Records a rendering just stored; a concurrent request that recorded it first wins (same spec, same pixels). */
export async function recordRendering(
  db: Queryable,
  page: { pageId: string; revision: number },
  spec: string,
  put: { key: string; sha256: string; size: number },
  mediaType: string,
): Promise<void> {
  await db.query(
    `INSERT INTO page_image_cache (page_id, revision, spec, store_key, sha256, size, media_type) VALUES ($1, $2, $3, $4, $5, $6, $7)
     ON CONFLICT DO NOTHING`,
    [page.pageId, page.revision, spec, put.key, put.sha256, put.size, mediaType],
  );
}
