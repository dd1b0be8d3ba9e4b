import { randomBytes } from 'node:crypto'
import { defineCheck } from '../../harness/core/check.js'
import type { FindingInput } from '../../harness/core/finding.js'
import { expected } from '../../harness/core/oracle.js'
import type { Actor } from '../../harness/core/topology.js'
import type { HttpResponse } from '../../harness/adapters/http.js'
import type { CheckContext } from '../../harness/engine/context.js'
import type { Op } from '../../harness/engine/judge.js'
import { login, removeMember, roleHint } from '../../harness/engine/members.js'
import { bodyFromSchema } from '../../harness/provision/bodies.js'
import { newPassword } from '../../harness/provision/session.js'
import { toCurl } from '../../harness/core/curl.js'

const ok = (status: number) => status >= 200 && status < 300

/**
 * Existence through uniqueness (issue 13 defects 6 and 7; OWASP WSTG-IDNT-04 account enumeration,
 * CWE-204): a tenant's user admin creates users whose e-mail is (a) unused, (b) already a user of
 * its own account, (c) a user of another account, (d) a platform principal's. Another tenant's
 * e-mail must be answered exactly like an unused one (a 409 there tells any tenant who is a user
 * anywhere on the platform). A principal's e-mail must not become a tenant user's sign-in: where it
 * is accepted and the token endpoint then signs that e-mail in as the new tenant user, one username
 * names two identities; a refusal must look like any clash in the own account (same status).
 * Values unique in other ways (names, slugs) are not probed: OpenAPI has no way to declare them.
 */
export const existenceByUniqueness = defineCheck<CheckContext>({
  id: 'access/existence-by-uniqueness',
  suite: 'access',
  title: "Creating a user tells whether an e-mail is another tenant's user or a platform principal's",
  severity: 'medium', cwe: 204, owasp: 'API3:2023',
  requires: ['two-accounts'],
  docs: 'OWASP WSTG-IDNT-04 (account enumeration); issue 13 defects 6 and 7; faults user-email-unique-across-accounts, user-takes-principal-email',
  applies: ({ contract }) => (contract.byRole('user', 'create').some((o) => o.tenancy.context !== 'portal') ? undefined : 'the contract has no tenant-side operation that creates users'),
  async run(ctx) {
    const t = ctx.topology
    const [home, away] = t.accounts
    const findings: FindingInput[] = []
    const notes: string[] = []
    const users = t.actors.filter((a) => a.kind === 'user' && a.username)
    const foreign = users.find((a) => a.accountId === away?.id)
    const principal = t.actors.find((a) => a.kind === 'principal' && a.username)
    let judged = 0
    for (const op of ctx.contract.byRole('user', 'create').filter((o) => o.tenancy.context !== 'portal')) {
      const caller = users.find((a) => a.accountId === home?.id && expected(op, a, { accountId: a.accountId, workspaceId: a.workspaceId }) === 'allow')
      const own = caller && users.find((a) => a.accountId === caller.accountId && a !== caller)
      if (!caller || !own || !foreign) continue
      const target = { accountId: caller.accountId, workspaceId: caller.workspaceId }
      const create = async (email: string, password = newPassword()) => {
        const body = bodyFromSchema(ctx.contract, op.requestSchema ?? {}, { email, password, role: roleHint(ctx, op.requestSchema, 'viewer'), label: 'uniqueness' })
        const res = await ctx.as(caller).send({ method: op.method.toUpperCase(), path: ctx.pathFor(op, target), body })
        ctx.trackCreated(op, res, caller, target)
        const id = (res.json as { id?: unknown } | undefined)?.id
        return { res, password, created: ok(res.status) && typeof id === 'string' ? { label: `created ${email}`, kind: 'user', actorKind: 'viewer', id, username: email, ...target } as Actor : undefined }
      }
      const fresh = await create(`ta-${t.tag}-uniq-${randomBytes(4).toString('hex')}@tenant-audit.test`)
      if (!ok(fresh.res.status)) {
        notes.push(`${caller.label} could not create a user with an unused e-mail through ${op.id} (${fresh.res.status}): nothing to compare with`)
        continue
      }
      judged++
      const mine = await create(own.username!)
      if (mine.created) {
        notes.push(`${op.id} accepted a second user with ${own.label}'s e-mail in the same account: e-mails are not unique there`)
        await removeMember(ctx, mine.created)
      }
      const theirs = await create(foreign.username!)
      if (theirs.created) await removeMember(ctx, theirs.created)
      const finding = (res: HttpResponse, message: string, key: string, severity: FindingInput['severity'], victim: Actor): FindingInput => ({
        message, dedupKey: `${op.id}|${key}`, severity, actor: caller.label, victim: victim.label, evidence: res.evidence,
        repro: res.evidence && { seed: ctx.settings.seed, curl: toCurl(res.evidence.request) },
        operation: { method: op.method.toUpperCase(), pathTemplate: op.path, operationId: op.id },
      })
      if (theirs.res.status !== fresh.res.status) {
        findings.push(finding(theirs.res, `${caller.label} ${op.method.toUpperCase()} ${op.path} with the e-mail of ${foreign.label} (another account's user) answered ${theirs.res.status}; with an unused e-mail ${fresh.res.status}` +
          `${mine.res.status === theirs.res.status ? ` (and ${mine.res.status} for an e-mail of its own account)` : ''}: any tenant can tell whether an address is a user anywhere on the platform`, 'foreign-user', 'medium', foreign))
      }
      if (!principal) continue
      const taken = await create(principal.username!)
      if (taken.created) {
        // Accepted: one username now names a principal and a tenant user, unless the token endpoint keeps them apart.
        const signIn = await login(ctx, principal.username!, taken.password)
        await removeMember(ctx, taken.created)
        if (signIn) {
          findings.push(finding(taken.res, `${caller.label} created a user with the e-mail of ${principal.label} (a platform principal) through ${op.method.toUpperCase()} ${op.path} (${taken.res.status}), and the token endpoint then signed that e-mail in as the new tenant user: one username names a platform principal and a tenant's user (refuse it like any clash)`,
            'principal-email-taken', 'high', principal))
        } else notes.push(`${op.id} accepted ${principal.label}'s e-mail for a tenant user, but the token endpoint did not sign it in as that user (separate namespaces)`)
      } else if (!mine.created && taken.res.status !== mine.res.status) {
        findings.push(finding(taken.res, `${caller.label} ${op.method.toUpperCase()} ${op.path} with the e-mail of ${principal.label} (a platform principal) answered ${taken.res.status}; a clash in its own account ${mine.res.status}: the answer tells which addresses are platform principals`,
          'principal-email-distinct', 'low', principal))
      }
    }
    if (judged === 0) return { findings, skipped: notes[0] ?? 'no tenant user may create users in its own account, or the topology lacks a user to clash with', notes }
    return { findings, notes }
  },
})
