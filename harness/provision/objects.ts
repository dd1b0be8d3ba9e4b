import type { HttpAdapter } from '../adapters/http.js'
import { mapPool } from '../adapters/limit.js'
import { fillPath, type ContractOperation, type TargetContract, type Tenancy } from '../core/contract.js'
import { expected } from '../core/oracle.js'
import type { Actor, SeededObject, Topology } from '../core/topology.js'
import { validBody } from './bodies.js'
import { fail } from './session.js'

type Op = ContractOperation & { tenancy: Tenancy }

/** Roles the harness provisions itself; every other resource with a workspace-scoped `create` is seeded as data. */
export const TENANCY_ROLES: ReadonlySet<string> = new Set(['account', 'workspace', 'user', 'principal', 'audit'])

/** The workspace-scoped `create` operations that seed data objects (documents, notes, records, …). */
export function objectCreateOps(contract: TargetContract): Op[] {
  return contract.annotated.filter((op) =>
    op.verb === 'create' && op.tenancy.scope === 'workspace' && op.tenancy.context !== 'portal' && !(op.role && TENANCY_ROLES.has(op.role)))
}

/**
 * Seeds one object per workspace for each shared resource (created by the first user allowed to),
 * and one per user for each owner-only resource (each user's own). Every text field carries a
 * fresh canary. A resource whose create schema admits no body the harness can build is not seeded
 * (nothing invalid is sent); the checks then find none of its objects and skip what needs them.
 */
export async function seedObjects(http: HttpAdapter, contract: TargetContract, t: Topology, canary: () => string): Promise<SeededObject[]> {
  // Named and built first, in order (canaries, labels, bodies), then sent up to the adapter's concurrency at once.
  const planned: { object: Omit<SeededObject, 'id'>; path: string; creator: Actor; op: Op; body: unknown }[] = []
  seeding: for (const op of objectCreateOps(contract)) {
    for (const account of t.accounts) {
      for (const ws of account.workspaces) {
        const members = t.actors.filter((a) => a.kind === 'user' && a.workspaceId === ws.id)
        const allowed = members.filter((a) => expected(op, a, { accountId: account.id, workspaceId: ws.id }) === 'allow')
        // Owner-only (reads and writes of one object are the author's, whatever its create says): one per member.
        const ownerOnly = contract.ownerOnly(op.resource)
        const creators: Actor[] = ownerOnly ? allowed : allowed.slice(0, 1)
        for (const [i, creator] of creators.entries()) {
          const marker = canary()
          const label = `${ws.label}.${op.resource}.${ownerOnly ? creator.label.split('.').pop() : i}`
          const path = fillPath(op.path, { [t.params.workspace]: ws.id, [t.params.account]: account.id })
          const body = validBody(contract, op.requestSchema ?? {}, { canary: marker, label })
          if (!body.ok) continue seeding
          planned.push({ op, path, creator, body: body.body, object: { label, resource: op.resource, accountId: account.id, workspaceId: ws.id, ownerLabel: creator.label, private: ownerOnly, canary: marker } })
        }
      }
    }
  }
  // Each account's objects one after another in plan order (its lists answer in the same order on
  // every run of the seed); the accounts concurrently. Returned in plan order.
  const accounts = [...new Set(planned.map((p) => p.object.accountId))]
  const made = new Map<(typeof planned)[number], SeededObject>()
  await mapPool(accounts, http.concurrency ?? 1, async (accountId) => {
    for (const p of planned.filter((x) => x.object.accountId === accountId)) {
      const res = await http.send({ method: p.op.method, path: p.path, token: p.creator.token, body: p.body })
      const id = (res.json as { id?: unknown } | undefined)?.id
      if (res.status < 200 || res.status > 299 || typeof id !== 'string') fail(`seeding ${p.object.label} as ${p.creator.label}`, res)
      made.set(p, { ...p.object, id })
    }
  })
  return planned.map((p) => made.get(p)!)
}
