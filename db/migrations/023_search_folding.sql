-- Search forms read Dj as D (issue 23): Serbian Đ is written Dj in plain ASCII, so Đorđević,
-- Djordjevic, Dordevic and Ђорђевић now share the form `dordevic` (search/normalise.ts
-- normaliseWord). The new form of every stored one is the old form with each "dj" replaced, so
-- the stored forms are re-derived here without their source text; the triggers of migrations 006
-- and 020 move the page and name postings with them.
--
-- Words that mix scripts (an OCR misreading, folded to one script by normaliseWord from now on)
-- keep the form they were indexed with until their page is indexed again: the old form cannot be
-- told apart from a single-script word's without the text, and they are rare.
UPDATE page_words SET norm = replace(norm, 'dj', 'd') WHERE norm LIKE '%dj%';
UPDATE entry_names SET norm = replace(norm, 'dj', 'd') WHERE norm LIKE '%dj%';
UPDATE entries SET place_norm = replace(place_norm, 'dj', 'd') WHERE place_norm LIKE '%dj%';
UPDATE registry_records SET names_norm = replace(names_norm, 'dj', 'd') WHERE names_norm LIKE '%dj%';

-- The old forms are no longer held by any page or name (the vocabularies keep forms until pruned).
DELETE FROM search_terms s WHERE s.norm LIKE '%dj%' AND NOT EXISTS (SELECT 1 FROM page_terms t WHERE t.norm = s.norm);
DELETE FROM entry_name_terms v WHERE v.norm LIKE '%dj%' AND NOT EXISTS (SELECT 1 FROM entry_name_postings n WHERE n.norm = v.norm);
