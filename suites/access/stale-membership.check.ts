import { defineCheck } from '../../harness/core/check.js'
import { lacking } from '../../harness/core/vocabulary.js'
import { toCurl } from '../../harness/core/curl.js'
import type { FindingInput } from '../../harness/core/finding.js'
import { expected } from '../../harness/core/oracle.js'
import type { Actor, WorkspaceNode } from '../../harness/core/topology.js'
import type { CheckContext } from '../../harness/engine/context.js'
import type { Op } from '../../harness/engine/judge.js'
import { acceptedFor, addMember, readUser, removeMember, setRole } from '../../harness/engine/members.js'
import { objectParam } from '../../harness/engine/targets.js'
import { throwaway } from '../../harness/engine/throwaway.js'
import { bodyFromSchema } from '../../harness/provision/bodies.js'
import { deletedObjectsGone } from './deleted-objects.js'

const PREFER = ['update', 'create', 'delete']

/**
 * Calls `before` may make in its workspace and `after` may not, one per verb (a narrow bug lives in one
 * verb: a DELETE that still trusts the token's roles), each aimed at its own throwaway object when it
 * names one. `path()` gives a fresh object per send, so a delete before the change leaves one for after.
 */
async function callsFor(ctx: CheckContext, ws: WorkspaceNode, before: Actor, after: Actor) {
  const here = { accountId: ws.accountId, workspaceId: ws.id }
  const ops = ctx.contract.annotated.filter((op) => op.tenancy.scope === 'workspace' && expected(op, before, here) === 'allow' && expected(op, after, here) !== 'allow')
  // Harmless calls first: an empty update, then a create, a delete; anything else after.
  const rank = (op: Op) => (PREFER.includes(op.verb) ? PREFER.indexOf(op.verb) : PREFER.length)
  const calls = []
  const verbs = new Set<string>()
  for (const op of ops.sort((a, b) => rank(a) - rank(b))) {
    if (verbs.has(op.verb)) continue
    const param = objectParam(ctx.topology, op)
    const path = async () => {
      const spare = param ? await throwaway(ctx, op.resource, here) : undefined
      return param && !spare ? undefined : ctx.pathFor(op, here, param ? { [param]: spare!.id } : {})
    }
    // An update sends the smallest body its schema accepts (`{}` where allowed: it changes nothing and
    // still needs the right); a create gets a body the schema accepts.
    const body = op.method === 'get' || op.method === 'delete' ? undefined : op.verb === 'create' ? bodyFromSchema(ctx.contract, op.requestSchema ?? {}, { label: 'stale-membership' }) : ctx.bodyFor(op)
    verbs.add(op.verb)
    calls.push({ op, here, path, body })
  }
  return calls
}

/**
 * Use after removal (ASVS 8.3.2, authz-tools T3, RESTler R4 / Schemathesis S5 use-after-free):
 * throwaway members log in, then one is deleted and one demoted (editor → viewer); their old tokens
 * must at once lose what they lost. An accepted stale token is reported with its window: polled
 * every 250 ms for up to 5 s. Then deleted objects must answer 404 to their owner and to everyone else.
 */
export const staleMembership = defineCheck<CheckContext>({
  id: 'access/stale-membership',
  suite: 'access',
  title: 'A removed or demoted member keeps its access',
  severity: 'high', cwe: 613, owasp: 'API2:2023',
  docs: 'authz-tools.md §4 T3 (ASVS 8.3.2), R4 UseAfterFree, S5 use_after_free; fault stale-token-after-removal',
  applies: ({ contract }) =>
    contract.byRole('user', 'create').length > 0 || contract.annotated.some((o) => o.verb === 'delete' && o.tenancy.scope === 'workspace') ? undefined
      : `${lacking(contract.vocabulary, 'user', 'create')}, and no workspace object can be deleted`,
  async run(ctx) {
    const ws = ctx.topology.accounts[0]?.workspaces[0]
    if (!ws) return { findings: [], skipped: 'the topology has no workspace' }
    const findings: FindingInput[] = []
    const removed = await addMember(ctx, ws, 'editor', `${ws.label}.throwaway-removed`)
    const demoted = await addMember(ctx, ws, 'editor', `${ws.label}.throwaway-demoted`)
    const gone = removed && { ...removed, role: undefined }
    const removal = { done: false }
    let tested = 0
    const cases = [
      { who: removed, after: gone, change: 'the user was deleted', act: async () => {
        const res = await removeMember(ctx, removed!)
        removal.done = res !== undefined && res.status >= 200 && res.status < 300
        return res
      } },
      { who: demoted, after: demoted && { ...demoted, role: 'viewer' as const }, change: 'the user was demoted to viewer', act: () => setRole(ctx, demoted!, 'viewer') },
    ]
    for (const { who, after, change, act } of cases) {
      const calls = who && after ? await callsFor(ctx, ws, who, after) : []
      if (!who || calls.length === 0) continue
      // The old token exactly as minted (renew: false): a renewed one would prove nothing about it.
      const token = who.token
      const send = async (call: (typeof calls)[number], path: string) => {
        const res = await ctx.as({ ...who, token }).send({ method: call.op.method, path, body: call.body, renew: false })
        ctx.trackCreated(call.op, res, who, call.here) // whatever a stale token manages to create is removed at the end
        return res
      }
      // The token must work before the change for a call, or there is nothing to test with it.
      const working = []
      for (const call of calls) {
        const path = await call.path()
        if (path && (await send(call, path)).status < 300) working.push(call)
      }
      if (working.length === 0) continue
      const changed = await act()
      if (!changed || changed.status >= 300) continue
      ctx.retire(token) // never renewed for this user again
      tested++
      for (const call of working) {
        const path = await call.path()
        if (!path) continue
        const res = await send(call, path)
        if (res.status >= 400) {
          // The stale token's refusal counts only while the target still serves a member who kept the right.
          const peer = ctx.topology.actors.find((a) => a.kind === 'user' && a.workspaceId === ws.id && a.token !== undefined && expected(call.op, a, call.here) === 'allow')
          if (peer) ctx.noteRefused(peer, call.op, call.here)
          continue
        }
        const refusedAfter = call.op.verb === 'delete' ? undefined : await acceptedFor(() => send(call, path))
        const window = call.op.verb === 'delete' ? 'the object is gone'
          : refusedAfter === undefined ? `still accepted after 5 s: tokens live until expiry${who.expiresIn ? `, ${who.expiresIn} s` : ''}`
          : `accepted for ${(refusedAfter / 1000).toFixed(2)} s`
        findings.push({
          message: `${who.label}'s token, minted before ${change}, ${call.op.method.toUpperCase()} ${call.op.path} answered ${res.status} right after the change ` +
            `(expected a refusal at once, ASVS 8.3.2); ${window}`,
          dedupKey: `${call.op.id}|${change}`, actor: who.label, evidence: res.evidence, repro: { seed: ctx.settings.seed, curl: toCurl(res.evidence.request) },
          operation: { method: call.op.method.toUpperCase(), pathTemplate: call.op.path, operationId: call.op.id },
        })
      }
    }
    const record = removed && removal.done ? await readUser(ctx, removed) : undefined
    if (record?.found) findings.push({ message: `${removed!.label} is still listed after it was deleted (R4: a removed member is gone for everyone)`, dedupKey: 'users|removed-still-listed', severity: 'medium', actor: removed!.label })
    const objects = await deletedObjectsGone(ctx, ws)
    findings.push(...objects.findings)
    if (tested + objects.tested === 0) return { findings, skipped: 'the contract offers no way to remove or demote a member, nor to delete an object' }
    return { findings }
  },
})
