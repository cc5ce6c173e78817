-- The archive's core model: books, their pages, every stored object, and PREMIS-style events.

CREATE TABLE books (
  id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  register_type    text NOT NULL CHECK (register_type IN ('birth', 'marriage', 'death', 'other')),
  municipality     text NOT NULL,
  year_from        integer NOT NULL CHECK (year_from BETWEEN 1000 AND 9999),
  year_to          integer NOT NULL CHECK (year_to BETWEEN 1000 AND 9999 AND year_to >= year_from),
  volume           text,
  languages        text NOT NULL DEFAULT 'sqi+srp+eng',
  source_format    text NOT NULL CHECK (source_format IN ('tiff', 'pdf', 'images', 'zip')),
  source_sha256    char(64) NOT NULL,
  source_size      bigint NOT NULL,
  status           text NOT NULL DEFAULT 'received'
                   CHECK (status IN ('received', 'splitting', 'processing', 'complete', 'complete_with_failures', 'failed')),
  failure_reason   text,
  page_count       integer NOT NULL DEFAULT 0,
  pages_done       integer NOT NULL DEFAULT 0,
  pages_failed     integer NOT NULL DEFAULT 0,
  summary          jsonb,
  created_by       text,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  completed_at     timestamptz
);
-- A second upload of the same bytes returns the existing book.
CREATE UNIQUE INDEX books_source_sha256_key ON books (source_sha256);
CREATE INDEX books_status_idx ON books (status);

CREATE TABLE pages (
  id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  book_id          uuid NOT NULL REFERENCES books (id),
  sequence         integer NOT NULL CHECK (sequence >= 1),
  status           text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'processing', 'done', 'failed')),
  stage            text,
  failure_reason   text,
  attempts         integer NOT NULL DEFAULT 0,
  width            integer,
  height           integer,
  dpi_x            real,
  dpi_y            real,
  orientation      integer NOT NULL DEFAULT 0 CHECK (orientation IN (0, 90, 180, 270)),
  ocr_confidence   real,
  ocr_text         text,
  revision         integer NOT NULL DEFAULT 1,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  UNIQUE (book_id, sequence)
);
CREATE INDEX pages_book_status_idx ON pages (book_id, status);

CREATE TABLE stored_objects (
  id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  book_id          uuid NOT NULL REFERENCES books (id),
  page_id          uuid REFERENCES pages (id),
  role             text NOT NULL CHECK (role IN ('original', 'source', 'master', 'derivative', 'ocr', 'pdf', 'alto', 'package')),
  -- Distinguishes objects of one role: e.g. 'webp-1600', 'thumb-320', 'ocr-json', 'hocr'.
  variant          text NOT NULL DEFAULT '',
  -- Page revision this object belongs to (a replaced page gets a new revision; old objects stay).
  revision         integer NOT NULL DEFAULT 1,
  store_key        text NOT NULL,
  version_id       text,
  sha256           char(64) NOT NULL,
  md5              char(32) NOT NULL,
  size             bigint NOT NULL CHECK (size >= 0),
  media_type       text NOT NULL,
  created_at       timestamptz NOT NULL DEFAULT now(),
  superseded_at    timestamptz
);
-- Idempotency: one current object per (book, page, role, variant, revision).
CREATE UNIQUE INDEX stored_objects_current_key
  ON stored_objects (book_id, COALESCE(page_id, '00000000-0000-0000-0000-000000000000'::uuid), role, variant, revision)
  WHERE superseded_at IS NULL;
CREATE INDEX stored_objects_sha256_idx ON stored_objects (sha256);
CREATE INDEX stored_objects_page_idx ON stored_objects (page_id);

-- PREMIS-style events: what happened to which object, when, by which agent, with what outcome.
CREATE TABLE processing_events (
  id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  book_id          uuid REFERENCES books (id),
  page_id          uuid REFERENCES pages (id),
  object_id        uuid REFERENCES stored_objects (id),
  event_type       text NOT NULL,
  agent            text NOT NULL,
  outcome          text NOT NULL CHECK (outcome IN ('success', 'failure', 'warning')),
  detail           text,
  duration_ms      integer,
  occurred_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX processing_events_book_idx ON processing_events (book_id, occurred_at);
CREATE INDEX processing_events_page_idx ON processing_events (page_id, occurred_at);
