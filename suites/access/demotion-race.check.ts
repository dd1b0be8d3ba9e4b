import { defineCheck } from '../../harness/core/check.js'
import { toCurl } from '../../harness/core/curl.js'
import type { FindingInput } from '../../harness/core/finding.js'
import { expected } from '../../harness/core/oracle.js'
import type { Actor } from '../../harness/core/topology.js'
import type { HttpResponse } from '../../harness/adapters/http.js'
import type { CheckContext } from '../../harness/engine/context.js'
import { addMember, manager, roleHint, userPath } from '../../harness/engine/members.js'
import { objectParam } from '../../harness/engine/targets.js'
import { throwaway } from '../../harness/engine/throwaway.js'
import { markedBodies, validBody } from '../../harness/provision/bodies.js'

/** Writes released with each demotion, and demotions tried (a race that wins one time in ten shows with good odds). */
const WIDTH = 8
const TRIALS = 8

/**
 * A demotion racing a write by the member it demotes (issue 13, suspicion s1; the race family's
 * "demotion or removal racing a write"): an editor sends WIDTH updates of one object, each setting
 * its own marker, at the moment a manager demotes it to viewer. Whatever the interleaving, once
 * the demotion has been answered no update of the editor's may still land: the object is read as
 * soon as the demotion answers and again when every update has answered, and a change between the
 * two reads is a write authorised under the old role that committed after the demotion was
 * acknowledged (a role read at the start of a transaction and trusted to its commit, READ
 * COMMITTED). Assumes the reader reads its own writes (no lagging replica between the two reads).
 *
 * Preconditions, each a skip: a workspace object an editor may update and a viewer may not, a
 * string field the update sets, a manager who may demote and read it. The embedded reference server
 * runs on PGlite, one transaction at a time: no race can show there, and the check says so.
 */
export const demotionRace = defineCheck<CheckContext>({
  id: 'access/demotion-race',
  suite: 'access',
  // Alone: it changes roles and times its reads against the demotion's answer.
  exclusive: true,
  title: "A member's write sent as it is demoted lands after the demotion was acknowledged",
  severity: 'medium', cwe: 367, owasp: 'API5:2023',
  docs: 'authz-tools.md §4 T3 (ASVS 8.3.2: role changes apply at once), raced: CWE-367 (TOCTOU); access/stale-membership is its sequential cousin; issue 13 suspicion s1; fault demotion-race-unlocked (real Postgres only)',
  async run(ctx) {
    if (ctx.settings.raceless) return { findings: [], skipped: ctx.settings.raceless }
    const ws = ctx.topology.accounts[0]?.workspaces[0]
    if (!ws) return { findings: [], skipped: 'the topology has no workspace' }
    const here = { accountId: ws.accountId, workspaceId: ws.id }
    const editor: Actor = { label: 'editor', kind: 'user', actorKind: 'editor', accountId: ws.accountId, workspaceId: ws.id, role: 'editor', accountRole: null }
    const viewer: Actor = { ...editor, role: 'viewer', actorKind: 'viewer' }
    const update = ctx.contract.annotated.find((op) => op.tenancy.scope === 'workspace' && op.verb === 'update' && ['patch', 'put'].includes(op.method) &&
      objectParam(ctx.topology, op) && expected(op, editor, here) === 'allow' && expected(op, viewer, here) !== 'allow' && !ctx.contract.ownerOnly(op.resource) &&
      ctx.contract.vocabulary.roleOfResource(op.resource) === undefined)
    if (!update) return { findings: [], skipped: 'the contract has no update of a workspace object that an editor may call and a viewer may not' }
    const read = ctx.contract.annotated.find((op) => op.resource === update.resource && op.verb === 'read' && op.method === 'get' && objectParam(ctx.topology, op))
    if (!read) return { findings: [], skipped: `the contract has no read of one ${update.resource} object to see what the updates left` }
    const param = objectParam(ctx.topology, update)!
    const readParam = objectParam(ctx.topology, read)!
    const findings: FindingInput[] = []
    let raced = 0
    for (let trial = 0; trial < TRIALS && raced === 0; trial++) {
      const member = await addMember(ctx, ws, 'editor', `${ws.label}.throwaway-demoted-racer`)
      if (!member) return { findings: [], skipped: 'the harness could not create and log in a throwaway editor' }
      const demote = manager(ctx, ['update'], member)
      if (!demote) return { findings: [], skipped: 'no actor of the topology may change a member\'s role' }
      const reader = [demote.actor, ...ctx.topology.actors].find((a) => a.token && expected(read, a, here) === 'allow')
      if (!reader) return { findings: [], skipped: `no actor of the topology may read a ${update.resource} object` }
      const obj = await throwaway(ctx, update.resource, here, member)
      if (!obj) return { findings: [], skipped: `the harness could not create a ${update.resource} object to update` }
      // Each update carries its own marker in a free-text field the schema lets it set.
      const markers = Array.from({ length: WIDTH }, (_, i) => `ta-${ctx.topology.tag}-race${trial}w${i}`)
      const marked = markedBodies(ctx.contract, update.requestSchema, markers)
      if (!marked) return { findings: [], skipped: `the harness cannot build an update of ${update.id} that sets a free-text field` }
      const { field, bodies } = marked
      const path = ctx.pathFor(update, here, { [param]: obj.id })
      const readPath = ctx.pathFor(read, here, { [readParam]: obj.id })
      const readBack = async (): Promise<HttpResponse> => ctx.as(reader).send({ method: 'get', path: readPath, burst: true })
      const valueOf = (res: HttpResponse) => (res.json as Record<string, unknown> | undefined)?.[field]
      const roleBody = validBody(ctx.contract, demote.op.requestSchema ?? {}, { role: roleHint(ctx, demote.op.requestSchema, 'viewer') })
      if (!roleBody.ok) return { findings: [], skipped: `the harness cannot build a role change for ${demote.op.id}: ${roleBody.reason}` }
      // Writes and the demotion released together; the first read goes out the moment the demotion answers.
      const writes = bodies.map((body) => ctx.as(member).send({ method: update.method, path, body, burst: true, renew: false }))
      const demoted = ctx.as(demote.actor).send({ method: demote.op.method, path: userPath(ctx, demote.op, member), body: roleBody.body, burst: true })
        .then(async (res) => ({ res, first: res.status >= 200 && res.status < 300 ? await readBack() : undefined }))
      const [answers, { res: demotion, first }] = await Promise.all([Promise.all(writes), demoted])
      ctx.retire(member.token!)
      if (demotion.status < 200 || demotion.status > 299) return { findings: [], skipped: `demoting a member through ${demote.op.id} answered ${demotion.status}` }
      const last = await readBack()
      if (!first || !ctx.expectServed(first, `${reader.label}'s read right after the demotion`) || !ctx.expectServed(last, `${reader.label}'s read after the writes`)) continue
      const [before, after] = [valueOf(first), valueOf(last)]
      const late = markers.findIndex((m, i) => after !== before && String(after).includes(m) && answers[i]!.status >= 200 && answers[i]!.status < 300)
      if (late >= 0) {
        raced++
        const res = answers[late]!
        findings.push({
          message: `${member.label}, demoted to viewer while it sent ${WIDTH} updates of one ${update.resource} at once, had an update land after the demotion was answered ` +
            `(the object read right after the demotion showed ${JSON.stringify(before)}, after the updates answered ${JSON.stringify(after)}; try ${trial + 1} of ${TRIALS}): ` +
            'the role was read at the start of the write and trusted to its commit',
          dedupKey: update.id, actor: member.label, evidence: res.evidence, repro: { seed: ctx.settings.seed, curl: toCurl(res.evidence.request) },
          operation: { method: update.method.toUpperCase(), pathTemplate: update.path, operationId: update.id },
        })
      }
    }
    return { findings }
  },
})
