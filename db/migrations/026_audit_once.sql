-- One audit event per page viewed per session (IIIF Image API): a deep-zoom viewer asks for dozens
-- of tiles a page, each an access of the same page. The first successful read of a key (a hash of
-- the action, the session or token caller, the page revision and the purpose) writes the event in
-- the same transaction as this row; later reads until expires_at write none. Shared by every API
-- process, so several behind one address still audit a page once. Rows past expires_at are pruned.
CREATE TABLE audit_once (
  key_hash    char(64) PRIMARY KEY,
  expires_at  timestamptz NOT NULL
);
CREATE INDEX audit_once_expires_idx ON audit_once (expires_at);
