-- Keys the server keeps for itself (never a user's secret), generated once and shared through the
-- database by every API process and CLI command of one deployment, so none needs configuring.
-- 'search-cursor' seals search cursors (AES-256-GCM): a caller cannot read which page a cursor
-- stands on, nor make one up.
CREATE TABLE server_keys (
  name text PRIMARY KEY,
  key bytea NOT NULL CONSTRAINT server_keys_key_check CHECK (octet_length(key) = 32),
  created_at timestamptz NOT NULL DEFAULT now()
);
