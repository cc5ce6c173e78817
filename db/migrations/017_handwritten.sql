-- Handwritten registers (issue 20). A book can be declared handwritten at ingest: its pages are read
-- once for whatever text search can use and then keyed by people, not sent through the OCR rescues.
ALTER TABLE books DROP CONSTRAINT books_ocr_profile_check;
ALTER TABLE books ADD CONSTRAINT books_ocr_profile_check CHECK (ocr_profile IN ('printed', 'typewriter', 'mixed', 'handwritten'));

-- A page found (or declared) handwritten is typed so: the keying queue picks it up by its type.
ALTER TABLE pages DROP CONSTRAINT pages_page_type_check;
ALTER TABLE pages ADD CONSTRAINT pages_page_type_check CHECK (page_type IN ('register', 'cover', 'index', 'blank', 'other', 'handwritten'));
CREATE INDEX IF NOT EXISTS pages_handwritten_idx ON pages (book_id, sequence) WHERE page_type = 'handwritten';
