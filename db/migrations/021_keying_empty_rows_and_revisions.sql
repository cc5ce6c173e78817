-- Issue 20: a ruled row both keyers answered "blank" in every column is an empty row, not an entry.
-- It is settled as 'empty' (keyings and final answers kept, no entry made), so it leaves the queue
-- and the package without becoming an entry with every field blank.
ALTER TABLE entry_zones DROP CONSTRAINT IF EXISTS entry_zones_status_check;
ALTER TABLE entry_zones ADD CONSTRAINT entry_zones_status_check CHECK (status IN ('open', 'keyed-once', 'disputed', 'verified', 'empty'));

-- A page given a new revision (its image replaced by a rescan) no longer matches the zones drawn on
-- the old image. Detected zones nobody keyed are retired (detection proposes fresh ones); zones
-- keyed, or drawn or corrected by a person, are kept and flagged here until someone reviews them on
-- the zones screen (a move clears the flag).
ALTER TABLE entry_zones ADD COLUMN review_reason text;
ALTER TABLE entry_zones ADD COLUMN review_flagged_at timestamptz;
CREATE INDEX entry_zones_review_idx ON entry_zones (book_id) WHERE review_flagged_at IS NOT NULL AND retired_at IS NULL;
