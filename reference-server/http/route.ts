import type { Express, Request, RequestHandler, Response } from 'express'
import type { Operation } from '../contract.js'
import type { TenantContext } from '../store/db.js'
import type { Handler, Reply, ServerDeps } from './types.js'
import type { FaultSet } from '../faults/index.js'
import { authorize, readCaller } from '../tenancy/authorize.js'
import { MEMBER_WRITE_LOCK, takesMemberWriteLock } from '../tenancy/member-lock.js'
import { AuthError } from '../auth/errors.js'
import type { VerifiedToken } from '../auth/verify.js'
import { rejectNul } from './nul.js'
import { HttpError, notFound } from './problem.js'
import { headerTenantDecision, tenantFromHeaders } from './forgery-faults.js'
import { RequestAudit, recordThrottled, recorderFor } from '../audit/recorder.js'
import { hashAhead } from './users.js'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

/** A refusal whose event was committed in the request's own transaction: thrown once that transaction has ended. */
interface Refused { refused: unknown }

/** The path's ids, or `malformed` when one is not a lowercase UUID (it names nothing: a 404, once the caller is known). */
function readParams(op: Operation, req: Request, faults: FaultSet): { params: Record<string, string>; malformed: boolean } {
  const params: Record<string, string> = {}
  let malformed = false
  for (const name of op.pathParams) {
    const value = req.params[name]
    const unchecked = faults.has('malformed-id-500') && name === 'documentId' && typeof value === 'string'
    if (typeof value !== 'string' || (!UUID.test(value) && !unchecked)) malformed = true
    else params[name] = value
  }
  return { params, malformed }
}

function requireJsonBody(req: Request): void {
  if (req.method === 'GET' || req.method === 'DELETE' || req.method === 'HEAD') return
  if (!req.is('application/json')) throw new HttpError(415, 'unsupported-media-type', 'Send the body as application/json.')
}

/** The tenant context a verified caller's transaction runs under. */
export function callerContext(caller: VerifiedToken): TenantContext {
  return caller.kind === 'principal'
    ? { platformRole: caller.platformRole }
    : { accountId: caller.accountId, workspaceId: caller.workspaceId, userId: caller.sub }
}

/** A revoked token is nobody: what it spent goes back (issue 13 defect 5), and it is refused. */
export async function refuseRevoked(deps: ServerDeps, caller: VerifiedToken): Promise<never> {
  if (!deps.faults.has('ratelimit-revoked-token-charged')) await deps.limiter.refund(caller)
  throw new AuthError('token_revoked')
}

export interface MountOptions {
  /**
   * The operation stores a hash of the body's `password`. The KDF (~30 ms at the throwaway cost, far more at
   * production's) runs before the request's transaction when `mayHashAhead` finds a role in the caller's
   * verified claims that may do this here (authorize still decides, in the transaction): hashed in the
   * handler, it held the database — PGlite's one connection, or a pool's — and every other request waited
   * behind it (measured: 207 user creations held PGlite 6.5 s of a 26 s access phase). Any other caller's
   * password is hashed in the handler after authorization, so a caller who may not create users never costs a hash.
   */
  password?: { mayHashAhead(caller: VerifiedToken, params: Record<string, string>): boolean }
}

/**
 * Mounts one contract operation: method and path come from openapi.yaml, never from here, so the
 * served routes and the document cannot drift. The whole call (authorization reads and the handler)
 * runs in one transaction under the verified tenant; the reply is sent only after it commits.
 */
export function mount(app: Express, deps: ServerDeps, operationId: string, handler: Handler, options: MountOptions = {}): void {
  const op = deps.contract.operation(operationId)
  recorderFor(deps) // refuses a switched-off audit trail outside the overhead bench, at start-up
  const writeLock = takesMemberWriteLock(op.method, operationId, deps.faults)
  const route: RequestHandler = async (req: Request, res: Response) => {
    // The audit trail: allowed writes in the request's transaction, refusals after it (audit/recorder.ts).
    const audit = new RequestAudit(deps, op, req, res)
    let token: VerifiedToken | undefined
    const { params, malformed } = readParams(op, req, deps.faults)
    try {
      audit.checked(params)
      // The bug (ratelimit-refusals-uncharged): an id that names nothing is answered before the quota is spent.
      const uncharged = deps.faults.has('ratelimit-refusals-uncharged')
      requireJsonBody(req)
      rejectNul(req)
      if (deps.faults.has('ratelimit-unverified-claim')) await deps.limiter.consumeUnverified(req, res)
      const queryToken = deps.faults.has('access-token-in-query') && typeof req.query.access_token === 'string' ? `Bearer ${req.query.access_token}` : undefined
      const verified = await deps.verify(req.get('authorization') ?? queryToken)
      const fromHeaders = deps.faults.has('tenant-from-unverified-header') ? tenantFromHeaders(req, verified) : undefined
      const caller = fromHeaders ?? verified
      token = caller
      audit.verified(caller)
      if (malformed && uncharged) throw notFound()
      // Rate limit: after authentication (keyed on verified claims only), before the transaction. Every
      // request with a verified identity spends its quota, refused or not (issue 13 defect 4).
      await deps.limiter.consume(caller, req, res)
      await audit.beforeTransaction()
      const hashedAhead = options.password && !malformed && !fromHeaders && options.password.mayHashAhead(caller, params)
        ? await hashAhead(req.body, deps.settings.passwordCost) : undefined
      const reply = await deps.db.withTenant(callerContext(caller),
        async (tx): Promise<Reply | Refused> => {
          // A member's write holds its role until it commits (issue 13 s1): taken before the role is read.
          if (writeLock && caller.kind === 'user') await tx.query(MEMBER_WRITE_LOCK, [caller.sub])
          // Revocation, the caller re-read and the path's workspace: one statement (authorize.ts readCaller).
          const read = fromHeaders ? undefined : await readCaller(tx, caller, params, deps.revocationKeys(caller))
          if (read) audit.read(read)
          if (read ? read.revoked : await deps.isRevoked(tx, caller)) await refuseRevoked(deps, caller)
          try {
            if (malformed) throw notFound()
            const decision = fromHeaders ? headerTenantDecision(op, fromHeaders, params) : await authorize(tx, op, caller, params, deps.faults, read)
            audit.authorized(decision)
            const reply = await handler({ tx, ...decision, params, req, requestId: String(res.locals.requestId), deps, hashedAhead })
            await audit.beforeCommit(tx, reply)
            await deps.testHooks?.beforeCommit?.(tx, operationId)
            return reply
          } catch (err) {
            // A denial before anything was written (before the handler, or by a read's handler): its event
            // commits in this transaction instead of a transaction of its own (recorder.ts refusedInTransaction).
            if (await audit.refusedInTransaction(tx, err)) return { refused: err }
            throw err
          }
        },
      ).catch((err: unknown) => { throw audit.notCommitted(err) })
      if ('refused' in reply) {
        audit.refusalCommitted()
        throw reply.refused
      }
      if (reply.body === undefined) res.status(reply.status).end()
      else res.status(reply.status).json(reply.body)
    } catch (err) {
      // A 429 is a flood by nature: aggregated per caller and operation, so it stays cheap and cannot drown the trail.
      if (err instanceof HttpError && err.status === 429) await recordThrottled(deps, { req, res, op, token, params })
      else await audit.failed(err)
      throw err
    }
  }
  app[op.method](op.expressPath, route)
}

/** Mounts an unauthenticated operation (context auth/public); the handler writes the response itself. */
export function mountPublic(app: Express, deps: ServerDeps, operationId: string, handler: RequestHandler): void {
  const op = deps.contract.operation(operationId)
  if (op.tenancy.context !== 'auth' && op.tenancy.context !== 'public') {
    throw new Error(`${operationId} is not a public operation`)
  }
  // A 429 the handler hands on (the token endpoint's login throttle) is a refused logon attempt: recorded like
  // any other 429, anonymous in the platform trail and aggregated per source (issue 13 defect 9).
  const route: RequestHandler = async (req, res, next) => {
    const onError = (err?: unknown) => {
      if (!(err instanceof HttpError && err.status === 429) || deps.faults.has('audit-skips-throttled-login')) return next(err)
      recordThrottled(deps, { req, res, op }).then(() => next(err), next)
    }
    try {
      await handler(req, res, onError)
    } catch (err) {
      onError(err)
    }
  }
  app[op.method](op.expressPath, route)
}
