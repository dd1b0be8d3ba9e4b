import { randomUUID } from 'node:crypto'
import type { Tx } from '../store/db.js'
import { eventHash } from './canonical.js'
import { PLATFORM_TRAIL, type AuditEvent, type EventDraft } from './event.js'

/** JSON with every `undefined` member removed: what is hashed is exactly what is stored and served. */
function plain<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T
}

export interface AppendOptions {
  /** The seeded fault `audit-chain-wrong-content`: the hash leaves `target` out. */
  hashWithoutTarget?: boolean
}

/**
 * Appends one event to its trail inside `tx`. The trail's head row is locked FOR UPDATE, so appends
 * to one trail are serialised (a concurrent request of the same account waits for this transaction)
 * and the chain cannot fork; the event commits or rolls back with everything else in `tx`.
 */
export async function appendEvent(tx: Tx, draft: EventDraft, opts: AppendOptions = {}): Promise<AuditEvent> {
  const trail = draft.accountId ?? PLATFORM_TRAIL
  // One statement creates the head on first use or locks it (ON CONFLICT DO UPDATE takes the row lock)
  // and returns it: the lock is held until this transaction ends.
  const head = await tx.query<{ seq: string; hash: string | null }>(
    'INSERT INTO audit_heads AS h (trail) VALUES ($1) ON CONFLICT (trail) DO UPDATE SET trail = h.trail RETURNING seq::text AS seq, hash', [trail])
  const seq = Number(head.rows[0]?.seq ?? 0) + 1
  const prevHash = seq === 1 ? null : (head.rows[0]?.hash ?? null)
  const { correlationUid, metadata: _m, ...rest } = draft
  const body = plain({
    id: randomUUID(),
    accountId: draft.accountId,
    seq,
    prevHash,
    time: rest.time,
    classUid: rest.classUid,
    activity: rest.activity,
    action: rest.action,
    metadata: { tenantUid: draft.accountId, correlationUid, version: '1' as const },
    actor: rest.actor,
    target: rest.target,
    http: rest.http,
    outcome: rest.outcome,
    reason: rest.reason,
    src: rest.src,
    count: rest.count,
  })
  const hash = opts.hashWithoutTarget ? eventHash({ ...body, target: undefined }) : eventHash(body)
  await tx.query(
    `WITH event AS (
       INSERT INTO audit_events (id, trail, account_id, seq, prev_hash, hash, time, action, outcome, request_id, actor_workspace_id, target_workspace_id, event)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13::jsonb))
     UPDATE audit_heads SET seq = $4, hash = $6 WHERE trail = $2`,
    [body.id, trail, body.accountId, seq, prevHash, hash, body.time, body.action, body.outcome, correlationUid,
      body.actor.workspaceId ?? null, body.target?.workspaceId ?? null, JSON.stringify(body)])
  return { ...body, hash } as AuditEvent
}

const FIELD_ORDER = ['id', 'accountId', 'seq', 'prevHash', 'hash', 'time', 'classUid', 'activity', 'action', 'metadata', 'actor', 'target', 'http', 'outcome', 'reason', 'src', 'count']

/** A stored row as served: the hashed body plus its hash, fields in the contract's order (jsonb reorders them). */
export function toEvent(row: { event: unknown; hash: string }): AuditEvent {
  const e = (typeof row.event === 'string' ? JSON.parse(row.event) : row.event) as Record<string, unknown>
  const out: Record<string, unknown> = {}
  for (const k of FIELD_ORDER) if (k === 'hash') out.hash = row.hash; else if (k in e) out[k] = e[k]
  for (const k of Object.keys(e)) if (!(k in out)) out[k] = e[k]
  return out as unknown as AuditEvent
}

export type VerifyResult =
  | { ok: true; trails: number; events: number }
  | { ok: false; accountId: string | null; seq: number; id: string | null; problem: 'seq' | 'prev-hash' | 'hash' }

/**
 * Verifies exported events end to end: per trail, sorted by seq, seq runs 1, 2, 3 … without gaps,
 * prevHash(n) = hash(n-1) (null for seq 1), and hash(n) = SHA-256 of the canonical event without
 * `hash`. Returns the first row that breaks, trail by trail.
 */
export function verifyEvents(events: readonly AuditEvent[]): VerifyResult {
  const trails = new Map<string, AuditEvent[]>()
  for (const e of events) {
    const key = e.accountId ?? PLATFORM_TRAIL
    const list = trails.get(key) ?? []
    list.push(e)
    trails.set(key, list)
  }
  for (const list of trails.values()) {
    list.sort((a, b) => a.seq - b.seq)
    let prev: AuditEvent | undefined
    for (const [i, e] of list.entries()) {
      const at = { ok: false as const, accountId: e.accountId, seq: e.seq, id: e.id }
      if (e.seq !== i + 1) return { ...at, problem: 'seq' }
      if (e.prevHash !== (prev ? prev.hash : null)) return { ...at, problem: 'prev-hash' }
      if (eventHash(e as unknown as Record<string, unknown>) !== e.hash) return { ...at, problem: 'hash' }
      prev = e
    }
  }
  return { ok: true, trails: trails.size, events: events.length }
}

/** Reads one whole trail (in `tx`, so RLS applies) for verification; `null` is the platform trail. */
export async function readTrail(tx: Tx, accountId: string | null): Promise<AuditEvent[]> {
  const { rows } = await tx.query<{ event: unknown; hash: string }>('SELECT event, hash FROM audit_events WHERE trail = $1 ORDER BY seq', [accountId ?? PLATFORM_TRAIL])
  return rows.map(toEvent)
}
