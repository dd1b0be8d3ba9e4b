/**
 * The seeded faults: named, deliberate defects that turn the reference server into known-bad targets.
 * Each one is a single guarded branch at the exact spot it breaks (grep for its name), and names the
 * checks that must catch it. `tenant-audit faults --json` prints this list.
 */
export type FaultSuite = 'access' | 'forgery' | 'ratelimit' | 'audit'

export interface FaultSpec {
  readonly name: string
  readonly suite: FaultSuite
  readonly description: string
  /** Check ids of which at least one must report a finding when this fault is on. */
  readonly detectedBy: readonly string[]
}

const access = (name: string, description: string, detectedBy: string[]): FaultSpec => ({
  name,
  suite: 'access',
  description,
  detectedBy,
})

export const FAULTS = [
  access('document-read-ignores-workspace',
    'GET document looks the id up without the workspace filter (IDOR inside an account; RLS still holds the account wall).',
    ['access/cross-tenant-read', 'access/child-under-foreign-parent', 'access/stateful-model']),
  access('document-list-honours-workspace-param',
    'Document list filters by a `workspaceId` query parameter when present, instead of the authorized workspace.',
    ['access/parameter-pollution', 'access/list-leak']),
  access('document-patch-accepts-workspace',
    'PATCH document applies `workspaceId` from the body, moving the document into another workspace.',
    ['access/mass-assignment']),
  access('workspace-admin-lists-foreign-users',
    "A workspace admin may list the users of any workspace of its account.",
    ['access/cross-tenant-read', 'access/list-leak', 'access/policy-matrix']),
  access('account-admin-foreign-account',
    "An account admin is accepted on another account's workspace: the tenant is taken from the path's workspace, not the token.",
    ['access/cross-tenant-read', 'access/child-under-foreign-parent', 'access/policy-matrix']),
  access('editor-raises-own-role',
    'Any user may PATCH its own user record through the Dashboard, role included.',
    ['access/privilege-escalation', 'access/context-confinement', 'access/policy-matrix']),
  access('workspace-admin-grants-account-admin',
    'A workspace admin may grant `accountRole: admin` (only an account admin may).',
    ['access/privilege-escalation', 'access/mass-assignment']),
  access('support-can-write',
    'A `support` principal may call the Portal write operations.',
    ['access/policy-matrix', 'access/privilege-escalation']),
  access('suspended-account-tokens-work',
    "A suspended account's tokens keep working.",
    ['access/suspended-account']),
  access('notes-readable-by-peers',
    'Private notes can be read by anyone in the workspace, not only their author.',
    ['access/private-notes', 'access/list-leak']),
  access('not-found-echoes-title',
    "The 404 for a document of another workspace names that document's title.",
    ['access/list-leak', 'access/existence-oracle']),
  access('search-spans-workspaces',
    'Document search (`q`) searches every workspace of the account.',
    ['access/list-leak']),
  access('document-write-ignores-workspace',
    'PATCH and DELETE document match the id without the workspace filter: a sibling workspace\'s document can be changed or deleted.',
    ['access/cross-tenant-write', 'access/stateful-model']),
  access('malformed-id-500',
    'Document ids are passed to SQL unvalidated: a non-UUID id fails in the database and answers 500.',
    ['access/id-mutations', 'access/no-server-errors']),
  access('user-token-on-portal',
    "The Portal accepts an account admin's user token as a support principal (the token kind is not checked).",
    ['access/context-confinement', 'access/policy-matrix']),
  access('stale-token-after-removal',
    'Authorization trusts the role and membership in the token instead of re-reading them: removed or demoted users keep their access until the token expires.',
    ['access/stale-membership']),
  access('contract-missing-annotation',
    'The served OpenAPI document omits the x-tenancy annotation of one operation (an unaudited surface).',
    ['access/annotations']),
  access('document-read-bypasses-rls',
    'GET document skips the application check AND runs on the maintenance role, which bypasses RLS: a cross-account read.',
    ['access/cross-tenant-read', 'access/stateful-model']),
] as const satisfies readonly FaultSpec[]

export type FaultName = (typeof FAULTS)[number]['name']

export function faultSpec(name: string): FaultSpec | undefined {
  return FAULTS.find((f) => f.name === name)
}
