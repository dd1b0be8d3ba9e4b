import type { CheckDefinition } from '../core/check.js'
import type { ContractOperation, TargetContract, Tenancy } from '../core/contract.js'
import type { TargetProfile } from '../core/profile.js'
import { ENTITY_ROLES, POLICY_ROLES, type Mapping, type Role } from '../core/vocabulary.js'
import type { TopologyPlan } from '../provision/plan.js'

type Op = ContractOperation & { tenancy: Tenancy }

const SOURCE: Record<Mapping['source'], string> = { profile: 'stated in the profile', 'same name': 'same name', synonym: 'inferred: synonym', structure: 'inferred: structure' }

const opLine = (o: Op) => `${o.verb.padEnd(7)} ${o.method.toUpperCase().padEnd(6)} ${o.path}  [${o.tenancy.context}${o.written && o.written.action !== `${o.resource}.${o.verb}` ? `, ${o.written.action}` : ''}]`

/** The capabilities a provisioned topology will have (what `requires` asks for), known before any request. */
export function plannedCapabilities(contract: TargetContract, plan: TopologyPlan): Set<string> {
  const caps = new Set<string>()
  if (plan.accounts.length >= 2) caps.add('two-accounts')
  if (plan.accounts.some((a) => a.workspaces.length >= 2)) caps.add('two-workspaces')
  if (plan.principals.length > 0 && contract.byRole('principal', 'create', 'portal').length > 0) caps.add('principals')
  const seeded = contract.annotated.filter((o) => o.verb === 'create' && o.tenancy.scope === 'workspace' && o.tenancy.context !== 'portal' && !o.role)
  if (seeded.some((o) => contract.ownerOnly(o.resource))) caps.add('private-objects')
  return caps
}

/** Whether a check will run, and why not: the same `requires` and `applies` the run asks. */
export function verdictOf(check: CheckDefinition<never>, view: { contract: TargetContract; profile: TargetProfile }, caps: Set<string> | undefined): string | undefined {
  const missing = caps ? (check.requires ?? []).filter((c) => !caps.has(c)) : []
  if (missing.length > 0) return `the topology lacks: ${missing.join(', ')}`
  return check.applies?.(view)
}

/**
 * What `inspect` and `run --dry-run` print before any audit request: which operation plays which
 * role (and whether the profile said so or it was inferred), the policy role spellings, the tenant
 * path parameters and claims, the owner-only resources, and for every check whether it will run.
 */
export function describeContract(contract: TargetContract, profile: TargetProfile, params: { account?: string; workspace?: string }): string[] {
  const v = contract.vocabulary
  const source = (kind: Mapping['kind'], role: string) => {
    const m = v.mappings.find((x) => x.kind === kind && x.role === role)
    return m ? SOURCE[m.source] : 'not found'
  }
  const lines = ['vocabulary (role → the deployment\'s name):']
  for (const role of ENTITY_ROLES) {
    const name = v.resources[role]
    lines.push(`  ${role.padEnd(17)} ${name ? `${name}  (${source('resource', role)})` : `— none (set vocabulary.resources.${role} if it has another name)`}`)
    for (const o of contract.byRole(role as Role)) lines.push(`      ${opLine(o)}`)
  }
  for (const role of ['token-revocation', 'key-set'] as const) {
    const name = v.actions[role]
    const key = role === 'token-revocation' ? 'tokenRevocation' : 'keySet'
    lines.push(`  ${role.padEnd(17)} ${name ? `${name}  (${source('action', role)})` : `— none (set vocabulary.actions.${key} if it has another name)`}`)
    for (const o of contract.byRole(role)) lines.push(`      ${opLine(o)}`)
  }
  lines.push('policy roles (as x-tenancy.allow spells them):')
  for (const role of POLICY_ROLES) lines.push(`  ${role.padEnd(17)} ${v.roles[role]}  (${source('role', role)})`)
  lines.push(`path parameters: account {${params.account ?? '?'}}${profile.pathParams.account ? ' (profile)' : ''}, workspace {${params.workspace ?? '?'}}${profile.pathParams.workspace ? ' (profile)' : ''}`)
  const c = profile.claims
  lines.push(`claims: account ${c.accountId}, workspace ${c.workspaceId}, roles ${c.roles} (${c.roleFormat}), platform role ${c.platformRole}`)
  const data = [...new Set(contract.annotated.filter((o) => !o.role && o.tenancy.scope === 'workspace').map((o) => o.resource))]
  const owners = data.filter((r) => contract.ownerOnly(r))
  lines.push(`data resources: ${data.join(', ') || 'none'}`)
  lines.push(`owner-only resources: ${owners.length ? owners.map((r) => `${r} (${contract.byResource(r, 'create')[0]?.tenancy.owner === false ? 'create open to all, reads/writes owner-only' : 'owner-only'})`).join(', ') : 'none'}`)
  if (contract.unannotated.length) lines.push(`operations without x-tenancy: ${contract.unannotated.map((o) => `${o.method.toUpperCase()} ${o.path}`).join(', ')}`)
  return lines
}

export function describeChecks(checks: readonly CheckDefinition<never>[], view: { contract: TargetContract; profile: TargetProfile }, caps: Set<string> | undefined): string[] {
  const lines = [`checks: ${checks.length}`]
  for (const c of checks) {
    const reason = verdictOf(c, view, caps)
    lines.push(`  ${reason ? 'skip' : 'run '}  ${c.id}  (${c.severity})${reason ? ` — ${reason}` : ''}`)
  }
  return lines
}
