import { defineCheck } from '../../harness/core/check.js'
import type { ContractOperation, Tenancy } from '../../harness/core/contract.js'
import type { FindingInput } from '../../harness/core/finding.js'
import type { CheckContext } from '../../harness/engine/context.js'

// The canonical roles of DESIGN §1 (the vocabulary has mapped the deployment's spellings onto them); anything else in `allow` never applies.
const WORKSPACE_ROLES = ['viewer', 'editor', 'admin', 'account_admin']
const PRINCIPAL_ROLES = ['platform_admin', 'support']
const OPEN_CONTEXTS = ['auth', 'public']

/** What is wrong with one annotation, judged against the contract's own rules (DESIGN §2). */
function problemsOf(op: ContractOperation & { tenancy: Tenancy }, params: { account: string; workspace: string }): string[] {
  const { context, scope, allow, owner } = op.tenancy
  const out: string[] = []
  if (scope === 'workspace' && !op.pathParams.includes(params.workspace)) out.push(`scope workspace, but the path has no {${params.workspace}}`)
  if (scope === 'account' && !op.pathParams.includes(params.account)) out.push(`scope account, but the path has no {${params.account}}`)
  if (owner && scope !== 'workspace') out.push(`owner: true on scope ${scope} (owner-only objects live in a workspace)`)
  if ((context === 'portal') !== (scope === 'platform')) out.push(`context ${context} with scope ${scope} (the Portal, and only it, is platform-scoped)`)
  // Public and auth operations are open to all, whatever allow lists; and an allow that lists every
  // role there is (all the roles of its context, or every role of the model) is a way to say "anyone".
  if (OPEN_CONTEXTS.includes(context)) return out
  const ofContext = scope === 'platform' ? PRINCIPAL_ROLES : WORKSPACE_ROLES
  if (ofContext.every((r) => allow.includes(r)) && allow.every((r) => [...WORKSPACE_ROLES, ...PRINCIPAL_ROLES, 'anonymous'].includes(r))) return out
  for (const role of allow) {
    const fits = scope === 'platform' ? PRINCIPAL_ROLES.includes(role) : WORKSPACE_ROLES.includes(role)
    if (fits) continue
    const known = [...WORKSPACE_ROLES, ...PRINCIPAL_ROLES, 'anonymous'].includes(role)
    out.push(known ? `role "${role}" can never act on a ${context}/${scope} operation` : `unknown role "${role}" in allow`)
  }
  return out
}

/**
 * Every documented operation carries a sane `x-tenancy` annotation: an operation without one is
 * surface nobody audits (neither the server's policy nor this harness knows who may call it), and
 * an annotation that contradicts its own path or names roles the model does not have makes the
 * oracle wrong for that operation. No requests: the contract itself is the evidence.
 */
export const annotations = defineCheck<CheckContext>({
  id: 'access/annotations',
  suite: 'access',
  title: 'Operation without a sound x-tenancy annotation (unaudited surface)',
  severity: 'medium', cwe: 1059, owasp: 'API9:2023',
  docs: 'DESIGN.md §2 ("An operation without x-tenancy is itself a finding"); authz-tools.md §3.10, §4 E6, S4; fault contract-missing-annotation',
  async run(ctx) {
    const findings: FindingInput[] = []
    const operation = (op: ContractOperation) => ({ method: op.method.toUpperCase(), pathTemplate: op.path, operationId: op.id })
    for (const op of ctx.contract.unannotated) {
      findings.push({
        message: `${op.method.toUpperCase()} ${op.path} (${op.id}) has no x-tenancy annotation: who may call it is undeclared, so nothing audits it`,
        dedupKey: `unannotated|${op.method}|${op.path}`,
        operation: operation(op),
      })
    }
    for (const op of ctx.contract.annotated) {
      for (const problem of problemsOf(op, ctx.topology.params)) {
        findings.push({
          title: 'Inconsistent x-tenancy annotation',
          message: `${op.method.toUpperCase()} ${op.path} (${op.id}, action ${op.tenancy.action}): ${problem}`,
          dedupKey: `unsound|${op.method}|${op.path}|${problem}`,
          operation: operation(op),
        })
      }
    }
    return { findings }
  },
})
