import { HarnessError } from './errors.js'
import type { VocabularySpec } from './profile.js'

/**
 * The one vocabulary layer (STYLE rule 13): the deployment's names — resources, actions, role
 * spellings in `allow`, path parameters, claims — translated once, when the contract is read, into
 * the roles the harness needs. Checks ask for a role (`user`, `token-revocation`, `account_admin`),
 * never for a name such as `users.create`. What the profile states wins; otherwise synonyms and
 * the contract's structure decide, and an ambiguity is one exit-2 line naming the profile key.
 */
export type EntityRole = 'account' | 'workspace' | 'user' | 'principal' | 'audit'
export type OperationRole = 'token-revocation' | 'key-set'
export type Role = EntityRole | OperationRole
export type PolicyRole = 'viewer' | 'editor' | 'admin' | 'account_admin' | 'platform_admin' | 'support'

export const ENTITY_ROLES: readonly EntityRole[] = ['account', 'workspace', 'user', 'principal', 'audit']
export const POLICY_ROLES: readonly PolicyRole[] = ['viewer', 'editor', 'admin', 'account_admin', 'platform_admin', 'support']
/** The role spelling every context understands for "no token". */
export const ANONYMOUS_ROLE = 'anonymous'

/** Where a mapping came from, for `inspect`. */
export type MappingSource = 'profile' | 'same name' | 'synonym' | 'structure'
export interface Mapping { kind: 'resource' | 'action' | 'role'; role: string; name: string; source: MappingSource }

/** An operation as the contract writes it, before the vocabulary is applied. */
export interface RawOperation {
  method: string
  path: string
  pathParams: string[]
  context: string
  scope: string
  action: string
  allow: string[]
  requestSchema?: Record<string, unknown> | undefined
}

const RESOURCE_SYNONYMS: Record<EntityRole, string[]> = {
  account: ['accounts', 'account', 'tenants', 'tenant', 'organizations', 'organization', 'organisations', 'orgs', 'org', 'customers', 'companies'],
  workspace: ['workspaces', 'workspace', 'spaces', 'space', 'projects', 'project', 'environments', 'envs', 'teams', 'team'],
  user: ['users', 'user', 'members', 'member', 'people', 'memberships'],
  principal: ['principals', 'principal', 'operators', 'operator', 'staff', 'admins', 'platform-admins', 'platform_admins'],
  audit: ['audit', 'audits', 'audit-events', 'audit_events', 'auditevents', 'events', 'audit-log', 'audit_log', 'auditlog', 'audit-logs', 'activity', 'activities'],
}
const ACTION_SYNONYMS: Record<OperationRole, string[]> = {
  'token-revocation': ['auth.revoke', 'tokens.revoke', 'token.revoke', 'sessions.revoke', 'session.revoke', 'oauth.revoke', 'oauth2.revoke'],
  'key-set': ['jwks.read', 'keys.read', 'jwks.list', 'keys.list', 'keyset.read', 'key-set.read'],
}
const ROLE_SYNONYMS: Record<PolicyRole, string[]> = {
  viewer: ['viewer', 'reader', 'read', 'readonly', 'read_only', 'read-only', 'guest', 'observer'],
  editor: ['editor', 'writer', 'write', 'contributor', 'author'],
  admin: ['admin', 'owner', 'manager', 'maintainer', 'workspace_admin', 'workspace-admin', 'space_admin', 'project_admin'],
  account_admin: ['account_admin', 'account-admin', 'org_admin', 'org-admin', 'tenant_admin', 'tenant-admin', 'organization_admin', 'account_owner', 'org_owner'],
  platform_admin: ['platform_admin', 'platform-admin', 'superadmin', 'super_admin', 'root', 'operator_admin', 'operator'],
  support: ['support', 'helpdesk', 'support_agent', 'operator_readonly', 'operator_read', 'auditor'],
}
/** Verb synonyms: the canonical verb every check speaks; anything else is a write (DESIGN §2). */
const VERB_SYNONYMS: Record<string, string> = {
  get: 'read', show: 'read', fetch: 'read', view: 'read', retrieve: 'read', describe: 'read',
  add: 'create', new: 'create', insert: 'create', provision: 'create', invite: 'create',
  edit: 'update', patch: 'update', modify: 'update', change: 'update', put: 'update',
  remove: 'delete', destroy: 'delete', del: 'delete',
  index: 'list', all: 'list', query: 'search', find: 'search',
}

export function canonicalVerb(verb: string): string {
  return VERB_SYNONYMS[verb.toLowerCase()] ?? verb
}

export interface Vocabulary {
  /** Role → the deployment's resource name (absent: the contract has none for it). */
  resources: Partial<Record<EntityRole, string>>
  /** Role → the deployment's action for an operation role. */
  actions: Partial<Record<OperationRole, string>>
  /** Canonical policy role → its spelling in the contract's `allow` lists. */
  roles: Record<PolicyRole, string>
  /** Every mapping and where it came from (printed by `inspect`). */
  mappings: Mapping[]
  /** The deployment's resource for a role; '' when the contract has none (so no operation matches it). */
  name(role: EntityRole): string
  /** The entity role a deployment resource plays, if any. */
  roleOfResource(resource: string): EntityRole | undefined
  /** The operation role of a deployment action, if any. */
  roleOfAction(action: string): OperationRole | undefined
  /** Canonical role for a spelling in `allow` (`anonymous` stays; an unknown spelling is returned as is). */
  policyRole(spelling: string): string
  /**
   * The value to send for a policy role in a request body: the member of `choices` (a schema enum)
   * that is its spelling, its canonical name or one of its synonyms; without choices, its spelling.
   */
  roleValue(role: PolicyRole, choices?: readonly unknown[]): string
}

const norm = (s: string) => s.toLowerCase()
const ambiguous = (what: string, key: string, names: string[]) =>
  new HarnessError('ERR_PROFILE_INVALID', `cannot tell which ${what} (${names.join(', ')}); set ${key} in the target profile's vocabulary section`)

function hasLogin(schema: Record<string, unknown> | undefined): boolean {
  const props = Object.keys((schema?.properties ?? {}) as Record<string, unknown>).map(norm)
  return props.some((p) => /e-?mail|username/.test(p)) && props.some((p) => /password/.test(p))
}

function inferResources(ops: readonly RawOperation[], spec: VocabularySpec, mappings: Mapping[]): Partial<Record<EntityRole, string>> {
  const names = [...new Set(ops.map((o) => o.action.split('.')[0]!))]
  const out: Partial<Record<EntityRole, string>> = {}
  const taken = new Set<string>()
  const set = (role: EntityRole, name: string, source: MappingSource) => {
    out[role] = name
    taken.add(name)
    mappings.push({ kind: 'resource', role, name, source })
  }
  for (const role of ENTITY_ROLES) {
    const stated = spec.resources?.[role]
    if (stated) set(role, stated, 'profile')
  }
  for (const role of ENTITY_ROLES) {
    if (out[role]) continue
    const hits = names.filter((n) => !taken.has(n) && RESOURCE_SYNONYMS[role].includes(norm(n)))
    if (hits.length > 1) throw ambiguous(`resource is the ${role}`, `vocabulary.resources.${role}`, hits)
    if (hits[0]) set(role, hits[0], RESOURCE_SYNONYMS[role][0] === norm(hits[0]) ? 'same name' : 'synonym')
  }
  // Structure: Portal creates — no parent is the account (or, with a login schema, the principal),
  // its child the workspace, the grandchild with a login schema the user.
  const creates = ops.filter((o) => o.context === 'portal' && canonicalVerb(o.action.split('.')[1] ?? '') === 'create')
  const resourceOf = (o: RawOperation) => o.action.split('.')[0]!
  const pick = (role: EntityRole, candidates: RawOperation[]) => {
    if (out[role]) return
    const found = [...new Set(candidates.map(resourceOf).filter((n) => !taken.has(n)))]
    if (found.length > 1) throw ambiguous(`resource is the ${role}`, `vocabulary.resources.${role}`, found)
    if (found[0]) set(role, found[0], 'structure')
  }
  pick('account', creates.filter((o) => o.pathParams.length === 0 && !hasLogin(o.requestSchema)))
  pick('principal', creates.filter((o) => o.pathParams.length === 0 && hasLogin(o.requestSchema)))
  pick('workspace', creates.filter((o) => o.pathParams.length === 1 && !hasLogin(o.requestSchema)))
  pick('user', creates.filter((o) => o.pathParams.length === 2 && hasLogin(o.requestSchema)))
  pick('audit', ops.filter((o) => /audit|events?$|activity/i.test(o.path) && o.method === 'get' && o.context !== 'public' && o.context !== 'auth'))
  return out
}

function inferActions(ops: readonly RawOperation[], spec: VocabularySpec, mappings: Mapping[]): Partial<Record<OperationRole, string>> {
  const out: Partial<Record<OperationRole, string>> = {}
  const stated: Record<OperationRole, string | undefined> = { 'token-revocation': spec.actions?.tokenRevocation, 'key-set': spec.actions?.keySet }
  const structural: Record<OperationRole, (o: RawOperation) => boolean> = {
    'token-revocation': (o) => o.context === 'auth' && /revoke|logout/i.test(`${o.action} ${o.path}`),
    'key-set': (o) => o.method === 'get' && /jwks/i.test(o.path),
  }
  for (const role of ['token-revocation', 'key-set'] as const) {
    const s = stated[role]
    if (s) {
      out[role] = s
      mappings.push({ kind: 'action', role, name: s, source: 'profile' })
      continue
    }
    const hits = [...new Set(ops.map((o) => o.action).filter((a) => ACTION_SYNONYMS[role].includes(norm(a))))]
    const found = hits.length > 0 ? hits : [...new Set(ops.filter(structural[role]).map((o) => o.action))]
    const key = role === 'token-revocation' ? 'vocabulary.actions.tokenRevocation' : 'vocabulary.actions.keySet'
    if (found.length > 1) throw ambiguous(`action plays ${role}`, key, found)
    if (found[0]) {
      out[role] = found[0]
      mappings.push({ kind: 'action', role, name: found[0], source: hits.length === 0 ? 'structure' : ACTION_SYNONYMS[role][0] === found[0] ? 'same name' : 'synonym' })
    }
  }
  return out
}

/** Where a spelling appears decides its role when neither the profile nor a synonym does. */
function roleByPlace(spelling: string, ops: readonly RawOperation[]): PolicyRole {
  const where = ops.filter((o) => o.allow.includes(spelling))
  const isWrite = (o: RawOperation) => !['read', 'list', 'search'].includes(canonicalVerb(o.action.split('.')[1] ?? ''))
  if (where.some((o) => o.scope === 'platform')) return where.some((o) => o.scope === 'platform' && isWrite(o)) ? 'platform_admin' : 'support'
  if (where.some((o) => o.scope === 'account')) return 'account_admin'
  if (where.some((o) => o.context === 'dashboard')) return 'admin'
  return where.some(isWrite) ? 'editor' : 'viewer'
}

function inferRoles(ops: readonly RawOperation[], spec: VocabularySpec, mappings: Mapping[]): Record<PolicyRole, string> {
  const spellings = [...new Set(ops.flatMap((o) => o.allow))].filter((s) => s !== ANONYMOUS_ROLE)
  const out: Partial<Record<PolicyRole, string>> = {}
  const claimed = new Map<PolicyRole, string[]>()
  const stated = new Set<string>()
  for (const role of POLICY_ROLES) {
    const s = spec.roles?.[role]
    if (s) {
      out[role] = s
      stated.add(s)
      mappings.push({ kind: 'role', role, name: s, source: 'profile' })
    }
  }
  for (const s of spellings) {
    if (stated.has(s)) continue
    const bySynonym = POLICY_ROLES.filter((r) => !out[r] && ROLE_SYNONYMS[r].includes(norm(s)))
    const role = bySynonym.find((r) => r === norm(s)) ?? (bySynonym.length === 1 ? bySynonym[0]! : roleByPlace(s, ops))
    if (out[role]) continue // the profile named another spelling for this role: this one stays unknown
    claimed.set(role, [...(claimed.get(role) ?? []), s])
  }
  for (const [role, names] of claimed) {
    if (names.length > 1) throw ambiguous(`spelling in x-tenancy.allow is the ${role} role`, `vocabulary.roles.${role}`, names)
    const name = names[0]!
    out[role] = name
    mappings.push({ kind: 'role', role, name, source: name === role ? 'same name' : ROLE_SYNONYMS[role].includes(norm(name)) ? 'synonym' : 'structure' })
  }
  for (const role of POLICY_ROLES) out[role] ??= role
  return out as Record<PolicyRole, string>
}

/** Builds the vocabulary of one contract: the profile's statements first, then inference. */
export function buildVocabulary(ops: readonly RawOperation[], spec: VocabularySpec = {}): Vocabulary {
  const mappings: Mapping[] = []
  const resources = inferResources(ops, spec, mappings)
  const actions = inferActions(ops, spec, mappings)
  const roles = inferRoles(ops, spec, mappings)
  const byResource = new Map(Object.entries(resources).map(([role, name]) => [name, role as EntityRole]))
  const byAction = new Map(Object.entries(actions).map(([role, name]) => [name, role as OperationRole]))
  const bySpelling = new Map(Object.entries(roles).map(([role, name]) => [name, role]))
  return {
    resources, actions, roles, mappings,
    name: (role) => resources[role] ?? '',
    roleOfResource: (resource) => byResource.get(resource),
    roleOfAction: (action) => byAction.get(action),
    policyRole: (spelling) => (spelling === ANONYMOUS_ROLE ? spelling : bySpelling.get(spelling) ?? spelling),
    roleValue(role, choices) {
      const candidates = [roles[role], role, ...ROLE_SYNONYMS[role]]
      if (!choices?.length) return roles[role]
      return (candidates.find((c) => choices.includes(c)) ?? roles[role])
    },
  }
}

/**
 * A skip reason for a missing operation, in the deployment's terms and the role's:
 * "the contract has no update or create of the user role (resource members) outside the Portal".
 */
export function lacking(v: Vocabulary, role: EntityRole, what: string): string {
  const name = v.resources[role]
  return name
    ? `the contract has no ${what} of the ${role} role (x-tenancy resource ${name})`
    : `no resource of the contract plays the ${role} role, so it has no ${what} of it (set vocabulary.resources.${role} in the profile if it has another name)`
}
