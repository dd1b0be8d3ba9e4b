import express, { type Express } from 'express'
import { pinoHttp } from 'pino-http'
import type { ServerDeps } from './http/types.js'
import { requestId } from './http/request-id.js'
import { HttpError, errorHandler, sendProblem } from './http/problem.js'
import { mountAuth } from './http/auth/routes.js'
import { mountApp } from './http/app/routes.js'
import { mountDashboard } from './http/dashboard/routes.js'
import { mountPortal } from './http/portal/routes.js'
import { mountAudit } from './audit/routes.js'
import { mountCheckpoints } from './audit/checkpoint-routes.js'
import { methodNotAllowedAudit, recordThrottled } from './audit/recorder.js'
import { callerContext, refuseRevoked } from './http/route.js'
import type { VerifiedToken } from './auth/verify.js'

/**
 * Builds the Express app from its dependencies. It never listens and never opens a database: main.ts
 * and the tests do that, so the same app runs embedded, under supertest and as a real process.
 */
export function createApp(deps: ServerDeps): Express {
  const app = express()
  app.disable('x-powered-by')
  app.set('etag', false)
  app.set('query parser', 'simple')
  app.use(requestId)
  // The access log (one `info` line per request): only when the logger writes info lines at all;
  // a silent or warn-level logger costs no per-request logging work.
  if (deps.log.isLevelEnabled('info')) app.use(
    pinoHttp({
      logger: deps.log,
      genReqId: (_req, res) => String(res.locals?.requestId ?? ''),
      // Log the route, never the Authorization header, cookies or bodies.
      serializers: {
        req: (req: { method: string; url: string }) => ({ method: req.method, url: req.url.split('?')[0] }),
        res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
      },
    }),
  )
  app.use(express.json({ limit: deps.settings.bodyLimit, strict: true, type: ['application/json', 'application/*+json'] }))
  mountAuth(app, deps)
  mountApp(app, deps)
  mountDashboard(app, deps)
  mountPortal(app, deps)
  mountAudit(app, deps)
  mountCheckpoints(app, deps)
  app.use(async (req, res) => {
    // A known path with another method is 405 with Allow; anything else is 404.
    const ops = deps.contract.operations.filter((op) => matches(op.expressPath, req.path))
    const allowed = ops.map((op) => op.method.toUpperCase())
    if (allowed.length > 0) {
      const audit = methodNotAllowedAudit(deps, req, res, ops[0]!)
      if (audit) {
        // An authenticated path: the caller is known before it is refused, spends its quota like any
        // request, and the denial is recorded against it (issue 13 defect 4).
        let caller: VerifiedToken | undefined
        try {
          caller = await deps.verify(req.get('authorization'))
          audit.verified(caller)
          if (!deps.faults.has('ratelimit-refusals-uncharged')) await deps.limiter.consume(caller, req, res)
          const who = caller
          if (await deps.db.withTenant(callerContext(who), (tx) => deps.isRevoked(tx, who))) await refuseRevoked(deps, who)
        } catch (err) {
          if (err instanceof HttpError && err.status === 429) await recordThrottled(deps, { req, res, op: ops[0]!, token: caller, params: {} })
          else await audit.failed(err)
          throw err
        }
        await audit.failed(new HttpError(405, 'method-not-allowed'))
      }
      res.setHeader('Allow', [...new Set(allowed)].join(', '))
      return sendProblem(res, 405, 'method-not-allowed', `Use ${[...new Set(allowed)].join(', ')}.`)
    }
    sendProblem(res, 404, 'not-found', 'No such route.')
  })
  app.use(errorHandler((err, id) => deps.log.error({ err, requestId: id }, 'unhandled error')))
  return app
}

function matches(expressPath: string, path: string): boolean {
  const re = new RegExp('^' + expressPath.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/\\?:[A-Za-z]+/g, '[^/]+') + '/?$')
  return re.test(path)
}
