/**
 * What the forgery checks share: the scene (harness/forge/scene.ts) set up once per check, the
 * loopback listener when a check needs one, and the settle step (owner read-back, listener hits).
 */
import { randomBytes } from 'node:crypto'
import { lacking } from '../../harness/core/vocabulary.js'
import { defineCheck, type CheckDefinition } from '../../harness/core/check.js'
import type { Severity } from '../../harness/core/severity.js'
import type { Actor, WorkspaceNode, WorkspaceRole } from '../../harness/core/topology.js'
import { ANONYMOUS } from '../../harness/core/topology.js'
import type { CheckContext } from '../../harness/engine/context.js'
import { manager, userPath } from '../../harness/engine/members.js'
import { bodyFromSchema } from '../../harness/provision/bodies.js'
import { newPassword } from '../../harness/provision/session.js'
import { startKeyListener, type KeyListener } from '../../harness/forge/listener.js'
import { sceneFor, settle, type Scene } from '../../harness/forge/scene.js'

export interface ForgeryCheck {
  name: string
  title: string
  severity?: Severity
  cwe?: number
  docs: string
  /** Starts the loopback listener for this check (jku, x5u, out-of-band kid). */
  listener?: boolean
  /** Static precondition (see CheckDefinition.applies). */
  applies?: CheckDefinition['applies']
  /** Sends the attempts; returns a skip reason when a capability is missing. */
  attack(scene: Scene, listener: KeyListener | undefined): Promise<string | void>
}

export function forgeryCheck(c: ForgeryCheck): CheckDefinition<CheckContext> {
  return defineCheck<CheckContext>({
    id: `forgery/${c.name}`,
    suite: 'forgery',
    title: c.title,
    severity: c.severity ?? 'critical',
    cwe: c.cwe ?? 347,
    owasp: 'API2:2023',
    requires: ['two-accounts'],
    applies: c.applies,
    docs: c.docs,
    async run(ctx) {
      const scene = sceneFor(ctx)
      if ('reason' in scene) return { findings: [], skipped: scene.reason }
      const listener = c.listener ? await startKeyListener() : undefined
      try {
        const skipped = await c.attack(scene, listener)
        if (skipped) return { findings: [], skipped }
        return { findings: await settle(scene, listener) }
      } finally {
        await listener?.close()
      }
    },
  })
}

/** The target's published JWKS, found through the contract (`jwks.read`), or undefined. */
export async function publishedJwks(ctx: CheckContext): Promise<{ keys: Record<string, unknown>[] } | undefined> {
  const op = ctx.contract.byRole('key-set')[0]
  if (!op) return undefined
  const res = await ctx.as(ANONYMOUS).get(op.path)
  const keys = (res.json as { keys?: unknown } | undefined)?.keys
  return res.status === 200 && Array.isArray(keys) ? { keys: keys as Record<string, unknown>[] } : undefined
}

export interface Session { access_token: string; id_token?: string; refresh_token?: string }

/**
 * A throwaway member of `ws` with `role`, logged in through the token endpoint with every token it
 * returns (access, ID, refresh); removed when the check ends. Undefined when the contract offers no way.
 */
export async function throwawaySession(ctx: CheckContext, ws: WorkspaceNode, role: WorkspaceRole, label: string): Promise<{ member: Actor; session: Session; login(): Promise<Session | undefined> } | undefined> {
  const stub: Actor = { label, kind: 'user', actorKind: role, accountId: ws.accountId, workspaceId: ws.id, role, accountRole: null }
  const creator = manager(ctx, ['create'], stub)
  if (!creator) return undefined
  const email = `ta-${ctx.topology.tag}-f${randomBytes(4).toString('hex')}@tenant-audit.test`
  const password = newPassword()
  const body = bodyFromSchema(ctx.contract, creator.op.requestSchema ?? {}, { email, password, role, label })
  const res = await ctx.as(creator.actor).send({ method: creator.op.method, path: userPath(ctx, creator.op, stub), body })
  const id = (res.json as { id?: unknown } | undefined)?.id
  if (res.status < 200 || res.status > 299 || typeof id !== 'string') return undefined
  const member: Actor = { ...stub, id, username: email }
  const remover = manager(ctx, ['delete'], member)
  if (remover) ctx.defer(userPath(ctx, remover.op, member), remover.actor.token)
  const form = new URLSearchParams({ grant_type: 'password', username: email, password })
  if (ctx.profile.auth.workspaceParam) form.set(ctx.profile.auth.workspaceParam, ws.id)
  /** A new login of the same member (a new grant); its password never leaves this closure. */
  const login = async (): Promise<Session | undefined> => {
    const res = await ctx.as(ANONYMOUS).send({ method: 'POST', path: ctx.profile.auth.tokenEndpoint, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form.toString() })
    const session = res.json as Session | undefined
    return res.status === 200 && typeof session?.access_token === 'string' ? session : undefined
  }
  const session = await login()
  if (!session) return undefined
  return { member: { ...member, token: session.access_token }, session, login }
}

/** The victim's workspace as a topology node. */
export function victimWorkspace(scene: Scene): WorkspaceNode {
  return scene.ctx.topology.accounts.flatMap((a) => a.workspaces).find((w) => w.id === scene.object.workspaceId)!
}

/** Why no throwaway member could be had, in the deployment's terms and the user role's. */
export function noMemberReason(ctx: CheckContext): string {
  const creates = ctx.contract.byRole('user', 'create')
  return `the contract offers no way to create and log in a member: ${creates.length
    ? `a member created through ${creates.map((o) => o.id).join(' or ')} could not log in at ${ctx.profile.auth.tokenEndpoint}`
    : lacking(ctx.contract.vocabulary, 'user', 'create')}`
}
