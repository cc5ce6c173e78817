import type { Queryable } from '../db/index.ts';
import type { PutResult } from '../storage/index.ts';
import type { ObjectRole, StoredObject } from './types.ts';

interface ObjectRow {
  id: string;
  book_id: string;
  page_id: string | null;
  role: ObjectRole;
  variant: string;
  revision: number;
  store_key: string;
  version_id: string | null;
  sha256: string;
  md5: string;
  size: number | string;
  media_type: string;
  created_at: Date;
}

function toObject(r: ObjectRow): StoredObject {
  return {
    id: r.id,
    bookId: r.book_id,
    pageId: r.page_id,
    role: r.role,
    variant: r.variant,
    revision: r.revision,
    storeKey: r.store_key,
    versionId: r.version_id,
    sha256: r.sha256,
    md5: r.md5,
    size: Number(r.size),
    mediaType: r.media_type,
    createdAt: r.created_at,
  };
}

/** Where an object belongs in the archive. */
export interface ObjectPlace {
  bookId: string;
  pageId?: string | null;
  role: ObjectRole;
  variant?: string;
  revision?: number;
}

/**
 * Records a stored object once: a second call for the same place returns the first row, so a stage
 * re-run after a crash never records an object twice.
 */
export async function recordObject(db: Queryable, place: ObjectPlace, put: PutResult, mediaType: string): Promise<{ object: StoredObject; created: boolean }> {
  return (await insertObjects(db, [{ place, put, mediaType }]))[0]!;
}

/**
 * `recordObject` for several objects in one statement (a stage's outputs together), each recorded
 * once; returns them in the order given.
 */
export async function recordObjects(db: Queryable, entries: readonly { place: ObjectPlace; put: PutResult; mediaType: string }[]): Promise<StoredObject[]> {
  return (await insertObjects(db, entries)).map((r) => r.object);
}

async function insertObjects(
  db: Queryable,
  entries: readonly { place: ObjectPlace; put: PutResult; mediaType: string }[],
): Promise<{ object: StoredObject; created: boolean }[]> {
  if (entries.length === 0) return [];
  const params: unknown[] = [];
  const rows = entries.map(({ place, put, mediaType }) => {
    const b = params.length;
    params.push(place.bookId, place.pageId ?? null, place.role, place.variant ?? '', place.revision ?? 1, put.key, put.versionId ?? null, put.sha256, put.md5, put.size, mediaType);
    return `(${Array.from({ length: 11 }, (_, k) => `$${b + k + 1}`).join(', ')})`;
  });
  const ins = await db.query<ObjectRow>(
    `INSERT INTO stored_objects (book_id, page_id, role, variant, revision, store_key, version_id, sha256, md5, size, media_type)
     VALUES ${rows.join(', ')}
     ON CONFLICT DO NOTHING RETURNING *`,
    params,
  );
  const placeKey = (p: { bookId: string; pageId?: string | null; role: string; variant?: string; revision?: number }) =>
    `${p.bookId} ${p.pageId ?? ''} ${p.role} ${p.variant ?? ''} ${p.revision ?? 1}`;
  const inserted = new Map(ins.rows.map((r) => [placeKey({ bookId: r.book_id, pageId: r.page_id, role: r.role, variant: r.variant, revision: r.revision }), toObject(r)]));
  const out: { object: StoredObject; created: boolean }[] = [];
  // A place already recorded (a re-run) keeps its first row.
  for (const { place } of entries) {
    const fresh = inserted.get(placeKey(place));
    if (fresh) {
      out.push({ object: fresh, created: true });
      continue;
    }
    const existing = await findObject(db, place);
    if (!existing) throw new Error('stored object vanished between insert conflict and read');
    out.push({ object: existing, created: false });
  }
  return out;
}

/** The current object at a place, if recorded. */
export async function findObject(db: Queryable, place: ObjectPlace): Promise<StoredObject | undefined> {
  const r = await db.query<ObjectRow>(
    `SELECT * FROM stored_objects
      WHERE book_id = $1 AND page_id IS NOT DISTINCT FROM $2 AND role = $3 AND variant = $4 AND revision = $5
        AND superseded_at IS NULL`,
    [place.bookId, place.pageId ?? null, place.role, place.variant ?? '', place.revision ?? 1],
  );
  return r.rows[0] ? toObject(r.rows[0]) : undefined;
}

/**
 * Every current object of one revision of a page, keyed `role` or `role/variant` (e.g. `master`,
 * `derivative/view-jpeg`): one query where a stage would otherwise ask for each in turn.
 */
export async function findPageObjects(db: Queryable, place: { bookId: string; pageId: string; revision: number }): Promise<Map<string, StoredObject>> {
  const r = await db.query<ObjectRow>(
    `SELECT * FROM stored_objects WHERE book_id = $1 AND page_id = $2 AND revision = $3 AND superseded_at IS NULL`,
    [place.bookId, place.pageId, place.revision],
  );
  return new Map(r.rows.map((row) => [row.variant ? `${row.role}/${row.variant}` : row.role, toObject(row)]));
}

/** Every current object of a book (or of one page). */
export async function listObjects(db: Queryable, bookId: string, opts: { pageId?: string } = {}): Promise<StoredObject[]> {
  const r = await db.query<ObjectRow>(
    `SELECT * FROM stored_objects WHERE book_id = $1 AND ($2::uuid IS NULL OR page_id = $2) AND superseded_at IS NULL
      ORDER BY page_id NULLS FIRST, role, variant`,
    [bookId, opts.pageId ?? null],
  );
  return r.rows.map(toObject);
}
