/**
 * The SQL of `arkiva catalogue rebuild` (catalogue/rebuild.ts): whether a database may be rebuilt
 * into, the rebuild's progress notes, rows written back as the store's records give them (ids,
 * times and all), and the counters put back after rows were written with their own ids.
 */
import type { Queryable } from '../db/index.ts';

/**
 * The tables a rebuild writes rows into, and how a row is told apart (what makes a second write
 * of the same row add nothing). Names are a closed list: they are put into SQL text.
 */
export const RESTORED_TABLES = {
  users: { identity: false },
  user_roles: { identity: false },
  retention_rules: { identity: false },
  register_layouts: { identity: false },
  registry_records: { identity: false },
  legal_holds: { identity: false },
  disposal_batches: { identity: false },
  disposal_batch_items: { identity: false },
  disposal_tombstones: { identity: false },
  disposal_certificates: { identity: false },
  books: { identity: false },
  pages: { identity: false },
  stored_objects: { identity: false },
  processing_events: { identity: true },
  ocr_corrections: { identity: true },
  page_reviews: { identity: false },
  entries: { identity: false },
  entry_names: { identity: false },
  record_links: { identity: false },
  record_link_tombstones: { identity: false },
  entry_zones: { identity: false },
  entry_zone_changes: { identity: true },
  keyings: { identity: false },
  keying_decisions: { identity: false },
  legal_hold_items: { identity: false },
  item_retention: { identity: false },
  retention_history: { identity: true },
  retention_stale: { identity: false },
  extracts: { identity: false },
  audit_events: { identity: false },
} as const;

/** A table a rebuild writes. */
export type RestoredTable = keyof typeof RESTORED_TABLES;

/** Tables whose rows mean the database already holds a catalogue (the migrations' own rows aside). */
const CATALOGUE_TABLES = [
  'books', 'pages', 'stored_objects', 'entries', 'registry_records', 'record_links', 'legal_holds', 'disposal_batches',
  'disposal_tombstones', 'extracts', 'item_retention', 'retention_history', 'audit_events', 'processing_events',
] as const;

/** The catalogue tables holding rows, with how many (a table's count stops at 1000). */
export async function catalogueRows(db: Queryable): Promise<{ table: string; rows: number }[]> {
  const r = await db.query<{ t: string; n: number }>(
    CATALOGUE_TABLES.map((t) => `SELECT '${t}' AS t, (SELECT count(*) FROM (SELECT 1 FROM ${t} LIMIT 1000) x)::int AS n`).join(' UNION ALL '),
  );
  const rules = await db.query<{ n: number }>(
    // The default disclosure schedule (migration 013) is in every migrated database.
    `SELECT count(*)::int AS n FROM retention_rules WHERE NOT (version = 1 AND created_by = 'arkiva default schedule' AND superseded_at IS NULL)`,
  );
  const out = r.rows.filter((x) => x.n > 0).map((x) => ({ table: x.t, rows: x.n }));
  if (rules.rows[0]!.n > 0) out.push({ table: 'retention_rules', rows: rules.rows[0]!.n });
  return out;
}

/** A rebuild's progress note. */
export interface RebuildRow {
  id: string;
  store: string;
  startedAt: Date;
  phasesDone: string[];
  booksDone: number;
  pagesDone: number;
  finishedAt: Date | null;
}

interface RebuildDbRow { id: string; store: string; started_at: Date; phases_done: string[]; books_done: number; pages_done: number; finished_at: Date | null }
const toRebuild = (r: RebuildDbRow): RebuildRow => ({
  id: r.id, store: r.store, startedAt: r.started_at, phasesDone: r.phases_done, booksDone: r.books_done, pagesDone: r.pages_done, finishedAt: r.finished_at,
});

/** The rebuild not yet finished, if one is. */
export async function openRebuild(db: Queryable): Promise<RebuildRow | undefined> {
  const r = await db.query<RebuildDbRow>('SELECT * FROM catalogue_rebuilds WHERE finished_at IS NULL');
  return r.rows[0] ? toRebuild(r.rows[0]) : undefined;
}

/** Notes the start of a rebuild from `store`. */
export async function startRebuild(db: Queryable, store: string): Promise<RebuildRow> {
  const r = await db.query<RebuildDbRow>('INSERT INTO catalogue_rebuilds (store) VALUES ($1) RETURNING *', [store]);
  return toRebuild(r.rows[0]!);
}

/** Notes a phase done (in the transaction that wrote its last rows). */
export async function notePhaseDone(tx: Queryable, rebuildId: string, phase: string): Promise<void> {
  await tx.query('UPDATE catalogue_rebuilds SET phases_done = array_append(phases_done, $2) WHERE id = $1 AND NOT ($2 = ANY (phases_done))', [rebuildId, phase]);
}

/** Whether a book was written by this rebuild already. */
export async function bookRebuilt(db: Queryable, rebuildId: string, bookId: string): Promise<boolean> {
  const r = await db.query('SELECT 1 FROM catalogue_rebuild_books WHERE rebuild_id = $1 AND book_id = $2', [rebuildId, bookId]);
  return r.rows.length > 0;
}

/** Notes a book written, in the transaction that wrote it: a kill before the commit leaves neither. */
export async function noteBookRebuilt(tx: Queryable, rebuildId: string, bookId: string, pages: number): Promise<void> {
  await tx.query('INSERT INTO catalogue_rebuild_books (rebuild_id, book_id, pages) VALUES ($1, $2, $3)', [rebuildId, bookId, pages]);
  await tx.query('UPDATE catalogue_rebuilds SET books_done = books_done + 1, pages_done = pages_done + $2 WHERE id = $1', [rebuildId, pages]);
}

/** Ends a rebuild with its report. */
export async function finishRebuild(db: Queryable, rebuildId: string, report: unknown): Promise<void> {
  await db.query('UPDATE catalogue_rebuilds SET finished_at = now(), report = $2 WHERE id = $1', [rebuildId, JSON.stringify(report)]);
}

/** The columns of each restored table, read once per rebuild (a field the table lacks is refused, not dropped). */
export async function tableColumns(db: Queryable): Promise<Map<RestoredTable, Set<string>>> {
  const r = await db.query<{ table_name: string; column_name: string }>(
    `SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ANY($1::text[])`,
    [Object.keys(RESTORED_TABLES)],
  );
  const out = new Map<RestoredTable, Set<string>>();
  for (const c of r.rows) {
    const t = c.table_name as RestoredTable;
    if (!out.has(t)) out.set(t, new Set());
    out.get(t)!.add(c.column_name);
  }
  return out;
}

/**
 * Writes rows (column name → value, as JSON gives them) into `table`, keeping their ids: identity
 * columns take the stored value too. A row already there (a resumed rebuild) is left as it is.
 * Columns absent from every row take their defaults. Returns how many rows were added.
 */
export async function restoreRows(tx: Queryable, table: RestoredTable, columns: ReadonlySet<string>, rows: readonly Record<string, unknown>[]): Promise<number> {
  if (rows.length === 0) return 0;
  const used = new Set<string>();
  for (const row of rows) for (const k of Object.keys(row)) used.add(k);
  for (const c of used) if (!columns.has(c)) throw new Error(`${table} has no column "${c}" (a record of a newer format, or a damaged one)`);
  // Names checked against the table's own columns above; quoted all the same.
  const cols = [...used].map((c) => `"${c}"`).join(', ');
  const r = await tx.query(
    `INSERT INTO ${table} (${cols}) ${RESTORED_TABLES[table].identity ? 'OVERRIDING SYSTEM VALUE' : ''}
     SELECT ${cols} FROM jsonb_populate_recordset(NULL::${table}, $1::jsonb) ON CONFLICT DO NOTHING`,
    [JSON.stringify(rows)],
  );
  return r.rowCount;
}

/**
 * Removes the rule versions the migrations installed (the default disclosure schedule), before the
 * store's versions of them go in with their own ids and states (superseded or not). Nothing in an
 * empty catalogue refers to them.
 */
export async function dropSeededRules(tx: Queryable): Promise<void> {
  await tx.query('DELETE FROM retention_rules r WHERE NOT EXISTS (SELECT 1 FROM item_retention i WHERE r.id IN (i.rule_id, i.closure_rule_id)) AND NOT EXISTS (SELECT 1 FROM retention_history h WHERE h.rule_id = r.id)');
}

/**
 * The same for the register layouts the migrations installed. A layout version is never removed
 * (trigger register_layouts_no_rewrite): the trigger stands aside for this one statement, in the
 * rebuild's transaction, and only layouts no zone or keying names are removed.
 */
export async function dropSeededLayouts(tx: Queryable): Promise<void> {
  await tx.query('ALTER TABLE register_layouts DISABLE TRIGGER register_layouts_no_rewrite');
  try {
    await tx.query(
      `DELETE FROM register_layouts l WHERE NOT EXISTS (SELECT 1 FROM entry_zones z WHERE z.layout_id = l.id)
          AND NOT EXISTS (SELECT 1 FROM keyings k WHERE k.layout_id = l.id)`,
    );
  } finally {
    await tx.query('ALTER TABLE register_layouts ENABLE TRIGGER register_layouts_no_rewrite');
  }
}

/** Of `ids`, the books the database holds. */
export async function existingBooks(db: Queryable, ids: readonly string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const r = await db.query<{ id: string }>('SELECT id FROM books WHERE id = ANY($1::uuid[])', [ids]);
  return new Set(r.rows.map((x) => x.id));
}

/** Whether a book was disposed of (its tombstone was written back before the books). */
export async function isDisposed(db: Queryable, bookId: string): Promise<boolean> {
  return (await db.query('SELECT 1 FROM disposal_tombstones WHERE book_id = $1', [bookId])).rows.length > 0;
}

/** The newest audit event written back, to continue the chain from. */
export async function auditTail(db: Queryable): Promise<{ seq: number; hash: string } | undefined> {
  const r = await db.query<{ seq: number; hash: string }>('SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1');
  return r.rows[0];
}

/** Marks every book for the retention.stale job: computed dates are checked against the rules once more. */
export async function markAllRetentionStale(db: Queryable, reason: string): Promise<void> {
  await db.query(
    `INSERT INTO retention_stale (book_id, reason) SELECT id, $1 FROM books ON CONFLICT (book_id) DO UPDATE SET reason = EXCLUDED.reason, marked_at = now()`,
    [reason],
  );
}

/** Done pages whose indexed words are behind their revision (their page.index never ran): work to queue again. */
export async function pagesBehindIndex(db: Queryable, bookId: string): Promise<{ id: string; revision: number }[]> {
  const r = await db.query<{ id: string; revision: number }>(
    `SELECT id, revision FROM pages WHERE book_id = $1 AND status = 'done' AND indexed_revision IS DISTINCT FROM revision ORDER BY sequence`, [bookId],
  );
  return r.rows;
}

/** Moves the identity counters past the ids written back, so the next row gets a fresh one. */
export async function resetIdentities(tx: Queryable): Promise<void> {
  for (const t of Object.entries(RESTORED_TABLES).filter(([, v]) => v.identity).map(([k]) => k)) {
    await tx.query(`SELECT setval(pg_get_serial_sequence('${t}', 'id'), greatest((SELECT max(id) FROM ${t}), 1), (SELECT max(id) FROM ${t}) IS NOT NULL)`);
  }
}

/** Of `keys` listed in the store, those no stored_objects row names. */
export async function unrecordedKeys(db: Queryable, keys: readonly string[]): Promise<string[]> {
  if (keys.length === 0) return [];
  const r = await db.query<{ k: string }>(
    'SELECT k FROM unnest($1::text[]) k WHERE NOT EXISTS (SELECT 1 FROM stored_objects o WHERE o.store_key = k)', [keys],
  );
  return r.rows.map((x) => x.k);
}

/**
 * The pages of a book that had indexed words, with the OCR reading they were indexed from: the
 * current reading of the indexed revision (a page replaced since and not yet indexed again still
 * searches by its earlier revision's words, superseded as its objects are).
 */
export async function pagesToIndex(db: Queryable, bookId: string): Promise<{ pageId: string; revision: number; storeKey: string; sha256: string; readAt: Date }[]> {
  const r = await db.query<{ page_id: string; revision: number; store_key: string; sha256: string; created_at: Date }>(
    `SELECT DISTINCT ON (p.sequence) p.id AS page_id, p.indexed_revision AS revision, o.store_key, o.sha256, o.created_at
       FROM pages p JOIN stored_objects o
         ON o.page_id = p.id AND o.revision = p.indexed_revision AND o.role = 'ocr' AND o.variant = 'ocr-json'
      WHERE p.book_id = $1 AND p.indexed_revision IS NOT NULL
        AND (o.superseded_at IS NULL OR p.indexed_revision < p.revision)
      ORDER BY p.sequence, o.superseded_at DESC NULLS FIRST, o.created_at DESC`,
    [bookId],
  );
  return r.rows.map((x) => ({ pageId: x.page_id, revision: x.revision, storeKey: x.store_key, sha256: x.sha256, readAt: x.created_at }));
}

/** Pages that had indexed words but whose reading the store's records do not name (reported, queued again). */
export async function indexedPagesWithoutReading(db: Queryable, bookId: string): Promise<{ id: string; sequence: number }[]> {
  const r = await db.query<{ id: string; sequence: number }>(
    `SELECT id, sequence FROM pages p WHERE book_id = $1 AND indexed_revision IS NOT NULL AND NOT EXISTS (
       SELECT 1 FROM stored_objects o WHERE o.page_id = p.id AND o.revision = p.indexed_revision AND o.role = 'ocr' AND o.variant = 'ocr-json')
     ORDER BY sequence`, [bookId],
  );
  return r.rows;
}

/**
 * The corrections laid over a page's current reading (made after it was read), in the order they
 * were made: the last one of a word is its text now.
 */
export async function correctionsSince(tx: Queryable, pageId: string, revision: number, readAt: Date): Promise<{ wordIndex: number; after: string }[]> {
  const r = await tx.query<{ word_index: number; after_text: string }>(
    'SELECT word_index, after_text FROM ocr_corrections WHERE page_id = $1 AND revision = $2 AND corrected_at >= $3 ORDER BY id',
    [pageId, revision, readAt],
  );
  return r.rows.map((x) => ({ wordIndex: x.word_index, after: x.after_text }));
}

/** Lays a clerk's corrected text over indexed words, the OCR's reading kept in ocr_text (as review/review.store.ts does). */
export async function applyWordCorrections(tx: Queryable, page: { pageId: string; revision: number }, words: readonly { wordIndex: number; text: string; norm: string }[]): Promise<void> {
  if (words.length === 0) return;
  await tx.query(
    `UPDATE page_words w SET ocr_text = coalesce(w.ocr_text, w.text), text = u.t, norm = u.n
       FROM unnest($3::int[], $4::text[], $5::text[]) AS u(i, t, n)
      WHERE w.page_id = $1 AND w.revision = $2 AND w.word_index = u.i`,
    [page.pageId, page.revision, words.map((w) => w.wordIndex), words.map((w) => w.text), words.map((w) => w.norm)],
  );
}

/** Books with done pages whose words are not indexed at their revision. */
export async function booksWithPagesBehindIndex(db: Queryable): Promise<string[]> {
  const r = await db.query<{ book_id: string }>(`SELECT DISTINCT book_id FROM pages WHERE status = 'done' AND indexed_revision IS DISTINCT FROM revision`);
  return r.rows.map((x) => x.book_id);
}

/** A page whose words cannot be indexed again (its reading is missing): page.index is to run for it again. */
export async function forgetIndexedRevision(tx: Queryable, pageId: string): Promise<void> {
  await tx.query('UPDATE pages SET indexed_revision = NULL WHERE id = $1', [pageId]);
}

/**
 * The catalogue's change notes the rebuild's own writes made (catalogue_dirty, migration 027): the
 * store holds these rows already, as the versions the rebuild noted in catalogue_written.
 */
export async function forgetRebuildNotes(tx: Queryable): Promise<void> {
  await tx.query('DELETE FROM catalogue_dirty');
}

/** What the rebuilt catalogue holds, for the report (the same whichever run of a resumed rebuild finished it). */
export async function rebuiltCounts(db: Queryable): Promise<{ disposed: number; registryRecords: number; holds: number; auditEvents: number }> {
  const r = await db.query<{ disposed: number; records: number; holds: number; audit: number }>(
    `SELECT (SELECT count(*) FROM disposal_tombstones)::int AS disposed, (SELECT count(*) FROM registry_records)::int AS records,
            (SELECT count(*) FROM legal_holds)::int AS holds, (SELECT count(*) FROM audit_events)::int AS audit`,
  );
  const x = r.rows[0]!;
  return { disposed: x.disposed, registryRecords: x.records, holds: x.holds, auditEvents: x.audit };
}
