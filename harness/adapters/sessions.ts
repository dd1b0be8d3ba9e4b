import { decodeJwt } from 'jose'
import type { TrafficStats } from './traffic.js'

/**
 * Credentials that outlive the audit. Every password-grant login the adapter sees becomes a session;
 * a request that carries one of its tokens is sent with the session's current token, renewed shortly
 * before it expires (the refresh grant when the deployment issued a refresh token, else a new login).
 * Plain data so it can travel to the Vitest worker with what the global setup provides; it holds
 * passwords and tokens, so it is never written to a report or a log.
 */
export interface SessionData {
  username: string
  /** A secret. */
  password: string
  /** The workspace the login picked (profile `auth.workspaceParam`), if any. */
  workspaceId?: string
  /** A secret. */
  accessToken: string
  /**
   * Tokens this session held before (secrets): a copy of an actor made before a renewal still
   * carries one, in this process or the one the session travelled to, and must map back here.
   */
  previousTokens?: string[]
  /** A secret; rotated on every refresh when the deployment rotates it. */
  refreshToken?: string
  /** Epoch ms the access token was obtained. */
  obtainedAt: number
  /** Epoch ms it expires: `expires_in`, else the JWT's `exp` (decoded, never verified); unknown otherwise. */
  expiresAt?: number
  /** The tenant the target most likely counts this session's requests against (pacing partition). */
  partition: string
  /** A check revoked this token or removed/suspended its user: never renewed or substituted again. */
  retired?: boolean
}

/** Sends one form to the token endpoint (no token, no renewal) and returns the answer. */
export type GrantSender = (form: URLSearchParams, partition: string) => Promise<{ status: number; json: unknown }>

export interface SessionOptions {
  workspaceParam?: string
  /** Claim that names the account in the deployment's access tokens (profile `claims.accountId`). */
  accountClaim?: string
  /** How long a failed renewal is remembered before another is tried (default 10 s). */
  failureMemoMs?: number
}

/** Past tokens kept per session: plenty for an audit, bounded for one that renews every few seconds. */
const MAX_PREVIOUS_TOKENS = 1000

interface Session {
  data: SessionData
  renewing?: Promise<boolean>
  failedUntil?: number
}

interface TokenAnswer { access_token?: unknown; refresh_token?: unknown; expires_in?: unknown }

/** Renew this long before expiry: a quarter of the token's life, at least 1 s, at most a minute. */
export function renewMarginMs(data: Pick<SessionData, 'obtainedAt' | 'expiresAt'>): number {
  if (data.expiresAt === undefined) return 0
  return Math.min(60_000, Math.max(1_000, (data.expiresAt - data.obtainedAt) / 4))
}

/** Expiry of a fresh token: `expires_in` when the answer has it, else the JWT's `exp`. */
export function expiryOf(token: string, expiresIn: unknown, now: number): number | undefined {
  if (typeof expiresIn === 'number' && expiresIn > 0) return now + expiresIn * 1000
  try {
    const exp = decodeJwt(token).exp
    return typeof exp === 'number' ? exp * 1000 : undefined
  } catch {
    return undefined // an opaque token: renewed only after a 401
  }
}

/**
 * The partition of a token: its account claim (users of one account share the account's quota),
 * else `session:<username>` (a principal is a partition of its own). Decoded, never verified: this
 * only decides whom to slow down.
 */
export function claimPartition(token: string, accountClaim = 'account_id'): string | undefined {
  try {
    const v = decodeJwt(token)[accountClaim]
    return typeof v === 'string' && v ? `account:${v}` : undefined
  } catch {
    return undefined
  }
}

export class SessionStore {
  private readonly byToken = new Map<string, Session>()
  private readonly all: Session[] = []
  /** Objects with a `token` field (topology actors) updated in place when their token is renewed. */
  private holders: WeakRef<{ token?: string }>[] = []
  private readonly bound = new WeakSet<object>()

  constructor(
    private readonly grant: GrantSender,
    private readonly stats: TrafficStats,
    private readonly opts: SessionOptions = {},
  ) {}

  /** Records the session a password-grant login opened; ignores any other exchange. */
  recordLogin(form: URLSearchParams, status: number, json: unknown, now = Date.now()): SessionData | undefined {
    const answer = json as TokenAnswer | undefined
    const username = form.get('username')
    const password = form.get('password')
    if (form.get('grant_type') !== 'password' || status !== 200 || typeof answer?.access_token !== 'string' || !username || !password) return undefined
    const token = answer.access_token
    const workspaceId = this.opts.workspaceParam ? form.get(this.opts.workspaceParam) ?? undefined : undefined
    const data: SessionData = {
      username, password, workspaceId, accessToken: token, obtainedAt: now,
      refreshToken: typeof answer.refresh_token === 'string' ? answer.refresh_token : undefined,
      expiresAt: expiryOf(token, answer.expires_in, now),
      partition: claimPartition(token, this.opts.accountClaim) ?? `session:${username.toLowerCase()}`,
    }
    this.add(data)
    return data
  }

  private add(data: SessionData): void {
    const s: Session = { data }
    this.all.push(s)
    for (const t of [...(data.previousTokens ?? []), data.accessToken]) this.byToken.set(t, s)
  }

  /** Sessions as plain data, for the worker (secrets inside: never log or report it). */
  export(): SessionData[] {
    return this.all.map((s) => ({ ...s.data, previousTokens: s.data.previousTokens && [...s.data.previousTokens] }))
  }

  /** Adopts sessions recorded in another process (the global setup's). */
  load(sessions: readonly SessionData[]): void {
    for (const d of sessions) if (!this.byToken.has(d.accessToken)) this.add({ ...d })
  }

  /**
   * Keeps `holder.token` current: renewal replaces it in place (the topology's actors), and a holder
   * bound with a token the session has since replaced gets the current one at once.
   */
  bind(holder: { token?: string }): void {
    const s = holder.token === undefined ? undefined : this.byToken.get(holder.token)
    if (!s || s.data.retired) return
    if (!this.bound.has(holder)) {
      this.bound.add(holder)
      this.holders.push(new WeakRef(holder))
    }
    holder.token = s.data.accessToken
  }

  /** The live session a token belongs to (any of its past tokens too), or undefined. */
  sessionOf(token: string | undefined): SessionData | undefined {
    const s = token === undefined ? undefined : this.byToken.get(token)
    return s && !s.data.retired ? s.data : undefined
  }

  /**
   * Marks the session of `token` retired: a check revoked it, or removed, suspended or demoted its
   * user. From then on its tokens are sent exactly as given, never renewed.
   */
  retire(token: string | undefined): void {
    const s = token === undefined ? undefined : this.byToken.get(token)
    if (s) s.data.retired = true
  }

  /** The token to send in place of `token`: the session's current one, renewed first when it is about to expire. */
  async current(token: string, now = Date.now()): Promise<string> {
    const s = this.byToken.get(token)
    if (!s || s.data.retired) return token
    const { expiresAt } = s.data
    if (expiresAt !== undefined && now >= expiresAt - renewMarginMs(s.data)) await this.renew(token)
    return s.data.accessToken
  }

  /**
   * Renews the session of `token` (one renewal at a time per session; concurrent callers share it).
   * A failure is remembered for a while, so a dead target is not asked again on every request.
   * Resolves true when the session now holds a token other than `token`.
   */
  async renew(token: string): Promise<boolean> {
    const s = this.byToken.get(token)
    if (!s || s.data.retired) return false
    if (s.data.accessToken !== token) return true // someone renewed it meanwhile
    if (s.failedUntil !== undefined && Date.now() < s.failedUntil) return false
    s.renewing ??= this.exchange(s).finally(() => (s.renewing = undefined))
    return s.renewing
  }

  private async exchange(s: Session): Promise<boolean> {
    const d = s.data
    let answer: TokenAnswer | undefined
    if (d.refreshToken) {
      const res = await this.grant(new URLSearchParams({ grant_type: 'refresh_token', refresh_token: d.refreshToken }), d.partition)
      if (res.status === 200) answer = res.json as TokenAnswer
    }
    if (typeof answer?.access_token !== 'string') {
      const form = new URLSearchParams({ grant_type: 'password', username: d.username, password: d.password })
      if (d.workspaceId && this.opts.workspaceParam) form.set(this.opts.workspaceParam, d.workspaceId)
      const res = await this.grant(form, d.partition)
      answer = res.status === 200 ? (res.json as TokenAnswer) : undefined
    }
    const now = Date.now()
    if (typeof answer?.access_token !== 'string') {
      s.failedUntil = now + (this.opts.failureMemoMs ?? 10_000)
      this.stats.renewalFailures++
      return false
    }
    d.previousTokens = [...(d.previousTokens ?? []), d.accessToken].slice(-MAX_PREVIOUS_TOKENS)
    d.accessToken = answer.access_token
    d.obtainedAt = now
    d.expiresAt = expiryOf(d.accessToken, answer.expires_in, now)
    if (typeof answer.refresh_token === 'string') d.refreshToken = answer.refresh_token
    s.failedUntil = undefined
    this.byToken.set(d.accessToken, s)
    this.holders = this.holders.filter((ref) => {
      const h = ref.deref()
      if (h?.token !== undefined && this.byToken.get(h.token) === s) h.token = d.accessToken
      return h !== undefined
    })
    this.stats.renewals++
    return true
  }
}
