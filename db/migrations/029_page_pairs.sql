-- Search by full name at scale (issue 23): pages by two words next to each other on one line.
--
-- A full name typed into search ("Tijana Živković") walked its rarer word's pages and probed each
-- for the other: at 100,000 pages a common given name and surname read thousands of pages to find
-- the few holding both, and the cost grew with the archive. A register writes a person's names
-- next to each other on the entry's line, so the pages holding the two words side by side are the
-- ones a clerk wants first; their postings here are a short list however common each word is.
--
-- One row per page revision and ordered pair of adjacent search forms (the second the next word on
-- the same line). The pair is kept as a 64-bit hash of its two forms rather than the text: half
-- the size, and every page found is checked against its words anyway (search/search.store.ts), so
-- a collision could only cost a probe, never a wrong hit.
CREATE FUNCTION arkiva_pair_key(first text, second text) RETURNS bigint LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT hashtextextended(first || ' ' || second, 0)
$$;

CREATE TABLE page_pairs (
  pair             bigint NOT NULL,
  page_id          uuid NOT NULL,
  revision         integer NOT NULL,
  PRIMARY KEY (pair, page_id, revision)
);
CREATE INDEX page_pairs_page_idx ON page_pairs (page_id);

-- Pairs are a property of a whole page revision (a word changed or removed changes its neighbours'
-- pairs too), so the page revisions a statement touched are recomputed from what page_words holds.
CREATE FUNCTION arkiva_recount_page_pairs(page_ids uuid[], revisions integer[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM page_pairs p USING unnest(page_ids, revisions) AS t(page_id, revision)
   WHERE p.page_id = t.page_id AND p.revision = t.revision;
  INSERT INTO page_pairs (pair, page_id, revision)
    SELECT DISTINCT arkiva_pair_key(a.norm, b.norm), a.page_id, a.revision
      FROM unnest(page_ids, revisions) AS t(page_id, revision)
      JOIN page_words a ON a.page_id = t.page_id AND a.revision = t.revision
      JOIN page_words b ON b.page_id = a.page_id AND b.revision = a.revision AND b.word_index = a.word_index + 1 AND b.line_index = a.line_index
     WHERE a.norm <> '' AND b.norm <> ''
    ON CONFLICT DO NOTHING;
END $$;

CREATE FUNCTION arkiva_page_pairs_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM arkiva_recount_page_pairs(array_agg(page_id), array_agg(revision)) FROM (SELECT DISTINCT page_id, revision FROM new_words) t;
  RETURN NULL;
END $$;

CREATE FUNCTION arkiva_page_pairs_removed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM arkiva_recount_page_pairs(array_agg(page_id), array_agg(revision)) FROM (SELECT DISTINCT page_id, revision FROM old_words) t;
  RETURN NULL;
END $$;

CREATE TRIGGER page_words_pairs_insert AFTER INSERT ON page_words
  REFERENCING NEW TABLE AS new_words FOR EACH STATEMENT EXECUTE FUNCTION arkiva_page_pairs_added();
CREATE TRIGGER page_words_pairs_update AFTER UPDATE ON page_words
  REFERENCING NEW TABLE AS new_words FOR EACH STATEMENT EXECUTE FUNCTION arkiva_page_pairs_added();
CREATE TRIGGER page_words_pairs_delete AFTER DELETE ON page_words
  REFERENCING OLD TABLE AS old_words FOR EACH STATEMENT EXECUTE FUNCTION arkiva_page_pairs_removed();

-- Words indexed before this migration: each line's words in order once (a window, not a join of
-- page_words with itself, which would probe its primary key once per word).
INSERT INTO page_pairs (pair, page_id, revision)
  SELECT DISTINCT arkiva_pair_key(norm, next_norm), page_id, revision FROM (
    SELECT page_id, revision, word_index, norm,
           lead(norm) OVER w AS next_norm, lead(word_index) OVER w AS next_index
      FROM page_words
    WINDOW w AS (PARTITION BY page_id, revision, line_index ORDER BY word_index)
  ) x
   WHERE next_index = word_index + 1 AND norm <> '' AND next_norm <> '';
