import type { Request } from 'express'
import { badRequest } from './problem.js'

/** Whether a parsed body or query carries a NUL character anywhere (Postgres text cannot hold one). */
export function hasNul(value: unknown, depth = 0): boolean {
  if (typeof value === 'string') return value.includes('\u0000')
  if (depth > 32 || value === null || typeof value !== 'object') return false
  return Object.entries(value).some(([k, v]) => k.includes('\u0000') || hasNul(v, depth + 1))
}

/** A NUL in any input is the client's mistake: 400 before it reaches SQL (where it would be a 500). */
export function rejectNul(req: Request): void {
  if (hasNul(req.body) || hasNul(req.query) || req.path.includes('\u0000')) throw badRequest('NUL characters are not accepted.')
}
