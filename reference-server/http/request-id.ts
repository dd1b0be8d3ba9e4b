import { randomUUID } from 'node:crypto'
import type { RequestHandler } from 'express'

// A client's id is echoed only when it is short and printable: it lands in logs and the audit trail.
const SAFE_ID = /^[A-Za-z0-9._:-]{1,128}$/

/** Sets `X-Request-Id` on every response: the client's when it sent a safe one, else a new UUID. */
export const requestId: RequestHandler = (req, res, next) => {
  const sent = req.get('x-request-id')
  const id = sent && SAFE_ID.test(sent) ? sent : randomUUID()
  res.locals.requestId = id
  res.setHeader('X-Request-Id', id)
  next()
}
