import { randomBytes } from 'node:crypto'
import { defineCheck, type CheckOutcome } from '../../harness/core/check.js'
import type { FindingInput } from '../../harness/core/finding.js'
import { expected, type OpTarget } from '../../harness/core/oracle.js'
import type { Actor } from '../../harness/core/topology.js'
import type { CheckContext } from '../../harness/engine/context.js'
import type { Op } from '../../harness/engine/judge.js'
import { bodyFromSchema } from '../../harness/provision/bodies.js'
import { newPassword } from '../../harness/provision/session.js'
import { trackedFinding, type Tracked, collapse } from '../../harness/audit/scenarios.js'
import { AuditTrail } from '../../harness/audit/trail.js'

const EMAIL = /^e-?mail$|^username$/i

/**
 * A write that fails after validation leaves no success event — exactly one failure event, or none
 * — and a successful write exactly one success event (research §2.5.1; audit-contract: allowed
 * writes are recorded in the same transaction as the change, so no event exists without its
 * change). The failing write is a create whose unique field (the email) already exists: for every
 * create operation with an email field, once with a taken email and once with a fresh one.
 */
export const failedChanges = defineCheck<CheckContext>({
  id: 'audit/failed-changes',
  suite: 'audit',
  title: 'Failed change recorded as a success',
  severity: 'high', cwe: 778, owasp: 'API8:2023',
  docs: 'tenancy-audit-ratelimit.md §2.5.1 (exactly one event per mutating call), §2.5.7 (logging failure / fail closed); audit-contract.md (same transaction as the change)',
  async run(ctx): Promise<CheckOutcome> {
    const trail = await AuditTrail.open(ctx)
    if (!(trail instanceof AuditTrail)) return trail
    const t = ctx.topology
    const creates = ctx.contract.annotated.filter((o) => o.verb === 'create' && o.tenancy.context !== 'auth' &&
      Object.keys((ctx.contract.resolve(o.requestSchema ?? {}).properties ?? {}) as object).some((k) => EMAIL.test(k)))
    // An email already taken: a provisioned user's for users, a principal's for principals.
    const taken = (op: Op) => t.actors.find((a) => a.username && (op.role === 'principal' ? a.kind === 'principal' : a.kind === 'user'))?.username
    const failed: Tracked[] = []
    const succeeded: Tracked[] = []
    for (const op of creates) {
      const email = taken(op)
      const ws = t.accounts[0]?.workspaces[0]
      const home = (a: Actor): OpTarget => a.kind === 'user' ? { accountId: a.accountId, workspaceId: a.workspaceId } : { accountId: ws?.accountId, workspaceId: ws?.id }
      const actor = t.actors.find((a) => a.token && expected(op, a, home(a)) === 'allow')
      if (!email || !actor) continue
      const target = home(actor)
      const label = `${op.method.toUpperCase()} ${op.path} (${op.tenancy.action}) by ${actor.label}`
      const body = (address: string) => bodyFromSchema(ctx.contract, op.requestSchema ?? {}, { email: address, password: newPassword(), role: 'viewer', platformRole: 'support', label: `ta-${t.tag}-dup` })
      const dup = await trail.probe({ actor, op, target, body: body(email) })
      if (dup.response.status >= 400 && dup.response.status < 500) {
        failed.push({ op, actor, sent: dup.sent, label: `${label} with an email that already exists`, expect: {} })
      }
      const fresh = await trail.probe({ actor, op, target, body: body(`ta-${t.tag}-fresh-${randomBytes(3).toString('hex')}@tenant-audit.test`) })
      if (fresh.response.status >= 200 && fresh.response.status < 300) succeeded.push({ op, actor, sent: fresh.sent, label: `${label} with a fresh email`, expect: {} })
    }
    if (failed.length === 0) return { findings: [], skipped: 'no create operation with a unique email field refused a taken email' }
    // A failed change may legitimately leave no event: wait the whole bound for all of them.
    const seen = await trail.await([...failed, ...succeeded].map((x) => x.sent))
    if (seen.failure) return { findings: [trail.readFailure(seen.failure)] }
    const findings: FindingInput[] = []
    for (const f of failed) {
      const events = seen.events.get(f.sent.requestId) ?? []
      const success = events.filter((e) => e.outcome === 'success')
      if (success.length > 0) findings.push(trackedFinding(f, `the trail records it as a SUCCESS (${events.length} event(s), ${success.length} success): the audit trail claims a change that never happened`, `${f.op.id}|success`))
      else if (events.length > 1) findings.push(trackedFinding(f, `${events.length} failure events for one request (one or none expected)`, `${f.op.id}|duplicate`, { severity: 'low' }))
    }
    for (const s of succeeded) {
      const events = seen.events.get(s.sent.requestId) ?? []
      const success = events.filter((e) => e.outcome === 'success')
      if (success.length !== 1 || events.length !== 1) {
        findings.push(trackedFinding(s, `${events.length} event(s), ${success.length} with outcome success (exactly one success expected)`, `${s.op.id}|control|${Math.min(events.length, 2)}`))
      }
    }
    return { findings: collapse(findings) }
  },
})
