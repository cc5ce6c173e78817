-- Entry search by name within a date range (issue 23): the name postings read by word and date.
--
-- entry_name_postings_rank_idx (migration 020) orders a word's postings by creation time, so a
-- search within some years read every posting of the word and dropped the other years' (at 1.2 M
-- entries, 284,103 read for 12,564 kept for one common surname within five years): the cost grew
-- with the archive. Ordered by date after the word, the years asked are one contiguous range.
-- Dates are ISO text ('YYYY', 'YYYY-MM' or 'YYYY-MM-DD', as entries' CHECK holds), compared byte-wise
-- (COLLATE "C") so that the range means the same under any database collation; the columns a
-- search needs are included, so it reads the index alone.
CREATE INDEX entry_name_postings_date_idx ON entry_name_postings (norm, event_date COLLATE "C") INCLUDE (entry_id, role, created_at);
