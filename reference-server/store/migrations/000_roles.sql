-- Cluster-level roles, created idempotently (several databases in one cluster share them, and test
-- runs may race to create them). Runs as the administrative connection, outside SET ROLE.
--   ta_owner        owns every table; NOLOGIN; RLS is forced on it too
--   ta_runtime      what every request runs as (SET LOCAL ROLE); not superuser, not BYPASSRLS, owns nothing
--   ta_login        a LOGIN role that is a member of ta_runtime only: for deployments (and the privilege
--                   tests) that connect without administrative rights
--   ta_maintenance  BYPASSRLS; exists only so seeded faults can be the realistic bug "a query ran on
--                   the maintenance role" (`document-read-bypasses-rls`, `notes-readable-by-peers`).
--                   Nothing else uses it.
DO $$ BEGIN CREATE ROLE ta_owner NOLOGIN; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
DO $$ BEGIN CREATE ROLE ta_runtime NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
DO $$ BEGIN CREATE ROLE ta_login LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE NOINHERIT; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
DO $$ BEGIN CREATE ROLE ta_maintenance NOLOGIN BYPASSRLS; EXCEPTION WHEN duplicate_object OR unique_violation OR insufficient_privilege THEN NULL; END $$;
DO $$ BEGIN GRANT ta_runtime TO ta_login; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
-- The administrative connection must be able to SET ROLE to both (a superuser already can).
DO $$ BEGIN EXECUTE format('GRANT ta_owner, ta_runtime TO %I', current_user); EXCEPTION WHEN others THEN NULL; END $$;
