import { defineCheck, type CheckOutcome } from '../../harness/core/check.js'
import type { FindingInput } from '../../harness/core/finding.js'
import { expected, type OpTarget } from '../../harness/core/oracle.js'
import type { Actor, WorkspaceNode } from '../../harness/core/topology.js'
import type { CheckContext, ProbeResult } from '../../harness/engine/context.js'
import type { Op } from '../../harness/engine/judge.js'
import { bodyFromSchema } from '../../harness/provision/bodies.js'
import { marker } from '../../harness/engine/victims.js'
import type { MappedEvent } from '../../harness/audit/mapping.js'
import { AuditTrail, type Sent } from '../../harness/audit/trail.js'
import { trailLabel } from '../../harness/audit/labels.js'
import { collapse } from '../../harness/audit/scenarios.js'
import { findingFor } from '../access/policy-matrix.check.js'

interface Planted { ws: WorkspaceNode; sent: Sent }

/**
 * The audit read API is itself tenant-isolated (research §2.5.4: the same BOLA matrix as the data):
 * an account admin reads only its account's trail (also when the query names another account), a
 * workspace admin only its workspace's events, other accounts' and sibling workspaces' trails are
 * refused, user tokens never read the Portal's. Every read goes through `ctx.probe`, so answers are
 * judged against the oracle and scanned for foreign canaries; a known event is planted in every
 * workspace first, so a leak is visible even when the trails are otherwise quiet.
 */
export const readIsolation = defineCheck<CheckContext>({
  id: 'audit/read-isolation',
  suite: 'audit',
  title: "Another tenant's audit events readable",
  severity: 'critical', cwe: 639, owasp: 'API1:2023',
  requires: ['two-accounts'],
  docs: 'tenancy-audit-ratelimit.md §2.5.4 (tenant-scoped audit read API), §1.5 (BOLA matrix); authz-tools.md §4 R1',
  async run(ctx): Promise<CheckOutcome> {
    const trail = await AuditTrail.open(ctx)
    if (!(trail instanceof AuditTrail)) return trail
    const t = ctx.topology
    const findings: FindingInput[] = []
    const judged = (r: ProbeResult, relation: string) => {
      if (r.judgement.problems.length > 0) findings.push(findingFor(ctx, r, relation))
    }
    // 1. One known event per workspace: an allowed create by one of its members.
    const create = ctx.contract.annotated.find((o) => o.verb === 'create' && o.tenancy.scope === 'workspace' && o.tenancy.context === 'app') ??
      ctx.contract.annotated.find((o) => o.verb === 'create' && o.tenancy.scope === 'workspace')
    const planted: Planted[] = []
    for (const ws of t.accounts.flatMap((a) => a.workspaces)) {
      const target = { accountId: ws.accountId, workspaceId: ws.id }
      const member = create && t.actors.find((a) => a.kind === 'user' && a.workspaceId === ws.id && expected(create, a, target) === 'allow')
      if (!create || !member) continue
      const mark = marker(ctx)
      const r = await trail.probe({ actor: member, op: create, target, body: bodyFromSchema(ctx.contract, create.requestSchema ?? {}, { label: mark, canary: mark }) })
      if (r.response.status >= 200 && r.response.status < 300) planted.push({ ws, sent: r.sent })
    }
    await trail.await(planted.map((p) => p.sent))
    const plantedIn = (e: MappedEvent) => planted.find((p) => p.sent.requestId === e.requestId)
    const items = (r: ProbeResult) => trail.eventsIn(r.response)

    const read = async (actor: Actor, op: Op, target: OpTarget, query: Record<string, string> = {}) =>
      trail.probe({ actor, op, target, query: { limit: '200', ...query } })

    // 2. The account trail: own account only, whatever the query says; other accounts refused.
    const accountOp = trail.ops.account
    if (accountOp) {
      for (const account of t.accounts) {
        const admin = trail.accountReader(account.id)
        if (!admin) continue
        const other = t.accounts.find((a) => a.id !== account.id)!
        for (const query of [{}, { accountId: other.id }] as Record<string, string>[]) {
          const r = await read(admin, accountOp, { accountId: account.id }, query)
          judged(r, 'own-account')
          const foreign = items(r).filter((e) => e.accountId !== account.id)
          if (foreign.length > 0) {
            const from = [...new Set(foreign.map((e) => trailLabel(t, e.accountId)))]
            findings.push({
              message: `${admin.label} reading its own account's trail${'accountId' in query ? ' with ?accountId=<another account>' : ''} received ${foreign.length} event(s) of other trails (${from.join(', ')})`,
              dedupKey: `${accountOp.id}|foreign-events|${'accountId' in query ? 'query' : 'plain'}`,
              ...ctx.evidenceOf(r), victim: from.join(', '),
            })
          }
        }
        judged(await read(admin, accountOp, { accountId: other.id }), 'other-account')
      }
      // Users without the account role are refused the account trail.
      const plain = t.actors.find((a) => a.kind === 'user' && a.accountRole !== 'admin' && a.token)
      if (plain) judged(await read(plain, accountOp, { accountId: plain.accountId }), 'own-account')
    }

    // 3. The workspace trail: events of that workspace only; siblings and other accounts refused.
    const wsOp = trail.ops.workspace
    if (wsOp) {
      for (const account of t.accounts) {
        for (const ws of account.workspaces) {
          const target = { accountId: ws.accountId, workspaceId: ws.id }
          const admin = t.actors.find((a) => a.kind === 'user' && a.workspaceId === ws.id && a.accountRole !== 'admin' && expected(wsOp, a, target) === 'allow') ??
            t.actors.find((a) => a.kind === 'user' && a.workspaceId === ws.id && expected(wsOp, a, target) === 'allow')
          if (!admin) continue
          const r = await read(admin, wsOp, target)
          judged(r, 'own-workspace')
          // Without a workspace field in the deployment's events, only the account is judged.
          const m = trail.mapping
          const inWorkspace = (e: MappedEvent) => (!m.carries('workspaceId') && !m.carries('targetWorkspaceId')) || e.workspaceId === ws.id || e.targetWorkspaceId === ws.id
          const outside = items(r).filter((e) => e.accountId !== ws.accountId || !inWorkspace(e))
          const foreignPlants = outside.map(plantedIn).filter((p) => p !== undefined)
          if (outside.length > 0) {
            findings.push({
              message: `${admin.label} reading workspace ${ws.label}'s events received ${outside.length} event(s) of other workspaces or accounts` +
                (foreignPlants.length ? ` (including the ones planted in ${[...new Set(foreignPlants.map((p) => p.ws.label))].join(', ')})` : ''),
              dedupKey: `${wsOp.id}|foreign-events|${admin.accountRole === 'admin' ? 'account-admin' : 'workspace-admin'}`,
              ...ctx.evidenceOf(r),
            })
          }
          for (const other of t.accounts.flatMap((a) => a.workspaces).filter((w) => w.id !== ws.id)) {
            const there = { accountId: other.accountId, workspaceId: other.id }
            if (expected(wsOp, admin, there) === 'allow') continue
            judged(await read(admin, wsOp, there), other.accountId === ws.accountId ? 'sibling-workspace' : 'other-account')
          }
        }
      }
    }

    // 4. The Portal trail: principals only.
    const portalOp = trail.ops.portal
    if (portalOp) {
      for (const actor of [...trail.portalReaders(), ...t.actors.filter((a) => a.kind === 'user' && a.accountRole === 'admin').slice(0, 1)]) {
        judged(await read(actor, portalOp, {}, { limit: '1' }), 'platform')
      }
    }
    return { findings: collapse(findings) }
  },
})
