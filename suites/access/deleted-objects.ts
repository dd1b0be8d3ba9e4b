import { toCurl } from '../../harness/core/curl.js'
import type { FindingInput } from '../../harness/core/finding.js'
import { expected, relation } from '../../harness/core/oracle.js'
import type { Actor, WorkspaceNode } from '../../harness/core/topology.js'
import type { CheckContext } from '../../harness/engine/context.js'
import { objectParam } from '../../harness/engine/targets.js'
import { throwaway } from '../../harness/engine/throwaway.js'
import { objectCreateOps } from '../../harness/provision/objects.js'

/** The owner, a peer in the workspace, a member of a sibling workspace and one of another account. */
function readers(ctx: CheckContext, ws: WorkspaceNode, owner: Actor): Actor[] {
  const users = ctx.topology.actors.filter((a) => a.kind === 'user')
  const pick = (f: (a: Actor) => boolean) => users.filter(f).sort((a, b) => Number(b.accountRole === 'admin') - Number(a.accountRole === 'admin'))[0]
  return [
    owner,
    pick((a) => a.workspaceId === ws.id && a.label !== owner.label),
    pick((a) => a.accountId === ws.accountId && a.workspaceId !== ws.id),
    pick((a) => a.accountId !== ws.accountId),
  ].filter((a): a is Actor => a !== undefined)
}

/**
 * The use-after-free half of access/stale-membership (RESTler R4, Schemathesis S5): for every data
 * resource, a throwaway object is created and deleted by its owner, then read by the owner and by
 * others. Gone is gone for everyone: 404 (a refusal the profile allows, for those who could never
 * read it), never 2xx, never its content.
 */
export async function deletedObjectsGone(ctx: CheckContext, ws: WorkspaceNode): Promise<{ findings: FindingInput[]; tested: number }> {
  const here = { accountId: ws.accountId, workspaceId: ws.id }
  const out: FindingInput[] = []
  let tested = 0
  for (const create of objectCreateOps(ctx.contract)) {
    const read = ctx.contract.byResource(create.resource, 'read').find((o) => o.tenancy.scope === 'workspace' && objectParam(ctx.topology, o))
    const del = ctx.contract.byResource(create.resource, 'delete').find((o) => o.tenancy.scope === 'workspace' && objectParam(ctx.topology, o))
    const spare = read && del && (await throwaway(ctx, create.resource, here))
    const owner = spare && ctx.topology.actors.find((a) => a.label === spare.ownerLabel)
    if (!read || !del || !spare || !owner) continue
    const gone = await ctx.as(owner).send({ method: del.method, path: ctx.pathFor(del, here, { [objectParam(ctx.topology, del)!]: spare.id }) })
    if (gone.status < 200 || gone.status > 299) continue // not deleted: nothing to test here
    tested++
    for (const reader of readers(ctx, ws, owner)) {
      const res = await ctx.as(reader).get(ctx.pathFor(read, here, { [objectParam(ctx.topology, read)!]: spare.id }))
      const rel = reader === owner ? 'owner' : relation(reader, ctx.topology, ws.id)
      const mayNeverRead = expected(read, reader, { ...here, object: spare }) !== 'allow'
      const fine = res.status === 404 || res.status === 410 || (mayNeverRead && (ctx.profile.denial.statuses as number[]).includes(res.status))
      const leaked = res.body.includes(spare.canary)
      // "Gone for everyone" rests on refusals: each needs the reader's token served elsewhere.
      if (res.status >= 400 && res.status < 500) ctx.noteRefused(reader, read, { ...here, object: spare })
      if (fine && !leaked) continue
      out.push({
        message: `${reader.label} (${rel}) GET ${read.path} of a ${create.resource} object its owner ${owner.label} had deleted: answered ${res.status}` +
          `${leaked ? ' with the deleted content' : ''}; a deleted object must answer 404 to everyone`,
        dedupKey: `${read.id}|deleted|${rel}|${res.status < 300 || leaked ? 'readable' : res.status}`,
        severity: res.status < 300 || leaked ? 'critical' : res.status >= 500 ? 'medium' : 'low',
        restsOnRefusal: res.status >= 400 && res.status < 500 && !leaked,
        cwe: 672, actor: reader.label, victim: owner.label, evidence: res.evidence, repro: { seed: ctx.settings.seed, curl: toCurl(res.evidence.request) },
        operation: { method: read.method.toUpperCase(), pathTemplate: read.path, operationId: read.id },
      })
    }
  }
  return { findings: out, tested }
}
