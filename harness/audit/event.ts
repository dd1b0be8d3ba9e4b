import { isIP } from 'node:net'

/**
 * An audit event as the contract serves it (audit-contract.md; OCSF-shaped, research
 * tenancy-audit-ratelimit.md §2.1 and §2.5.2). Fields are `unknown`-typed where a faulty target may
 * serve anything: the checks validate, they never trust.
 */
export interface AuditEvent {
  id: string
  accountId: string | null
  seq: number
  prevHash: string | null
  hash: string
  time: string
  classUid: number
  activity: string
  action: string
  metadata: { tenantUid?: string | null; correlationUid?: string; version?: string; [k: string]: unknown }
  actor: { kind?: string; uid?: string; accountId?: string | null; workspaceId?: string | null; roles?: unknown; [k: string]: unknown }
  target?: { type?: string; uid?: string | null; accountId?: string | null; workspaceId?: string | null; [k: string]: unknown } | undefined
  http: { method?: string; route?: string; status?: number; [k: string]: unknown }
  outcome: string
  reason: string | null
  src: { ip?: string; userAgent?: string; [k: string]: unknown }
  count: number
  [field: string]: unknown
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
const HEX64 = /^[0-9a-f]{64}$/
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/
/** OCSF classes the contract names (6003 API Activity, 3001 Account Change, 3002 Authentication) and their IAM siblings. */
const CLASSES = new Set([6003, 3001, 3002, 3003, 3004, 3005, 3006])
const ACTIVITIES = new Set(['create', 'read', 'update', 'delete', 'list', 'search', 'logon', 'other'])

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)
const uuidOrNull = (v: unknown) => v === null || (typeof v === 'string' && UUID.test(v))

/** The correlation id of an event (the request's `X-Request-Id`), if it has one. */
export function correlationOf(e: unknown): string | undefined {
  const m = isObj(e) ? e.metadata : undefined
  return isObj(m) && typeof m.correlationUid === 'string' ? m.correlationUid : undefined
}

/** Every required field present with a value of the right form. Returns one line per problem. */
export function shapeProblems(e: unknown): string[] {
  if (!isObj(e)) return ['the event is not a JSON object']
  const p: string[] = []
  const need = (ok: boolean, what: string) => void (ok || p.push(what))
  need(typeof e.id === 'string' && UUID.test(e.id), 'id is not a uuid')
  need(uuidOrNull(e.accountId), 'accountId is not a uuid or null')
  need(typeof e.seq === 'number' && Number.isInteger(e.seq) && e.seq >= 1, 'seq is not a positive integer')
  need(e.prevHash === null || (typeof e.prevHash === 'string' && HEX64.test(e.prevHash)), 'prevHash is not a hex SHA-256 or null')
  need(typeof e.hash === 'string' && HEX64.test(e.hash), 'hash is not a hex SHA-256')
  need(typeof e.time === 'string' && RFC3339.test(e.time) && !Number.isNaN(Date.parse(e.time)), 'time is not an RFC 3339 timestamp')
  need(typeof e.classUid === 'number' && CLASSES.has(e.classUid), `classUid ${JSON.stringify(e.classUid)} is not an OCSF class the contract names`)
  need(typeof e.activity === 'string' && ACTIVITIES.has(e.activity), `activity ${JSON.stringify(e.activity)} is not one of ${[...ACTIVITIES].join('|')}`)
  need(typeof e.action === 'string' && /^[a-z][a-z0-9_-]*\.[a-z][a-z0-9_-]*$/.test(e.action), 'action is not <resource>.<verb>')
  const m = e.metadata
  if (!isObj(m)) p.push('metadata is missing')
  else {
    need('tenantUid' in m && uuidOrNull(m.tenantUid), 'metadata.tenantUid is not a uuid or null')
    need(typeof m.correlationUid === 'string' && m.correlationUid.length > 0, 'metadata.correlationUid (the request id) is missing')
    need(typeof m.version === 'string' && m.version.length > 0, 'metadata.version is missing')
  }
  const a = e.actor
  if (!isObj(a)) p.push('actor is missing')
  else {
    need(a.kind === 'user' || a.kind === 'principal' || a.kind === 'anonymous', `actor.kind ${JSON.stringify(a.kind)} is not user|principal|anonymous`)
    if (a.kind === 'user' || a.kind === 'principal') {
      need(typeof a.uid === 'string' && UUID.test(a.uid), `actor.uid is missing for a verified ${String(a.kind)}`)
      need(Array.isArray(a.roles) && a.roles.every((r) => typeof r === 'string'), 'actor.roles is not a list of strings')
      need(uuidOrNull(a.accountId ?? null) && uuidOrNull(a.workspaceId ?? null), 'actor.accountId / actor.workspaceId are not uuids or null')
    }
  }
  const t = e.target
  if (t !== undefined && t !== null) {
    if (!isObj(t)) p.push('target is not an object')
    else {
      need(typeof t.type === 'string' && t.type.length > 0, 'target.type is missing')
      need(uuidOrNull(t.uid ?? null) && uuidOrNull(t.accountId ?? null) && uuidOrNull(t.workspaceId ?? null), 'target ids are not uuids or null')
    }
  }
  const h = e.http
  if (!isObj(h)) p.push('http is missing')
  else {
    need(typeof h.method === 'string' && /^[A-Z]+$/.test(h.method), 'http.method is not an upper-case method')
    need(typeof h.route === 'string' && h.route.startsWith('/'), 'http.route is missing')
    need(typeof h.route !== 'string' || !h.route.split('/').some((seg) => UUID.test(seg)), `http.route ${JSON.stringify(h.route)} is a raw URL with ids, not the route template`)
    need(typeof h.status === 'number' && Number.isInteger(h.status) && h.status >= 100 && h.status <= 599, 'http.status is not an HTTP status')
  }
  need(e.outcome === 'success' || e.outcome === 'failure', 'outcome is not success|failure')
  if (isObj(h) && typeof h.status === 'number' && (e.outcome === 'success' || e.outcome === 'failure')) {
    const ok = h.status >= 200 && h.status < 400
    need(ok === (e.outcome === 'success'), `outcome ${e.outcome} does not match http.status ${h.status}`)
  }
  need(e.reason === null || typeof e.reason === 'string', 'reason is not a string or null')
  const s = e.src
  if (!isObj(s)) p.push('src is missing')
  else {
    need(typeof s.ip === 'string' && isIP(s.ip) !== 0, `src.ip ${JSON.stringify(s.ip)} is not an IP address`)
    need(typeof s.userAgent === 'string', 'src.userAgent is missing')
  }
  need(typeof e.count === 'number' && Number.isInteger(e.count) && e.count >= 1, 'count is not a positive integer')
  return p
}

/** What one request's event must say, as far as the harness knows it. */
export interface Expected {
  requestId?: string
  /** The trail: the caller's account, or null for the platform trail. */
  accountId?: string | null
  action?: string
  method?: string
  /** The OpenAPI path template of the operation. */
  route?: string
  status?: number
  outcome?: 'success' | 'failure'
  actor?: { kind: 'user' | 'principal' | 'anonymous'; uid?: string | undefined; accountId?: string | null | undefined; workspaceId?: string | null | undefined }
  target?: { type?: string; uid?: string | undefined; accountId?: string | undefined; workspaceId?: string | undefined }
  userAgent?: string
  /** When the request was sent and answered (harness clock, ms). */
  window?: { from: number; to: number }
  /** Allowed distance between `time` and the request window. */
  toleranceMs?: number
}

/** Where an event differs from what the harness knows about its request. Returns one line per problem. */
export function expectationProblems(e: AuditEvent, x: Expected): string[] {
  const p: string[] = []
  const eq = (actual: unknown, want: unknown, what: string) => {
    if (want !== undefined && actual !== want) p.push(`${what} is ${JSON.stringify(actual)}, expected ${JSON.stringify(want)}`)
  }
  eq(correlationOf(e), x.requestId, 'metadata.correlationUid')
  eq(e.accountId, x.accountId, 'accountId (the trail)')
  eq(e.action, x.action, 'action')
  eq(e.http?.method, x.method?.toUpperCase(), 'http.method')
  eq(e.http?.route, x.route, 'http.route')
  eq(e.http?.status, x.status, 'http.status')
  eq(e.outcome, x.outcome, 'outcome')
  if (x.actor) {
    eq(e.actor?.kind, x.actor.kind, 'actor.kind')
    eq(e.actor?.uid, x.actor.uid, 'actor.uid')
    eq(e.actor?.accountId, x.actor.accountId, 'actor.accountId')
    eq(e.actor?.workspaceId, x.actor.workspaceId, 'actor.workspaceId')
  }
  if (x.target) {
    if (!e.target) p.push('target is missing')
    else {
      eq(e.target.type, x.target.type, 'target.type')
      eq(e.target.uid, x.target.uid, 'target.uid')
      eq(e.target.accountId, x.target.accountId, 'target.accountId')
      eq(e.target.workspaceId, x.target.workspaceId, 'target.workspaceId')
    }
  }
  eq(e.src?.userAgent, x.userAgent, 'src.userAgent')
  if (x.window && typeof e.time === 'string') {
    const t = Date.parse(e.time)
    const tol = x.toleranceMs ?? 10_000
    if (Number.isNaN(t) || t < x.window.from - tol || t > x.window.to + tol) {
      p.push(`time ${e.time} is not within ${tol / 1000} s of the request (${new Date(x.window.from).toISOString()})`)
    }
  }
  return p
}
