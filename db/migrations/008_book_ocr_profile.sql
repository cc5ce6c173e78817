-- The OCR profile a book's pages are read with (printed form, typewriter, mixed Latin/Cyrillic),
-- chosen at ingest. Books archived before it existed were read as printed, so that is the default.
ALTER TABLE books ADD COLUMN ocr_profile text NOT NULL DEFAULT 'printed'
  CONSTRAINT books_ocr_profile_check CHECK (ocr_profile IN ('printed', 'typewriter', 'mixed'));
