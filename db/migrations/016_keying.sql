-- Keying handwritten registers (issue 20): register layouts, entry zones on pages, double blind
-- keying, arbitration of differences, and verified zones becoming ordinary entries.

-- Keyed entries are entries like any other, marked by where they came from.
ALTER TABLE entries DROP CONSTRAINT IF EXISTS entries_source_check;
ALTER TABLE entries ADD CONSTRAINT entries_source_check CHECK (source IN ('manual', 'ocr', 'keyed'));

-- Arbitrators of keying differences.
ALTER TABLE user_roles DROP CONSTRAINT IF EXISTS user_roles_role_check;
ALTER TABLE user_roles ADD CONSTRAINT user_roles_role_check CHECK (role IN ('digitiser', 'clerk', 'records_manager', 'auditor', 'admin', 'reviewer'));

-- A register layout: the printed form's columns in order, each mapped to a field, for one register
-- type and period (forms changed every decade or two). Versioned as retention rules are: a key has
-- versions, one current; keyings and zones name the version they were made against, so a version
-- is never rewritten (the trigger below), only superseded.
CREATE TABLE register_layouts (
  id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  layout_key       text NOT NULL CHECK (layout_key ~ '^[a-z0-9][a-z0-9._-]*$'),
  version          integer NOT NULL CHECK (version >= 1),
  name             text NOT NULL,
  register_type    text NOT NULL CHECK (register_type IN ('birth', 'marriage', 'death', 'other')),
  year_from        integer CHECK (year_from BETWEEN 1000 AND 9999),
  year_to          integer CHECK (year_to BETWEEN 1000 AND 9999),
  -- [{"key": "surname", "field": "surname", "label": {"sq": "...", "sr": "..."}}, ...] in column order.
  columns          jsonb NOT NULL CHECK (jsonb_typeof(columns) = 'array' AND jsonb_array_length(columns) > 0),
  change_reason    text NOT NULL,
  created_by       text NOT NULL,
  created_at       timestamptz NOT NULL DEFAULT now(),
  superseded_at    timestamptz,
  UNIQUE (layout_key, version),
  CHECK (year_from IS NULL OR year_to IS NULL OR year_to >= year_from)
);
CREATE UNIQUE INDEX register_layouts_current_key ON register_layouts (layout_key) WHERE superseded_at IS NULL;

CREATE FUNCTION register_layouts_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    RAISE EXCEPTION 'register layout versions are kept: % v% cannot be deleted', OLD.layout_key, OLD.version;
  END IF;
  -- Superseding (once) is the only change a version takes.
  IF OLD.superseded_at IS NOT NULL OR NEW.superseded_at IS NULL
     OR (to_jsonb(NEW) - 'superseded_at') IS DISTINCT FROM (to_jsonb(OLD) - 'superseded_at') THEN
    RAISE EXCEPTION 'register layout versions are not rewritten: make a new version of %', OLD.layout_key;
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER register_layouts_no_rewrite BEFORE UPDATE OR DELETE ON register_layouts
  FOR EACH ROW EXECUTE FUNCTION register_layouts_immutable();

-- The default layouts: the columns of the printed forms the fixture generator draws
-- (fixtures/content.ts COLUMNS), for any period.
INSERT INTO register_layouts (layout_key, version, name, register_type, columns, change_reason, created_by) VALUES
('birth-default', 1, 'Birth register (default form)', 'birth', '[
  {"key": "entryNumber", "field": "entry_number", "label": {"sq": "Nr.", "sr": "Br."}},
  {"key": "dateOfBirth", "field": "event_date", "label": {"sq": "Data e lindjes", "sr": "Datum rođenja"}},
  {"key": "firstName", "field": "given_name", "label": {"sq": "Emri", "sr": "Ime"}},
  {"key": "surname", "field": "surname", "label": {"sq": "Mbiemri", "sr": "Prezime"}},
  {"key": "sex", "field": "sex", "label": {"sq": "Gjinia", "sr": "Pol"}},
  {"key": "fatherName", "field": "father", "label": {"sq": "Emri i babait", "sr": "Ime oca"}},
  {"key": "mother", "field": "mother", "label": {"sq": "Nëna (emri, mbiemri i vajzërisë)", "sr": "Majka (ime, devojačko prezime)"}},
  {"key": "placeOfBirth", "field": "place", "label": {"sq": "Vendi i lindjes", "sr": "Mesto rođenja"}}
]', 'default layout: the columns of the generated register forms', 'system'),
('marriage-default', 1, 'Marriage register (default form)', 'marriage', '[
  {"key": "entryNumber", "field": "entry_number", "label": {"sq": "Nr.", "sr": "Br."}},
  {"key": "dateOfMarriage", "field": "event_date", "label": {"sq": "Data e martesës", "sr": "Datum venčanja"}},
  {"key": "groomFirstName", "field": "given_name", "label": {"sq": "Emri i dhëndrit", "sr": "Ime mladoženje"}},
  {"key": "groomSurname", "field": "surname", "label": {"sq": "Mbiemri i dhëndrit", "sr": "Prezime mladoženje"}},
  {"key": "brideFirstName", "field": "spouse_given_name", "label": {"sq": "Emri i nuses", "sr": "Ime neveste"}},
  {"key": "brideSurname", "field": "spouse_surname", "label": {"sq": "Mbiemri i nuses", "sr": "Prezime neveste"}},
  {"key": "placeOfMarriage", "field": "place", "label": {"sq": "Vendi i martesës", "sr": "Mesto venčanja"}}
]', 'default layout: the columns of the generated register forms', 'system'),
('death-default', 1, 'Death register (default form)', 'death', '[
  {"key": "entryNumber", "field": "entry_number", "label": {"sq": "Nr.", "sr": "Br."}},
  {"key": "dateOfDeath", "field": "event_date", "label": {"sq": "Data e vdekjes", "sr": "Datum smrti"}},
  {"key": "firstName", "field": "given_name", "label": {"sq": "Emri", "sr": "Ime"}},
  {"key": "surname", "field": "surname", "label": {"sq": "Mbiemri", "sr": "Prezime"}},
  {"key": "age", "field": "age", "label": {"sq": "Mosha", "sr": "Starost"}},
  {"key": "placeOfDeath", "field": "place", "label": {"sq": "Vendi i vdekjes", "sr": "Mesto smrti"}}
]', 'default layout: the columns of the generated register forms', 'system');

-- A zone: one entry row of a page, with its cells in the layout's column order. Corrections keep
-- what they replace: a move is a row of entry_zone_changes with the box before and after; a split
-- or merge retires the zones it replaces and makes new ones (source 'corrected').
CREATE TABLE entry_zones (
  id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  book_id          uuid NOT NULL REFERENCES books (id),
  page_id          uuid NOT NULL REFERENCES pages (id),
  layout_id        uuid NOT NULL REFERENCES register_layouts (id),
  x0               integer NOT NULL CHECK (x0 >= 0),
  y0               integer NOT NULL CHECK (y0 >= 0),
  x1               integer NOT NULL,
  y1               integer NOT NULL,
  -- [{"x0":..,"y0":..,"x1":..,"y1":..}, ...] one per layout column, or [] when not known.
  cells            jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(cells) = 'array'),
  source           text NOT NULL CHECK (source IN ('detected', 'drawn', 'corrected')),
  status           text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'keyed-once', 'disputed', 'verified')),
  -- Layout column keys whose two keyings differed (set when the zone became disputed).
  differences      text[] NOT NULL DEFAULT '{}',
  -- The verified answers per column key, and the entry made from them.
  final_fields     jsonb,
  entry_id         uuid REFERENCES entries (id),
  verified_by      text,
  verified_at      timestamptz,
  created_by       text NOT NULL,
  created_at       timestamptz NOT NULL DEFAULT now(),
  retired_by       text,
  retired_at       timestamptz,
  CHECK (x1 > x0 AND y1 > y0),
  CHECK ((status = 'verified') = (entry_id IS NOT NULL))
);
CREATE INDEX entry_zones_page_idx ON entry_zones (page_id, y0) WHERE retired_at IS NULL;
-- The keying queue walks live zones still short of two keyings.
CREATE INDEX entry_zones_queue_idx ON entry_zones (book_id, status) WHERE retired_at IS NULL AND status IN ('open', 'keyed-once');

-- Every correction of a zone: who, when, what it was and what it became.
CREATE TABLE entry_zone_changes (
  id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  zone_id          uuid NOT NULL REFERENCES entry_zones (id),
  op               text NOT NULL CHECK (op IN ('move', 'split', 'merge')),
  before           jsonb NOT NULL,
  after            jsonb NOT NULL,
  -- Zones made by a split or merge.
  result_zone_ids  uuid[] NOT NULL DEFAULT '{}',
  changed_by       text NOT NULL,
  changed_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX entry_zone_changes_zone_idx ON entry_zone_changes (zone_id);

-- A zone handed to a keyer by the keying queue: it counts against the zone's two keyings until it
-- is keyed or goes stale, so a third keyer is not sent to a zone two others are working on.
CREATE TABLE keying_claims (
  zone_id          uuid NOT NULL REFERENCES entry_zones (id),
  keyer            text NOT NULL,
  claimed_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (zone_id, keyer)
);

-- One keyer's answers for one zone: {columnKey: {"value": "as typed"} | {"answer": "illegible"|"blank"}}.
-- A zone has at most two (slot 1 and 2), from two different keyers.
CREATE TABLE keyings (
  id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  zone_id          uuid NOT NULL REFERENCES entry_zones (id),
  slot             smallint NOT NULL CHECK (slot BETWEEN 1 AND 2),
  keyer            text NOT NULL,
  layout_id        uuid NOT NULL REFERENCES register_layouts (id),
  fields           jsonb NOT NULL CHECK (jsonb_typeof(fields) = 'object'),
  warnings         jsonb NOT NULL DEFAULT '[]',
  -- Set on both keyings of a zone when the second arrives: true when every field matched.
  agreed           boolean,
  started_at       timestamptz,
  submitted_at     timestamptz NOT NULL DEFAULT now(),
  UNIQUE (zone_id, slot),
  UNIQUE (zone_id, keyer)
);
CREATE INDEX keyings_keyer_idx ON keyings (keyer);

-- An arbitrator's decision on one differing field of a disputed zone.
CREATE TABLE keying_decisions (
  zone_id          uuid NOT NULL REFERENCES entry_zones (id),
  column_key       text NOT NULL,
  choice           text NOT NULL CHECK (choice IN ('a', 'b', 'typed')),
  -- The answer decided: {"value": ...} or {"answer": ...}; before: the two keyings' answers.
  answer           jsonb NOT NULL,
  before           jsonb NOT NULL,
  -- Keyers whose answer the decision did not keep.
  overruled        text[] NOT NULL DEFAULT '{}',
  decided_by       text NOT NULL,
  decided_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (zone_id, column_key)
);
