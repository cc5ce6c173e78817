-- Rebuilding the catalogue from the object store (issue 25, `arkiva catalogue rebuild`). A rebuild
-- writes each book in one transaction together with the note that it is done, so a rebuild killed
-- half-way is run again from where it stopped: books already written are skipped, the book in
-- flight had rolled back. Only a database holding a rebuild that has not finished may be rebuilt
-- into when it is not empty: the rows it holds are that rebuild's own.
CREATE TABLE catalogue_rebuilds (
  id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  -- The bucket (or folder) read: a resume against another store is refused.
  store            text NOT NULL,
  started_at       timestamptz NOT NULL DEFAULT now(),
  -- The phases finished so far, in order (rules, records, holds, disposals, books, audit, queue).
  phases_done      text[] NOT NULL DEFAULT '{}',
  books_done       integer NOT NULL DEFAULT 0,
  pages_done       integer NOT NULL DEFAULT 0,
  -- What could not be placed, and the figures of the finished rebuild.
  report           jsonb,
  finished_at      timestamptz
);
-- At most one rebuild in flight.
CREATE UNIQUE INDEX catalogue_rebuilds_open_key ON catalogue_rebuilds ((true)) WHERE finished_at IS NULL;

-- The books a rebuild has written (by book id, the natural id the store's records carry).
CREATE TABLE catalogue_rebuild_books (
  rebuild_id       uuid NOT NULL REFERENCES catalogue_rebuilds (id),
  book_id          uuid NOT NULL,
  pages            integer NOT NULL,
  done_at          timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (rebuild_id, book_id)
);
