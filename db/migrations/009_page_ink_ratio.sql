-- The share of a page's master covered by ink, measured by the master stage from the pixels it has
-- just decoded, so the OCR stage can tell a blank leaf without decoding the master a second time.
-- Pages mastered before this column existed keep NULL and are measured by the OCR stage as before.
ALTER TABLE pages ADD COLUMN ink_ratio real CONSTRAINT pages_ink_ratio_check CHECK (ink_ratio BETWEEN 0 AND 1);
