import { AsyncLocalStorage } from 'node:async_hooks'
import { Agent, request as undiciRequest } from 'undici'
import { HarnessError, isHarnessError } from '../core/errors.js'
import { recordEvidence } from '../core/evidence.js'
import type { Evidence } from '../core/finding.js'
import { PacingGate } from './pacing.js'
import { isThrottled, throttleWaitMs } from './rate-headers.js'
import { claimPartition, SessionStore } from './sessions.js'
import { emptyTraffic, type TrafficStats } from './traffic.js'
import { Semaphore } from './limit.js'

/** One request as a check asks for it; `path` is relative to the target's base URL. */
export interface HttpRequest {
  method: string
  path: string
  query?: Record<string, string | string[]>
  headers?: Record<string, string>
  /** An object is sent as JSON; a string as-is (set Content-Type yourself). */
  body?: unknown
  /** Bearer token; becomes the Authorization header. A token of a known session is sent as that session's current one. */
  token?: string
  /**
   * `report`: a throttled answer (429, or 503 with Retry-After) is returned as it is, for the
   * rate-limit probes that ask for it. Default `wait`: it is waited out and the request resent,
   * and no check ever sees it.
   */
  throttle?: 'wait' | 'report'
  /**
   * `false`: the token is sent exactly as given: no substitution, no renewal, no resend after a 401.
   * For checks about tokens (revocation, suspension, removal, demotion, replay), whose refusal is the point.
   */
  renew?: boolean
  /**
   * A race probe (same credential or same limit hit at once): sent outside the run's concurrency
   * bound, so a burst the check releases together reaches the target together; or a probe timed
   * against such a burst, which must not wait behind other checks' requests. The budget and the
   * rate cap still apply. Only for bursts a check bounds itself (at most a few dozen).
   */
  burst?: boolean
}

export interface HttpResponse {
  status: number
  headers: Record<string, string>
  body: string
  /** Parsed JSON body, or undefined when the body is not JSON. */
  json: unknown
  /** The exchange, redacted and truncated, ready to be evidence. */
  evidence: Evidence
  /**
   * The statuses of earlier attempts of this same request that the adapter resent (a throttled answer
   * waited out, a 401 before a renewal), in order; absent when it was sent once. They carry the same
   * headers (a request id), so a trail may hold an event for each.
   */
  superseded?: number[]
}

export interface AdapterOptions {
  baseUrl: string
  maxRequests: number
  requestsPerSecond?: number
  timeoutMs: number
  retries: number
  /** Most requests in flight at once, across every caller of this adapter (profile `budget.concurrency`; default 8). */
  concurrency?: number
  /** Bounds on waiting out a throttling target, per request (profile `throttle`). */
  throttle?: { maxRetries: number; maxWaitMs: number }
  /** How sessions are recognised and renewed (profile `auth` and `claims.accountId`). */
  auth?: { tokenEndpoint: string; workspaceParam?: string; accountClaim?: string }
}

export const DEFAULT_THROTTLE = { maxRetries: 8, maxWaitMs: 120_000 }
export const DEFAULT_CONCURRENCY = 8

/**
 * What one caller (a check) spent of the adapter's traffic: requests sent and throttling/renewal
 * counts. Concurrent checks share the adapter, so a before/after difference of its totals would
 * count the others' requests too; a scope travels with the caller's async context instead.
 */
export interface RequestScope {
  sent: number
  traffic: TrafficStats
}

export function newScope(): RequestScope {
  return { sent: 0, traffic: emptyTraffic() }
}

/**
 * Traffic counts that add every change to `root` and to the current scope's counts: the adapter
 * and the session store write `traffic.renewals++` as before, and the check that caused it is told.
 */
function scopedTraffic(root: TrafficStats, scope: () => RequestScope | undefined): TrafficStats {
  const view = {} as TrafficStats
  for (const k of Object.keys(root) as (keyof TrafficStats)[]) {
    Object.defineProperty(view, k, {
      enumerable: true,
      get: () => root[k],
      set: (v: number) => {
        const s = scope()
        if (s) s.traffic[k] += v - root[k]
        root[k] = v
      },
    })
  }
  return view
}

/** A request the run's interrupt (Ctrl-C) stopped: the run is ending, its handler owns the exit. */
function interrupted(req: HttpRequest): HarnessError {
  return new HarnessError('ERR_INTERNAL', `interrupted: ${req.method.toUpperCase()} ${req.path} was not sent or not awaited`)
}

const RETRYABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED', 'EAI_AGAIN'])

/**
 * How requests reach a target: undici with a per-request timeout, bounded retries on connection
 * errors, the request budget and the rate cap enforced, redirects never followed, and nothing sent
 * to any origin but the target's. Checks never call fetch themselves.
 *
 * The one seam for two cross-cutting concerns (STYLE 14):
 * - throttling: a throttled answer is waited out and the request resent (bounded; every attempt
 *   counts against the budget and the rate cap), and rate-limit headers pace what follows;
 * - credentials: every password-grant login is recorded as a session, whose tokens are renewed
 *   before they expire and once after a 401 the harness did not expect.
 * Pacing partitions are tenants: a session's account (from the token's account claim), a principal
 * its own, unauthenticated calls one partition — what a multi-tenant deployment most likely keys its
 * quotas on. Holding a partition the target does not actually share costs a little time, never a verdict.
 *
 * Concurrency: at most `concurrency` requests are in flight at once, whoever sends them (checks run
 * concurrently share this one bound); the budget, the rate cap (one slot schedule) and the pacing
 * holds are the adapter's, so they apply across all concurrent senders. A backoff sleep does not
 * hold a place.
 */
export class HttpAdapter {
  readonly origin: string
  private readonly base: URL
  private readonly agent: Agent
  private nextSlot = 0
  /** Requests sent so far (every attempt counts against the budget). */
  sent = 0
  /** Throttling and renewal counts of this adapter (this process); each change also counts for the current {@link RequestScope}. */
  readonly traffic: TrafficStats
  private readonly scope = new AsyncLocalStorage<RequestScope>()
  private readonly slots: Semaphore
  readonly sessions: SessionStore
  private readonly gate: PacingGate
  private readonly throttle: { maxRetries: number; maxWaitMs: number }
  private interrupt?: AbortSignal
  private readonly exempt = new AsyncLocalStorage<true>()

  constructor(private readonly opts: AdapterOptions) {
    this.base = new URL(opts.baseUrl)
    this.origin = this.base.origin
    this.slots = new Semaphore(opts.concurrency ?? DEFAULT_CONCURRENCY)
    this.traffic = scopedTraffic(emptyTraffic(), () => this.scope.getStore())
    // One connection per place, and enough for a race's burst: a request never waits for a socket another holds.
    this.agent = new Agent({ connections: Math.max(64, this.slots.size), pipelining: 1, keepAliveTimeout: 4_000 })
    this.throttle = opts.throttle ?? DEFAULT_THROTTLE
    this.gate = new PacingGate(this.throttle.maxWaitMs)
    const tokenEndpoint = opts.auth?.tokenEndpoint ?? '/auth/token'
    this.sessions = new SessionStore(
      (form, partition) => this.dispatch({ method: 'POST', path: tokenEndpoint, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form.toString() }, partition),
      this.traffic,
      { workspaceParam: opts.auth?.workspaceParam, accountClaim: opts.auth?.accountClaim },
    )
  }

  /**
   * Once `signal` fires no new request is sent (each throws) and reads in flight are aborted; a write
   * in flight is let finish, so what it created reaches provisioning's ledger and can be removed.
   */
  interruptWith(signal: AbortSignal | undefined): void {
    this.interrupt = signal
  }

  /** Runs `fn` with requests the interrupt neither refuses nor aborts: teardown's deletes (and its login). */
  uninterruptible<T>(fn: () => Promise<T>): Promise<T> {
    return this.exempt.run(true, fn)
  }

  /** Most requests in flight at once: also how wide a check may fan its independent probes out. */
  get concurrency(): number {
    return this.slots.size
  }

  /** Runs `fn` with every request it sends (and every renewal it causes) counted in `scope` too. */
  inScope<T>(scope: RequestScope, fn: () => Promise<T>): Promise<T> {
    return this.scope.run(scope, fn)
  }

  /** The scope the caller runs in, if any. */
  currentScope(): RequestScope | undefined {
    return this.scope.getStore()
  }

  /** Whose quota a request most likely spends (see the class comment). */
  partitionOf(token: string | undefined): string {
    if (token === undefined) return 'anonymous'
    return this.sessions.sessionOf(token)?.partition ?? claimPartition(token, this.opts.auth?.accountClaim) ?? 'unknown-token'
  }

  /**
   * Sends one request as a check asks for it: the token swapped for its session's current one (and
   * renewed when about to expire), throttling waited out, one renewal and resend after an unexpected
   * 401, and a successful password-grant login recorded as a session.
   */
  async send(req: HttpRequest): Promise<HttpResponse> {
    const session = req.renew === false ? undefined : this.sessions.sessionOf(req.token)
    let token = session ? await this.sessions.current(req.token!) : req.token
    const partition = this.partitionOf(token)
    let res = await this.dispatch({ ...req, token }, partition)
    // A 401 on a token believed valid: renew once and resend once before anything is judged.
    if (res.status === 401 && session && !session.retired && token !== undefined && (await this.sessions.renew(token))) {
      this.traffic.unauthorizedResends++
      token = session.accessToken
      const before = [...(res.superseded ?? []), 401]
      res = await this.dispatch({ ...req, token }, partition)
      res = { ...res, superseded: [...before, ...(res.superseded ?? [])] }
    }
    this.observeLogin(req, res)
    return res
  }

  /** Every password grant that succeeds, wherever it was sent from, becomes a session. */
  private observeLogin(req: HttpRequest, res: HttpResponse): void {
    const endpoint = this.opts.auth?.tokenEndpoint ?? '/auth/token'
    if (req.method.toUpperCase() !== 'POST' || req.path.split('?')[0] !== endpoint || typeof req.body !== 'string') return
    this.sessions.recordLogin(new URLSearchParams(req.body), res.status, res.json)
  }

  /**
   * One request with throttling handled: the partition's pacing hold waited out, rate-limit headers
   * read, and a throttled answer waited out and resent, at most `maxRetries` times and `maxWaitMs`
   * in all; past that a harness error, never the throttled answer.
   */
  private async dispatch(req: HttpRequest, partition: string): Promise<HttpResponse> {
    const report = req.throttle === 'report'
    let waited = 0
    const superseded: number[] = []
    // A resend keeps its first attempt's place among the partition's waiters (PacingGate.wait).
    const first = Date.now()
    /** When this request's own last throttled answer placed its hold: its wait counts from there. */
    let heldAt: number | undefined
    for (let attempt = 0; ; attempt++) {
      if (!report) {
        const from = heldAt ?? Date.now()
        const held = (await this.gate.wait(partition, first)) > 0 ? Date.now() - from : 0
        waited += held
        this.traffic.waitedMs += held
      }
      const res = await this.once(req)
      // A probe that spends a limit on purpose (report) paces nobody: what it exhausted is often a window
      // of its own (a throwaway username's login failures), and the check waits out what it must itself.
      if (!report) this.gate.observe(partition, res.headers)
      if (report || !isThrottled(res.status, res.headers)) return superseded.length > 0 ? { ...res, superseded } : res
      this.traffic.throttled++
      const wait = throttleWaitMs(res.headers, attempt)
      if (attempt >= this.throttle.maxRetries || waited + wait > this.throttle.maxWaitMs) {
        throw new HarnessError('ERR_TARGET_THROTTLED', `${req.method.toUpperCase()} ${req.path} was still throttled (${res.status}) after ${attempt} resends and ${(waited / 1000).toFixed(1)} s of waiting, and the target asked for ${(wait / 1000).toFixed(1)} s more (raise throttle.maxRetries / throttle.maxWaitMs, or lower budget.requestsPerSecond)`)
      }
      // A hold, not a private sleep: every concurrent sender of this partition waits with it.
      heldAt = Date.now()
      this.gate.hold(partition, heldAt + wait)
      this.traffic.resends++
      superseded.push(res.status)
    }
  }

  private url(req: HttpRequest): URL {
    if (!req.path.startsWith('/')) throw new HarnessError('ERR_INTERNAL', `request path must start with /: ${req.path}`)
    const url = new URL(this.base.pathname.replace(/\/$/, '') + req.path, this.origin)
    for (const [k, v] of Object.entries(req.query ?? {})) for (const one of [v].flat()) url.searchParams.append(k, one)
    // Only the target's own origin: a crafted path can never send the harness elsewhere.
    if (url.origin !== this.origin) throw new HarnessError('ERR_INTERNAL', `refusing to send a request outside ${this.origin}`)
    return url
  }

  private async pace(): Promise<void> {
    const rps = this.opts.requestsPerSecond
    if (!rps) return
    const now = Date.now()
    const slot = Math.max(now, this.nextSlot)
    this.nextSlot = slot + 1000 / rps
    if (slot > now) await new Promise((r) => setTimeout(r, slot - now))
  }

  /** One exchange: budget, rate cap, bounded retries on connection errors. */
  private async once(req: HttpRequest): Promise<HttpResponse> {
    const url = this.url(req)
    const headers: Record<string, string> = { accept: 'application/json', ...req.headers }
    if (req.token !== undefined) headers.authorization = `Bearer ${req.token}`
    let body: string | undefined
    if (req.body !== undefined) {
      body = typeof req.body === 'string' ? req.body : JSON.stringify(req.body)
      if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['content-type'] = 'application/json'
    }
    const signal = this.exempt.getStore() ? undefined : this.interrupt
    const method = req.method.toUpperCase()
    const abortable = method === 'GET' || method === 'HEAD' || method === 'OPTIONS'
    for (let attempt = 0; ; attempt++) {
      if (signal?.aborted) throw interrupted(req)
      const release = req.burst ? () => undefined : await this.slots.acquire()
      let retry = false
      try {
        if (signal?.aborted) throw interrupted(req)
        if (this.sent >= this.opts.maxRequests) {
          throw new HarnessError('ERR_BUDGET_EXHAUSTED', `request budget of ${this.opts.maxRequests} exhausted (raise budget.maxRequests in the profile)`)
        }
        // Counted before the rate-cap wait: concurrent senders cannot all pass the budget check at once.
        this.sent++
        const scope = this.scope.getStore()
        if (scope) scope.sent++
        await this.pace()
        return await this.exchange(req, url, headers, body, abortable ? signal : undefined)
      } catch (err) {
        if (isHarnessError(err)) throw err
        if (signal?.aborted) throw interrupted(req)
        const code = (err as { code?: string }).code ?? ''
        if (RETRYABLE.has(code) && attempt < this.opts.retries) {
          retry = true
        } else if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') {
          throw new HarnessError('ERR_TARGET_UNREACHABLE', `${this.origin} did not answer ${req.method} ${req.path} within ${this.opts.timeoutMs} ms`, { cause: err })
        } else {
          throw new HarnessError('ERR_TARGET_UNREACHABLE', `cannot reach ${this.origin}: ${code || (err as Error).message}`, { cause: err })
        }
      } finally {
        release()
      }
      // The backoff holds no place: other senders go on meanwhile.
      if (retry) await new Promise((r) => setTimeout(r, 100 * 2 ** attempt))
    }
  }

  /** The exchange itself, holding a place: sent, read whole, turned into evidence. */
  private async exchange(req: HttpRequest, url: URL, headers: Record<string, string>, body: string | undefined, signal: AbortSignal | undefined): Promise<HttpResponse> {
    const res = await undiciRequest(url, {
      method: req.method.toUpperCase() as 'GET',
      headers,
      body,
      dispatcher: this.agent,
      headersTimeout: this.opts.timeoutMs,
      bodyTimeout: this.opts.timeoutMs,
      signal,
    })
    const text = await res.body.text()
    const resHeaders: Record<string, string> = {}
    for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) resHeaders[k] = Array.isArray(v) ? v.join(', ') : v
    let json: unknown
    try {
      json = text ? JSON.parse(text) : undefined
    } catch {
      json = undefined
    }
    // Redacted only when a check reads it (a finding's evidence): redacting every answer was ~5 % of the
    // checks' process in an audit (bench:audit's CPU profile), for evidence nearly none of them keep.
    // What it is made of is copied now, so it shows the exchange as it was whenever it is read.
    const raw = {
      request: { method: req.method, url: url.toString(), headers: { ...headers }, body },
      response: { status: res.statusCode, headers: { ...resHeaders }, body: text },
    }
    let evidence: Evidence | undefined
    return {
      status: res.statusCode, headers: resHeaders, body: text, json,
      get evidence() { return (evidence ??= recordEvidence(raw)) },
    }
  }

  async close(): Promise<void> {
    await this.agent.close()
  }
}
