-- What a packaging run stored (its PDF, its bag) before it recorded them. The run that records a
-- basis's package, or finds it recorded by another, removes from the store what an interrupted or
-- overtaken run of that basis stored under other keys: content-addressed objects no row names.
CREATE TABLE package_parts (
  book_id    uuid NOT NULL REFERENCES books (id) ON DELETE CASCADE,
  basis      char(64) NOT NULL,
  store_key  text NOT NULL,
  -- Finds a row naming the key through stored_objects_sha256_idx.
  sha256     char(64) NOT NULL,
  stored_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (book_id, basis, store_key)
);
