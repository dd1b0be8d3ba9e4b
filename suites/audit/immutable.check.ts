import { createRequire } from 'node:module'
import { defineCheck, type CheckOutcome } from '../../harness/core/check.js'
import type { FindingInput } from '../../harness/core/finding.js'
import { expected, type OpTarget } from '../../harness/core/oracle.js'
import type { Actor } from '../../harness/core/topology.js'
import type { CheckContext } from '../../harness/engine/context.js'
import type { Op } from '../../harness/engine/judge.js'
import { verifyChain } from '../../harness/audit/chain.js'
import type { MappedEvent } from '../../harness/audit/mapping.js'
import { AuditTrail, type Reader, type Sent } from '../../harness/audit/trail.js'
import { collapse } from '../../harness/audit/scenarios.js'

const canonicalize = createRequire(import.meta.url)('canonicalize') as (input: unknown) => string | undefined

interface Attempt { actor: Actor; op: Op; sent: Sent }

/** Marks what the harness tried to write into the trail, so an injected event is recognised in any shape. */
const TAMPER = 'tenant-audit-tamper'

/**
 * No API changes or deletes an event (research §2.5.6; ISO 27002 8.15: logs protected from
 * modification and deletion): DELETE, PATCH, PUT and POST on every audit route and on
 * `<route>/{eventId}`, each with the most privileged token that route allows. Then the trail is
 * exported again: every event still there and byte-for-byte the same (RFC 8785), nothing injected,
 * and the chain still verifies (when the profile says how it is hashed).
 */
export const immutable = defineCheck<CheckContext>({
  id: 'audit/immutable',
  suite: 'audit',
  // Alone: on a faulty target its attempts may really delete or change events other checks look for.
  exclusive: true,
  title: 'Audit events can be changed or deleted through the API',
  severity: 'critical', cwe: 284, owasp: 'API5:2023',
  docs: 'tenancy-audit-ratelimit.md §2.5.6 (integrity: editing or deleting a row is detected), §2.4 (ISO 27002 8.15: logs protected from modification and deletion)',
  async run(ctx): Promise<CheckOutcome> {
    const trail = await AuditTrail.open(ctx)
    if (!(trail instanceof AuditTrail)) return trail
    const account = ctx.topology.accounts[0]
    if (!account) return { findings: [], skipped: 'the topology has no account' }
    // The trail under attack: the first account's, read through the Portal when there is one.
    const [principal] = trail.portalReaders()
    const admin = trail.accountReader(account.id)
    const reader: Reader | undefined = trail.ops.portal && principal
      ? { actor: principal, op: trail.ops.portal, target: {}, query: { accountId: account.id } }
      : trail.ops.account && admin ? { actor: admin, op: trail.ops.account, target: { accountId: account.id } } : undefined
    if (!reader) return { findings: [], skipped: `nobody in the topology may read ${account.label}'s trail` }
    const before = await trail.exportVia(reader)
    if (before.failure) return { findings: [trail.readFailure(before.failure)] }
    const victim = before.events.at(-1)
    if (!victim) return { findings: [{ message: `${account.label}'s trail is empty: there is nothing to protect`, dedupKey: 'empty', severity: 'medium' }] }

    // The most privileged caller of each audit route, on the first account (and its first workspace).
    const attempts: Attempt[] = []
    // The forged event: the victim as served, with the tamper marker (and the other outcome, where the profile says where it is).
    const fake: Record<string, unknown> = victim.raw && typeof victim.raw === 'object' && !Array.isArray(victim.raw) ? structuredClone(victim.raw as Record<string, unknown>) : {}
    {
      fake.reason = TAMPER
      const outcomePath = trail.mapping.paths.outcome
      const other = trail.mapping.config.outcomes[victim.outcome === 'success' ? 'failure' : 'success'][0]
      if (outcomePath?.kind === 'pointer' && /^\/[^/]+$/.test(outcomePath.expression)) fake[outcomePath.expression.slice(1).replace(/~1/g, '/').replace(/~0/g, '~')] = other
    }
    const victimId = victim.id ?? victim.hash
    for (const op of trail.ops.all) {
      const target: OpTarget = op.tenancy.scope === 'platform' ? {} : { accountId: account.id, workspaceId: op.tenancy.scope === 'workspace' ? account.workspaces[0]?.id : undefined }
      const rank = (a: Actor) => (a.platformRole === 'platform_admin' ? 0 : a.kind === 'principal' ? 1 : a.accountRole === 'admin' ? 2 : a.role === 'admin' ? 3 : 4)
      const actor = ctx.topology.actors.filter((a) => a.token && expected(op, a, target) === 'allow').sort((a, b) => rank(a) - rank(b))[0]
      if (!actor) continue
      const base = ctx.pathFor(op, target)
      const one = victimId === undefined ? undefined : `${base}/${encodeURIComponent(victimId)}`
      const calls: { method: string; path: string; body?: unknown }[] = [
        ...(one ? [
          { method: 'DELETE', path: one },
          { method: 'PATCH', path: one, body: { outcome: fake.outcome, reason: TAMPER } },
          { method: 'PUT', path: one, body: fake },
        ] : []),
        { method: 'DELETE', path: base },
        { method: 'PATCH', path: base, body: { outcome: fake.outcome, reason: TAMPER } },
        { method: 'PUT', path: base, body: [fake] },
        { method: 'POST', path: base, body: { ...fake, id: undefined, seq: undefined } },
      ]
      for (const c of calls) attempts.push({ actor, op, sent: await trail.send(actor, { method: c.method, path: c.path, body: c.body, query: reader.query?.accountId && op === reader.op ? { accountId: account.id } : undefined }) })
    }

    const after = await trail.exportVia(reader)
    if (after.failure) return { findings: [trail.readFailure(after.failure)] }
    const findings: FindingInput[] = []
    const accepted = attempts.filter((a) => a.sent.response.status >= 200 && a.sent.response.status < 300)
    const culprits = accepted.map((a) => `${a.sent.method} ${victimId ? a.sent.path.replace(encodeURIComponent(victimId), '{eventId}') : a.sent.path} by ${a.actor.label} → ${a.sent.response.status}`)
    const evidence = accepted[0]?.sent.response.evidence
    const key = (e: MappedEvent) => e.id ?? e.hash ?? canonicalize(e.raw)
    const now = new Map(after.events.map((e) => [key(e), e]))
    const gone = before.events.filter((e) => !now.has(key(e)))
    const changed = before.events.filter((e) => now.has(key(e)) && canonicalize(now.get(key(e))!.raw) !== canonicalize(e.raw))
    const injected = after.events.filter((e) => JSON.stringify(e.raw).includes(TAMPER))
    const describe = (what: string, list: MappedEvent[]) =>
      `${list.length} event(s) of ${account.label}'s trail ${what} after the harness's write attempts on the audit routes (seq ${list.slice(0, 5).map((e) => e.seq ?? '?').join(', ')})` +
      (culprits.length ? `; answered 2xx: ${culprits.join('; ')}` : '')
    if (gone.length > 0) findings.push({ message: describe('were DELETED', gone), dedupKey: 'deleted', evidence })
    if (changed.length > 0) findings.push({ message: describe('were CHANGED', changed), dedupKey: 'changed', evidence })
    if (injected.length > 0) findings.push({ message: describe('were INJECTED (a forged event)', injected), dedupKey: 'injected', evidence })
    const spec = trail.mapping.chain
    const chain = spec ? verifyChain(after.events, { complete: !after.truncated, spec }) : undefined
    if (chain && !chain.ok) findings.push({ message: `after the write attempts ${account.label}'s trail no longer verifies: ${chain.problems[0]!.message}${chain.problems.length > 1 ? ` (${chain.problems.length - 1} more problem(s))` : ''}`, dedupKey: `chain|${chain.problems[0]!.kind}`, evidence })
    if (findings.length === 0 && accepted.length > 0) {
      findings.push({ message: `a write to the audit API answered 2xx though nothing changed: ${culprits.join('; ')}`, dedupKey: 'accepted', severity: 'low', evidence })
    }
    return { findings: collapse(findings) }
  },
})
