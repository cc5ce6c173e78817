-- Entry search by name, years and place (issue 23): the name postings read by word, place and date.
--
-- With the postings ordered by word and date (migration 028), a name searched within five years in
-- one municipality still read the word's postings of every municipality in those years and dropped
-- the others' after joining the entries: at 10 M entries, 143,000 postings of a common surname for
-- the few thousand in the place asked, and that count grows with every book archived. A register
-- holds one municipality's events, and the archive grows by adding municipalities and years, while
-- one municipality's entries in five years are bounded by its population: read by word, place and
-- date, a search's cost stays with that bound, not with the archive.
--
-- The place is matched fuzzily (pg_trgm's `%`, as entries' own check); it is first resolved against
-- the vocabulary of places entries carry (entry_places, a few hundred rows), then each place found
-- is one range of the index below.
ALTER TABLE entry_name_postings ADD COLUMN place_norm text;
CREATE INDEX entry_name_postings_place_idx ON entry_name_postings (norm, place_norm, event_date COLLATE "C") INCLUDE (entry_id, role, created_at);

-- Every distinct place of an entry in search form. A place no entry holds any more stays: it costs a
-- row and finds nothing.
CREATE TABLE entry_places (
  norm             text PRIMARY KEY
);
CREATE INDEX entry_places_trgm_idx ON entry_places USING gin (norm gin_trgm_ops);

-- Names added or rewritten: their postings carry the entry's place as well as its date.
CREATE OR REPLACE FUNCTION arkiva_entry_names_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO entry_name_terms (norm)
    SELECT DISTINCT w FROM new_names n CROSS JOIN LATERAL unnest(string_to_array(n.norm, ' ')) w WHERE w <> '' ORDER BY 1
    ON CONFLICT DO NOTHING;
  INSERT INTO entry_name_postings (norm, entry_id, role, created_at, event_date, place_norm)
    SELECT DISTINCT w, n.entry_id, n.role, e.created_at, e.event_date, e.place_norm
      FROM new_names n JOIN entries e ON e.id = n.entry_id CROSS JOIN LATERAL unnest(string_to_array(n.norm, ' ')) w
     WHERE w <> ''
    ON CONFLICT DO NOTHING;
  RETURN NULL;
END $$;
CREATE OR REPLACE FUNCTION arkiva_entry_names_removed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM entry_name_postings p USING (SELECT DISTINCT entry_id, role FROM old_names) o
   WHERE p.entry_id = o.entry_id AND p.role = o.role;
  INSERT INTO entry_name_postings (norm, entry_id, role, created_at, event_date, place_norm)
    SELECT DISTINCT w, n.entry_id, n.role, e.created_at, e.event_date, e.place_norm
      FROM entry_names n JOIN (SELECT DISTINCT entry_id, role FROM old_names) o ON o.entry_id = n.entry_id AND o.role = n.role
      JOIN entries e ON e.id = n.entry_id CROSS JOIN LATERAL unnest(string_to_array(n.norm, ' ')) w
     WHERE w <> ''
    ON CONFLICT DO NOTHING;
  RETURN NULL;
END $$;

-- An entry's date or place corrected: its postings carry the new ones, and a new place joins the
-- vocabulary. (Row-level: a trigger with a column list cannot have a transition table.)
DROP TRIGGER entries_postings_date ON entries;
DROP FUNCTION arkiva_entry_date_changed();
CREATE FUNCTION arkiva_entry_date_place_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE entry_name_postings SET event_date = NEW.event_date, place_norm = NEW.place_norm WHERE entry_id = NEW.id;
  IF NEW.place_norm IS NOT NULL THEN
    INSERT INTO entry_places (norm) VALUES (NEW.place_norm) ON CONFLICT DO NOTHING;
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER entries_postings_date_place AFTER UPDATE OF event_date, place_norm ON entries
  FOR EACH ROW WHEN (OLD.event_date IS DISTINCT FROM NEW.event_date OR OLD.place_norm IS DISTINCT FROM NEW.place_norm)
  EXECUTE FUNCTION arkiva_entry_date_place_changed();
CREATE FUNCTION arkiva_entry_places_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO entry_places (norm)
    SELECT DISTINCT place_norm FROM new_entries WHERE place_norm IS NOT NULL ORDER BY 1
    ON CONFLICT DO NOTHING;
  RETURN NULL;
END $$;
CREATE TRIGGER entries_places_insert AFTER INSERT ON entries
  REFERENCING NEW TABLE AS new_entries FOR EACH STATEMENT EXECUTE FUNCTION arkiva_entry_places_added();

-- Entries written before this migration.
UPDATE entry_name_postings p SET place_norm = e.place_norm FROM entries e WHERE e.id = p.entry_id AND e.place_norm IS NOT NULL;
INSERT INTO entry_places (norm) SELECT DISTINCT place_norm FROM entries WHERE place_norm IS NOT NULL ON CONFLICT DO NOTHING;
