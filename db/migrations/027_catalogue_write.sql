-- The catalogue written to the object store as the archive changes (issue 25,
-- docs/catalogue-format.md). Triggers note which catalogue object a statement changed; the writer
-- (catalogue/write.ts) writes a new version of each noted object and then forgets the notes it saw.

-- Append-only on purpose: a note is an INSERT, never an UPDATE of a shared row, so the archive's
-- own transactions (every page stage updates its book's pages) never wait on one another here.
-- A change made while the writer works adds a note with a higher id, which the writer keeps.
CREATE TABLE catalogue_dirty (
  id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  kind             text NOT NULL,
  -- The book id, the registry shard, or '' for archive-wide objects.
  scope            text NOT NULL,
  marked_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX catalogue_dirty_object_idx ON catalogue_dirty (kind, scope, id);

-- The newest version of each object in the store, as the writer (or a rebuild) last wrote or read
-- it. Its row is also the writer's lock: one writer per object at a time (FOR UPDATE SKIP LOCKED).
-- The audit chain is the row ('audit-segment', ''): version = last event written, content_sha256 =
-- that event's hash.
CREATE TABLE catalogue_written (
  kind             text NOT NULL,
  scope            text NOT NULL,
  version          bigint NOT NULL DEFAULT 0 CHECK (version >= 0),
  content_sha256   char(64),
  store_key        text,
  written_at       timestamptz,
  PRIMARY KEY (kind, scope)
);

-- TG_ARGV[0]: the catalogue kind; TG_ARGV[1]: an SQL expression over the changed row `c` giving the
-- scope (NULL: nothing to note). The changed rows are the statement's transition table `changed`.
CREATE FUNCTION catalogue_note_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE format('INSERT INTO catalogue_dirty (kind, scope) SELECT DISTINCT %L, s FROM (SELECT (%s)::text AS s FROM changed c) x WHERE s IS NOT NULL',
                 TG_ARGV[0], TG_ARGV[1]);
  RETURN NULL;
END $$;

-- One statement trigger per event (a trigger with a transition table serves one event), named
-- catalogue_<kind>_<i|u|d> on each watched table.
CREATE FUNCTION catalogue_watch(tbl text, kind text, scope_expr text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  base text := 'catalogue_' || replace(kind, '-', '_');
BEGIN
  EXECUTE format('CREATE TRIGGER %I AFTER INSERT ON %I REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION catalogue_note_changed(%L, %L)', base || '_i', tbl, kind, scope_expr);
  EXECUTE format('CREATE TRIGGER %I AFTER UPDATE ON %I REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION catalogue_note_changed(%L, %L)', base || '_u', tbl, kind, scope_expr);
  EXECUTE format('CREATE TRIGGER %I AFTER DELETE ON %I REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION catalogue_note_changed(%L, %L)', base || '_d', tbl, kind, scope_expr);
END $$;

SELECT catalogue_watch('books', 'book', 'c.id');
SELECT catalogue_watch('pages', 'book', 'c.book_id');
SELECT catalogue_watch('stored_objects', 'book', 'c.book_id');
SELECT catalogue_watch('processing_events', 'events', 'c.book_id');
SELECT catalogue_watch('entries', 'entries', 'c.book_id');
SELECT catalogue_watch('entry_names', 'entries', '(SELECT e.book_id FROM entries e WHERE e.id = c.entry_id)');
SELECT catalogue_watch('entry_zones', 'keying', 'c.book_id');
SELECT catalogue_watch('entry_zone_changes', 'keying', '(SELECT z.book_id FROM entry_zones z WHERE z.id = c.zone_id)');
SELECT catalogue_watch('keyings', 'keying', '(SELECT z.book_id FROM entry_zones z WHERE z.id = c.zone_id)');
SELECT catalogue_watch('keying_decisions', 'keying', '(SELECT z.book_id FROM entry_zones z WHERE z.id = c.zone_id)');
SELECT catalogue_watch('record_links', 'links', 'c.book_id');
SELECT catalogue_watch('record_link_tombstones', 'links', 'c.book_id');
SELECT catalogue_watch('ocr_corrections', 'corrections', '(SELECT p.book_id FROM pages p WHERE p.id = c.page_id)');
SELECT catalogue_watch('page_reviews', 'corrections', '(SELECT p.book_id FROM pages p WHERE p.id = c.page_id)');
SELECT catalogue_watch('item_retention', 'retention', 'c.book_id');
SELECT catalogue_watch('retention_history', 'retention', 'c.book_id');
SELECT catalogue_watch('extracts', 'extracts', 'c.book_id');
SELECT catalogue_watch('disposal_tombstones', 'disposal', 'c.book_id');
SELECT catalogue_watch('disposal_certificates', 'disposal', 'c.book_id');
SELECT catalogue_watch('disposal_batches', 'disposal-batches', '''''');
SELECT catalogue_watch('disposal_batch_items', 'disposal-batches', '''''');
SELECT catalogue_watch('retention_rules', 'rules', '''''');
SELECT catalogue_watch('register_layouts', 'layouts', '''''');
SELECT catalogue_watch('legal_holds', 'holds', '''''');
SELECT catalogue_watch('legal_hold_items', 'holds', '''''');
SELECT catalogue_watch('users', 'users', '''''');
SELECT catalogue_watch('user_roles', 'users', '''''');
SELECT catalogue_watch('registry_records', 'registry-records', 'left(c.id::text, 2)');

-- Links of a disposed book live in its disposal object (its books/ folder is removed); a disposal
-- also removes the book, whose folder the writer then deletes.
CREATE FUNCTION catalogue_note_disposed_links() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO catalogue_dirty (kind, scope)
    SELECT DISTINCT 'disposal', c.book_id::text FROM changed c
     WHERE EXISTS (SELECT 1 FROM disposal_tombstones t WHERE t.book_id = c.book_id);
  RETURN NULL;
END $$;
CREATE TRIGGER catalogue_disposed_links_i AFTER INSERT ON record_links REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION catalogue_note_disposed_links();
CREATE TRIGGER catalogue_disposed_links_u AFTER UPDATE ON record_links REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION catalogue_note_disposed_links();
CREATE TRIGGER catalogue_disposed_links_t AFTER INSERT ON record_link_tombstones REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION catalogue_note_disposed_links();

DROP FUNCTION catalogue_watch(text, text, text);

-- Everything already archived is written out by the first run of the writer.
INSERT INTO catalogue_dirty (kind, scope)
  SELECT k, '' FROM unnest(ARRAY['rules', 'layouts', 'holds', 'disposal-batches', 'users']) AS k;
INSERT INTO catalogue_dirty (kind, scope)
  SELECT k, b.id::text FROM books b, unnest(ARRAY['book', 'events', 'entries', 'keying', 'links', 'corrections', 'retention', 'extracts']) AS k;
INSERT INTO catalogue_dirty (kind, scope) SELECT 'disposal', book_id::text FROM disposal_tombstones;
INSERT INTO catalogue_dirty (kind, scope) SELECT DISTINCT 'registry-records', left(id::text, 2) FROM registry_records;
