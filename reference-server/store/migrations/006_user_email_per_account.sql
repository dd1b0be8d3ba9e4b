-- User e-mails are unique per account, not across the platform (issue 13 defect 6, an outside review):
-- the insert's pre-check ran under RLS, but `ON CONFLICT (email)` met another account's row, so an
-- account admin learnt from a 409 which addresses were users of other tenants. Now the only clash a
-- tenant can meet is in its own account. The same address may be a user of several accounts; the
-- password grant tells them apart by the password (and `workspace_id`, when given).
--
-- A tenant user must never take a platform principal's e-mail (defect 7): the password grant would sign
-- that address in as the tenant user. Principals are invisible to a tenant's context, so the insert asks
-- `principal_email_exists(addr)`, which answers yes or no for one exact address and nothing else. It
-- runs as the owner with `app.principal_lookup` on for its own duration only (switched back before it returns); the policy that lets it
-- read is the owner's, so the runtime role setting that flag itself sees nothing more.

SET LOCAL ROLE ta_owner;

ALTER TABLE users DROP CONSTRAINT users_email_key;
ALTER TABLE users ADD CONSTRAINT users_account_email_key UNIQUE (account_id, email);
CREATE INDEX users_email ON users (email);

CREATE POLICY principals_email_lookup ON principals FOR SELECT TO ta_owner
  USING (NULLIF(current_setting('app.principal_lookup', true), '') = 'on');

CREATE FUNCTION principal_email_exists(addr text) RETURNS boolean
  LANGUAGE plpgsql VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog, public
  AS $$
DECLARE
  prior text := current_setting('app.principal_lookup', true);
  found boolean;
BEGIN
  PERFORM set_config('app.principal_lookup', 'on', true);
  SELECT EXISTS (SELECT 1 FROM public.principals WHERE email = addr) INTO found;
  PERFORM set_config('app.principal_lookup', coalesce(prior, ''), true);
  RETURN found;
END $$;
REVOKE ALL ON FUNCTION principal_email_exists(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION principal_email_exists(text) TO ta_runtime;
