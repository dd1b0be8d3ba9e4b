-- The maintenance role may read documents; only the seeded fault `document-read-skips-all-checks` uses it.
DO $$ BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'ta_maintenance') THEN
    GRANT SELECT ON documents TO ta_maintenance;
    EXECUTE format('GRANT ta_maintenance TO %I', current_user);
  END IF;
EXCEPTION WHEN others THEN NULL; END $$;
