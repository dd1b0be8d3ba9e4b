import type { ErrorRequestHandler, Response } from 'express'
import { ZodError } from 'zod'
import { AuthError } from '../auth/errors.js'

/** RFC 9457 problem types this server answers with; `type` is `${PROBLEM_BASE}${kind}`. */
export type ProblemKind =
  | 'bad-request' | 'invalid-token' | 'insufficient-scope' | 'forbidden' | 'account-suspended'
  | 'not-found' | 'method-not-allowed' | 'conflict' | 'payload-too-large' | 'unsupported-media-type'
  | 'quota-exceeded' | 'internal'

export const PROBLEM_BASE = 'https://tenant-audit.dev/problems/'

const TITLES: Record<ProblemKind, string> = {
  'bad-request': 'Bad request',
  'invalid-token': 'Invalid token',
  'insufficient-scope': 'Insufficient scope',
  forbidden: 'Forbidden',
  'account-suspended': 'Account suspended',
  'not-found': 'Not found',
  'method-not-allowed': 'Method not allowed',
  conflict: 'Conflict',
  'payload-too-large': 'Payload too large',
  'unsupported-media-type': 'Unsupported media type',
  'quota-exceeded': 'Quota exceeded',
  internal: 'Internal server error',
}

/**
 * Thrown by handlers and middleware; the error handler turns it into problem+json. A 4xx is an answer,
 * not a failure: it captures no stack (nothing logs one), which was ~1 % of the server's time in an
 * audit, where most requests are refused.
 */
export class HttpError extends Error {
  readonly status: number
  readonly kind: ProblemKind
  readonly detail?: string
  readonly extra: Record<string, unknown>

  constructor(status: number, kind: ProblemKind, detail?: string, extra: Record<string, unknown> = {}) {
    const limit = Error.stackTraceLimit
    if (status < 500) Error.stackTraceLimit = 0
    super(detail ?? TITLES[kind])
    Error.stackTraceLimit = limit
    this.status = status
    this.kind = kind
    this.detail = detail
    this.extra = extra
  }
}

export const notFound = (detail = 'No such resource.') => new HttpError(404, 'not-found', detail)
export const forbidden = (detail = 'The caller may not perform this operation.') => new HttpError(403, 'forbidden', detail)
export const badRequest = (detail: string, extra?: Record<string, unknown>) => new HttpError(400, 'bad-request', detail, extra)

export function sendProblem(res: Response, status: number, kind: ProblemKind, detail?: string, extra: Record<string, unknown> = {}): void {
  const requestId = String(res.locals.requestId ?? '')
  if (status === 401) {
    // RFC 6750 §3: a forged, expired or missing token is invalid_token, and says nothing more.
    res.setHeader('WWW-Authenticate', 'Bearer error="invalid_token"')
  } else if (kind === 'insufficient-scope') {
    res.setHeader('WWW-Authenticate', 'Bearer error="insufficient_scope"')
  }
  res
    .status(status)
    .type('application/problem+json')
    .send(JSON.stringify({ type: PROBLEM_BASE + kind, title: TITLES[kind], status, detail, instance: res.req.originalUrl.split('?')[0], requestId, ...extra }))
}

/** Body-parser errors carry `type` and `status`; everything else unknown is a 500 with no detail. */
interface ParserError { type?: string; status?: number; expose?: boolean }

export function errorHandler(log: (err: unknown, requestId: string) => void): ErrorRequestHandler {
  return (err, _req, res, _next) => {
    if (res.headersSent) return
    if (err instanceof HttpError) return sendProblem(res, err.status, err.kind, err.detail, err.extra)
    // One generic message for every token failure: no hint about which check failed (CVE-2019-7644).
    if (err instanceof AuthError) return sendProblem(res, 401, 'invalid-token', 'The access token is missing or invalid.')
    if (err instanceof ZodError) {
      return sendProblem(res, 400, 'bad-request', 'The request does not match the schema.', {
        errors: err.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
      })
    }
    const pe = err as ParserError
    if (pe?.type === 'entity.too.large') return sendProblem(res, 413, 'payload-too-large', 'The request body is too large.')
    if (pe?.type === 'entity.parse.failed') return sendProblem(res, 400, 'bad-request', 'The request body is not valid JSON.')
    if (pe?.type === 'charset.unsupported' || pe?.type === 'encoding.unsupported') {
      return sendProblem(res, 415, 'unsupported-media-type', 'Unsupported body encoding.')
    }
    // Any other client error raised before a handler (e.g. a path segment that does not
    // percent-decode) is the client's: its 4xx status, no internals.
    if (typeof pe?.status === 'number' && pe.status >= 400 && pe.status < 500) {
      return sendProblem(res, pe.status === 413 ? 413 : 400, pe.status === 413 ? 'payload-too-large' : 'bad-request', 'The request could not be read.')
    }
    log(err, String(res.locals.requestId ?? ''))
    sendProblem(res, 500, 'internal', 'An unexpected error occurred.')
  }
}
