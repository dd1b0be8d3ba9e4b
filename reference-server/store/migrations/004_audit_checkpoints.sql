-- Signed checkpoints of the audit trails' heads (issue 12): the (trail, seq, hash) of a trail's newest
-- event at one moment, signed as a JWS (`typ: audit-checkpoint+jwt`) with a key in the JWKS. Kept in
-- a table of their own, so an operator who deletes the newest events leaves the checkpoints that name
-- them; the copies that anchor a trail are the ones handed out (on demand, through the contract).
-- The runtime role may INSERT and SELECT checkpoints, never UPDATE or DELETE them; RLS as on the events:
-- a tenant sees its own trail's checkpoints, principals every trail's.

SET LOCAL ROLE ta_owner;

CREATE TABLE audit_checkpoints (
  id         uuid PRIMARY KEY,
  trail      uuid NOT NULL,
  account_id uuid,            -- no foreign key: a deleted account's checkpoints outlive it, like its trail
  seq        bigint NOT NULL CHECK (seq >= 0),
  hash       text,            -- null only for an empty trail (seq 0)
  issued_at  timestamptz NOT NULL,
  jws        text NOT NULL,
  CHECK ((account_id IS NULL AND trail = '00000000-0000-0000-0000-000000000000') OR trail = account_id)
);
CREATE INDEX audit_checkpoints_trail ON audit_checkpoints (trail, seq);

ALTER TABLE audit_checkpoints ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_checkpoints FORCE ROW LEVEL SECURITY;

CREATE POLICY audit_checkpoints_read ON audit_checkpoints FOR SELECT USING (
  account_id = NULLIF(current_setting('app.account_id', true), '')::uuid
  OR NULLIF(current_setting('app.platform_role', true), '') IN ('platform_admin', 'support'));
-- Written where events are written: the verified tenant's trail, any trail by principals, the platform
-- trail by anyone (periodic checkpoints follow the appends that trigger them).
CREATE POLICY audit_checkpoints_append ON audit_checkpoints FOR INSERT WITH CHECK (
  account_id IS NULL
  OR account_id = NULLIF(current_setting('app.account_id', true), '')::uuid
  OR NULLIF(current_setting('app.platform_role', true), '') IN ('platform_admin', 'support'));

GRANT SELECT, INSERT ON audit_checkpoints TO ta_runtime;
