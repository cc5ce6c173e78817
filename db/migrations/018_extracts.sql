-- Signed electronic extracts (issue 21): the register of every extract issued from an entry, its
-- signed PDF's hash and place in the object store, and what became of it (revoked, superseded).

-- One row per issued extract. The serial is what the holder and the public verification page know:
-- the year of issue and ten random Crockford base32 characters (50 bits), short enough to type
-- from paper and not guessable. Rows are never deleted: a revoked or superseded extract stays
-- verifiable as such.
CREATE TABLE extracts (
  serial            text PRIMARY KEY CHECK (serial ~ '^[0-9]{4}-[0-9A-HJKMNP-TV-Z]{5}-[0-9A-HJKMNP-TV-Z]{5}$'),
  extract_type      text NOT NULL CHECK (extract_type IN ('birth', 'marriage', 'death', 'other')),
  status            text NOT NULL DEFAULT 'valid' CHECK (status IN ('valid', 'revoked', 'superseded')),
  entry_id          uuid NOT NULL REFERENCES entries (id),
  record_id         uuid REFERENCES registry_records (id),
  book_id           uuid NOT NULL REFERENCES books (id),
  request_reference text NOT NULL CHECK (length(request_reference) BETWEEN 1 AND 200),
  -- The purpose stated for a closed book (null when the book was open).
  purpose           text,
  restricted        boolean NOT NULL DEFAULT false,
  issuing_office    text NOT NULL,
  issued_by         text NOT NULL,
  issued_at         timestamptz NOT NULL DEFAULT now(),
  pdf_sha256        text NOT NULL UNIQUE CHECK (pdf_sha256 ~ '^[0-9a-f]{64}$'),
  pdf_key           text NOT NULL,
  pdf_version_id    text,
  pdf_size          bigint NOT NULL CHECK (pdf_size > 0),
  signer_subject    text NOT NULL,
  supersedes        text REFERENCES extracts (serial),
  superseded_by     text REFERENCES extracts (serial),
  revoked_by        text,
  revoked_at        timestamptz,
  revoke_reason     text,
  CHECK ((status = 'revoked') = (revoked_at IS NOT NULL AND revoked_by IS NOT NULL AND revoke_reason IS NOT NULL)),
  CHECK ((status = 'superseded') = (superseded_by IS NOT NULL)),
  CHECK (revoke_reason IS NULL OR length(btrim(revoke_reason)) > 0)
);
CREATE INDEX extracts_entry ON extracts (entry_id);
CREATE INDEX extracts_record ON extracts (record_id) WHERE record_id IS NOT NULL;
CREATE INDEX extracts_issued_at ON extracts (issued_at DESC);
CREATE INDEX extracts_request_reference ON extracts (request_reference);
