-- The quarter turn a zone is read under, as zone detection found it: orientation detection is
-- unsure on handwriting (a page read upside down by OSD still shows its table, header row at the
-- bottom), and detection, which finds the header row, knows better. NULL: the page's OCR turn.
ALTER TABLE entry_zones ADD COLUMN turn smallint CHECK (turn IS NULL OR turn IN (0, 90, 180, 270));
