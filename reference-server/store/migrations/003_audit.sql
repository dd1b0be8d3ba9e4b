-- The audit trail (issue 6). One hash chain per trail: an account's trail, or the platform trail
-- (account_id NULL; `trail` is the nil UUID so (trail, seq) is a plain unique key and orders first).
-- The runtime role may INSERT and SELECT events, never UPDATE or DELETE them; RLS is forced as on
-- every tenant table: a tenant sees its own account's trail, principals see every trail.
-- Appends are serialised per trail by locking the trail's head row (`audit_heads`) FOR UPDATE in the
-- transaction that inserts the event, so concurrent requests of one account cannot fork the chain.

SET LOCAL ROLE ta_owner;

CREATE TABLE audit_events (
  id                  uuid PRIMARY KEY,
  trail               uuid NOT NULL,
  account_id          uuid,             -- no foreign key: a deleted account's trail outlives it
  seq                 bigint NOT NULL CHECK (seq >= 1),
  prev_hash           text,
  hash                text NOT NULL,
  time                timestamptz NOT NULL,
  action              text NOT NULL,
  outcome             text NOT NULL CHECK (outcome IN ('success', 'failure')),
  request_id          text,
  actor_workspace_id  uuid,
  target_workspace_id uuid,
  event               jsonb NOT NULL,   -- the event exactly as hashed (every field but `hash`)
  UNIQUE (trail, seq),
  CHECK ((account_id IS NULL AND trail = '00000000-0000-0000-0000-000000000000') OR trail = account_id)
);
CREATE INDEX audit_events_request ON audit_events (request_id);
CREATE INDEX audit_events_workspace ON audit_events (account_id, actor_workspace_id);
CREATE INDEX audit_events_target_workspace ON audit_events (account_id, target_workspace_id);

-- The head of each trail: the last seq and hash. Holds no tenant data beyond the chain position.
CREATE TABLE audit_heads (
  trail uuid PRIMARY KEY,
  seq   bigint NOT NULL DEFAULT 0,
  hash  text
);

ALTER TABLE audit_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_events FORCE ROW LEVEL SECURITY;

CREATE POLICY audit_events_read ON audit_events FOR SELECT USING (
  account_id = NULLIF(current_setting('app.account_id', true), '')::uuid
  OR NULLIF(current_setting('app.platform_role', true), '') IN ('platform_admin', 'support'));
-- Events are written into the verified tenant's trail, by principals into any trail, and by anyone into
-- the platform trail (authentication failures have no verified tenant).
CREATE POLICY audit_events_append ON audit_events FOR INSERT WITH CHECK (
  account_id IS NULL
  OR account_id = NULLIF(current_setting('app.account_id', true), '')::uuid
  OR NULLIF(current_setting('app.platform_role', true), '') IN ('platform_admin', 'support'));
-- The owner (operators) is the only role that can change or remove an event, and only after switching
-- `app.audit_maintenance` on in its transaction (fail-closed like every policy); a change is what chain
-- verification exists to detect.
CREATE POLICY audit_events_owner ON audit_events FOR ALL TO ta_owner
  USING (NULLIF(current_setting('app.audit_maintenance', true), '') = 'on')
  WITH CHECK (NULLIF(current_setting('app.audit_maintenance', true), '') = 'on');

GRANT SELECT, INSERT ON audit_events TO ta_runtime;
GRANT SELECT, INSERT, UPDATE ON audit_heads TO ta_runtime;
