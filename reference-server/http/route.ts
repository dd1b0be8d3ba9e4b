import type { Express, Request, RequestHandler, Response } from 'express'
import type { Operation } from '../contract.js'
import type { Handler, ServerDeps } from './types.js'
import type { FaultSet } from '../faults/index.js'
import { authorize, readCaller } from '../tenancy/authorize.js'
import { AuthError } from '../auth/errors.js'
import type { VerifiedToken } from '../auth/verify.js'
import { rejectNul } from './nul.js'
import { HttpError, notFound } from './problem.js'
import { headerTenantDecision, tenantFromHeaders } from './forgery-faults.js'
import { RequestAudit, recordThrottled, recorderFor } from '../audit/recorder.js'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

function checkParams(op: Operation, req: Request, faults: FaultSet): Record<string, string> {
  const params: Record<string, string> = {}
  for (const name of op.pathParams) {
    const value = req.params[name]
    // A path id that is not a lowercase UUID names nothing: 404, like any unknown object.
    const unchecked = faults.has('malformed-id-500') && name === 'documentId' && typeof value === 'string'
    if (typeof value !== 'string' || (!UUID.test(value) && !unchecked)) throw notFound()
    params[name] = value
  }
  return params
}

function requireJsonBody(req: Request): void {
  if (req.method === 'GET' || req.method === 'DELETE' || req.method === 'HEAD') return
  if (!req.is('application/json')) throw new HttpError(415, 'unsupported-media-type', 'Send the body as application/json.')
}

/**
 * Mounts one contract operation: method and path come from openapi.yaml, never from here, so the
 * served routes and the document cannot drift. The whole call (authorization reads and the handler)
 * runs in one transaction under the verified tenant; the reply is sent only after it commits.
 */
export function mount(app: Express, deps: ServerDeps, operationId: string, handler: Handler): void {
  const op = deps.contract.operation(operationId)
  recorderFor(deps) // refuses a switched-off audit trail outside the overhead bench, at start-up
  const route: RequestHandler = async (req: Request, res: Response) => {
    // The audit trail: allowed writes in the request's transaction, refusals after it (audit/recorder.ts).
    const audit = new RequestAudit(deps, op, req, res)
    let params: Record<string, string> = {}
    let token: VerifiedToken | undefined
    try {
      params = checkParams(op, req, deps.faults)
      audit.checked(params)
      requireJsonBody(req)
      rejectNul(req)
      if (deps.faults.has('ratelimit-unverified-claim')) await deps.limiter.consumeUnverified(req, res)
      const queryToken = deps.faults.has('access-token-in-query') && typeof req.query.access_token === 'string' ? `Bearer ${req.query.access_token}` : undefined
      const verified = await deps.verify(req.get('authorization') ?? queryToken)
      const fromHeaders = deps.faults.has('tenant-from-unverified-header') ? tenantFromHeaders(req, verified) : undefined
      const caller = fromHeaders ?? verified
      token = caller
      audit.verified(caller)
      // Rate limit: after authentication (keyed on verified claims only), before the transaction.
      await deps.limiter.consume(caller, req, res)
      await audit.beforeTransaction()
      const reply = await deps.db.withTenant(
        caller.kind === 'principal'
          ? { platformRole: caller.platformRole }
          : { accountId: caller.accountId, workspaceId: caller.workspaceId, userId: caller.sub },
        async (tx) => {
          // Revocation, the caller re-read and the path's workspace: one statement (authorize.ts readCaller).
          const read = fromHeaders ? undefined : await readCaller(tx, caller, params, deps.revocationKeys(caller))
          if (read ? read.revoked : await deps.isRevoked(tx, caller)) throw new AuthError('token_revoked')
          const decision = fromHeaders ? headerTenantDecision(op, fromHeaders, params) : await authorize(tx, op, caller, params, deps.faults, read)
          audit.authorized(decision)
          const reply = await handler({ tx, ...decision, params, req, requestId: String(res.locals.requestId), deps })
          await audit.beforeCommit(tx, reply)
          await deps.testHooks?.beforeCommit?.(tx, operationId)
          return reply
        },
      )
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
  app[op.method](op.expressPath, handler)
}
