import type { Actor, SeededObject, Topology, WorkspaceNode } from '../core/topology.js'
import type { OpTarget } from '../core/oracle.js'
import type { Op } from './judge.js'

export type Relation = 'own' | 'sibling' | 'other-account'

/** The workspaces an actor can be probed against: its own, a sibling in its account, one of another account. */
export function workspacesAround(t: Topology, actor: Actor): { relation: Relation; ws: WorkspaceNode }[] {
  const all = t.accounts.flatMap((a) => a.workspaces)
  const anchor = actor.workspaceId ?? t.accounts[0]?.workspaces[0]?.id
  const accountId = actor.accountId ?? t.accounts[0]?.id
  const own = all.find((w) => w.id === anchor)
  const sibling = all.find((w) => w.accountId === accountId && w.id !== anchor)
  const other = all.find((w) => w.accountId !== accountId)
  const out: { relation: Relation; ws: WorkspaceNode }[] = []
  if (own) out.push({ relation: 'own', ws: own })
  if (sibling) out.push({ relation: 'sibling', ws: sibling })
  if (other) out.push({ relation: 'other-account', ws: other })
  return out
}

/** Whether an operation names one object after its tenant parameters (`…/documents/{documentId}`). */
export function objectParam(t: Topology, op: Op): string | undefined {
  const last = op.pathParams.at(-1)
  return last && last !== t.params.workspace && last !== t.params.account ? last : undefined
}

/** A seeded object of the op's resource in a workspace: the actor's own when it has one (owner-only resources). */
export function objectIn(t: Topology, op: Op, ws: WorkspaceNode, actor: Actor): SeededObject | undefined {
  const candidates = t.objects.filter((o) => o.resource === op.resource && o.workspaceId === ws.id)
  return candidates.find((o) => o.ownerLabel === actor.label) ?? candidates.find((o) => o.ownerLabel !== actor.label) ?? candidates[0]
}

/** One representative actor per actor kind (from the first workspace), the principals, and anonymous. */
export function representatives(t: Topology): Actor[] {
  const first = t.accounts[0]?.workspaces[0]?.id
  const byKind = new Map<string, Actor>()
  for (const a of t.actors) {
    if (a.kind === 'user' && a.workspaceId !== first) continue
    if (!byKind.has(a.actorKind)) byKind.set(a.actorKind, a)
  }
  return [...byKind.values(), { label: 'anonymous', kind: 'anonymous', actorKind: 'anonymous' }]
}

/** Targets of an operation for an actor: per relation for workspace and account scope; the first account for the Portal. */
export function targetsFor(t: Topology, op: Op, actor: Actor): { relation: Relation | 'platform'; target: OpTarget }[] {
  const { scope } = op.tenancy
  if (scope === 'workspace') {
    return workspacesAround(t, actor).map(({ relation, ws }) => ({ relation, target: { accountId: ws.accountId, workspaceId: ws.id } }))
  }
  if (scope === 'account') {
    const own = actor.accountId ?? t.accounts[0]?.id
    const other = t.accounts.find((a) => a.id !== own)
    return [
      { relation: 'own' as const, target: { accountId: own } },
      ...(other ? [{ relation: 'other-account' as const, target: { accountId: other.id } }] : []),
    ]
  }
  const ws = t.accounts[0]?.workspaces[0]
  return [{ relation: 'platform', target: { accountId: ws?.accountId, workspaceId: ws?.id } }]
}
