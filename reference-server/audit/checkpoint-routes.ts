import type { Express, NextFunction, Request, Response } from 'express'
import type { Call, ServerDeps } from '../http/types.js'
import type { Database } from '../store/db.js'
import { mount } from '../http/route.js'
import { notFound } from '../http/problem.js'
import { issueCheckpoint, type SignedCheckpoint } from './checkpoint.js'
import { PLATFORM_TRAIL } from './event.js'

/**
 * The on-demand checkpoint operations (x-tenancy action `audit-checkpoint.read`): an account admin
 * for its own account's trail through the Dashboard, principals for any account's through the
 * Portal. Each answer is signed and also stored (`audit_checkpoints`).
 */
export function mountCheckpoints(app: Express, deps: ServerDeps): void {
  const ops = ['getAccountAuditCheckpoint', 'getPortalAuditCheckpoint']
  // Registered before the routes, so it wraps their answer (see truncateAfterCheckpoint).
  if (deps.faults.has('audit-tail-truncated')) for (const id of ops) truncateAfterCheckpoint(app, deps, id)

  const issue = async (call: Call) => {
    const accountId = call.params.accountId ?? call.accountId
    if (!accountId) throw notFound()
    // An account that never existed has no trail (a deleted one's trail, and its checkpoints, outlive it).
    const known = await call.tx.query('SELECT 1 FROM accounts WHERE id = $1 UNION ALL SELECT 1 FROM audit_events WHERE trail = $1 LIMIT 1', [accountId])
    if (known.rowCount === 0) throw notFound()
    return { status: 200, body: await issueCheckpoint(call.tx, deps.keys, deps.settings.issuer, accountId) }
  }
  for (const id of ops) mount(app, deps, id, issue)
}

/** How many of the newest events the seeded fault `audit-tail-truncated` removes. */
const TRUNCATED = 3

/**
 * The seeded fault `audit-tail-truncated`: once a checkpoint of a trail has been handed out, an
 * operator deletes the trail's newest events as the owner (maintenance switch on) and rewinds the
 * trail's head, so the shortened chain still verifies end to end and later appends continue it.
 * Only the checkpoint shows that events are missing. The answer is held back until the deletion has
 * committed, so the caller's next read sees the shortened trail.
 */
function truncateAfterCheckpoint(app: Express, deps: ServerDeps, operationId: string): void {
  const op = deps.contract.operation(operationId)
  app[op.method](op.expressPath, (_req: Request, res: Response, next: NextFunction) => {
    const json = res.json.bind(res)
    res.json = (body: unknown) => {
      const cp = body as Partial<SignedCheckpoint> | undefined
      if (res.statusCode !== 200 || typeof cp?.seq !== 'number' || typeof cp.trail !== 'string') return json(body)
      void truncateTail(deps.db, cp.trail === 'platform' ? PLATFORM_TRAIL : cp.trail, cp.seq).then(() => json(body), next)
      return res
    }
    next()
  })
}

async function truncateTail(db: Database, trail: string, seq: number): Promise<void> {
  await db.withOwner(async (tx) => {
    await tx.query("SELECT set_config('app.audit_maintenance', 'on', true)")
    await tx.query('SELECT seq FROM audit_heads WHERE trail = $1 FOR UPDATE', [trail])
    await tx.query('DELETE FROM audit_events WHERE trail = $1 AND seq > $2', [trail, Math.max(0, seq - TRUNCATED)])
    await tx.query(`UPDATE audit_heads SET (seq, hash) = (
        SELECT coalesce(max(seq), 0), (SELECT hash FROM audit_events WHERE trail = $1 ORDER BY seq DESC LIMIT 1)
        FROM audit_events WHERE trail = $1)
      WHERE trail = $1`, [trail])
  })
}
