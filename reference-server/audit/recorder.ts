import type { Request, Response } from 'express'
import { ZodError } from 'zod'
import type { Operation } from '../contract.js'
import type { VerifiedToken } from '../auth/verify.js'
import type { CallerRead, Decision } from '../tenancy/authorize.js'
import type { Actor, Reply, ServerDeps } from '../http/types.js'
import { SET_CONTEXT_SQL, tenantSettings, type TenantContext, type Tx } from '../store/db.js'
import { HttpError } from '../http/problem.js'
import { AuthError } from '../auth/errors.js'
import { tokenRolesFor, type WorkspaceRole } from '../tenancy/policy.js'
import { appendEvent } from './chain.js'
import { checkpointAppended } from './checkpoint.js'
import {
  ANONYMOUS, CLASS_AUTHENTICATION, activityOf, classOf, clean, isRead,
  type AuditActor, type AuditTarget, type EventDraft, type Outcome,
} from './event.js'

/** Statuses of an authenticated operation that are recorded as denials (401s as authentication failures). */
const RECORDED_STATUSES = new Set([401, 403, 404, 405, 429])

/** Appends per trail between two periodic checkpoints, unless `settings.auditCheckpointEvery` says otherwise. */
export const DEFAULT_CHECKPOINT_EVERY = 100

/** Environment variable that must be set for `settings.audit: false` (the overhead bench's baseline). */
export const BENCH_AUDIT_OFF_ENV = 'TA_BENCH_AUDIT_OFF'

export interface AuditOptions {
  /** false only in the overhead bench; refused unless TA_BENCH_AUDIT_OFF=1. */
  enabled: boolean
  /** Aggregation window for floods (429s, repeated authentication failures) from one source. */
  windowMs: number
  /** Events written one by one per key and window before the rest are counted into one event. */
  burst: number
  /** A signed checkpoint of a trail is stored every this many appends to it (0: on demand only). */
  checkpointEvery: number
}

/** Where a request came from, as recorded: cleaned strings only, never a header value that carries a secret. */
interface Source {
  method: string
  route: string
  requestId: string
  ip: string
  userAgent: string
  authorization?: string
}

function sourceOf(req: Request, res: Response, route: string): Source {
  return {
    method: req.method.toUpperCase(),
    route,
    requestId: clean(String(res.locals.requestId ?? ''), 128),
    ip: clean(req.ip ?? req.socket.remoteAddress ?? '', 64),
    userAgent: clean(req.get('user-agent'), 256),
    authorization: req.get('authorization'),
  }
}

interface DraftParts {
  accountId: string | null
  action: string
  status: number
  outcome: Outcome
  reason: string | null
  actor: AuditActor
  target?: AuditTarget
  count?: number
  classUid?: number
}

function statusOf(err: unknown): number {
  if (err instanceof HttpError) return err.status
  if (err instanceof AuthError) return 401
  if (err instanceof ZodError) return 400
  return 500
}

function reasonOf(err: unknown): string | null {
  if (err instanceof AuthError) return err.code
  if (err instanceof HttpError) return err.kind
  return null
}

export function actorOf(actor: Actor): AuditActor {
  if (actor.kind === 'principal') return { kind: 'principal', uid: actor.id, accountId: null, workspaceId: null, roles: [`platform:${actor.platformRole}`] }
  return { kind: 'user', uid: actor.id, accountId: actor.accountId, workspaceId: actor.workspaceId, roles: tokenRolesFor(actor.role, actor.accountRole) }
}

export function actorOfToken(token: VerifiedToken): AuditActor {
  if (token.kind === 'principal') return { kind: 'principal', uid: token.sub, accountId: null, workspaceId: null, roles: [`platform:${token.platformRole}`] }
  return { kind: 'user', uid: token.sub, accountId: token.accountId, workspaceId: token.workspaceId, roles: [...token.roles] }
}

// The path parameter that names the object an action's resource is about.
const UID_PARAM: Record<string, string> = {
  documents: 'documentId', notes: 'noteId', users: 'userId', principals: 'principalId', workspaces: 'workspaceId', accounts: 'accountId',
}

function targetOf(action: string, params: Record<string, string>, accountId: string | null, workspaceId: string | null, body?: unknown): AuditTarget {
  const type = action.split('.')[0] ?? 'unknown'
  const param = UID_PARAM[type]
  let uid: string | null = (param && params[param]) || null
  const created = body && typeof body === 'object' ? (body as { id?: unknown }).id : undefined
  if (!uid && activityOf(action) === 'create' && typeof created === 'string') uid = created
  return {
    type,
    uid,
    accountId: type === 'accounts' ? uid : accountId,
    workspaceId: type === 'workspaces' ? uid : workspaceId,
  }
}

interface Window {
  start: number
  written: number
  pending: number
  last?: { ctx: TenantContext; draft: EventDraft }
  timer?: NodeJS.Timeout
}

/**
 * One per server (see `recorderFor`): writes events into the chain, in the request's transaction or
 * in one of their own, and aggregates floods so they cannot drown the trail.
 */
export class AuditRecorder {
  readonly options: AuditOptions
  private readonly windows = new Map<string, Window>()

  constructor(private readonly deps: ServerDeps, options: Partial<AuditOptions> = {}) {
    this.options = { enabled: true, windowMs: 1_000, burst: 10, checkpointEvery: DEFAULT_CHECKPOINT_EVERY, ...options }
    if (!this.options.enabled && process.env[BENCH_AUDIT_OFF_ENV] !== '1') {
      throw new Error(`refusing to start: the audit trail can be switched off only by the overhead bench (${BENCH_AUDIT_OFF_ENV}=1)`)
    }
  }

  /** Builds the event body common to every kind of event; the seeded faults that corrupt it live here. */
  draft(src: Source, p: DraftParts): EventDraft {
    const { faults } = this.deps
    const actor = faults.has('audit-actor-missing') && p.actor.kind !== 'anonymous' ? ANONYMOUS : p.actor
    const srcField: EventDraft['src'] = { ip: src.ip, userAgent: src.userAgent }
    // The bug: the whole Authorization header (the bearer token) ends up in the trail.
    if (faults.has('audit-records-bearer-token') && src.authorization) srcField.authorization = src.authorization
    return {
      accountId: p.accountId,
      time: new Date().toISOString(),
      classUid: p.classUid ?? classOf(p.action),
      activity: activityOf(p.action),
      action: p.action,
      correlationUid: src.requestId,
      actor,
      ...(p.target ? { target: p.target } : {}),
      http: { method: src.method, route: src.route, status: p.status },
      outcome: p.outcome,
      reason: p.reason === null ? null : clean(p.reason, 128),
      src: srcField,
      count: p.count ?? 1,
    }
  }

  /** Appends in the caller's transaction: the event commits or rolls back with the change. */
  async inTransaction(tx: Tx, draft: EventDraft): Promise<void> {
    if (!this.options.enabled) return
    const event = await appendEvent(tx, draft, { hashWithoutTarget: this.deps.faults.has('audit-chain-wrong-content') })
    // Periodic anchoring: in the append's transaction, so a checkpoint never names an event that rolled back.
    const every = this.options.checkpointEvery
    if (every > 0 && event.seq % every === 0) await checkpointAppended(tx, this.deps.keys, this.deps.settings.issuer, event)
  }

  /** Appends in a transaction of its own (denials, authentication failures: nothing else to commit). */
  async alone(ctx: TenantContext, build: (tx: Tx) => Promise<EventDraft | undefined>): Promise<void> {
    if (!this.options.enabled) return
    try {
      await this.deps.db.withTenant(ctx, async (tx) => {
        const draft = await build(tx)
        if (draft) await this.inTransaction(tx, draft)
      })
    } catch (err) {
      // Recording a refusal must not turn it into a 500; the failure is logged instead.
      this.deps.log.error({ err: err instanceof Error ? err.message : String(err) }, 'audit event could not be written')
    }
  }

  /**
   * Floods: per key and window, the first `burst` events are written one by one (count 1); the rest are
   * counted and written as one event (the window's last request, with `count`) when the window closes.
   */
  async aggregated(key: string, ctx: TenantContext, draft: EventDraft): Promise<void> {
    if (!this.options.enabled) return
    const now = Date.now()
    let w = this.windows.get(key)
    if (w && now - w.start >= this.options.windowMs) {
      await this.flushKey(key)
      w = undefined
    }
    if (!w) {
      this.prune(now)
      w = { start: now, written: 0, pending: 0 }
      this.windows.set(key, w)
    }
    if (w.written < this.options.burst) {
      w.written++
      return this.alone(ctx, async () => draft)
    }
    w.pending++
    w.last = { ctx, draft }
    w.timer ??= setTimeout(() => void this.flushKey(key), Math.max(0, w.start + this.options.windowMs - now)).unref()
  }

  private async flushKey(key: string): Promise<void> {
    const w = this.windows.get(key)
    if (!w) return
    this.windows.delete(key)
    if (w.timer) clearTimeout(w.timer)
    if (w.pending > 0 && w.last) await this.alone(w.last.ctx, async () => ({ ...w.last!.draft, count: w.pending }))
  }

  private prune(now: number): void {
    for (const [key, w] of this.windows) if (w.pending === 0 && now - w.start >= this.options.windowMs) this.windows.delete(key)
  }

  /** Writes every pending aggregate now (tests, shutdown). */
  async flush(): Promise<void> {
    await Promise.all([...this.windows.keys()].map((k) => this.flushKey(k)))
  }
}

const recorders = new WeakMap<ServerDeps, AuditRecorder>()

/** The recorder of one server; settings.audit / auditWindowMs / auditBurst / auditCheckpointEvery configure it. */
export function recorderFor(deps: ServerDeps): AuditRecorder {
  let r = recorders.get(deps)
  if (!r) {
    const s = deps.settings
    r = new AuditRecorder(deps, {
      enabled: s.audit !== false,
      ...(s.auditWindowMs !== undefined ? { windowMs: s.auditWindowMs } : {}),
      ...(s.auditBurst !== undefined ? { burst: s.auditBurst } : {}),
      ...(s.auditCheckpointEvery !== undefined ? { checkpointEvery: s.auditCheckpointEvery } : {}),
    })
    recorders.set(deps, r)
  }
  return r
}

const platformCtx = (): TenantContext => ({})

/**
 * The audit side of one mounted operation (route.ts calls it around verify, authorize and the handler):
 * allowed writes in the request's transaction; a user's denial decided before the handler ran in the
 * request's transaction too (`refusedInTransaction`); other denials and authentication failures
 * afterwards, in their own.
 */
export class RequestAudit {
  private token?: VerifiedToken
  private decision?: Decision
  /** What the request's transaction read of the caller (authorize.ts readCaller), when it did. */
  private caller?: CallerRead
  /** The refusal whose event was appended in the request's transaction, until that transaction has ended. */
  private pending?: { refusal: unknown }
  /** ... and committed: `failed` has nothing left to write. */
  private refusalRecorded = false
  private params: Record<string, string> = {}
  private preRecorded = false
  private readonly src: Source
  private readonly rec: AuditRecorder

  constructor(private readonly deps: ServerDeps, private readonly op: Operation, req: Request, res: Response) {
    this.rec = recorderFor(deps)
    this.src = sourceOf(req, res, op.path)
  }

  private get action(): string {
    return this.op.tenancy.action
  }

  checked(params: Record<string, string>): void {
    this.params = params
  }

  verified(token: VerifiedToken): void {
    this.token = token
  }

  /** The caller as the request's transaction read it: a denial's actor and target tenant come from it, not from another read. */
  read(caller: CallerRead): void {
    this.caller = caller
  }

  authorized(decision: Decision): void {
    this.decision = decision
  }

  /** The seeded fault `audit-outside-transaction`: the write is recorded, as a success, before it happens. */
  async beforeTransaction(): Promise<void> {
    const token = this.token
    if (!this.deps.faults.has('audit-outside-transaction') || !token || isRead(this.action)) return
    const accountId = token.kind === 'user' ? token.accountId : (this.params.accountId ?? null)
    const status = this.op.method === 'post' ? 201 : this.op.method === 'delete' ? 204 : 200
    const draft = this.rec.draft(this.src, {
      accountId, action: this.action, status, outcome: 'success', reason: null, actor: actorOfToken(token),
      target: targetOf(this.action, this.params, accountId, this.params.workspaceId ?? token.workspaceId ?? null),
    })
    await this.rec.alone(token.kind === 'user' ? { accountId } : { platformRole: token.platformRole }, async () => draft)
    this.preRecorded = true
  }

  /**
   * Inside the request's transaction, after the handler: every allowed write, and a principal's every
   * call that names an account (in that account's trail), are appended before the commit.
   */
  async beforeCommit(tx: Tx, reply: Reply): Promise<void> {
    const d = this.decision
    if (!d || this.preRecorded) return
    const principal = d.actor.kind === 'principal'
    const read = isRead(this.action)
    if (read && !(principal && this.params.accountId)) return
    // The bug: PATCH writes are never recorded.
    if (this.deps.faults.has('audit-skips-patch') && this.op.method === 'patch') return
    let accountId: string | null
    if (principal) {
      const created = this.action === 'accounts.create' && reply.body && typeof reply.body === 'object' ? (reply.body as { id?: unknown }).id : undefined
      accountId = this.params.accountId ?? (typeof created === 'string' ? created : null)
    } else {
      accountId = (d.actor as { accountId: string }).accountId
    }
    const target = targetOf(this.action, this.params, d.accountId ?? accountId, d.workspaceId ?? this.params.workspaceId ?? null, reply.body)
    await this.rec.inTransaction(tx, this.rec.draft(this.src, {
      accountId, action: this.action, status: reply.status, outcome: 'success', reason: null, actor: actorOf(d.actor), target,
    }))
  }

  /**
   * A user's denial decided before the handler ran (the malformed id, authorization) or by a read's
   * handler (an id that names nothing there): nothing has been written in the request's transaction,
   * so the denial's event is appended there, under the settings its own transaction would have had
   * (set again, transaction-locally), and the transaction commits instead of rolling back — one
   * transaction for the request where there were two. False when this refusal is not recorded here
   * (`failed` records it afterwards as before). If the append fails, the refusal itself is thrown
   * again: the transaction rolls back and `failed` records the refusal alone (never a 500 for a refusal).
   */
  async refusedInTransaction(tx: Tx, err: unknown): Promise<boolean> {
    const status = statusOf(err)
    const token = this.token
    if (!RECORDED_STATUSES.has(status) || status === 401 || status === 429 || !this.rec.options.enabled) return false
    if (this.deps.faults.has('audit-skips-denials') || token?.kind !== 'user' || !this.caller) return false
    // Authorized, the handler ran: only a read's handler has written nothing a commit would keep.
    if (this.decision && !isRead(this.action)) return false
    try {
      await tx.query(SET_CONTEXT_SQL, tenantSettings(this.userRefusalContext(token)).map(([, v]) => v))
      await this.rec.inTransaction(tx, await this.userRefusal(tx, token, status, reasonOf(err)))
    } catch (appendErr) {
      // The refusal stands; its event is written by `failed`, alone, once this transaction has rolled back.
      this.deps.log.error({ err: appendErr instanceof Error ? appendErr.message : String(appendErr) }, 'audit event could not be written in the request\'s transaction')
      throw err
    }
    this.pending = { refusal: err }
    return true
  }

  /** The request's transaction committed the refusal's event (route.ts, after `withTenant`). */
  refusalCommitted(): void {
    this.pending = undefined
    this.refusalRecorded = true
  }

  /**
   * The request's transaction failed: if it was to commit a refusal's event, the commit is what failed,
   * and the refusal is still the answer (`failed` then records it alone); otherwise `err` as it was.
   */
  notCommitted(err: unknown): unknown {
    const pending = this.pending
    if (!pending) return err
    this.pending = undefined
    this.deps.log.error({ err: err instanceof Error ? err.message : String(err) }, 'the transaction of a refusal and its audit event did not commit')
    return pending.refusal
  }

  /** The settings a user's denial is appended under: its own tenant's trail. */
  private userRefusalContext(token: VerifiedToken): TenantContext {
    return { accountId: token.accountId, userId: token.sub }
  }

  /** A user's denial: in its own account's trail, naming the tenant the path named where the caller may know it. */
  private async userRefusal(tx: Tx, token: VerifiedToken, status: number, reason: string | null): Promise<EventDraft> {
    const params = this.params
    const actor = this.decision ? actorOf(this.decision.actor) : this.callerActor(token) ?? await this.freshActor(tx, token)
    // The tenant the path named: its own account when the workspace is one of the caller's, else unknown.
    let targetAccount = params.accountId ?? null
    if (!targetAccount && params.workspaceId) {
      const known = this.workspaceAccount(token, params.workspaceId)
      if (known !== undefined) targetAccount = known
      else {
        const ws = await tx.query<{ account_id: string }>('SELECT account_id FROM workspaces WHERE id = $1', [params.workspaceId])
        targetAccount = ws.rows[0]?.account_id ?? null
      }
    }
    return this.rec.draft(this.src, {
      accountId: token.accountId, action: this.action, status, outcome: 'failure', reason, actor,
      target: targetOf(this.action, params, targetAccount, params.workspaceId ?? null),
    })
  }

  /** The caller as the request's read found it (the same row `freshActor` would read); undefined when it was not read. */
  private callerActor(token: VerifiedToken): AuditActor | undefined {
    if (!this.caller) return undefined
    const u = this.caller.row as { role?: WorkspaceRole; account_role?: 'admin' | null; workspace_id?: string } | undefined
    if (!u?.workspace_id || !u.role) return actorOfToken(token)
    return { kind: 'user', uid: token.sub, accountId: token.accountId, workspaceId: u.workspace_id, roles: tokenRolesFor(u.role, u.account_role ?? null) }
  }

  /**
   * The account of the path's workspace as the caller may see it (RLS shows a user its own account's
   * workspaces only): its own account for its own workspace or a sibling the read found, null for one
   * the read did not find; undefined when the read did not ask.
   */
  private workspaceAccount(token: VerifiedToken, workspaceId: string): string | null | undefined {
    const read = this.caller
    if (!read || !token.accountId) return undefined
    if ((read.row as { workspace_id?: string } | undefined)?.workspace_id === workspaceId) return token.accountId
    if (read.sibling?.workspaceId === workspaceId && read.sibling.accountId === token.accountId) return read.sibling.exists ? token.accountId : null
    return undefined
  }

  /** After the request's transaction rolled back: denials and authentication failures, in their own transaction. */
  async failed(err: unknown): Promise<void> {
    if (this.refusalRecorded) return
    const status = statusOf(err)
    if (!RECORDED_STATUSES.has(status)) return
    if (status === 401) return this.authFailure(reasonOf(err) ?? 'invalid_token')
    // The bug: refusals leave no trace.
    if (this.deps.faults.has('audit-skips-denials') && status !== 429) return
    let token = this.token
    // A refusal before verification (an id that names nothing): attribute it if the token verifies.
    if (!token) token = await this.deps.verify(this.src.authorization).catch(() => undefined)
    const reason = reasonOf(err)
    const params = this.params
    if (!token) return this.authFailure(reason ?? 'not-found', status)
    if (token.kind === 'user') {
      const user = token
      await this.rec.alone(this.userRefusalContext(user), (tx) => this.userRefusal(tx, user, status, reason))
      return
    }
    // A principal: the account the path names (when it exists), else the platform trail.
    await this.rec.alone({ platformRole: token.platformRole }, async (tx) => {
      let accountId: string | null = null
      if (params.accountId) {
        const a = await tx.query('SELECT 1 FROM accounts WHERE id = $1', [params.accountId])
        if (a.rowCount > 0) accountId = params.accountId
      }
      return this.rec.draft(this.src, {
        accountId, action: this.action, status, outcome: 'failure', reason, actor: actorOfToken(token),
        target: targetOf(this.action, params, params.accountId ?? null, params.workspaceId ?? null),
      })
    })
  }

  /** The caller as the database knows it now (roles may have changed since the token was issued). */
  private async freshActor(tx: Tx, token: VerifiedToken): Promise<AuditActor> {
    const { rows } = await tx.query<{ role: WorkspaceRole; account_role: 'admin' | null; workspace_id: string }>(
      'SELECT role, account_role, workspace_id FROM users WHERE id = $1', [token.sub])
    const u = rows[0]
    if (!u) return actorOfToken(token)
    return { kind: 'user', uid: token.sub, accountId: token.accountId, workspaceId: u.workspace_id, roles: tokenRolesFor(u.role, u.account_role) }
  }

  /** No verified tenant: the platform trail, anonymous, aggregated per source. */
  private async authFailure(reason: string, status = 401): Promise<void> {
    const params = this.params
    // The bug: the rejected token's unverified claims are believed, so the failure lands in the
    // claimed tenant's trail in the claimed user's name (anyone can write into another tenant's trail).
    const claimed = this.deps.faults.has('audit-blames-token-subject') ? unverifiedClaims(this.src.authorization) : undefined
    if (claimed) {
      const actor: AuditActor = { kind: 'user', uid: claimed.sub, accountId: claimed.accountId, workspaceId: claimed.workspaceId, roles: [] }
      return this.rec.alone({ accountId: claimed.accountId }, async () => this.rec.draft(this.src, {
        accountId: claimed.accountId, action: this.action, status, outcome: 'failure', reason, actor,
        target: targetOf(this.action, params, params.accountId ?? claimed.accountId, params.workspaceId ?? null),
        ...(status === 401 ? { classUid: CLASS_AUTHENTICATION } : {}),
      }))
    }
    const draft = this.rec.draft(this.src, {
      accountId: null, action: this.action, status, outcome: 'failure', reason, actor: ANONYMOUS,
      target: targetOf(this.action, params, params.accountId ?? null, params.workspaceId ?? null),
      ...(status === 401 ? { classUid: CLASS_AUTHENTICATION } : {}),
    })
    // Keyed by what the sender cannot vary freely: its address and the (closed set of) failure reasons.
    await this.rec.aggregated(`auth|${status}|${reason}|${this.src.ip}`, platformCtx(), draft)
  }
}

/** The seeded fault `audit-blames-token-subject` only: a rejected bearer token's claims, decoded without verification. */
function unverifiedClaims(authorization: string | undefined): { sub: string; accountId: string; workspaceId: string | null } | undefined {
  const m = /^Bearer ([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)\./.exec(authorization ?? '')
  if (!m) return undefined
  try {
    const p = JSON.parse(Buffer.from(m[2]!, 'base64url').toString('utf8')) as Record<string, unknown>
    const uuid = (v: unknown) => (typeof v === 'string' && UUID.test(v) ? v : undefined)
    const sub = uuid(p.sub)
    const accountId = uuid(p.account_id)
    return sub && accountId ? { sub, accountId, workspaceId: uuid(p.workspace_id) ?? null } : undefined
  } catch {
    return undefined
  }
}

/** A failed login at the token endpoint (`invalid_grant`): platform trail, anonymous, aggregated per source. */
export async function recordLoginFailure(deps: ServerDeps, req: Request, res: Response, reason: string): Promise<void> {
  const rec = recorderFor(deps)
  const src = sourceOf(req, res, '/auth/token')
  const draft = rec.draft(src, { accountId: null, action: 'auth.token', status: 400, outcome: 'failure', reason, actor: ANONYMOUS, classUid: CLASS_AUTHENTICATION })
  await rec.aggregated(`login|${reason}|${src.ip}`, platformCtx(), draft)
}

export interface ThrottledCall {
  req: Request
  res: Response
  /** The operation that was throttled (its x-tenancy action and route template). */
  op: Pick<Operation, 'path' | 'tenancy'>
  /** The verified caller, when the limiter runs after verification. */
  token?: VerifiedToken
  params?: Record<string, string>
}

/**
 * For the rate limiter: records one 429 (aggregated per caller, operation and source, so a flood is a
 * handful of events with `count`). The caller's account trail for users, else the platform trail.
 * Awaits the write of the events it writes one by one; call it before sending the 429.
 */
export async function recordThrottled(deps: ServerDeps, call: ThrottledCall): Promise<void> {
  const rec = recorderFor(deps)
  const src = sourceOf(call.req, call.res, call.op.path)
  const params = call.params ?? {}
  const token = call.token
  const accountId = token?.kind === 'user' ? token.accountId : null
  const action = call.op.tenancy.action
  const draft = rec.draft(src, {
    accountId, action, status: 429, outcome: 'failure', reason: 'quota-exceeded',
    actor: token ? actorOfToken(token) : ANONYMOUS,
    target: targetOf(action, params, params.accountId ?? accountId, params.workspaceId ?? null),
  })
  const ctx: TenantContext = token?.kind === 'user' ? { accountId } : token ? { platformRole: token.platformRole } : {}
  await rec.aggregated(`429|${accountId ?? '-'}|${token?.sub ?? '-'}|${action}|${src.ip}`, ctx, draft)
}

const VERB_OF_METHOD: Record<string, string> = { GET: 'read', HEAD: 'read', POST: 'create', PUT: 'update', PATCH: 'update', DELETE: 'delete' }
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

/**
 * A 405 on the path of an authenticated operation (another method of that path was called): a denial,
 * recorded like the others, once the caller is known (`audit.verified`). `op` is an operation of that
 * path; the action is its resource with the verb of the method that was tried. Undefined for public paths.
 */
export function methodNotAllowedAudit(deps: ServerDeps, req: Request, res: Response, op: Operation): RequestAudit | undefined {
  if (op.tenancy.context === 'auth' || op.tenancy.context === 'public') return undefined
  const resource = op.tenancy.action.split('.')[0] ?? 'unknown'
  const tried: Operation = { ...op, tenancy: { ...op.tenancy, action: `${resource}.${VERB_OF_METHOD[req.method.toUpperCase()] ?? 'other'}` } }
  const names = op.pathParams
  const re = new RegExp('^' + op.path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[A-Za-z]+\}/g, '([^/]+)') + '/?$')
  const values = re.exec(req.path)?.slice(1) ?? []
  const params: Record<string, string> = {}
  names.forEach((name, i) => {
    const v = values[i]
    if (v && UUID.test(v)) params[name] = v
  })
  const audit = new RequestAudit(deps, tried, req, res)
  audit.checked(params)
  return audit
}
