import { defineCheck } from '../../harness/core/check.js'
import type { FindingInput } from '../../harness/core/finding.js'
import { relation } from '../../harness/core/oracle.js'
import { actorByLabel, type Actor, type SeededObject, type Topology } from '../../harness/core/topology.js'
import type { CheckContext, Probe, ProbeResult } from '../../harness/engine/context.js'
import { objectParams } from '../../harness/engine/spares.js'
import { workspacesAround } from '../../harness/engine/targets.js'
import { throwaway } from '../../harness/engine/throwaway.js'
import { bodyFromSchema } from '../../harness/provision/bodies.js'
import { findingFor } from './policy-matrix.check.js'

/** Everyone who must not reach `o`: every other member of its workspace, admins included; the account's admins; an admin next door and one of another account. */
function intrudersOf(t: Topology, o: SeededObject, owner: Actor): Actor[] {
  const around = workspacesAround(t, owner).filter((w) => w.relation !== 'own').map((w) => w.ws.id)
  return t.actors.filter((a) => a.kind === 'user' && a.label !== o.ownerLabel && (a.workspaceId === o.workspaceId ||
    (a.accountId === o.accountId && a.accountRole === 'admin') || (a.role === 'admin' && around.includes(a.workspaceId ?? ''))))
}

/**
 * Owner-only objects (`x-tenancy.owner: true`, e.g. private notes): for every private object,
 * every other user of its workspace (admins and account admins included) and admins of a sibling
 * workspace and of another account try every owner-only read, list, update and delete: all must
 * be refused with no canary, and after each intruder's writes the owner re-reads its object to
 * confirm nothing changed. The owner itself must be allowed all of them (two-sided). Writes hit a
 * throwaway the owner creates, never the seeded object. (DESIGN §1; authz-tools §4 M2, X2, O1)
 */
export const privateNotes = defineCheck<CheckContext>({
  id: 'access/private-notes',
  suite: 'access',
  title: "Owner-only object reachable by someone other than its owner",
  severity: 'critical', cwe: 639, owasp: 'API1:2023',
  requires: ['private-objects'],
  docs: 'DESIGN.md §1 ("Private notes are readable and writable by their author alone, admins included"); authz-tools.md §4 M2, X2, O1; fault notes-readable-by-peers',
  async run(ctx) {
    const t = ctx.topology
    // One finding per (operation, relation, what went wrong), naming every actor that showed it.
    const findings = new Map<string, { finding: FindingInput; actors: string[] }>()
    const note = (f: FindingInput, actor: string) => {
      const entry = findings.get(f.dedupKey) ?? { finding: f, actors: [] }
      if (!entry.actors.includes(actor)) entry.actors.push(actor)
      findings.set(f.dedupKey, entry)
    }
    const listed = new Set<string>()
    const judged = (r: ProbeResult, actor: Actor, o: SeededObject) => {
      const rel = relation(actor, t, o.workspaceId)
      const label = r.probe.op.verb === 'list' ? rel.replace('own-workspace', 'member listing the workspace')
        : actor.label === o.ownerLabel ? 'owner' : rel.replace('own-workspace', 'peer of the owner')
      if (r.judgement.problems.length === 0) return
      const f = findingFor(ctx, r, label)
      note({ ...f, dedupKey: `${r.probe.op.id}|${label}|${r.judgement.problems.join('+')}` }, actor.label)
    }
    const privates = t.objects.filter((x) => x.private).flatMap((o) => {
      const owner = actorByLabel(t, o.ownerLabel)
      const ops = ctx.contract.annotated.filter((op) => op.tenancy.owner && op.resource === o.resource && op.tenancy.scope === 'workspace' && op.verb !== 'create')
      return owner ? [{ o, owner, ops, place: { accountId: o.accountId, workspaceId: o.workspaceId }, intruders: intrudersOf(t, o, owner) }] : []
    })
    // The reads change nothing: all of them at once, judged in this order.
    const reads: { probe: Probe; o: SeededObject }[] = []
    for (const { o, owner, ops, place, intruders } of privates) {
      for (const op of ops.filter((x) => x.verb === 'read' || x.verb === 'list')) {
        for (const actor of [owner, ...intruders]) {
          // A list shows the whole workspace: once per caller and workspace is enough.
          if (op.verb === 'list' && listed.has(`${op.id}|${actor.label}|${o.workspaceId}`)) continue
          listed.add(`${op.id}|${actor.label}|${o.workspaceId}`)
          const target = { ...place, object: op.verb === 'read' ? o : undefined }
          reads.push({ probe: { actor, op, target, params: objectParams(ctx, op, target) }, o })
        }
      }
    }
    for (const [i, r] of (await ctx.probeAll(reads.map((x) => x.probe))).entries()) judged(r, r.probe.actor, reads[i]!.o)
    // The writes: one walk per private object, concurrently; within one, intruder after intruder on the owner's throwaway.
    await ctx.concurrently(privates, async ({ o, owner, ops, place, intruders }) => {
      const read = ops.find((x) => x.verb === 'read')
      const writes = ops.filter((x) => x.verb !== 'read' && x.verb !== 'list').sort((a, b) => Number(a.verb === 'delete') - Number(b.verb === 'delete'))
      if (!read || writes.length === 0) return
      const marker = `intruder-${t.tag}-${o.label}`
      // An update carrying every field a create needs, so one that goes through is visible on re-read.
      const body = bodyFromSchema(ctx.contract, ctx.contract.byResource(o.resource, 'create')[0]?.requestSchema ?? {}, { label: marker, canary: marker })
      let spare = await throwaway(ctx, o.resource, place, owner)
      for (const actor of [...intruders, owner]) {
        if (!spare) break
        const target = { ...place, object: spare }
        for (const op of writes) {
          const r = await ctx.probe({ actor, op, target, params: objectParams(ctx, op, target), body: op.method === 'delete' ? undefined : body })
          ctx.inOrder(() => judged(r, actor, o))
        }
        if (actor === owner) break
        const again = await ctx.as(owner).get(ctx.pathFor(read, target, objectParams(ctx, read, target)))
        // The owner's re-read proves "nothing changed" only when served; a 404 (deleted) counts only while
        // the owner's token is served elsewhere (a positive control stands behind it); anything else shows nothing.
        if (again.status === 404) ctx.noteRefused(owner, read, target)
        else if (!ctx.expectServed(again, `the owner's re-read of ${spare.label} after ${actor.label}'s writes`)) continue
        const damage = again.status === 404 ? 'deleted' : again.body.includes(marker) ? 'changed' : undefined
        if (!damage) continue
        ctx.inOrder(() => note({
          message: `after ${actor.label}'s ${writes.map((w) => w.method.toUpperCase()).join('/')} on ${owner.label}'s ${o.resource} (${relation(actor, t, o.workspaceId)}), the owner's re-read shows it ${damage}`,
          dedupKey: `damage|${o.resource}|${relation(actor, t, o.workspaceId)}|${damage}`,
          evidence: again.evidence, actor: actor.label, victim: owner.label, restsOnRefusal: damage === 'deleted',
          operation: { method: 'GET', pathTemplate: read.path, operationId: read.id },
        }, actor.label))
        spare = await throwaway(ctx, o.resource, place, owner) // a fresh one for the next intruder
      }
    })
    return {
      findings: [...findings.values()].map(({ finding, actors }) =>
        actors.length < 2 ? finding : { ...finding, message: `${finding.message}; also shown to ${actors.slice(1).join(', ')}` }),
    }
  },
})
