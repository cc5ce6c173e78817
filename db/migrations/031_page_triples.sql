-- Search by a full name of three words at scale (issue 23): pages by three words next to each other.
--
-- A register writes a person as given name, father's name and surname side by side. Through pairs
-- (migration 029) such a name was found from its two rarest links (pairs of its words), and a page
-- listed by only one of them was checked against the third link's postings: at 1 M pages a common
-- surname next to a common father's name has 131,000 postings, read for every search (p95 172 ms),
-- and more as the archive grows. The pages holding all three words side by side are few however
-- common each word is; here they are one short list.
--
-- One row per page revision and window of three consecutive words on one line, whatever their
-- order: the key is a 64-bit hash of the three search forms sorted (byte order, the same under any
-- database collation), so a name typed in any order finds it with one key. As with pairs, every
-- page found is checked against its words, so a collision could only cost a probe.
CREATE FUNCTION arkiva_triple_key(a text, b text, c text) RETURNS bigint LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT hashtextextended(
    least(a COLLATE "C", b COLLATE "C", c COLLATE "C") || ' ' ||
    greatest(least(a COLLATE "C", b COLLATE "C"), least(greatest(a COLLATE "C", b COLLATE "C"), c COLLATE "C")) || ' ' ||
    greatest(a COLLATE "C", b COLLATE "C", c COLLATE "C"), 0)
$$;

CREATE TABLE page_triples (
  triple           bigint NOT NULL,
  page_id          uuid NOT NULL,
  revision         integer NOT NULL,
  PRIMARY KEY (triple, page_id, revision)
);
CREATE INDEX page_triples_page_idx ON page_triples (page_id);

-- As pairs: a property of a whole page revision, recomputed for each page revision a statement touched.
CREATE FUNCTION arkiva_recount_page_triples(page_ids uuid[], revisions integer[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM page_triples p USING unnest(page_ids, revisions) AS t(page_id, revision)
   WHERE p.page_id = t.page_id AND p.revision = t.revision;
  INSERT INTO page_triples (triple, page_id, revision)
    SELECT DISTINCT arkiva_triple_key(a.norm, b.norm, c.norm), a.page_id, a.revision
      FROM unnest(page_ids, revisions) AS t(page_id, revision)
      JOIN page_words a ON a.page_id = t.page_id AND a.revision = t.revision
      JOIN page_words b ON b.page_id = a.page_id AND b.revision = a.revision AND b.word_index = a.word_index + 1 AND b.line_index = a.line_index
      JOIN page_words c ON c.page_id = a.page_id AND c.revision = a.revision AND c.word_index = a.word_index + 2 AND c.line_index = a.line_index
     WHERE a.norm <> '' AND b.norm <> '' AND c.norm <> ''
    ON CONFLICT DO NOTHING;
END $$;

CREATE FUNCTION arkiva_page_triples_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM arkiva_recount_page_triples(array_agg(page_id), array_agg(revision)) FROM (SELECT DISTINCT page_id, revision FROM new_words) t;
  RETURN NULL;
END $$;

CREATE FUNCTION arkiva_page_triples_removed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM arkiva_recount_page_triples(array_agg(page_id), array_agg(revision)) FROM (SELECT DISTINCT page_id, revision FROM old_words) t;
  RETURN NULL;
END $$;

CREATE TRIGGER page_words_triples_insert AFTER INSERT ON page_words
  REFERENCING NEW TABLE AS new_words FOR EACH STATEMENT EXECUTE FUNCTION arkiva_page_triples_added();
CREATE TRIGGER page_words_triples_update AFTER UPDATE ON page_words
  REFERENCING NEW TABLE AS new_words FOR EACH STATEMENT EXECUTE FUNCTION arkiva_page_triples_added();
CREATE TRIGGER page_words_triples_delete AFTER DELETE ON page_words
  REFERENCING OLD TABLE AS old_words FOR EACH STATEMENT EXECUTE FUNCTION arkiva_page_triples_removed();

-- Words indexed before this migration: each line's words in order once.
INSERT INTO page_triples (triple, page_id, revision)
  SELECT DISTINCT arkiva_triple_key(norm, norm2, norm3), page_id, revision FROM (
    SELECT page_id, revision, word_index, norm,
           lead(norm) OVER w AS norm2, lead(norm, 2) OVER w AS norm3, lead(word_index, 2) OVER w AS index3
      FROM page_words
    WINDOW w AS (PARTITION BY page_id, revision, line_index ORDER BY word_index)
  ) x
   WHERE index3 = word_index + 2 AND norm <> '' AND norm2 <> '' AND norm3 <> '';
