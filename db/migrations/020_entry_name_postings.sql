-- Entry search at scale (issue 20, "search over keyed entries: p95 < 50 ms at 1M entries").
--
-- Matching each query word against entry_names row by row cost seconds at 1,000,000 entries: a
-- common surname is in tens of thousands of names, each rechecked, each entry then looked up and
-- scored before the first 50 could be picked. As page search does (migration 006), fuzzy matching
-- now runs on the vocabulary of name words (one row per distinct word, a few thousand in a whole
-- archive), and entries are found from per-word postings that carry what ranking needs (the
-- entry's creation time, for the tie order), so the best 50 are chosen from an index-only scan
-- and only those entries are read.

-- Every distinct word of an entry name's search form (entry_names.norm split on spaces). Words
-- whose last name went away stay: an unused word costs one row and finds nothing.
CREATE TABLE entry_name_terms (
  norm             text PRIMARY KEY
);
CREATE INDEX entry_name_terms_trgm_idx ON entry_name_terms USING gin (norm gin_trgm_ops);

-- One row per word, entry and role. created_at is the entry's (it never changes), the tie order
-- of search results after the score; event_date is the entry's too (kept in step by the trigger on
-- entries below), so a name searched within years skips other years' entries without reading them.
CREATE TABLE entry_name_postings (
  norm             text NOT NULL,
  entry_id         uuid NOT NULL,
  role             text NOT NULL,
  created_at       timestamptz NOT NULL,
  event_date       text,
  PRIMARY KEY (norm, entry_id, role)
);
-- Read by word without touching the table (index-only): entry, role, date and tie order together.
CREATE INDEX entry_name_postings_rank_idx ON entry_name_postings (norm, created_at, entry_id) INCLUDE (role, event_date);
CREATE INDEX entry_name_postings_entry_idx ON entry_name_postings (entry_id);

-- entry_names is written as a whole per entry (entries.store.ts replaceEntryNames: delete, then
-- insert) and removed with its entry (ON DELETE CASCADE); statement triggers keep the postings in
-- step in the same transaction, whichever path writes.
CREATE FUNCTION arkiva_entry_names_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO entry_name_terms (norm)
    SELECT DISTINCT w FROM new_names n CROSS JOIN LATERAL unnest(string_to_array(n.norm, ' ')) w WHERE w <> '' ORDER BY 1
    ON CONFLICT DO NOTHING;
  INSERT INTO entry_name_postings (norm, entry_id, role, created_at, event_date)
    SELECT DISTINCT w, n.entry_id, n.role, e.created_at, e.event_date
      FROM new_names n JOIN entries e ON e.id = n.entry_id CROSS JOIN LATERAL unnest(string_to_array(n.norm, ' ')) w
     WHERE w <> ''
    ON CONFLICT DO NOTHING;
  RETURN NULL;
END $$;

-- Removed or changed names: the postings of each (entry, role) touched are rebuilt from what remains.
CREATE FUNCTION arkiva_entry_names_removed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM entry_name_postings p USING (SELECT DISTINCT entry_id, role FROM old_names) o
   WHERE p.entry_id = o.entry_id AND p.role = o.role;
  INSERT INTO entry_name_postings (norm, entry_id, role, created_at, event_date)
    SELECT DISTINCT w, n.entry_id, n.role, e.created_at, e.event_date
      FROM entry_names n JOIN (SELECT DISTINCT entry_id, role FROM old_names) o ON o.entry_id = n.entry_id AND o.role = n.role
      JOIN entries e ON e.id = n.entry_id CROSS JOIN LATERAL unnest(string_to_array(n.norm, ' ')) w
     WHERE w <> ''
    ON CONFLICT DO NOTHING;
  RETURN NULL;
END $$;

CREATE TRIGGER entry_names_postings_insert AFTER INSERT ON entry_names
  REFERENCING NEW TABLE AS new_names FOR EACH STATEMENT EXECUTE FUNCTION arkiva_entry_names_added();
CREATE TRIGGER entry_names_postings_delete AFTER DELETE ON entry_names
  REFERENCING OLD TABLE AS old_names FOR EACH STATEMENT EXECUTE FUNCTION arkiva_entry_names_removed();
CREATE TRIGGER entry_names_postings_update_old AFTER UPDATE ON entry_names
  REFERENCING OLD TABLE AS old_names FOR EACH STATEMENT EXECUTE FUNCTION arkiva_entry_names_removed();
CREATE TRIGGER entry_names_postings_update_new AFTER UPDATE ON entry_names
  REFERENCING NEW TABLE AS new_names FOR EACH STATEMENT EXECUTE FUNCTION arkiva_entry_names_added();

-- An entry's date corrected: its postings carry the new one.
CREATE FUNCTION arkiva_entry_date_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE entry_name_postings SET event_date = NEW.event_date WHERE entry_id = NEW.id;
  RETURN NULL;
END $$;
CREATE TRIGGER entries_postings_date AFTER UPDATE OF event_date ON entries
  FOR EACH ROW WHEN (OLD.event_date IS DISTINCT FROM NEW.event_date) EXECUTE FUNCTION arkiva_entry_date_changed();

-- Names written before this migration.
INSERT INTO entry_name_terms (norm)
  SELECT DISTINCT w FROM entry_names n CROSS JOIN LATERAL unnest(string_to_array(n.norm, ' ')) w WHERE w <> ''
  ON CONFLICT DO NOTHING;
INSERT INTO entry_name_postings (norm, entry_id, role, created_at, event_date)
  SELECT DISTINCT w, n.entry_id, n.role, e.created_at, e.event_date
    FROM entry_names n JOIN entries e ON e.id = n.entry_id CROSS JOIN LATERAL unnest(string_to_array(n.norm, ' ')) w
   WHERE w <> ''
  ON CONFLICT DO NOTHING;

-- Name matching now runs on entry_name_terms; the trigram index over every name row only slowed writes.
DROP INDEX IF EXISTS entry_names_norm_trgm_idx;
