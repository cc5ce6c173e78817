-- Users, roles, API tokens, web sessions and the hash-chained audit trail (issue 7).

CREATE TABLE users (
  id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  username         text NOT NULL UNIQUE CHECK (username ~ '^[a-z0-9][a-z0-9._-]{0,63}$'),
  -- scrypt$N$r$p$salt$hash (base64url): the parameters travel with the hash so they can be raised later.
  password_hash    text,
  created_at       timestamptz NOT NULL DEFAULT now(),
  created_by       text NOT NULL,
  disabled_at      timestamptz
);

CREATE TABLE user_roles (
  user_id          uuid NOT NULL REFERENCES users (id),
  role             text NOT NULL CHECK (role IN ('digitiser', 'clerk', 'records_manager', 'auditor', 'admin')),
  granted_at       timestamptz NOT NULL DEFAULT now(),
  granted_by       text NOT NULL,
  PRIMARY KEY (user_id, role)
);

-- Only the SHA-256 of a token is kept: the token itself is shown once, when it is created.
CREATE TABLE api_tokens (
  id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id          uuid NOT NULL REFERENCES users (id),
  name             text NOT NULL,
  token_sha256     text NOT NULL UNIQUE CHECK (token_sha256 ~ '^[0-9a-f]{64}$'),
  created_at       timestamptz NOT NULL DEFAULT now(),
  expires_at       timestamptz NOT NULL,
  revoked_at       timestamptz,
  last_used_at     timestamptz
);
CREATE INDEX api_tokens_user_idx ON api_tokens (user_id);

-- The cookie carries the session id; the table holds its SHA-256, so a read of this table logs nobody in.
CREATE TABLE sessions (
  id_sha256        text PRIMARY KEY CHECK (id_sha256 ~ '^[0-9a-f]{64}$'),
  user_id          uuid NOT NULL REFERENCES users (id),
  csrf_token       text NOT NULL,
  created_at       timestamptz NOT NULL DEFAULT now(),
  expires_at       timestamptz NOT NULL,
  revoked_at       timestamptz,
  ip               text
);
CREATE INDEX sessions_user_idx ON sessions (user_id);

-- Append-only, hash-chained: hash = SHA-256(prev_hash + canonical JSON of the other columns)
-- (audit/chain.ts). Usernames are copied, not referenced, so the trail outlives the account.
CREATE TABLE audit_events (
  seq              bigint PRIMARY KEY CHECK (seq >= 1),
  at               timestamptz NOT NULL,
  actor_id         uuid,
  actor            text NOT NULL,
  action           text NOT NULL,
  target_type      text,
  target_id        text,
  from_addr        text,
  purpose          text,
  outcome          text NOT NULL,
  detail           jsonb,
  prev_hash        text NOT NULL CHECK (prev_hash ~ '^[0-9a-f]{64}$'),
  hash             text NOT NULL UNIQUE CHECK (hash ~ '^[0-9a-f]{64}$')
);
CREATE INDEX audit_events_target_idx ON audit_events (target_type, target_id);
CREATE INDEX audit_events_actor_idx ON audit_events (actor, at);

-- One row, locked FOR UPDATE by every append, so concurrent writers extend one chain.
CREATE TABLE audit_head (
  id               integer PRIMARY KEY CHECK (id = 1)
);
INSERT INTO audit_head (id) VALUES (1);

-- Audit rows are never changed or removed by the application. A deployment also runs, as the owner:
--   REVOKE UPDATE, DELETE, TRUNCATE ON audit_events FROM <app role>;
-- so that even with the trigger disabled the app role cannot rewrite the trail.
CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_events is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER audit_events_no_update BEFORE UPDATE OR DELETE ON audit_events
  FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
  FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only();
