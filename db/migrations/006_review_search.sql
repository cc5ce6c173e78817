-- Search at scale, place names folded across scripts, link tombstones, and OCR review:
-- corrections as text revisions, page types.

-- The search vocabulary: every distinct search form ever indexed. Fuzzy and prefix matching run
-- on this small table (one row per form, not per occurrence); pages are then found by equality.
-- Forms whose last page went away stay until pruneSearchTerms() (search/terms.ts) removes them:
-- deleting them inside the indexing transaction would race with a concurrent insert of the same form.
CREATE TABLE search_terms (
  norm             text PRIMARY KEY
);
CREATE INDEX search_terms_trgm_idx ON search_terms USING gin (norm gin_trgm_ops);
CREATE INDEX search_terms_prefix_idx ON search_terms (norm text_pattern_ops);

-- One row per search form and page revision, with the best OCR confidence (rounded to an integer so
-- a page's score is exact and the index order is the ranking order within a form).
CREATE TABLE page_terms (
  norm             text NOT NULL,
  page_id          uuid NOT NULL,
  revision         integer NOT NULL,
  book_id          uuid NOT NULL,
  confidence       smallint NOT NULL,
  PRIMARY KEY (norm, page_id, revision)
);
-- Walked backwards: best confidence first, then page id descending, as search ranks.
CREATE INDEX page_terms_rank_idx ON page_terms (norm, confidence, page_id) INCLUDE (revision, book_id);
CREATE INDEX page_terms_page_idx ON page_terms (page_id);

-- page_words is written by several code paths (indexing, corrections, re-OCR, seeds); statement
-- triggers keep page_terms and search_terms in step with all of them, in the same transaction.
CREATE FUNCTION arkiva_page_words_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO search_terms (norm)
    SELECT DISTINCT n.norm FROM new_words n WHERE n.norm IS NOT NULL AND n.norm <> '' ORDER BY 1
    ON CONFLICT DO NOTHING;
  INSERT INTO page_terms (norm, page_id, revision, book_id, confidence)
    SELECT n.norm, n.page_id, n.revision, min(n.book_id::text)::uuid, round(max(n.confidence))::smallint
      FROM new_words n WHERE n.norm IS NOT NULL AND n.norm <> ''
     GROUP BY n.norm, n.page_id, n.revision
    ON CONFLICT (norm, page_id, revision) DO UPDATE SET confidence = greatest(page_terms.confidence, EXCLUDED.confidence);
  RETURN NULL;
END $$;

-- Removed or changed words: the page's forms are recounted from what remains.
CREATE FUNCTION arkiva_page_words_removed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM page_terms t USING (SELECT DISTINCT page_id, revision, norm FROM old_words) o
   WHERE t.page_id = o.page_id AND t.revision = o.revision AND t.norm = o.norm;
  INSERT INTO page_terms (norm, page_id, revision, book_id, confidence)
    SELECT w.norm, w.page_id, w.revision, min(w.book_id::text)::uuid, round(max(w.confidence))::smallint
      FROM page_words w JOIN (SELECT DISTINCT page_id, revision, norm FROM old_words) o
        ON w.page_id = o.page_id AND w.revision = o.revision AND w.norm = o.norm
     WHERE w.norm <> ''
     GROUP BY w.norm, w.page_id, w.revision
    ON CONFLICT (norm, page_id, revision) DO UPDATE SET confidence = EXCLUDED.confidence;
  RETURN NULL;
END $$;

CREATE TRIGGER page_words_terms_insert AFTER INSERT ON page_words
  REFERENCING NEW TABLE AS new_words FOR EACH STATEMENT EXECUTE FUNCTION arkiva_page_words_added();
CREATE TRIGGER page_words_terms_delete AFTER DELETE ON page_words
  REFERENCING OLD TABLE AS old_words FOR EACH STATEMENT EXECUTE FUNCTION arkiva_page_words_removed();
CREATE TRIGGER page_words_terms_update_old AFTER UPDATE ON page_words
  REFERENCING OLD TABLE AS old_words FOR EACH STATEMENT EXECUTE FUNCTION arkiva_page_words_removed();
CREATE TRIGGER page_words_terms_update_new AFTER UPDATE ON page_words
  REFERENCING NEW TABLE AS new_words FOR EACH STATEMENT EXECUTE FUNCTION arkiva_page_words_added();

-- Fuzzy matching now runs on the vocabulary; the trigram index over every word occurrence only
-- slowed indexing (phrases and prefixes use page_words_norm_prefix_idx).
DROP INDEX IF EXISTS page_words_norm_trgm_idx;

-- Words indexed before this migration.
INSERT INTO search_terms (norm) SELECT DISTINCT norm FROM page_words WHERE norm IS NOT NULL AND norm <> '' ON CONFLICT DO NOTHING;
INSERT INTO page_terms (norm, page_id, revision, book_id, confidence)
  SELECT norm, page_id, revision, min(book_id::text)::uuid, round(max(confidence))::smallint
    FROM page_words WHERE norm IS NOT NULL AND norm <> '' GROUP BY norm, page_id, revision;

-- The forms a place name is compared in: diacritics folded, Cyrillic transliterated, and an
-- Albanian reading of š/ž/č (sh/zh/c), so Shkodër, Shkoder and Шкодер meet; Serbian Latin
-- (Peć, Pec, Пећ) meets in the first form. Two places match when any form is shared.
CREATE FUNCTION arkiva_place_forms(t text) RETURNS text[] LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT ARRAY[
    regexp_replace(translate(s, 'čćšžđ', 'ccszd'), '[^a-z0-9]', '', 'g'),
    regexp_replace(replace(replace(translate(s, 'čćđ', 'ccd'), 'š', 'sh'), 'ž', 'zh'), '[^a-z0-9]', '', 'g')
  ]
  FROM (SELECT translate(
    translate(replace(replace(replace(lower(coalesce(t, '')), 'љ', 'lj'), 'њ', 'nj'), 'џ', 'dž'),
              'абвгдђежзијклмнопрстћуфхцчш', 'abvgdđežzijklmnoprstćufhcčš'),
    'ëçéèêáàâäíìîïóòôöúùûüñ', 'eceeeaaaaiiiioooouuuun') AS s) x
$$;

-- A link row is never erased without trace: a deletion (disposal of the linked book) leaves its
-- tombstone here, and a live link may only be ended, never rewritten.
CREATE TABLE record_link_tombstones (
  link_id          uuid PRIMARY KEY,
  record_id        uuid NOT NULL,
  target_kind      text NOT NULL,
  book_id          uuid NOT NULL,
  page_id          uuid,
  entry_id         uuid,
  link_type        text NOT NULL,
  reason           text,
  created_by       text NOT NULL,
  created_at       timestamptz NOT NULL,
  unlinked_by      text,
  unlinked_at      timestamptz,
  unlink_reason    text,
  removed_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX record_link_tombstones_record_idx ON record_link_tombstones (record_id);

CREATE FUNCTION arkiva_record_link_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    INSERT INTO record_link_tombstones (link_id, record_id, target_kind, book_id, page_id, entry_id, link_type, reason,
                                        created_by, created_at, unlinked_by, unlinked_at, unlink_reason)
    VALUES (OLD.id, OLD.record_id, OLD.target_kind, OLD.book_id, OLD.page_id, OLD.entry_id, OLD.link_type, OLD.reason,
            OLD.created_by, OLD.created_at, OLD.unlinked_by, OLD.unlinked_at, OLD.unlink_reason)
    ON CONFLICT DO NOTHING;
    RETURN OLD;
  END IF;
  IF OLD.unlinked_at IS NOT NULL
     OR (NEW.id, NEW.record_id, NEW.target_kind, NEW.book_id, NEW.page_id, NEW.entry_id, NEW.link_type, NEW.reason, NEW.created_by, NEW.created_at)
        IS DISTINCT FROM
        (OLD.id, OLD.record_id, OLD.target_kind, OLD.book_id, OLD.page_id, OLD.entry_id, OLD.link_type, OLD.reason, OLD.created_by, OLD.created_at) THEN
    RAISE EXCEPTION 'record links are never rewritten: end the link and create a new one' USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER record_links_guard BEFORE UPDATE OR DELETE ON record_links FOR EACH ROW EXECUTE FUNCTION arkiva_record_link_guard();

-- OCR review. A page's text revision counts corrections: 0 is the OCR output as read (kept in the
-- archived OCR JSON and in page_words.ocr_text); each correction raises it.
ALTER TABLE pages ADD COLUMN text_revision integer NOT NULL DEFAULT 0;
-- What the page is: a register page is read; blank pages are not; covers and index pages are read but not proposed as entries.
ALTER TABLE pages ADD COLUMN page_type text CHECK (page_type IN ('register', 'cover', 'index', 'blank', 'other'));
ALTER TABLE pages ADD COLUMN page_type_reason text;
-- The OCR reading of a corrected word (NULL while the word is as OCR read it).
ALTER TABLE page_words ADD COLUMN ocr_text text;

-- Every correction, word by word: before, after, who, when, and the text revision it made.
CREATE TABLE ocr_corrections (
  id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  page_id          uuid NOT NULL REFERENCES pages (id),
  revision         integer NOT NULL,
  text_revision    integer NOT NULL,
  word_index       integer NOT NULL,
  line_index       integer NOT NULL,
  before_text      text NOT NULL,
  after_text       text NOT NULL,
  corrected_by     text NOT NULL,
  corrected_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ocr_corrections_page_idx ON ocr_corrections (page_id, revision, text_revision);

-- Clerks' decisions on the review queue (a page looked at and accepted as it is, or corrected).
CREATE TABLE page_reviews (
  page_id          uuid NOT NULL REFERENCES pages (id),
  revision         integer NOT NULL,
  text_revision    integer NOT NULL,
  outcome          text NOT NULL CHECK (outcome IN ('accepted', 'corrected', 'reocr-requested')),
  reviewed_by      text NOT NULL,
  reviewed_at      timestamptz NOT NULL DEFAULT now(),
  note             text,
  PRIMARY KEY (page_id, revision, text_revision, reviewed_at)
);
