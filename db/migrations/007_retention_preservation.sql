-- Retention and preservation additions (issues 4 and 6): links that outlive disposal, retention
-- marked stale when registry links or events change, holds placed from a search, due-list
-- snapshots of the scheduled job.

-- A registry record's history keeps its links to disposed items: the link rows stay, their item
-- side becomes a tombstone (ids kept as identifiers, no longer foreign keys, since the rows they
-- named are gone). Live links are ended by the disposal and stamped with it; links ended earlier
-- stay as they were (disposal_tombstones names every disposed book).
ALTER TABLE record_links DROP CONSTRAINT IF EXISTS record_links_book_id_fkey;
ALTER TABLE record_links DROP CONSTRAINT IF EXISTS record_links_page_id_fkey;
ALTER TABLE record_links DROP CONSTRAINT IF EXISTS record_links_entry_id_fkey;
ALTER TABLE record_links ADD COLUMN item_disposed_at timestamptz;
ALTER TABLE record_links ADD COLUMN item_disposal_batch_id uuid;

-- Books whose registry-event trigger may have moved: a link made or ended, or a linked record's
-- event date or type changed. Filled by triggers, so every path that writes links (API, CSV import,
-- CLI) is covered; emptied by the retention recompute of stale items.
CREATE TABLE retention_stale (
  book_id          uuid PRIMARY KEY,
  reason           text NOT NULL,
  marked_at        timestamptz NOT NULL DEFAULT now()
);

CREATE FUNCTION retention_mark_link_stale() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.item_disposed_at IS NOT NULL THEN
    RETURN NULL;
  END IF;
  IF TG_OP = 'UPDATE' AND NEW.unlinked_at IS NOT DISTINCT FROM OLD.unlinked_at AND NEW.record_id = OLD.record_id AND NEW.book_id = OLD.book_id THEN
    RETURN NULL;
  END IF;
  INSERT INTO retention_stale (book_id, reason)
  VALUES (NEW.book_id, CASE WHEN TG_OP = 'INSERT' THEN 'registry link ' || NEW.id || ' made' ELSE 'registry link ' || NEW.id || ' changed' END)
  ON CONFLICT (book_id) DO UPDATE SET reason = EXCLUDED.reason, marked_at = now();
  RETURN NULL;
END $$;

CREATE TRIGGER record_links_retention_stale AFTER INSERT OR UPDATE ON record_links
  FOR EACH ROW EXECUTE FUNCTION retention_mark_link_stale();

CREATE FUNCTION retention_mark_record_stale() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.event_date IS NOT DISTINCT FROM OLD.event_date AND NEW.record_type = OLD.record_type THEN
    RETURN NULL;
  END IF;
  INSERT INTO retention_stale (book_id, reason)
  SELECT DISTINCT l.book_id, 'registry record ' || NEW.id || ' event changed'
    FROM record_links l WHERE l.record_id = NEW.id AND l.unlinked_at IS NULL AND l.item_disposed_at IS NULL
  ON CONFLICT (book_id) DO UPDATE SET reason = EXCLUDED.reason, marked_at = now();
  RETURN NULL;
END $$;

CREATE TRIGGER registry_records_retention_stale AFTER UPDATE ON registry_records
  FOR EACH ROW EXECUTE FUNCTION retention_mark_record_stale();

-- A hold placed on the results of a search keeps the query that selected its items.
ALTER TABLE legal_holds ADD COLUMN query jsonb;

-- Snapshots of the scheduled due list, so records managers see what was due when, and why blocked.
CREATE TABLE disposal_due_lists (
  id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  listed_at        timestamptz NOT NULL DEFAULT now(),
  as_of            date NOT NULL,
  due              integer NOT NULL,
  blocked          integer NOT NULL,
  items            jsonb NOT NULL
);
CREATE INDEX disposal_due_lists_listed_idx ON disposal_due_lists (listed_at DESC);
