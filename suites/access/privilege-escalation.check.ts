import { randomBytes } from 'node:crypto'
import { defineCheck } from '../../harness/core/check.js'
import { lacking } from '../../harness/core/vocabulary.js'
import { toCurl } from '../../harness/core/curl.js'
import type { FindingInput } from '../../harness/core/finding.js'
import type { Actor, WorkspaceRole } from '../../harness/core/topology.js'
import type { CheckContext } from '../../harness/engine/context.js'
import type { Op } from '../../harness/engine/judge.js'
import { accountRoleHint, addMember, grantCeiling, rankOf, readUser, removeMember, roleHint, setRole, userPath, ROLE_OF_RANK, type UserRecord } from '../../harness/engine/members.js'
import { bodyFromSchema, type BodyHints } from '../../harness/provision/bodies.js'
import { newPassword } from '../../harness/provision/session.js'
import { readOnlyWrites } from './read-only-writes.js'

const NAMES = ['no role', 'viewer', 'editor', 'admin', 'account_admin']
const describe = (u: UserRecord | undefined) => (u ? NAMES[rankOf(u)] : 'absent')

/** Hints that ask for `rank` in the deployment's spelling: a workspace role, or the account role on top of the current one. */
const ask = (ctx: CheckContext, op: Op, rank: number, current: WorkspaceRole): BodyHints => (rank >= 4
  ? { role: roleHint(ctx, op.requestSchema, current), accountRole: accountRoleHint(ctx, op.requestSchema) }
  : { role: roleHint(ctx, op.requestSchema, ROLE_OF_RANK[rank]!) })

/**
 * One actor's attempts through one users.update or users.create operation: raise itself, raise a
 * throwaway member above itself, grant the account role. The verdict is the re-read record, never
 * the status code: a 403 that still changed the role is a finding, a 200 that changed nothing is not.
 */
async function attempts(ctx: CheckContext, actor: Actor, op: Op): Promise<FindingInput[]> {
  const own = rankOf({ role: actor.role, accountRole: actor.accountRole })
  const ws = ctx.topology.accounts.flatMap((a) => a.workspaces).find((w) => w.id === actor.workspaceId)
  if (own >= 4 || !ws) return [] // nobody is above an account admin
  const wanted = [own + 1, ...(own + 1 < 4 ? [4] : [])]
  const out: FindingInput[] = []
  // Re-read the target as the platform admin (or the account's admin) and compare with what the caller may grant.
  const verdict = async (what: string, target: Actor, before: number, res: { status: number; evidence: FindingInput['evidence'] }, asked: number) => {
    const after = await readUser(ctx, target)
    // The verdict is the re-read: one that is not served (a 404 is "not there", an answer) shows nothing.
    if (after && !after.found && after.status !== 404) ctx.expectServed(after, `re-reading ${target.label}'s role after ${actor.label}'s ${what} attempt`)
    const rank = after?.found ? rankOf(after.record!) : 0
    const ceiling = grantCeiling(op, actor, { accountId: ws.accountId, workspaceId: ws.id })
    if (rank > before && rank > ceiling) {
      out.push({
        message: `${actor.label} ${op.method.toUpperCase()} ${op.path} (${what}, asking for ${NAMES[asked]}): the target answered ${res.status} and ` +
          `${target.label} is now ${describe(after?.record)} (was ${before ? NAMES[before] : 'absent'}); ${actor.label} may grant ${ceiling ? `at most ${NAMES[ceiling]}` : 'no role'} through it`,
        dedupKey: `${op.id}|${actor.actorKind}|${what}|${NAMES[asked]}`,
        actor: actor.label, victim: target.label, evidence: res.evidence, repro: res.evidence && { seed: ctx.settings.seed, curl: toCurl(res.evidence.request) },
        operation: { method: op.method.toUpperCase(), pathTemplate: op.path, operationId: op.id },
      })
    }
    return { rank, id: after?.record?.id }
  }
  if (op.verb === 'update') {
    const self = await ctx.as(actor).send({ method: op.method, path: userPath(ctx, op, actor), body: bodyFromSchema(ctx.contract, op.requestSchema ?? {}, ask(ctx, op, own + 1, actor.role!)) })
    // Put a raised seeded actor back, so the checks after this one see the topology they expect.
    if ((await verdict('own role', actor, own, self, own + 1)).rank > own) await setRole(ctx, actor, actor.role!, actor.accountRole ?? null)
    const victim = await addMember(ctx, ws, 'viewer', `${ws.label}.throwaway-viewer`)
    let before = 1
    for (const rank of wanted) {
      if (!victim) break
      const res = await ctx.as(actor).send({ method: op.method, path: userPath(ctx, op, victim), body: bodyFromSchema(ctx.contract, op.requestSchema ?? {}, ask(ctx, op, rank, 'viewer')) })
      before = Math.max(before, (await verdict('another user', victim, before, res, rank)).rank)
    }
  } else {
    for (const rank of wanted) {
      const email = `ta-${ctx.topology.tag}-esc${randomBytes(4).toString('hex')}@tenant-audit.test`
      const body = bodyFromSchema(ctx.contract, op.requestSchema ?? {}, { ...ask(ctx, op, rank, 'viewer'), email, password: newPassword(), label: 'escalation' })
      const res = await ctx.as(actor).send({ method: op.method, path: userPath(ctx, op, { accountId: ws.accountId, workspaceId: ws.id }), body })
      const created: Actor = { label: `${ws.label}.created-user`, kind: 'user', actorKind: 'viewer', username: email, accountId: ws.accountId, workspaceId: ws.id }
      const { id } = await verdict('new user', created, 0, res, rank)
      if (typeof id === 'string') await removeMember(ctx, { ...created, id })
    }
  }
  return out
}

/**
 * Escalation through role changes (DESIGN §1: nobody grants a role above their own; only an account
 * admin grants account_admin): every user, through every users.update / users.create operation of
 * the contexts it may use, tries to raise itself, raise another user above itself and grant the
 * account role, on throwaway targets; read-only principals try every Portal write.
 */
export const privilegeEscalation = defineCheck<CheckContext>({
  id: 'access/privilege-escalation',
  suite: 'access',
  // Alone: on a faulty target a seeded actor's own role is really raised until it is put back, and every other check's oracle would be wrong meanwhile.
  exclusive: true,
  title: 'A role raised beyond what the caller may grant',
  severity: 'critical', cwe: 269, owasp: 'API5:2023',
  docs: 'authz-tools.md §4 K4 (BFLA), K7 (mass assignment of role), C2 (BFLA swap); ASVS 8.2.1; DESIGN §1 grant rules; faults editor-raises-own-role, workspace-admin-grants-account-admin, support-can-write',
  applies: ({ contract }) =>
    contract.byRole('user').some((o) => (o.verb === 'update' || o.verb === 'create') && o.tenancy.context !== 'portal') ? undefined
      : lacking(contract.vocabulary, 'user', 'update or create outside the Portal'),
  async run(ctx) {
    const users = ctx.topology.actors.filter((a) => a.kind === 'user')
    // Control: the verdict is the re-read role, so the harness must first read a known role back right.
    const control = users[0] && (await readUser(ctx, users[0]))
    if (!control?.found || rankOf(control.record!) !== rankOf({ role: users[0]!.role, accountRole: users[0]!.accountRole })) {
      return { findings: [], skipped: `cannot read a user's role back through the contract: ${ctx.contract.byRole('user', 'read').length + ctx.contract.byRole('user', 'list').length === 0 ? lacking(ctx.contract.vocabulary, 'user', 'read or list') : `no role field in the schema of ${ctx.contract.vocabulary.name('user')}, or the read answers another role`}` }
    }
    const findings = new Map<string, FindingInput>()
    const ops = ctx.contract.byRole('user').filter((o) => (o.verb === 'update' || o.verb === 'create') && o.tenancy.context !== 'portal')
    for (const actor of users) {
      for (const op of ops) for (const f of await attempts(ctx, actor, op)) if (!findings.has(f.dedupKey)) findings.set(f.dedupKey, f)
    }
    for (const f of await readOnlyWrites(ctx)) if (!findings.has(f.dedupKey)) findings.set(f.dedupKey, f)
    return { findings: [...findings.values()] }
  },
})
