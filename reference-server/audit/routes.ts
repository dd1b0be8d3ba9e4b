import type { Express, Request, Response } from 'express'
import { z } from 'zod'
import type { Call, ServerDeps, UserActor } from '../http/types.js'
import type { Tx } from '../store/db.js'
import type { FaultSet } from '../faults/index.js'
import { mount } from '../http/route.js'
import { badRequest, notFound } from '../http/problem.js'
import { authorize } from '../tenancy/authorize.js'
import { toEvent } from './chain.js'
import { PLATFORM_TRAIL, type AuditEvent } from './event.js'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

export const auditQuery = z.object({
  requestId: z.string().min(1).max(128).optional(),
  action: z.string().min(1).max(100).optional(),
  outcome: z.enum(['success', 'failure']).optional(),
  since: z.iso.datetime({ offset: true }).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().min(1).max(512).optional(),
})

const portalQuery = auditQuery.extend({ accountId: z.union([z.literal('platform'), z.string().regex(UUID)]).optional() })

export type AuditQuery = z.infer<typeof auditQuery>

const cursorBody = z.object({ t: z.string().regex(UUID), s: z.number().int().min(0) })

/** The opaque cursor: the (trail, seq) of the last event of the previous page. */
export function encodeCursor(e: Pick<AuditEvent, 'accountId' | 'seq'>): string {
  return Buffer.from(JSON.stringify({ t: e.accountId ?? PLATFORM_TRAIL, s: e.seq })).toString('base64url')
}

function decodeCursor(cursor: string): { t: string; s: number } {
  try {
    return cursorBody.parse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')))
  } catch {
    throw badRequest('The cursor is not one this server issued.')
  }
}

/** The instants a `since` may name: years 0001–9999 in UTC, which RFC 3339 and Postgres both hold. */
const EARLIEST = Date.parse('0001-01-01T00:00:00Z')
const LATEST = Date.parse('9999-12-31T23:59:59.999Z')

/**
 * RFC 3339 syntax is not enough: year 0000, or 9999-12-31 with a -23:59 offset, parse as text but
 * name no instant Postgres holds (it also refuses offsets past ±15:59), and its error was a 500
 * (issue 13 defect 11). Out of range is a 400; in range, the time reaches SQL as UTC.
 */
function boundedSince(since: string | undefined, faults: FaultSet): string | undefined {
  if (since === undefined || faults.has('audit-since-unbounded')) return since // the bug: the text as sent
  const t = Date.parse(since)
  if (!(t >= EARLIEST && t <= LATEST)) throw badRequest('since must be a time between 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z.')
  return new Date(t).toISOString()
}

function readQuery<T extends z.ZodType<{ since?: string | undefined }>>(schema: T, req: Request, faults: FaultSet): z.infer<T> {
  const q = req.query as Record<string, unknown>
  const pick = (k: string) => (typeof q[k] === 'string' ? q[k] : undefined)
  const parsed = schema.parse({
    requestId: pick('requestId'), action: pick('action'), outcome: pick('outcome'), since: pick('since'),
    limit: pick('limit'), cursor: pick('cursor'), accountId: pick('accountId'),
  })
  return { ...parsed, since: boundedSince(parsed.since, faults) }
}

/**
 * One page of events matching `where` (parameters $1..$k in `args`) and the query's filters, ascending
 * by (trail, seq): an account's trail in chain order, so an export verifies end to end.
 */
export async function listEvents(tx: Tx, where: string[], args: unknown[], q: AuditQuery): Promise<{ items: AuditEvent[]; nextCursor: string | null }> {
  const conds = [...where]
  const params = [...args]
  const add = (sql: (n: number) => string, value: unknown) => {
    params.push(value)
    conds.push(sql(params.length))
  }
  if (q.requestId) add((n) => `request_id = $${n}`, q.requestId)
  if (q.action) add((n) => `action = $${n}`, q.action)
  if (q.outcome) add((n) => `outcome = $${n}`, q.outcome)
  if (q.since) add((n) => `time >= $${n}::timestamptz`, q.since)
  if (q.cursor) {
    const c = decodeCursor(q.cursor)
    params.push(c.t, c.s)
    conds.push(`(trail, seq) > ($${params.length - 1}::uuid, $${params.length}::bigint)`)
  }
  params.push(q.limit + 1)
  const sql = `SELECT event, hash FROM audit_events WHERE ${conds.length ? conds.map((c) => `(${c})`).join(' AND ') : 'true'}
    ORDER BY trail, seq LIMIT $${params.length}`
  const { rows } = await tx.query<{ event: unknown; hash: string }>(sql, params)
  const items = rows.slice(0, q.limit).map(toEvent)
  const last = items[items.length - 1]
  return { items, nextCursor: rows.length > q.limit && last ? encodeCursor(last) : null }
}

/** The three read routes of the audit contract (and, with its seeded fault, one that should not exist). */
export function mountAudit(app: Express, deps: ServerDeps): void {
  const { faults } = deps

  mount(app, deps, 'listAccountAuditEvents', async (call: Call) => {
    const q = readQuery(auditQuery, call.req, faults)
    if (faults.has('audit-read-leaks-accounts')) {
      // The bug: the Portal's query (platform rights, no account filter) behind the Dashboard route.
      await call.tx.query("SELECT set_config('app.platform_role', 'support', true)")
      return { status: 200, body: await listEvents(call.tx, [], [], q) }
    }
    return { status: 200, body: await listEvents(call.tx, ['account_id = $1'], [call.accountId], q) }
  })

  mount(app, deps, 'listWorkspaceAuditEvents', async (call: Call) => {
    const q = readQuery(auditQuery, call.req, faults)
    const accountId = call.accountId ?? (call.actor as UserActor).accountId
    return {
      status: 200,
      body: await listEvents(call.tx, ['account_id = $1', 'actor_workspace_id = $2 OR target_workspace_id = $2'], [accountId, call.workspaceId], q),
    }
  })

  mount(app, deps, 'listPortalAuditEvents', async (call: Call) => {
    const q = readQuery(portalQuery, call.req, faults)
    const where: string[] = []
    const args: unknown[] = []
    if (q.accountId === 'platform') where.push('account_id IS NULL')
    else if (q.accountId) {
      args.push(q.accountId)
      where.push('account_id = $1')
    }
    return { status: 200, body: await listEvents(call.tx, where, args, q) }
  })

  if (faults.has('audit-delete-route')) {
    // The bug: an undocumented route that deletes events, authorized like the account's audit route and
    // run on the owner role (which can delete).
    const op = deps.contract.operation('listAccountAuditEvents')
    app.delete('/dashboard/v1/accounts/:accountId/audit-events/:eventId', async (req: Request, res: Response) => {
      const { accountId, eventId } = req.params as Record<string, string>
      if (!accountId || !eventId || !UUID.test(accountId) || !UUID.test(eventId)) throw notFound()
      const token = await deps.verify(req.get('authorization'))
      await deps.db.withTenant({ accountId: token.accountId, workspaceId: token.workspaceId, userId: token.sub, platformRole: token.platformRole },
        (tx) => authorize(tx, op, token, { accountId }, faults))
      const del = await deps.db.withOwner(async (tx) => {
        await tx.query("SELECT set_config('app.audit_maintenance', 'on', true)")
        return tx.query('DELETE FROM audit_events WHERE id = $1 AND account_id = $2', [eventId, accountId])
      })
      if (del.rowCount === 0) throw notFound()
      res.status(204).end()
    })
  }
}
