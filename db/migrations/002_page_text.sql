-- OCR words of each page, ready for search (the search issue adds its normalised forms and indexes).

CREATE TABLE page_words (
  page_id          uuid NOT NULL REFERENCES pages (id),
  revision         integer NOT NULL,
  word_index       integer NOT NULL,
  book_id          uuid NOT NULL REFERENCES books (id),
  text             text NOT NULL,
  confidence       real NOT NULL,
  line_index       integer NOT NULL,
  block_index      integer NOT NULL,
  x0               integer NOT NULL,
  y0               integer NOT NULL,
  x1               integer NOT NULL,
  y1               integer NOT NULL,
  PRIMARY KEY (page_id, revision, word_index)
);
CREATE INDEX page_words_book_idx ON page_words (book_id);
CREATE INDEX page_words_lower_text_idx ON page_words (lower(text));

ALTER TABLE pages ADD COLUMN indexed_revision integer;
ALTER TABLE pages ADD COLUMN ocr_engine text;
