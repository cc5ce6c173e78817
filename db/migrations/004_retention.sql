-- Retention rules, item retention dates, legal holds, reviewed disposal with tombstones and
-- certificates, and fixity audit state (issue 6).

-- A rule has a stable key and versions; exactly one version of a key is current. Old versions stay
-- so that every computed date can name the rule version it came from.
CREATE TABLE retention_rules (
  id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  rule_key         text NOT NULL CHECK (rule_key ~ '^[a-z0-9][a-z0-9._-]*$'),
  version          integer NOT NULL CHECK (version >= 1),
  kind             text NOT NULL CHECK (kind IN ('retention', 'closure')),
  name             text NOT NULL,
  register_type    text NOT NULL CHECK (register_type IN ('birth', 'marriage', 'death', 'other')),
  municipality     text,
  year_from        integer CHECK (year_from BETWEEN 1000 AND 9999),
  year_to          integer CHECK (year_to BETWEEN 1000 AND 9999),
  period_years     integer NOT NULL DEFAULT 0 CHECK (period_years >= 0),
  period_months    integer NOT NULL DEFAULT 0 CHECK (period_months >= 0),
  permanent        boolean NOT NULL DEFAULT false,
  trigger          text NOT NULL CHECK (trigger IN ('creation', 'closing-year', 'registry-event')),
  -- For the registry-event trigger: the record type of linked registry records (e.g. 'death').
  trigger_event    text,
  -- Null for closure rules, which restrict access but never dispose.
  action           text CHECK (action IN ('review', 'transfer', 'destroy')),
  change_reason    text NOT NULL,
  created_by       text NOT NULL,
  created_at       timestamptz NOT NULL DEFAULT now(),
  superseded_at    timestamptz,
  UNIQUE (rule_key, version),
  CHECK (year_from IS NULL OR year_to IS NULL OR year_to >= year_from),
  CHECK ((kind = 'closure') = (action IS NULL)),
  CHECK ((trigger = 'registry-event') = (trigger_event IS NOT NULL)),
  CHECK (NOT (permanent AND kind = 'closure'))
);
CREATE UNIQUE INDEX retention_rules_current_key ON retention_rules (rule_key) WHERE superseded_at IS NULL;

-- The computed retention and closure of each book (the unit of disposal; pages follow their book).
CREATE TABLE item_retention (
  book_id          uuid PRIMARY KEY REFERENCES books (id),
  rule_id          uuid REFERENCES retention_rules (id),
  permanent        boolean NOT NULL DEFAULT false,
  trigger_date     date,
  retain_until     date,
  action           text CHECK (action IN ('review', 'transfer', 'destroy')),
  explanation      text NOT NULL,
  closure_rule_id  uuid REFERENCES retention_rules (id),
  closed_until     date,
  closure_explanation text,
  computed_at      timestamptz NOT NULL DEFAULT now(),
  computed_reason  text NOT NULL,
  -- The retain-until last written to the book's objects (Object Lock sync).
  lock_until       timestamptz,
  lock_synced_at   timestamptz
);
CREATE INDEX item_retention_due_idx ON item_retention (retain_until) WHERE retain_until IS NOT NULL;

-- Every change of an item's computed dates, and why.
CREATE TABLE retention_history (
  id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  book_id          uuid NOT NULL REFERENCES books (id),
  rule_id          uuid REFERENCES retention_rules (id),
  old_retain_until date,
  new_retain_until date,
  old_permanent    boolean,
  new_permanent    boolean NOT NULL,
  old_closed_until date,
  new_closed_until date,
  reason           text NOT NULL,
  changed_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX retention_history_book_idx ON retention_history (book_id, changed_at);

CREATE TABLE legal_holds (
  id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name             text NOT NULL,
  reason           text NOT NULL,
  authority        text NOT NULL,
  created_by       text NOT NULL,
  created_at       timestamptz NOT NULL DEFAULT now(),
  released_by      text,
  released_at      timestamptz,
  release_reason   text,
  CHECK ((released_at IS NULL) = (released_by IS NULL))
);
CREATE UNIQUE INDEX legal_holds_active_name_key ON legal_holds (name) WHERE released_at IS NULL;

-- What a hold covers: a whole book, or one page of it.
CREATE TABLE legal_hold_items (
  hold_id          uuid NOT NULL REFERENCES legal_holds (id),
  book_id          uuid NOT NULL REFERENCES books (id),
  page_id          uuid REFERENCES pages (id),
  added_by         text NOT NULL,
  added_at         timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX legal_hold_items_key ON legal_hold_items (hold_id, book_id, COALESCE(page_id, '00000000-0000-0000-0000-000000000000'::uuid));
CREATE INDEX legal_hold_items_book_idx ON legal_hold_items (book_id);

-- Four eyes: the approver must differ from the proposer (checked in code too, for a clear message).
CREATE TABLE disposal_batches (
  id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  status           text NOT NULL CHECK (status IN ('proposed', 'approved', 'rejected', 'executing', 'executed')),
  note             text,
  proposed_by      text NOT NULL,
  proposed_at      timestamptz NOT NULL DEFAULT now(),
  decided_by       text,
  decided_at       timestamptz,
  decision_note    text,
  executed_at      timestamptz,
  report           jsonb,
  CHECK (decided_by IS NULL OR lower(btrim(decided_by)) <> lower(btrim(proposed_by)))
);

-- No foreign key to books: the rows outlive the books they disposed of.
CREATE TABLE disposal_batch_items (
  batch_id         uuid NOT NULL REFERENCES disposal_batches (id),
  book_id          uuid NOT NULL,
  outcome          text NOT NULL DEFAULT 'pending' CHECK (outcome IN ('pending', 'disposed', 'skipped', 'failed')),
  detail           text,
  PRIMARY KEY (batch_id, book_id)
);

-- What remains of a disposed book: identifiers, hashes, rule, approvals and dates; no content.
CREATE TABLE disposal_tombstones (
  book_id          uuid PRIMARY KEY,
  batch_id         uuid NOT NULL REFERENCES disposal_batches (id),
  status           text NOT NULL CHECK (status IN ('deleting', 'disposed')),
  tombstone        jsonb NOT NULL,
  created_at       timestamptz NOT NULL DEFAULT now(),
  disposed_at      timestamptz
);

CREATE TABLE disposal_certificates (
  book_id          uuid PRIMARY KEY REFERENCES disposal_tombstones (book_id),
  certificate      jsonb NOT NULL,
  -- SHA-256 of the certificate's canonical JSON (keys sorted, no whitespace).
  sha256           char(64) NOT NULL,
  issued_at        timestamptz NOT NULL DEFAULT now()
);

-- When each stored object was last audited, so a cycle covers every object.
CREATE TABLE fixity_state (
  object_id        uuid PRIMARY KEY REFERENCES stored_objects (id),
  checked_at       timestamptz NOT NULL,
  outcome          text NOT NULL CHECK (outcome IN ('ok', 'mismatch', 'missing', 'error'))
);

CREATE TABLE fixity_runs (
  id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  scope            jsonb NOT NULL,
  started_at       timestamptz NOT NULL DEFAULT now(),
  finished_at      timestamptz,
  checked          integer NOT NULL DEFAULT 0,
  failed           integer NOT NULL DEFAULT 0,
  report           jsonb
);
