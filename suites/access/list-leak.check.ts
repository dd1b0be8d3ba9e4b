import { defineCheck } from '../../harness/core/check.js'
import type { FindingInput } from '../../harness/core/finding.js'
import type { CheckContext } from '../../harness/engine/context.js'
import { worst } from '../../harness/engine/judge.js'
import { plainListCalls, searchCalls, searchParam, type ListCall } from '../../fixtures/arbitraries/list-calls.js'

interface Known { label: string; accountId: string; workspaceId?: string | undefined; privateOf?: string | undefined }

/** Every id the harness knows, with where it lives: seeded objects and users, workspaces, accounts. */
function knownIds(ctx: CheckContext): Map<string, Known> {
  const known = new Map<string, Known>()
  for (const a of ctx.topology.accounts) {
    known.set(a.id, { label: a.label, accountId: a.id })
    for (const w of a.workspaces) known.set(w.id, { label: w.label, accountId: a.id, workspaceId: w.id })
  }
  for (const o of ctx.topology.objects) known.set(o.id, { label: o.label, accountId: o.accountId, workspaceId: o.workspaceId, privateOf: o.private ? o.ownerLabel : undefined })
  return known
}

/** The objects a list answer carries: the body itself when it is an array, else its array-valued fields. */
function itemsOf(json: unknown): Record<string, unknown>[] {
  const arrays = Array.isArray(json) ? [json] : json && typeof json === 'object' ? Object.values(json).filter(Array.isArray) : []
  return arrays.flat().filter((i): i is Record<string, unknown> => !!i && typeof i === 'object')
}

/** One list call, judged: the oracle and canaries (ctx.probe), plus items that belong to another place or another user. */
async function judgeList(ctx: CheckContext, known: Map<string, Known>, c: ListCall) {
  const param = searchParam(c.op)
  const r = await ctx.probe({ actor: c.actor, op: c.op, target: c.target, query: c.term && param ? { [param]: c.term.canary } : undefined })
  const ok = r.response.status >= 200 && r.response.status < 300
  const items = ok ? itemsOf(r.response.json) : []
  const itemsText = JSON.stringify(items)
  // An echo of the caller's own search term outside the items ("no results for …") is not a leak.
  const leaks = r.judgement.leaks.filter((l) => !(l.object === c.term && !itemsText.includes(l.object.canary)))
  const whyForeign = (k: Known): string | undefined =>
    k.accountId !== c.target.accountId ? 'another account' :
      c.op.tenancy.scope === 'workspace' && k.workspaceId !== c.target.workspaceId ? 'another workspace' :
        k.privateOf !== undefined && k.privateOf !== c.actor.label ? `private to ${k.privateOf}` : undefined
  const foreign = items.flatMap((i) => {
    const k = typeof i.id === 'string' ? known.get(i.id) : undefined
    const why = k && whyForeign(k)
    return k && why ? [`${k.label} (${why})`] : []
  })
  const problems: string[] = r.judgement.problems.filter((p) => p !== 'leak' || leaks.length > 0)
  if (foreign.length > 0) problems.push('foreign-item')
  return { r, leaks, foreign, problems, param }
}

/**
 * List and search leaks. RESTler counts `GET → []` as a false alarm; here a list is read item by
 * item: every user calls every list operation in its own, a sibling and another account's
 * workspace, plain (each one an explicit example of the property), and searches with foreign
 * canaries as the term (the generated runs). A foreign canary anywhere in the answer (body or
 * header), or an allowed list carrying an object of another workspace, account or user, is a
 * finding; so is any answer the oracle does not predict. Property-based over (actor, list op,
 * workspace, search term), so a failure shrinks to one call.
 */
export const listLeak = defineCheck<CheckContext>({
  id: 'access/list-leak',
  suite: 'access',
  title: "List or search answer carries another tenant's or user's objects",
  severity: 'critical', cwe: 200, owasp: 'API1:2023',
  requires: ['two-accounts'],
  docs: 'authz-tools.md §3.4, §4 R1 (namespace rule without the `[]` false-alarm filter), X1, O2; faults search-spans-workspaces, notes-readable-by-peers, workspace-admin-lists-foreign-users',
  async run(ctx) {
    const known = knownIds(ctx)
    // Every plain list is an explicit example (the space is small); the generated runs search.
    const examples = plainListCalls(ctx)
    const result = await ctx.property(searchCalls(ctx), (c) => judgeList(ctx, known, c), (j) => j.problems.length === 0, { examples, numRuns: examples.length + ctx.fc.numRuns })
    return {
      findings: await ctx.findingsFrom(result, async (c): Promise<FindingInput | undefined> => {
        const { r, leaks, foreign, problems, param } = await judgeList(ctx, known, c)
        if (problems.length === 0) return undefined
        const call = `${c.op.method.toUpperCase()} ${c.op.path}${c.term ? `?${param}=<canary of ${c.term.label}>` : ''}`
        const where = known.get(c.target.workspaceId ?? c.target.accountId ?? '')?.label ?? '?'
        return {
          message: `${c.actor.label} ${call} in ${where} (${c.relation}): policy says ${r.judgement.expected}, target answered ${r.judgement.status}` +
            (foreign.length ? `; the list carries ${foreign.join(', ')}` : '') +
            (leaks.length ? `; foreign canaries of ${leaks.map((l) => `${l.object.label} (${l.where})`).join(', ')}` : '') + ` (${problems.join(', ')})`,
          dedupKey: `${c.op.id}|${c.actor.actorKind}|${c.relation}|${c.term ? 'search' : 'plain'}|${problems.join('+')}`,
          severity: problems.includes('foreign-item') ? 'critical' : worst(r.judgement.problems),
          restsOnRefusal: (problems as string[]).every((p) => p === 'wrongly-denied' || p === 'disclosing-status'),
          ...ctx.evidenceOf(r),
          repro: { seed: ctx.settings.seed, curl: '' },
        }
      }),
    }
  },
})
