-- The runtime role reaches no more than a request needs (issue 13 defect 10, an outside review):
--
-- audit_heads had no RLS: as the runtime role with any account context, SELECT saw every trail's head
-- and `UPDATE audit_heads SET hash = 'forged'` moved all of them. Now a head is visible to, and moved
-- and created by, the context that may append to its trail (audit_events_append): the verified
-- account its own, principals (platform_admin, support) any, anyone the platform trail (the nil UUID),
-- to which authentication failures are written before anyone is verified. The owner keeps the whole
-- table for maintenance after switching `app.audit_maintenance` on, as on audit_events (RLS is forced).
--
-- revoked_tokens: revocation inserts (ON CONFLICT DO NOTHING) and the verifier reads; nothing at
-- runtime changes or removes a revocation, so a compromised runtime cannot undo one either.

SET LOCAL ROLE ta_owner;

ALTER TABLE audit_heads ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_heads FORCE ROW LEVEL SECURITY;

CREATE POLICY audit_heads_appender ON audit_heads FOR ALL TO ta_runtime
  USING (trail = '00000000-0000-0000-0000-000000000000'::uuid
         OR trail = NULLIF(current_setting('app.account_id', true), '')::uuid
         OR NULLIF(current_setting('app.platform_role', true), '') IN ('platform_admin', 'support'))
  WITH CHECK (trail = '00000000-0000-0000-0000-000000000000'::uuid
         OR trail = NULLIF(current_setting('app.account_id', true), '')::uuid
         OR NULLIF(current_setting('app.platform_role', true), '') IN ('platform_admin', 'support'));
CREATE POLICY audit_heads_owner ON audit_heads FOR ALL TO ta_owner
  USING (NULLIF(current_setting('app.audit_maintenance', true), '') = 'on')
  WITH CHECK (NULLIF(current_setting('app.audit_maintenance', true), '') = 'on');

REVOKE UPDATE, DELETE ON revoked_tokens FROM ta_runtime;
