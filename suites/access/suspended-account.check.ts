import { defineCheck } from '../../harness/core/check.js'
import { lacking } from '../../harness/core/vocabulary.js'
import { toCurl } from '../../harness/core/curl.js'
import type { FindingInput } from '../../harness/core/finding.js'
import { expected } from '../../harness/core/oracle.js'
import type { Actor } from '../../harness/core/topology.js'
import type { CheckContext } from '../../harness/engine/context.js'
import type { Op } from '../../harness/engine/judge.js'
import { objectParam } from '../../harness/engine/targets.js'
import { platformAdmin } from '../../harness/engine/throwaway.js'

/** The request body field whose enum holds `suspended`, and the other values it takes. */
function statusField(ctx: CheckContext, op: Op): { name: string; values: unknown[] } | undefined {
  const props = (ctx.contract.resolve(op.requestSchema ?? {}).properties ?? {}) as Record<string, unknown>
  for (const [name, schema] of Object.entries(props)) {
    const values = ctx.contract.resolve(schema).enum
    if (Array.isArray(values) && values.includes('suspended')) return { name, values }
  }
  return undefined
}

/** A read the policy allows the user in its own workspace, one that names no object. */
function readFor(ctx: CheckContext, u: Actor): Op | undefined {
  return ctx.contract.annotated.find((op) => op.tenancy.scope === 'workspace' && (op.verb === 'read' || op.verb === 'list') && !objectParam(ctx.topology, op) &&
    expected(op, u, { accountId: u.accountId, workspaceId: u.workspaceId }) === 'allow')
}

/**
 * A suspended account's tokens stop working at once (DESIGN §1). The last account of the topology is
 * suspended through the Portal and restored afterwards: every one of its users, calling a read it was
 * allowed a moment before, must be refused (401/403), while every user of the other accounts keeps
 * working (two-sided); after reactivation access must come back. Each user first proves its token
 * is alive (AuthMatrix M4), so an already-dead token is not counted as "refused".
 */
export const suspendedAccount = defineCheck<CheckContext>({
  id: 'access/suspended-account',
  suite: 'access',
  // Alone: while an account is suspended every check's calls as its users would be refused.
  exclusive: true,
  title: "A suspended account's tokens keep working",
  severity: 'critical', cwe: 613, owasp: 'API2:2023',
  requires: ['two-accounts', 'principals'],
  applies: ({ contract }) => (contract.byRole('account', 'update', 'portal').length > 0 ? undefined : lacking(contract.vocabulary, 'account', 'Portal update (to suspend one)')),
  docs: 'DESIGN §1 "a suspended account\'s tokens stop working at once"; authz-tools.md §4 M4 (session-alive control), Z2 (two-sided), T3; fault suspended-account-tokens-work',
  async run(ctx) {
    const t = ctx.topology
    // Any Portal update of the account role that has a status field will do, not only the first.
    const updates = ctx.contract.byRole('account', 'update', 'portal')
    const found = updates.map((o) => ({ op: o, field: statusField(ctx, o) })).find((x) => x.field)
    const op = found?.op
    const field = found?.field
    const admin = platformAdmin(t)
    const victim = t.accounts.at(-1)
    if (!admin || !victim) return { findings: [], skipped: 'the topology has no platform admin principal or no account' }
    if (!op || !field) return { findings: [], skipped: `none of the Portal updates of the account role (${updates.map((o) => o.id).join(', ') || 'none'}) has a field whose enum contains "suspended"` }
    const read = ctx.contract.byRole('account', 'read', 'portal')[0] ?? ctx.contract.byRole('account', 'read')[0]
    const current = read && ((await ctx.as(admin).get(ctx.pathFor(read, { accountId: victim.id }))).json as Record<string, unknown> | undefined)?.[field.name]
    const original = current !== undefined && current !== 'suspended' ? current : field.values.find((v) => v !== 'suspended')
    const path = ctx.pathFor(op, { accountId: victim.id })
    const calls = t.actors.filter((a) => a.kind === 'user').flatMap((actor) => {
      const r = readFor(ctx, actor)
      return r ? [{ actor, op: r, path: ctx.pathFor(r, { accountId: actor.accountId, workspaceId: actor.workspaceId }) }] : []
    })
    const alive: typeof calls = []
    for (const c of calls) if ((await ctx.as(c.actor).send({ method: c.op.method, path: c.path })).status < 300) alive.push(c)
    if (!alive.some((c) => c.actor.accountId === victim.id)) return { findings: [], skipped: `no user of ${victim.label} has a working read to lose` }
    type Call = (typeof calls)[number]
    type Verdict = { key: string; severity: FindingInput['severity']; expectation: string }
    const findings = new Map<string, FindingInput & { who: string[] }>()
    // One finding per defect (operation × what went wrong), naming every user it hit.
    // While suspended, the suspended users' tokens are sent as they are (renew: false): a renewal must
    // not stand in for the answer to the token the user held. After reactivation, renewal is allowed.
    const phase = async (when: string, judge: (c: Call, status: number) => Verdict | undefined, raw = false) => {
      for (const c of alive) {
        const res = await ctx.as(c.actor).send({ method: c.op.method, path: c.path, renew: raw && c.actor.accountId === victim.id ? false : undefined })
        const v = judge(c, res.status)
        // Every refusal here (the suspended users' and any other) counts only while a user of another
        // account is still served: that user's read is the positive control, sent after reactivation if
        // the phase did not show it.
        if (res.status >= 400 && res.status < 500) {
          const other = alive.find((o) => o.actor.accountId !== victim.id && o.actor.accountId !== c.actor.accountId) ?? alive.find((o) => o.actor.accountId !== victim.id)
          if (other) ctx.requireControl({ actor: other.actor, op: other.op, target: { accountId: other.actor.accountId, workspaceId: other.actor.workspaceId }, params: {} }, `${c.actor.label} ${c.op.method.toUpperCase()} ${c.op.path} (${when})`)
        }
        if (!v) continue
        const f = findings.get(v.key) ?? { dedupKey: v.key, severity: v.severity, restsOnRefusal: res.status >= 400 && res.status < 500, who: [], message: '', actor: c.actor.label, victim: victim.label, evidence: res.evidence, repro: { seed: ctx.settings.seed, curl: toCurl(res.evidence.request) },
          operation: { method: c.op.method.toUpperCase(), pathTemplate: c.op.path, operationId: c.op.id } }
        f.who.push(`${res.status} to ${c.actor.label}`)
        f.message = `${when}: ${c.op.method.toUpperCase()} ${c.op.path} answered ${f.who.join(', ')}; ${v.expectation}`
        findings.set(v.key, f)
      }
    }
    const suspended = await ctx.as(admin).send({ method: op.method, path, body: { [field.name]: 'suspended' } })
    try {
      if (suspended.status < 200 || suspended.status > 299) return { findings: [], skipped: `suspending ${victim.label} through ${op.id} answered ${suspended.status}` }
      await phase(`while ${victim.label} is suspended`, (c, status) => {
        if (c.actor.accountId === victim.id) {
          if (status === 401 || status === 403) return undefined
          return { key: `${c.op.id}|suspended-${status < 300 ? 'accepted' : status}`, severity: status < 300 ? 'critical' : 'medium',
            expectation: `users of the suspended account must be refused with 401 or 403` }
        }
        return status < 300 ? undefined : { key: `${c.op.id}|other-account-refused`, severity: 'high', expectation: `suspending ${victim.label} must not lock out other accounts` }
      }, true)
    } finally {
      await ctx.as(admin).send({ method: op.method, path, body: { [field.name]: original } })
    }
    await phase(`after ${victim.label} is reactivated`, (c, status) => status < 300 ? undefined : {
      key: `${c.op.id}|not-restored`, severity: 'medium', expectation: 'access must come back with the account' })
    return { findings: [...findings.values()].map(({ who: _, ...f }) => f) }
  },
})
