-- The whole schema. Runs as the connecting (administrative) role inside one transaction; objects are
-- created under SET LOCAL ROLE ta_owner so the runtime role owns nothing. Every tenant table has RLS
-- enabled AND forced, with USING and WITH CHECK written as NULLIF(current_setting(..., true), '')::uuid:
-- after the first use in a session an unset setting reads back as '' and must mean "no tenant".

GRANT CREATE, USAGE ON SCHEMA public TO ta_owner;
GRANT USAGE ON SCHEMA public TO ta_runtime;
SET LOCAL ROLE ta_owner;

CREATE TABLE accounts (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name        text NOT NULL,
  status      text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended')),
  rate_limit  jsonb,
  created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE workspaces (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  account_id  uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  name        text NOT NULL,
  environment text NOT NULL CHECK (environment IN ('development', 'staging', 'production')),
  created_at  timestamptz NOT NULL DEFAULT now(),
  UNIQUE (account_id, id)
);

CREATE TABLE users (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  account_id    uuid NOT NULL,
  workspace_id  uuid NOT NULL,
  email         text NOT NULL UNIQUE CHECK (email = lower(email)),
  password_hash text NOT NULL,
  role          text NOT NULL CHECK (role IN ('viewer', 'editor', 'admin')),
  account_role  text CHECK (account_role IN ('admin')),
  created_at    timestamptz NOT NULL DEFAULT now(),
  FOREIGN KEY (account_id, workspace_id) REFERENCES workspaces (account_id, id) ON DELETE CASCADE
);

CREATE TABLE principals (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  email         text NOT NULL UNIQUE CHECK (email = lower(email)),
  password_hash text NOT NULL,
  platform_role text NOT NULL CHECK (platform_role IN ('platform_admin', 'support')),
  created_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE documents (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  account_id   uuid NOT NULL,
  workspace_id uuid NOT NULL,
  created_by   uuid NOT NULL,
  title        text NOT NULL,
  body         text NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now(),
  FOREIGN KEY (account_id, workspace_id) REFERENCES workspaces (account_id, id) ON DELETE CASCADE
);
CREATE INDEX documents_workspace ON documents (account_id, workspace_id, id);

CREATE TABLE notes (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  account_id   uuid NOT NULL,
  workspace_id uuid NOT NULL,
  author_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  title        text NOT NULL,
  body         text NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now(),
  FOREIGN KEY (account_id, workspace_id) REFERENCES workspaces (account_id, id) ON DELETE CASCADE
);
CREATE INDEX notes_author ON notes (account_id, workspace_id, author_id, id);

-- Opaque refresh tokens, stored as SHA-256 hashes; a family is one login's chain of rotations.
CREATE TABLE refresh_tokens (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  token_hash   text NOT NULL UNIQUE,
  family_id    uuid NOT NULL,
  user_id      uuid REFERENCES users (id) ON DELETE CASCADE,
  principal_id uuid REFERENCES principals (id) ON DELETE CASCADE,
  account_id   uuid REFERENCES accounts (id) ON DELETE CASCADE,
  workspace_id uuid,
  expires_at   timestamptz NOT NULL,
  used_at      timestamptz,
  revoked_at   timestamptz,
  created_at   timestamptz NOT NULL DEFAULT now(),
  CHECK ((user_id IS NULL) <> (principal_id IS NULL))
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);

-- Revoked access tokens by jti (never by token bytes: re-encoding must not bypass it).
CREATE TABLE revoked_tokens (
  jti        text PRIMARY KEY,
  expires_at timestamptz NOT NULL
);

ALTER TABLE accounts       ENABLE ROW LEVEL SECURITY;
ALTER TABLE accounts       FORCE ROW LEVEL SECURITY;
ALTER TABLE workspaces     ENABLE ROW LEVEL SECURITY;
ALTER TABLE workspaces     FORCE ROW LEVEL SECURITY;
ALTER TABLE users          ENABLE ROW LEVEL SECURITY;
ALTER TABLE users          FORCE ROW LEVEL SECURITY;
ALTER TABLE principals     ENABLE ROW LEVEL SECURITY;
ALTER TABLE principals     FORCE ROW LEVEL SECURITY;
ALTER TABLE documents      ENABLE ROW LEVEL SECURITY;
ALTER TABLE documents      FORCE ROW LEVEL SECURITY;
ALTER TABLE notes          ENABLE ROW LEVEL SECURITY;
ALTER TABLE notes          FORCE ROW LEVEL SECURITY;
ALTER TABLE refresh_tokens ENABLE ROW LEVEL SECURITY;
ALTER TABLE refresh_tokens FORCE ROW LEVEL SECURITY;

-- accounts: a user sees its own; principals see all; only platform_admin writes.
CREATE POLICY accounts_read ON accounts FOR SELECT USING (
  id = NULLIF(current_setting('app.account_id', true), '')::uuid
  OR NULLIF(current_setting('app.platform_role', true), '') IN ('platform_admin', 'support'));
CREATE POLICY accounts_insert ON accounts FOR INSERT WITH CHECK (
  NULLIF(current_setting('app.platform_role', true), '') = 'platform_admin');
CREATE POLICY accounts_update ON accounts FOR UPDATE
  USING (NULLIF(current_setting('app.platform_role', true), '') = 'platform_admin')
  WITH CHECK (NULLIF(current_setting('app.platform_role', true), '') = 'platform_admin');
CREATE POLICY accounts_delete ON accounts FOR DELETE USING (
  NULLIF(current_setting('app.platform_role', true), '') = 'platform_admin');

-- workspaces: account-wide inside the tenant (account admins list and create them); principals see all.
CREATE POLICY workspaces_read ON workspaces FOR SELECT USING (
  account_id = NULLIF(current_setting('app.account_id', true), '')::uuid
  OR NULLIF(current_setting('app.platform_role', true), '') IN ('platform_admin', 'support'));
CREATE POLICY workspaces_write ON workspaces FOR ALL
  USING (account_id = NULLIF(current_setting('app.account_id', true), '')::uuid
         OR NULLIF(current_setting('app.platform_role', true), '') = 'platform_admin')
  WITH CHECK (account_id = NULLIF(current_setting('app.account_id', true), '')::uuid
         OR NULLIF(current_setting('app.platform_role', true), '') = 'platform_admin');

-- users: account-wide wall (workspace separation is the application's check, and the seeded faults
-- show what happens when it fails); a login may see exactly the row of the email being logged in.
CREATE POLICY users_read ON users FOR SELECT USING (
  account_id = NULLIF(current_setting('app.account_id', true), '')::uuid
  OR NULLIF(current_setting('app.platform_role', true), '') IN ('platform_admin', 'support')
  OR email = NULLIF(current_setting('app.login_email', true), ''));
CREATE POLICY users_write ON users FOR ALL
  USING (account_id = NULLIF(current_setting('app.account_id', true), '')::uuid
         OR NULLIF(current_setting('app.platform_role', true), '') = 'platform_admin')
  WITH CHECK (account_id = NULLIF(current_setting('app.account_id', true), '')::uuid
         OR NULLIF(current_setting('app.platform_role', true), '') = 'platform_admin');

-- principals: platform-level; visible to principals and to the login of that email.
CREATE POLICY principals_read ON principals FOR SELECT USING (
  NULLIF(current_setting('app.platform_role', true), '') IN ('platform_admin', 'support')
  OR email = NULLIF(current_setting('app.login_email', true), ''));
CREATE POLICY principals_write ON principals FOR ALL
  USING (NULLIF(current_setting('app.platform_role', true), '') = 'platform_admin')
  WITH CHECK (NULLIF(current_setting('app.platform_role', true), '') = 'platform_admin');

-- documents and notes: the account (tenant) is the hard wall, with no principal clause (the Portal has
-- no document routes). Workspace and authorship are the application's checks: RLS is the second wall
-- against a query that forgets its tenant, not a copy of the role table.
CREATE POLICY documents_tenant ON documents FOR ALL
  USING (account_id = NULLIF(current_setting('app.account_id', true), '')::uuid)
  WITH CHECK (account_id = NULLIF(current_setting('app.account_id', true), '')::uuid);

CREATE POLICY notes_tenant ON notes FOR ALL
  USING (account_id = NULLIF(current_setting('app.account_id', true), '')::uuid)
  WITH CHECK (account_id = NULLIF(current_setting('app.account_id', true), '')::uuid);

-- refresh tokens: reachable only by the hash being presented or the family being rotated or revoked.
CREATE POLICY refresh_tokens_presented ON refresh_tokens FOR ALL
  USING (token_hash = NULLIF(current_setting('app.refresh_hash', true), '')
         OR family_id = NULLIF(current_setting('app.refresh_family', true), '')::uuid)
  WITH CHECK (family_id = NULLIF(current_setting('app.refresh_family', true), '')::uuid);

GRANT SELECT, INSERT, UPDATE, DELETE ON accounts, workspaces, users, principals, documents, notes,
  refresh_tokens, revoked_tokens TO ta_runtime;
