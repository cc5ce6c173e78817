-- Privacy closure that fails closed (issue 18, point 1).
--
-- A default disclosure schedule, in force until records managers change it: closure rules modelled
-- on the Dutch civil-registry disclosure periods, counted from the end of the register's last year
-- (births 100 years, marriages 75, deaths 50). Before, a book no closure rule covered was open to
-- every reader, so an archive without rules showed every register. The rules are ordinary rule
-- versions: a records manager changes one by writing its next version, and a rule of their own for
-- the same record class takes precedence over a default (retention/rules.ts, selectRule). 'other'
-- registers have no default closure.
INSERT INTO retention_rules (rule_key, version, kind, name, register_type, period_years, trigger, change_reason, created_by) VALUES
  ('default-birth-closure', 1, 'closure', 'Birth registers closed 100 years after their last year (default schedule)', 'birth', 100, 'closing-year',
   'default disclosure schedule shipped with Arkiva (modelled on the Dutch civil-registry disclosure periods): review it', 'arkiva default schedule'),
  ('default-marriage-closure', 1, 'closure', 'Marriage registers closed 75 years after their last year (default schedule)', 'marriage', 75, 'closing-year',
   'default disclosure schedule shipped with Arkiva (modelled on the Dutch civil-registry disclosure periods): review it', 'arkiva default schedule'),
  ('default-death-closure', 1, 'closure', 'Death registers closed 50 years after their last year (default schedule)', 'death', 50, 'closing-year',
   'default disclosure schedule shipped with Arkiva (modelled on the Dutch civil-registry disclosure periods): review it', 'arkiva default schedule')
ON CONFLICT DO NOTHING;

-- Every book archived so far is computed again under the schedule by the next retention.stale run;
-- until then a book without a computed closure counts as closed (auth/policy.store.ts).
INSERT INTO retention_stale (book_id, reason)
SELECT id, 'default disclosure schedule installed (migration 013)' FROM books
ON CONFLICT (book_id) DO UPDATE SET reason = EXCLUDED.reason, marked_at = now();

-- A book's record class changed (register type, municipality, years), whatever wrote it: the
-- retention and closure computed for the old class no longer hold. They are withdrawn in the same
-- transaction, so the book is closed (no computed closure) and not due for disposal, and the book
-- is marked stale for the retention.stale job to compute them again.
CREATE FUNCTION retention_withdraw_on_book_class_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.register_type IS NOT DISTINCT FROM OLD.register_type AND NEW.municipality IS NOT DISTINCT FROM OLD.municipality
     AND NEW.year_from IS NOT DISTINCT FROM OLD.year_from AND NEW.year_to IS NOT DISTINCT FROM OLD.year_to THEN
    RETURN NULL;
  END IF;
  DELETE FROM item_retention WHERE book_id = NEW.id;
  INSERT INTO retention_stale (book_id, reason)
  VALUES (NEW.id, 'book metadata changed (register type, municipality or years): retention and closure computed again')
  ON CONFLICT (book_id) DO UPDATE SET reason = EXCLUDED.reason, marked_at = now();
  RETURN NULL;
END $$;

CREATE TRIGGER books_retention_withdraw AFTER UPDATE OF register_type, municipality, year_from, year_to ON books
  FOR EACH ROW EXECUTE FUNCTION retention_withdraw_on_book_class_change();
