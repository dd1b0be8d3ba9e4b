import { defineCheck, type CheckOutcome } from '../../harness/core/check.js'
import type { FindingInput } from '../../harness/core/finding.js'
import { expected } from '../../harness/core/oracle.js'
import type { Actor, AccountNode } from '../../harness/core/topology.js'
import type { CheckContext } from '../../harness/engine/context.js'
import type { Op } from '../../harness/engine/judge.js'
import { anchoring, checkpointOps, jwsIn, verifyCheckpoint, type Checkpoint } from '../../harness/audit/checkpoint.js'
import { trailLabel } from '../../harness/audit/labels.js'
import { AuditTrail, type Reader, type Sent } from '../../harness/audit/trail.js'
import { publishedJwks } from '../forgery/shared.js'

/** Who may ask for one account's checkpoint, and through which operation: its account admin, else a principal. */
function issuer(ctx: CheckContext, ops: ReturnType<typeof checkpointOps>, account: AccountNode): { actor: Actor; op: Op } | undefined {
  const target = { accountId: account.id }
  for (const op of [ops.account, ops.portal]) {
    const actor = op && ctx.topology.actors.find((a) => a.token && (op.tenancy.scope !== 'account' || a.accountId === account.id) && expected(op, a, target) === 'allow')
    if (op && actor) return { actor, op }
  }
  return undefined
}

/**
 * The trail's tail is anchored outside the database (research tenancy-audit-ratelimit.md §2.3: a
 * hash chain shows edits and deletions inside it, not a truncated tail, unless the head is anchored
 * elsewhere; §2.5.6: the head matches the published checkpoint). For each of the run's accounts a
 * checkpoint is obtained on demand through the contract's checkpoint operation (an x-tenancy `read`
 * of a checkpoint resource), its signature verified against the target's JWKS; afterwards the trail
 * is exported, and the event at the checkpoint's seq must exist and carry the checkpoint's hash. A
 * trail shorter than a checkpoint the harness has seen lost its newest events.
 */
export const checkpointAnchored = defineCheck<CheckContext>({
  id: 'audit/checkpoint-anchored',
  suite: 'audit',
  // Alone: it compares signed checkpoints with the trail's head, which must not move under it.
  exclusive: true,
  title: "Audit trail's tail is not anchored by its signed checkpoint",
  severity: 'high', cwe: 353, owasp: 'API8:2023',
  docs: 'tenancy-audit-ratelimit.md §2.3 (tamper evidence: a chain misses tail truncation unless its head is anchored; CloudTrail signed digests), §2.5.6 (integrity: head matches the published checkpoint)',
  async run(ctx): Promise<CheckOutcome> {
    const trail = await AuditTrail.open(ctx)
    if (!(trail instanceof AuditTrail)) return trail
    const missing = (['seq', 'hash'] as const).filter((f) => !trail.mapping.carries(f))
    if (missing.length > 0) return { findings: [], skipped: `the profile's audit.events mapping names no ${missing.join(' or ')}: a checkpoint cannot be matched to an event` }
    const ops = checkpointOps(ctx.contract)
    if (!ops.account && !ops.portal) {
      return { findings: [], skipped: 'the contract has no checkpoint operation (an x-tenancy `read` of a checkpoint resource, e.g. audit-checkpoint.read): nothing anchors the trail outside the database' }
    }
    const jwks = await publishedJwks(ctx)
    if (!jwks || jwks.keys.length === 0) return { findings: [], skipped: 'the contract publishes no JWKS (jwks.read): a checkpoint signature cannot be verified' }

    const findings: FindingInput[] = []
    const seen: { account: AccountNode; checkpoint: Checkpoint; sent: Sent }[] = []
    for (const account of ctx.topology.accounts) {
      const who = issuer(ctx, ops, account)
      if (!who) continue
      const victim = trailLabel(ctx.topology, account.id)
      const sent = await trail.send(who.actor, { method: who.op.method, path: ctx.pathFor(who.op, { accountId: account.id }) })
      const res = sent.response
      const at = { actor: who.actor.label, victim, evidence: res.evidence, operation: { method: who.op.method.toUpperCase(), pathTemplate: who.op.path, operationId: who.op.id } }
      if (res.status !== 200) {
        findings.push(trail.readFailure({ reader: { actor: who.actor, op: who.op, target: { accountId: account.id } }, response: res }))
        continue
      }
      const jws = jwsIn(res.json, res.body)
      if (!jws) {
        findings.push({ ...at, message: `the checkpoint operation answered ${victim}'s checkpoint without a compact JWS: nothing signed anchors the trail`, dedupKey: 'no-jws', severity: 'medium' })
        continue
      }
      const reading = await verifyCheckpoint(jws, jwks)
      if (!reading.ok) {
        findings.push({ ...at, message: `${victim}'s checkpoint: ${reading.message}`, dedupKey: `checkpoint-${reading.problem}`, severity: reading.problem === 'signature' ? 'high' : 'medium' })
        continue
      }
      if (reading.checkpoint.trail !== account.id) {
        findings.push({ ...at, message: `asked for ${victim}'s checkpoint, got one signed for trail ${trailLabel(ctx.topology, reading.checkpoint.trail === 'platform' ? null : reading.checkpoint.trail)}`, dedupKey: 'wrong-trail', severity: 'medium' })
        continue
      }
      seen.push({ account, checkpoint: reading.checkpoint, sent })
    }

    // Later: each trail as exported now must still hold the event every checkpoint names.
    for (const { account, checkpoint: cp, sent } of seen) {
      const victim = trailLabel(ctx.topology, account.id)
      const admin = trail.accountReader(account.id)
      const reader: Reader | undefined = trail.ops.account && admin ? { actor: admin, op: trail.ops.account, target: { accountId: account.id } } : undefined
      const exported = reader ? await trail.exportVia(reader) : await trail.export()
      if (exported.failure) {
        findings.push(trail.readFailure(exported.failure))
        continue
      }
      const events = exported.events.filter((e) => e.accountId === account.id)
      const verdict = anchoring(cp, events)
      // A truncated export proves nothing about its end.
      if (verdict.kind === 'anchored' || exported.truncated) continue
      const signed = `a checkpoint signed ${cp.issuedAt ? `at ${cp.issuedAt} ` : ''}names seq ${cp.seq} with hash ${cp.hash}`
      const message = verdict.kind === 'shorter'
        ? `${victim}'s trail now ends at seq ${verdict.newest}, but ${signed}: its ${cp.seq - verdict.newest} newest event(s) were removed, and the shorter chain hides it`
        : verdict.kind === 'rewritten'
          ? `${victim}'s event at seq ${cp.seq} now has hash ${verdict.found ?? '(none)'}, but ${signed}: the tail was removed and the chain continued over it`
          : `${victim}'s trail has no event at seq ${cp.seq} (later ones exist), but ${signed}`
      findings.push({ message, dedupKey: `${verdict.kind}|${victim}`, actor: reader?.actor.label, victim, evidence: sent.response.evidence })
    }
    return { findings }
  },
})
