import type { Queryable } from '../db/index.ts';

/** Where one rendering of a page revision is cached in the store. */
export interface CachedImage {
  storeKey: string;
  sha256: string;
}

/** The cached rendering `spec` of a page revision, if one was made. */
export async function findCachedImage(db: Queryable, page: { pageId: string; revision: number }, spec: string): Promise<CachedImage | undefined> {
  const cached = await db.query<{ store_key: string; sha256: string }>(
    'SELECT store_key, sha256 FROM page_image_cache WHERE page_id = $1 AND revision = $2 AND spec = $3',
    [page.pageId, page.revision, spec],
  );
  return cached.rows[0] ? { storeKey: cached.rows[0].store_key, sha256: cached.rows[0].sha256 } : undefined;
}

/** Records a rendering just stored (a JPEG); a concurrent request that recorded it first wins. */
export async function recordCachedImage(
  db: Queryable,
  page: { pageId: string; revision: number },
  spec: string,
  put: { key: string; sha256: string; size: number },
): Promise<void> {
  await db.query(
    `INSERT INTO page_image_cache (page_id, revision, spec, store_key, sha256, size, media_type) VALUES ($1, $2, $3, $4, $5, $6, 'image/jpeg')
     ON CONFLICT DO NOTHING`,
    [page.pageId, page.revision, spec, put.key, put.sha256, put.size],
  );
}
