-- Events for the state systems that exchange with the registry (issue 21, point 5): a transactional
-- outbox written in the same transaction as the change it reports, the subscriptions admins
-- register, and one delivery row per event and subscription (retries, dead letters, replays).

-- One row per event. Subjects are identifiers only and carry no foreign keys: the events of a book
-- outlive its disposal (a 'book.disposed' event names a book that no longer exists).
CREATE TABLE event_outbox (
  id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  -- Commit-independent order for listings and fan-out (ids are random).
  seq             bigserial NOT NULL UNIQUE,
  type            text NOT NULL CHECK (type IN ('book.archived', 'entry.verified', 'link.made', 'link.ended', 'extract.issued', 'extract.revoked', 'book.disposed')),
  -- The change's transaction time.
  occurred_at     timestamptz NOT NULL DEFAULT now(),
  book_id         uuid,
  entry_id        uuid,
  link_id         uuid,
  record_id       uuid,
  extract_serial  text,
  -- Further identifiers and codes (register type, municipality, status); never names or text read from a page.
  data            jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(data) = 'object'),
  -- Personal data about the subject (an entry's keyed fields): sent only to subscriptions granted a
  -- purpose, and cleared when the subject's book is disposed of.
  personal        jsonb CHECK (personal IS NULL OR jsonb_typeof(personal) = 'object'),
  -- Set once the event has a delivery row for every subscription that wanted it.
  fanned_out_at   timestamptz
);
CREATE INDEX event_outbox_unfanned ON event_outbox (seq) WHERE fanned_out_at IS NULL;
CREATE INDEX event_outbox_book ON event_outbox (book_id) WHERE book_id IS NOT NULL;
CREATE INDEX event_outbox_type_seq ON event_outbox (type, seq);

-- A receiving system. The secret signs every delivery (HMAC-SHA256), so it must be kept in a form
-- the server can use: it is sealed with AES-256-GCM under the server key 'events-secret'
-- (server_keys), never returned by the API after it is made, and never logged.
CREATE TABLE event_subscriptions (
  id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name               text NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 100),
  url                text NOT NULL CHECK (url ~ '^https?://' AND length(url) <= 2000),
  event_types        text[] NOT NULL CHECK (cardinality(event_types) > 0 AND event_types <@ ARRAY['book.archived', 'entry.verified', 'link.made', 'link.ended', 'extract.issued', 'extract.revoked', 'book.disposed']::text[]),
  secret_sealed      bytea NOT NULL,
  -- The purpose (legal basis) under which this system may receive personal data; null: identifiers only.
  purpose            text CHECK (purpose IS NULL OR length(btrim(purpose)) BETWEEN 1 AND 500),
  purpose_granted_by text,
  active             boolean NOT NULL DEFAULT true,
  created_by         text NOT NULL,
  created_at         timestamptz NOT NULL DEFAULT now(),
  updated_at         timestamptz NOT NULL DEFAULT now(),
  CHECK ((purpose IS NULL) = (purpose_granted_by IS NULL))
);

-- One event to one subscription. Attempts count claims (a worker killed mid-delivery used one up);
-- a claim holds a lease so two workers never post the same delivery at once, and a lease that ran
-- out (its worker died) makes the delivery due again: at least once, the same event id each time.
CREATE TABLE event_deliveries (
  event_id          uuid NOT NULL REFERENCES event_outbox (id) ON DELETE CASCADE,
  subscription_id   uuid NOT NULL REFERENCES event_subscriptions (id),
  status            text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'dead')),
  attempts          integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  next_attempt_at   timestamptz NOT NULL DEFAULT now(),
  lease_until       timestamptz,
  -- The queue job holding the lease: the same job run again (its worker died) may take it over.
  lease_job         text,
  last_attempt_at   timestamptz,
  last_status       integer,
  last_error        text,
  delivered_at      timestamptz,
  dead_lettered_at  timestamptz,
  created_at        timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (event_id, subscription_id),
  CHECK ((status = 'delivered') = (delivered_at IS NOT NULL)),
  CHECK ((status = 'dead') = (dead_lettered_at IS NOT NULL))
);
CREATE INDEX event_deliveries_due ON event_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX event_deliveries_dead ON event_deliveries (dead_lettered_at DESC) WHERE status = 'dead';
CREATE INDEX event_deliveries_subscription ON event_deliveries (subscription_id);
