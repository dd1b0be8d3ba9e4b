import { defineCheck } from '../../harness/core/check.js'
import type { FindingInput } from '../../harness/core/finding.js'
import { compareSeverity, type Severity } from '../../harness/core/severity.js'
import { FindingCollector } from '../../harness/engine/collect.js'
import type { CheckContext, ProbeResult } from '../../harness/engine/context.js'
import { labelOf } from '../../harness/engine/labels.js'
import { objectIn, objectParam, representatives, workspacesAround } from '../../harness/engine/targets.js'
import { probeUnrecorded } from '../../harness/engine/unrecorded.js'
import { isRead } from '../../harness/engine/victims.js'
import { POLLUTION_STYLES, pollute, type PollutionStyle } from '../../fixtures/arbitraries/pollution.js'

/** Every `id` property of a JSON answer, at any depth: what the answer is about. */
function idsIn(value: unknown, out = new Set<string>()): Set<string> {
  if (Array.isArray(value)) for (const v of value) idsIn(v, out)
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) if (k === 'id' && typeof v === 'string') out.add(v); else idsIn(v, out)
  }
  return out
}

const SEVERITY: Record<string, Severity> = { leak: 'critical', 'wrongly-allowed': 'critical', 'answer-changed': 'high', 'server-error': 'medium' }

function findingOf(ctx: CheckContext, r: ProbeResult, style: PollutionStyle, relation: string, problems: string[], changes: string): FindingInput {
  const leaked = r.judgement.leaks.map((l) => `${l.object.label} (${l.where})`).join(', ')
  return {
    message: `${r.probe.actor.label} ${r.probe.op.method.toUpperCase()} ${r.probe.op.path} in its own workspace, with the ids of ${relation === 'sibling' ? 'a sibling workspace' : 'a workspace of another account'} added as ${style}: ` +
      `target answered ${r.response.status}${changes}${leaked ? `, carrying foreign data of ${leaked}` : ''} (${problems.join(', ')})`,
    dedupKey: `${r.probe.op.id}|${style}|${problems.join('+')}`,
    severity: problems.map((p) => SEVERITY[p] ?? 'high').sort(compareSeverity)[0],
    // A polluted call refused where the plain one was served means something only while tokens are served.
    restsOnRefusal: r.response.status >= 400 && r.response.status < 500 && problems.every((p) => ['answer-changed', 'wrongly-denied', 'disclosing-status'].includes(p)),
    ...ctx.evidenceOf(r),
    repro: { seed: ctx.settings.seed, curl: '' },
  }
}

/**
 * Tenant ids smuggled in beside the path (Akto parameter pollution K2, Autorize A3, API1): every
 * read and list operation in the caller's own workspace (or account), for a representative of every
 * role, called once plainly and then with a sibling workspace's and another account's ids added as
 * query parameters (alone, appended, prepended), JSON body fields and `X-Workspace-Id` /
 * `X-Account-Id` / `X-Tenant-Id` headers, under the profile's parameter names and the usual
 * spellings. The polluted answer must name exactly the objects the plain one does, and carry no
 * foreign canary; a refusal (say 400 for unknown parameters) is fine.
 */
export const parameterPollution = defineCheck<CheckContext>({
  id: 'access/parameter-pollution',
  suite: 'access',
  // Alone: the polluted answer must name exactly the objects the plain one did, and another check's
  // throwaway created or deleted in the same workspace between the two calls would read as a change.
  exclusive: true,
  title: "Another tenant's ids in query, body or headers change what a call returns",
  severity: 'critical', cwe: 639, owasp: 'API1:2023',
  requires: ['two-accounts'],
  docs: 'authz-tools.md §4 K2, A3; forgery.md RPL-01 ("keep the token but point path, header or body at another tenant")',
  async run(ctx) {
    const t = ctx.topology
    const found = new FindingCollector()
    const ops = ctx.contract.annotated.filter((op) => (op.tenancy.scope === 'workspace' || op.tenancy.scope === 'account') && isRead(op))
    // Reads only: every (operation, caller) concurrently, and each one's polluted calls after its plain one, concurrently too.
    const cases = ops.flatMap((op) => representatives(t).filter((a) => a.kind === 'user').map((actor) => ({ op, actor })))
    await ctx.concurrently(cases, async ({ op, actor }) => {
      const around = workspacesAround(t, actor)
      const own = around.find((w) => w.relation === 'own')?.ws
      const param = objectParam(t, op)
      const object = own && param ? objectIn(t, op, own, actor) : undefined
      if (!own || (param && !object)) return
      const target = { accountId: own.accountId, workspaceId: own.id, object }
      const params = param && object ? { [param]: object.id } : {}
      const plain = await ctx.probe({ actor, op, target, params })
      const plainOk = plain.response.status >= 200 && plain.response.status < 300
      const plainIds = idsIn(plain.response.json)
      const tries = around.filter((w) => w.relation !== 'own').flatMap(({ relation, ws }) => POLLUTION_STYLES.map((style) => ({ relation, style, p: pollute(t, style, own, ws) })))
      await ctx.concurrently(tries, async ({ relation, style, p }) => {
        const r = await probeUnrecorded(ctx, { actor, op, target, params, query: p.query, body: p.body, headers: p.headers })
        const ok = r.response.status >= 200 && r.response.status < 300
        const ids = idsIn(r.response.json)
        const gained = [...ids].filter((id) => !plainIds.has(id)).map((id) => labelOf(t, id))
        const lost = [...plainIds].filter((id) => !ids.has(id)).map((id) => labelOf(t, id))
        const problems = [
          ...(r.judgement.leaks.length ? ['leak'] : []),
          ...(ok && !plainOk ? ['wrongly-allowed'] : []),
          ...(ok && plainOk && (gained.length || lost.length) ? ['answer-changed'] : []),
          ...(r.response.status >= 500 ? ['server-error'] : []),
        ]
        const changes = (gained.length ? `; it gained ${gained.join(', ')}` : '') + (lost.length && ok ? `; it lost ${lost.join(', ')}` : '') +
          (ok && !plainOk ? ` where the plain call answered ${plain.response.status}` : '')
        if (problems.length) ctx.inOrder(() => found.add(findingOf(ctx, r, style, relation, problems, changes), `${actor.label} (${relation})`))
      })
    })
    return { findings: found.list() }
  },
})
