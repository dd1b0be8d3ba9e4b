-- Private notes are their author's alone (DESIGN.md §1, admins included), and now under RLS too
-- (issue 13 s4, an outside review): the comment on `TenantContext.userId` said so, but the policy
-- checked the account only, so a query that forgot `author_id = $user` showed a peer's notes. The
-- request's verified user id is already in `app.user_id` (db.ts); a note is visible to, and written by,
-- its author in its account, nothing else. Cascades (a user or workspace removed) are referential
-- actions, which RLS does not filter.
--
-- The maintenance role (BYPASSRLS) may read notes, as it may read documents (002): only the seeded
-- fault `notes-readable-by-peers` uses it, to be the realistic bug "the author filter was dropped and
-- the read ran past RLS".
DO $$ BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'ta_maintenance') THEN
    GRANT SELECT ON notes TO ta_maintenance;
  END IF;
EXCEPTION WHEN others THEN NULL; END $$;

SET LOCAL ROLE ta_owner;

DROP POLICY notes_tenant ON notes;
CREATE POLICY notes_author ON notes FOR ALL
  USING (account_id = NULLIF(current_setting('app.account_id', true), '')::uuid
         AND author_id = NULLIF(current_setting('app.user_id', true), '')::uuid)
  WITH CHECK (account_id = NULLIF(current_setting('app.account_id', true), '')::uuid
         AND author_id = NULLIF(current_setting('app.user_id', true), '')::uuid);
