-- The quarter turn orientation detection found on a page's kept reading (issue 19): the OCR stage
-- reads a book's next page with orientation detection first when the book's recent pages were
-- turned, instead of a first upright reading that a turned page wastes. pages.orientation cannot
-- tell this: it adds the EXIF turn the master already applied. NULL until a page is read.
ALTER TABLE pages ADD COLUMN IF NOT EXISTS ocr_turn smallint CHECK (ocr_turn IN (0, 90, 180, 270));
