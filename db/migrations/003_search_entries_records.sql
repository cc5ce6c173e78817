-- Search, entries, registry records and their links, and the viewer's image cache.
--
-- `norm` columns hold the search form computed once in TypeScript (search/normalise.ts): lower
-- case, diacritics stripped, Serbian Cyrillic transliterated to Latin, so one trigram index serves
-- accent-insensitive, cross-script and fuzzy matching, and a text_pattern_ops btree serves prefixes.

ALTER TABLE page_words ADD COLUMN norm text;
-- Rows indexed before this migration get an approximation (no folding); re-indexing a page
-- (arkiva retry) writes the exact form.
UPDATE page_words SET norm = lower(text) WHERE norm IS NULL;
CREATE INDEX page_words_norm_trgm_idx ON page_words USING gin (norm gin_trgm_ops);
CREATE INDEX page_words_norm_prefix_idx ON page_words (norm text_pattern_ops);
-- Snippets and phrase checks read the words of one line of one page.
CREATE INDEX page_words_page_line_idx ON page_words (page_id, line_index, word_index);
-- The old case-folded index is superseded by norm.
DROP INDEX IF EXISTS page_words_lower_text_idx;

-- An entry: a region of a page holding one register entry, with its structured fields.
CREATE TABLE entries (
  id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  book_id          uuid NOT NULL REFERENCES books (id),
  page_id          uuid NOT NULL REFERENCES pages (id),
  x0               integer NOT NULL CHECK (x0 >= 0),
  y0               integer NOT NULL CHECK (y0 >= 0),
  x1               integer NOT NULL,
  y1               integer NOT NULL,
  event_type       text NOT NULL CHECK (event_type IN ('birth', 'marriage', 'death', 'other')),
  entry_number     text,
  -- Historic dates are often partial: 'YYYY', 'YYYY-MM' or 'YYYY-MM-DD'.
  event_date       text CHECK (event_date ~ '^\d{4}(-\d{2}(-\d{2})?)?$'),
  place            text,
  place_norm       text,
  marginal_notes   text,
  -- The OCR line(s) an entry was proposed from.
  ocr_text         text,
  source           text NOT NULL CHECK (source IN ('manual', 'ocr')),
  status           text NOT NULL CHECK (status IN ('proposed', 'verified', 'rejected')),
  created_by       text NOT NULL,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_by       text,
  updated_at       timestamptz NOT NULL DEFAULT now(),
  verified_by      text,
  verified_at      timestamptz,
  -- Entries may be linked to registry records, so they are retired rather than deleted.
  deleted_by       text,
  deleted_at       timestamptz,
  CHECK (x1 > x0 AND y1 > y0)
);
CREATE INDEX entries_page_idx ON entries (page_id) WHERE deleted_at IS NULL;
CREATE INDEX entries_book_idx ON entries (book_id, entry_number) WHERE deleted_at IS NULL;
CREATE INDEX entries_place_trgm_idx ON entries USING gin (place_norm gin_trgm_ops);

-- The persons named in an entry, one row per name, so each role is searchable with the index.
CREATE TABLE entry_names (
  entry_id         uuid NOT NULL REFERENCES entries (id) ON DELETE CASCADE,
  role             text NOT NULL CHECK (role IN ('subject', 'father', 'mother', 'spouse', 'other')),
  position         integer NOT NULL DEFAULT 0,
  name             text NOT NULL,
  norm             text NOT NULL,
  PRIMARY KEY (entry_id, role, position)
);
CREATE INDEX entry_names_norm_trgm_idx ON entry_names USING gin (norm gin_trgm_ops);

-- A reference into the civil registry.
CREATE TABLE registry_records (
  id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  system           text NOT NULL,
  record_type      text NOT NULL,
  record_id        text NOT NULL,
  person_names     text[] NOT NULL DEFAULT '{}',
  -- The names' search forms joined by spaces.
  names_norm       text NOT NULL DEFAULT '',
  event_date       text CHECK (event_date ~ '^\d{4}(-\d{2}(-\d{2})?)?$'),
  municipality     text,
  imported_by      text NOT NULL,
  imported_at      timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  UNIQUE (system, record_type, record_id)
);
CREATE INDEX registry_records_names_trgm_idx ON registry_records USING gin (names_norm gin_trgm_ops);

-- A link between an archive item (book, page or entry) and a record. Unlinking fills the
-- unlinked_* columns; rows are never deleted, so the history stays.
CREATE TABLE record_links (
  id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  record_id        uuid NOT NULL REFERENCES registry_records (id),
  target_kind      text NOT NULL CHECK (target_kind IN ('book', 'page', 'entry')),
  book_id          uuid NOT NULL REFERENCES books (id),
  page_id          uuid REFERENCES pages (id),
  entry_id         uuid REFERENCES entries (id),
  link_type        text NOT NULL CHECK (link_type IN ('original-entry', 'amendment', 'marginal-note')),
  reason           text,
  created_by       text NOT NULL,
  created_at       timestamptz NOT NULL DEFAULT now(),
  unlinked_by      text,
  unlinked_at      timestamptz,
  unlink_reason    text,
  CHECK ((target_kind = 'book' AND page_id IS NULL AND entry_id IS NULL)
      OR (target_kind = 'page' AND page_id IS NOT NULL AND entry_id IS NULL)
      OR (target_kind = 'entry' AND page_id IS NOT NULL AND entry_id IS NOT NULL)),
  CHECK ((unlinked_at IS NULL) = (unlinked_by IS NULL))
);
-- One live link of a type between a record and an item; a relink after unlinking is a new row.
CREATE UNIQUE INDEX record_links_live_key ON record_links (
  record_id, target_kind, book_id,
  COALESCE(page_id, '00000000-0000-0000-0000-000000000000'::uuid),
  COALESCE(entry_id, '00000000-0000-0000-0000-000000000000'::uuid), link_type
) WHERE unlinked_at IS NULL;
CREATE INDEX record_links_book_idx ON record_links (book_id);
CREATE INDEX record_links_page_idx ON record_links (page_id);
CREATE INDEX record_links_entry_idx ON record_links (entry_id);

-- Viewer images generated on demand (a width, a crop), stored content-addressed, found again here.
CREATE TABLE page_image_cache (
  page_id          uuid NOT NULL REFERENCES pages (id),
  revision         integer NOT NULL,
  spec             text NOT NULL,
  store_key        text NOT NULL,
  sha256           char(64) NOT NULL,
  size             bigint NOT NULL,
  media_type       text NOT NULL,
  created_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (page_id, revision, spec)
);
