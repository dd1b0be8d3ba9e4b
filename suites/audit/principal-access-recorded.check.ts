import { defineCheck, type CheckOutcome } from '../../harness/core/check.js'
import type { FindingInput } from '../../harness/core/finding.js'
import { expected } from '../../harness/core/oracle.js'
import type { CheckContext } from '../../harness/engine/context.js'
import { isRead } from '../../harness/engine/victims.js'
import { expectationProblems } from '../../harness/audit/event.js'
import { AuditTrail, type Sent } from '../../harness/audit/trail.js'
import type { Actor } from '../../harness/core/topology.js'
import type { Op } from '../../harness/engine/judge.js'
import { trackedFinding, type Tracked, collapse } from '../../harness/audit/scenarios.js'

/**
 * A platform principal's access to an account — any Portal call naming it, reads included — shows
 * in **that account's** trail, naming the principal (research §2.5.3: platform-principal actions
 * carry the principal and the affected tenant; CloudTrail's recipientAccountId): a tenant can see
 * who from the platform looked at its data. Each principal reads through each Portal operation that
 * names an account, on the second account of the topology.
 */
export const principalAccessRecorded = defineCheck<CheckContext>({
  id: 'audit/principal-access-recorded',
  suite: 'audit',
  title: "Platform principal's access missing from the account's trail",
  severity: 'high', cwe: 778, owasp: 'API8:2023',
  requires: ['principals'],
  docs: 'tenancy-audit-ratelimit.md §2.5.3 (platform-principal actions carry the principal and the affected tenant), §2.2 (CloudTrail recipientAccountId)',
  async run(ctx): Promise<CheckOutcome> {
    const trail = await AuditTrail.open(ctx)
    if (!(trail instanceof AuditTrail)) return trail
    const t = ctx.topology
    const account = t.accounts[1] ?? t.accounts[0]
    if (!account) return { findings: [], skipped: 'the topology has no account' }
    const ws = account.workspaces[0]
    const { account: accountParam } = t.params
    const reads = ctx.contract.annotated.filter((o) => o.tenancy.context === 'portal' && isRead(o) && o.pathParams.includes(accountParam) && !trail.ops.all.includes(o))
    const calls: Tracked[] = []
    for (const principal of t.actors.filter((a): a is Actor & { token: string } => a.kind === 'principal' && a.token !== undefined)) {
      for (const op of reads.filter((o: Op) => expected(o, principal, { accountId: account.id, workspaceId: ws?.id }) === 'allow')) {
        const target = { accountId: account.id, workspaceId: ws?.id }
        // Reads only: an object parameter other than the tenant's is filled with a seeded object's id.
        const last = op.pathParams.at(-1)!
        const object = last !== accountParam && last !== t.params.workspace ? t.objects.find((o) => o.accountId === account.id && o.resource === op.resource) : undefined
        if (last !== accountParam && last !== t.params.workspace && !object) continue
        const r = await trail.probe({ actor: principal, op, target: { ...target, object }, params: object ? { [last]: object.id } : {} })
        if (r.response.status < 200 || r.response.status > 299) continue
        calls.push({
          op, actor: principal, sent: r.sent as Sent, label: `${op.method.toUpperCase()} ${op.path} (${op.tenancy.action}) by ${principal.label} on ${account.label}`,
          expect: { accountId: account.id, outcome: 'success', actor: { kind: 'principal', uid: principal.id } },
        })
      }
    }
    if (calls.length === 0) return { findings: [], skipped: 'no Portal read naming an account is allowed to any principal of the topology' }
    const seen = await trail.await(calls.map((c) => c.sent))
    if (seen.failure) return { findings: [trail.readFailure(seen.failure)] }
    const findings: FindingInput[] = []
    for (const c of calls) {
      const events = seen.events.get(c.sent.requestId) ?? []
      const inTrail = events.filter((e) => e.accountId === account.id)
      if (inTrail.length === 0) {
        const elsewhere = events.length ? ` (its only event is in trail ${events[0]!.accountId === null ? 'platform' : 'of another account'})` : ''
        findings.push(trackedFinding(c, `no event in ${account.label}'s trail within ${trail.bound} ms${elsewhere}: the tenant cannot see that the platform read its data`, `${c.op.id}|${c.actor.actorKind}|missing`))
        continue
      }
      const problems = expectationProblems(inTrail[0]!, c.expect, trail.mapping)
      if (problems.length > 0) findings.push(trackedFinding(c, `its event in ${account.label}'s trail is wrong: ${problems.join('; ')}`, `${c.op.id}|${c.actor.actorKind}|wrong`))
    }
    return { findings: collapse(findings) }
  },
})
