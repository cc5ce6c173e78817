-- Issued extracts' signed PDFs are archive objects like the book's others (issue 21): recorded in
-- stored_objects (role 'extract', book-level, variant = the serial), so the Object Lock sync keeps
-- them under their book's retention and holds, the fixity audit re-reads them, and the fault
-- suite's "nothing in the store that no row names" holds for them too. (Extracts were issued only
-- by unreleased development builds before this migration: there are no rows to carry over.)
ALTER TABLE stored_objects DROP CONSTRAINT stored_objects_role_check;
ALTER TABLE stored_objects ADD CONSTRAINT stored_objects_role_check
  CHECK (role IN ('original', 'source', 'master', 'derivative', 'ocr', 'pdf', 'alto', 'package', 'extract'));

-- An extract's PDF noted before it is uploaded, and forgotten in the transaction that registers
-- the extract (or once the PDF is removed again). A row left behind is an upload whose register
-- transaction failed or whose process died: its PDF, which no register row or stored object names,
-- is removed by the next issue after a grace period, so the store never keeps an unrecorded extract.
CREATE TABLE extract_uploads (
  store_key  text PRIMARY KEY,
  sha256     char(64) NOT NULL,
  serial     text NOT NULL,
  -- No foreign key: a note outlives its book's disposal, so the sweep still finds the PDF it names.
  book_id    uuid NOT NULL,
  noted_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX extract_uploads_noted ON extract_uploads (noted_at);
