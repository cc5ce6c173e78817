-- Fixity reads each object's recorded store version (issue 17). Bytes written over a key, or a delete
-- marker put on it, no longer pass for damage to the recorded version: they are intrusions, a fifth
-- outcome, reported apart from damage.
ALTER TABLE fixity_state DROP CONSTRAINT fixity_state_outcome_check;
ALTER TABLE fixity_state ADD CONSTRAINT fixity_state_outcome_check CHECK (outcome IN ('ok', 'mismatch', 'missing', 'error', 'intruded'));

-- Every version or delete marker the archive did not write, found above a recorded version. Kept once
-- found, so that a repair writing a new version over it (to restore a deleted recorded version) does
-- not hide it from later audits; reported while it is still in the store.
CREATE TABLE fixity_intrusions (
  store_key        text NOT NULL,
  version_id       text NOT NULL,
  delete_marker    boolean NOT NULL,
  size             bigint NOT NULL,
  -- When the store says it was written.
  appeared_at      timestamptz NOT NULL,
  found_at         timestamptz NOT NULL DEFAULT now(),
  found_by_run     uuid NOT NULL REFERENCES fixity_runs (id),
  PRIMARY KEY (store_key, version_id)
);
