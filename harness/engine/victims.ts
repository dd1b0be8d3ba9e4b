import { randomBytes } from 'node:crypto'
import { createRequire } from 'node:module'
import type { HttpResponse } from '../adapters/http.js'
import type { Actor, SeededObject, WorkspaceNode } from '../core/topology.js'
import { expected, type OpTarget } from '../core/oracle.js'
import { bodyFromSchema } from '../provision/bodies.js'
import { roleChoices } from '../provision/roles.js'
import { newPassword } from '../provision/session.js'
import type { CheckContext } from './context.js'
import type { Op } from './judge.js'
import { objectIn, objectParam } from './targets.js'
import { throwaway } from './throwaway.js'

// canonicalize is CommonJS whose typings claim an ES default export; load it as what it is.
const canonicalize = createRequire(import.meta.url)('canonicalize') as (input: unknown) => string | undefined

/**
 * Victims: the objects a check aims foreign or destructive calls at (throwaways, as a rule), and how
 * it proves afterwards what became of them: re-read by their owner (or, when the owner may not read
 * them, the most privileged actor the policy lets), compared as canonical JSON (RFC 8785), and
 * removed when the check ends. Everything is found through `x-tenancy`, so it works on any target.
 */

const READS = new Set(['read', 'list', 'search'])

/** Whether an operation only reads (verbs read, list, search); anything else is treated as a write. */
export const isRead = (op: Op): boolean => READS.has(op.verb)

/** Where an operation on `victim` points: the victim's own tenant ids, the object and its path parameter. */
export function victimTarget(ctx: CheckContext, op: Op, victim: SeededObject): { target: OpTarget; params: Record<string, string> } {
  const param = objectParam(ctx.topology, op)
  return {
    target: { accountId: victim.accountId, workspaceId: victim.workspaceId || undefined, object: param ? victim : undefined },
    params: param ? { [param]: victim.id } : {},
  }
}

/** The owner first, then whoever sits closest above the victim: principals, account admins, members, the rest. */
function candidates(ctx: CheckContext, victim: SeededObject): Actor[] {
  const rank = (a: Actor) =>
    a.kind === 'principal' ? (a.platformRole === 'platform_admin' ? 0 : 1)
      : a.accountId !== victim.accountId ? 9 : a.accountRole === 'admin' ? 2 : a.workspaceId === victim.workspaceId ? 3 : 4
  const owner = ctx.topology.actors.find((a) => a.label === victim.ownerLabel)
  return [...(owner ? [owner] : []), ...ctx.topology.actors.filter((a) => a !== owner).sort((a, b) => rank(a) - rank(b))]
}

export interface Handler { actor: Actor; op: Op; path: string; target?: OpTarget | undefined }

/** The first actor (owner first) and operation of `verb` on the victim's resource that the policy allows. */
export function handlerOf(ctx: CheckContext, victim: SeededObject, verb: string): Handler | undefined {
  const ops = ctx.contract.annotated.filter((o) => o.resource === victim.resource && o.verb === verb)
  for (const actor of candidates(ctx, victim)) {
    for (const op of ops) {
      const { target, params } = victimTarget(ctx, op, victim)
      if (expected(op, actor, target) === 'allow') return { actor, op, path: ctx.pathFor(op, target, params), target }
    }
  }
  return undefined
}

/** A re-read: its status and, when it succeeded, the canonical JSON of what came back. */
export interface Snapshot { status: number; state?: string | undefined; json?: unknown }

export async function snapshot(ctx: CheckContext, reader: Handler): Promise<Snapshot> {
  const res = await ctx.as(reader.actor).send({ method: reader.op.method, path: reader.path })
  const ok = res.status >= 200 && res.status < 300
  return { status: res.status, state: ok ? canonicalize(res.json ?? res.body) : undefined, json: ok ? res.json : undefined }
}

/**
 * A re-read the verdict rests on ("nothing changed", "it is where it belongs"): a 2xx is evidence;
 * a 404 says the object is gone (`gone`), which counts only while the reader's token is served
 * elsewhere (registered as a refusal, so a positive control stands behind it); anything else (401,
 * 403, 5xx) shows nothing, and the check is inconclusive.
 */
export async function readBack(ctx: CheckContext, reader: Handler, what: string): Promise<Snapshot & { gone?: boolean }> {
  const snap = await snapshot(ctx, reader)
  if (snap.status === 404) {
    if (reader.target) ctx.noteRefused(reader.actor, reader.op, reader.target)
    return { ...snap, gone: true }
  }
  ctx.expectServed(snap, `${what}: ${reader.actor.label}'s read-back (${reader.op.method.toUpperCase()} ${reader.op.path})`)
  return snap
}

/** Whether a re-read shows anything different from the first: another status, or other content. */
export function differs(before: Snapshot, after: Snapshot): boolean {
  return before.status !== after.status || before.state !== after.state
}

/** Deletes the victim when the check ends, as someone allowed to (a victim already gone is fine). */
export function disposeLater(ctx: CheckContext, victim: SeededObject): void {
  const h = handlerOf(ctx, victim, 'delete')
  if (h) ctx.defer(h.path, h.actor.token)
}

/** Removes, when the check ends, whatever a create call made (whether or not it should have). */
export function disposeCreated(ctx: CheckContext, op: Op, actor: Actor, target: OpTarget, res: HttpResponse): void {
  const id = (res.json as { id?: unknown } | undefined)?.id
  if (op.verb !== 'create' || res.status < 200 || res.status > 299 || typeof id !== 'string') return
  disposeLater(ctx, {
    label: `created.${op.resource}`, resource: op.resource, id, ownerLabel: actor.label, private: ctx.contract.ownerOnly(op.resource), canary: '',
    accountId: op.role === 'account' ? id : (target.accountId ?? ''), workspaceId: op.role === 'workspace' ? id : (target.workspaceId ?? ''),
  })
}

/**
 * A body for an update that really changes the object: every free-text field gets `marker`, and a
 * workspace role field, if any, asks for `editor` (throwaway users are viewers). Without a change,
 * a write that went through could not be told from one that was refused.
 */
export function changeBody(ctx: CheckContext, op: Op, marker: string): unknown {
  const schema = ctx.contract.resolve(op.requestSchema ?? {})
  const props = (schema.properties ?? {}) as Record<string, unknown>
  const free = Object.entries(props).filter(([, sub]) => {
    const s = ctx.contract.resolve(sub)
    return s.type === 'string' && s.enum === undefined && s.const === undefined && s.format === undefined
  }).map(([key]) => key)
  const required = [...new Set([...((schema.required as string[] | undefined) ?? []), ...free])]
  return bodyFromSchema(ctx.contract, { ...schema, required }, { label: marker, canary: marker, role: ctx.contract.vocabulary.roleValue('editor', roleChoices(ctx.contract, schema, 'role')) })
}

/** A fresh marker for what a check writes: the run's tag (so teardown and readers can tell it) and a random tail. */
export function marker(ctx: CheckContext): string {
  return `ta-${ctx.topology.tag}-${randomBytes(4).toString('hex')}`
}

/** The body a write sends: a valid new object for a create, a real change for any other write, none for get/delete. */
export function writeBody(ctx: CheckContext, op: Op, mark: string): unknown {
  if (op.method === 'get' || op.method === 'delete') return undefined
  if (op.verb !== 'create') return changeBody(ctx, op, mark)
  return bodyFromSchema(ctx.contract, op.requestSchema ?? {}, {
    email: `${mark}@tenant-audit.test`, password: newPassword(), label: mark, canary: mark,
    role: ctx.contract.vocabulary.roleValue('viewer', roleChoices(ctx.contract, op.requestSchema, 'role')),
    platformRole: ctx.contract.vocabulary.roleValue('support', roleChoices(ctx.contract, op.requestSchema, 'platformRole')),
  })
}

/**
 * The object of `op`'s resource a probe in `ws` may name: a seeded one for reads (the actor's own
 * when it has one), a fresh throwaway for writes (created by the actor when the policy lets it, so
 * "my object" is really mine), removed when the check ends. Undefined when there is none to name.
 */
export async function victimIn(ctx: CheckContext, op: Op, ws: WorkspaceNode, actor?: Actor): Promise<SeededObject | undefined> {
  if (isRead(op)) return objectIn(ctx.topology, op, ws, actor ?? { label: '', kind: 'anonymous', actorKind: 'anonymous' })
  if (op.verb === 'create') return undefined
  // A write on the tenant itself (rename a workspace, suspend an account) gets a whole throwaway tenant in `ws`'s account.
  const tenant = !objectParam(ctx.topology, op) && (op.role === 'workspace' || op.role === 'account')
  if (!objectParam(ctx.topology, op) && !tenant) return undefined
  const spare = await throwaway(ctx, op.resource, { accountId: ws.accountId, workspaceId: tenant ? undefined : ws.id }, actor)
  if (spare) disposeLater(ctx, spare)
  return spare
}

/** The workspace a probe of `op` names in account `accountId`: a throwaway one when the call would change or delete the workspace itself. */
export async function workspaceFor(ctx: CheckContext, op: Op, accountId: string, seeded: WorkspaceNode | undefined): Promise<WorkspaceNode | undefined> {
  if (op.role !== 'workspace' || isRead(op) || op.verb === 'create') return seeded
  const spare = await throwaway(ctx, op.resource, { accountId })
  if (spare) disposeLater(ctx, spare)
  const account = ctx.topology.accounts.find((a) => a.id === accountId)
  return spare && { label: `${account?.label ?? accountId}.throwaway`, id: spare.id, accountId }
}
