import { isIP } from 'node:net'
import type { EventMapping, FieldName, MappedEvent } from './mapping.js'

/**
 * An audit event in the reference server's shape (audit-contract.md; OCSF-shaped, research
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

/**
 * The reference shape's own extras (OCSF class and activity, metadata, src, ids as UUIDs): every
 * field present with a value of the right form, one line per problem. Only for a profile that
 * keeps the reference shape; any other deployment is judged by {@link mappedProblems}.
 */
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

/**
 * What the profile's mapping says an event carries, present with a value of the right form: the
 * request id, time, action, an outcome and actor kind the profile spells, the actor's id for a
 * verified caller, and every other field the mapping names (nullable ones may be null). One line
 * per problem, naming the field by the profile's expression.
 */
export function mappedProblems(e: MappedEvent, m: EventMapping): string[] {
  const p: string[] = []
  const at = (f: FieldName) => m.where(f)
  const raw = (f: FieldName) => JSON.stringify(m.read(e.raw, f) ?? null)
  const need = (ok: boolean, what: string) => void (ok || p.push(what))
  if (!isObj(e.raw)) return ['the event is not a JSON object']
  need(typeof e.requestId === 'string' && e.requestId.length > 0, `${at('requestId')} (the request id) is missing`)
  need(e.time !== undefined, `${at('time')} ${raw('time')} is not a timestamp`)
  need(typeof e.action === 'string' && e.action.length > 0, `${at('action')} is missing`)
  need(e.outcome !== undefined, `${at('outcome')} ${raw('outcome')} is not a spelling of success or failure (audit.events.outcomes)`)
  need(e.actor.kind !== undefined, `${at('actorKind')} ${raw('actorKind')} is not a spelling of user, principal or anonymous (audit.events.actorKinds)`)
  if (m.carries('actorId') && (e.actor.kind === 'user' || e.actor.kind === 'principal')) {
    need(typeof e.actor.id === 'string' && e.actor.id.length > 0, `${at('actorId')} is missing for a verified ${e.actor.kind}`)
  }
  if (m.carries('status')) {
    need(e.status !== undefined && Number.isInteger(e.status) && e.status >= 100 && e.status <= 599, `${at('status')} ${raw('status')} is not an HTTP status`)
    if (e.status !== undefined && e.outcome !== undefined) {
      const ok = e.status >= 200 && e.status < 400
      need(ok === (e.outcome === 'success'), `${at('outcome')} ${e.outcome} does not match ${at('status')} ${e.status}`)
    }
  }
  if (m.carries('method')) need(typeof e.method === 'string' && /^[A-Z]+$/.test(e.method), `${at('method')} is not an HTTP method`)
  if (m.carries('route')) {
    need(typeof e.route === 'string' && e.route.startsWith('/'), `${at('route')} is missing`)
    need(typeof e.route !== 'string' || !e.route.split('/').some((seg) => UUID.test(seg)), `${at('route')} ${JSON.stringify(e.route)} is a raw URL with ids, not the route template`)
  }
  if (m.carries('userAgent')) need(typeof e.userAgent === 'string', `${at('userAgent')} is missing`)
  if (m.carries('id')) need(typeof e.id === 'string' && e.id.length > 0, `${at('id')} (the event id) is missing`)
  if (m.carries('count')) need(e.count !== undefined && Number.isInteger(e.count) && e.count >= 1, `${at('count')} is not a positive integer`)
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

/**
 * Where an event differs from what the harness knows about its request. Fields the mapping leaves
 * out are not compared. Returns one line per problem, naming the field by the profile's expression.
 */
export function expectationProblems(e: MappedEvent, x: Expected, m: EventMapping): string[] {
  const p: string[] = []
  const eq = (field: FieldName, actual: unknown, want: unknown, what = '') => {
    if (want !== undefined && m.carries(field) && actual !== want) p.push(`${m.where(field)}${what} is ${JSON.stringify(actual ?? null)}, expected ${JSON.stringify(want)}`)
  }
  eq('requestId', e.requestId, x.requestId, ' (the request id)')
  eq('accountId', e.accountId, x.accountId, ' (the trail)')
  eq('action', e.action, x.action)
  eq('method', e.method, x.method?.toUpperCase())
  eq('route', e.route, x.route)
  eq('status', e.status, x.status)
  eq('outcome', e.outcome, x.outcome)
  if (x.actor) {
    eq('actorKind', e.actor.kind, x.actor.kind)
    eq('actorId', e.actor.id, x.actor.uid)
    eq('actorAccountId', e.actor.accountId, x.actor.accountId)
    eq('workspaceId', e.workspaceId, x.actor.workspaceId)
  }
  if (x.target) {
    // A deployment names its object types its own way (card, Card, cards): the resource's name, in any
    // number and case, is the same type.
    const kind = (t: unknown) => (typeof t === 'string' ? t.toLowerCase().replace(/[-_ ]/g, '').replace(/s$/, '') : t)
    if (x.target.type !== undefined && m.carries('targetType') && kind(e.targetType) !== kind(x.target.type)) eq('targetType', e.targetType, x.target.type)
    eq('targetId', e.targetId, x.target.uid)
    eq('targetAccountId', e.targetAccountId, x.target.accountId)
    eq('targetWorkspaceId', e.targetWorkspaceId, x.target.workspaceId)
  }
  eq('userAgent', e.userAgent, x.userAgent)
  if (x.window && e.time !== undefined) {
    const tol = x.toleranceMs ?? 10_000
    if (e.time < x.window.from - tol || e.time > x.window.to + tol) {
      p.push(`${m.where('time')} ${e.timeText ?? new Date(e.time).toISOString()} is not within ${tol / 1000} s of the request (${new Date(x.window.from).toISOString()})`)
    }
  }
  return p
}
