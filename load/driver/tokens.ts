import type { PreparedLoad, PreparedSession } from './prepared.js'

/** The refresh grant at the target's token endpoint: a spent refresh token in, a new login out. */
export type RefreshGrant = (refreshToken: string) => Promise<PreparedSession>

/**
 * Each tenant's access token for the Node engine (one process, so one session per tenant): the
 * first request that finds it within `marginMs` of expiry starts one refresh, and requests go on
 * with the current token until the new one arrives. The rotated refresh token replaces the spent
 * one; a failed refresh is never retried with the same token (the target would take it for theft).
 */
export class TokenKeeper {
  private readonly sessions = new Map<string, PreparedSession>()
  private readonly pending = new Map<string, Promise<void>>()
  /** One line per failed refresh (no token in it). */
  readonly failures: string[] = []

  constructor(prepared: PreparedLoad, private readonly refresh?: RefreshGrant, private readonly marginMs = 60_000, private readonly now: () => number = Date.now) {
    for (const t of prepared.tenants) this.sessions.set(t.name, { ...(t.sessions?.[0] ?? { token: t.token, refreshToken: '', expiresAt: Number.MAX_SAFE_INTEGER }) })
  }

  token(tenant: string): string {
    const s = this.sessions.get(tenant)
    if (!s) throw new Error(`no session for tenant ${tenant}`)
    if (this.refresh && s.refreshToken && !this.pending.has(tenant) && this.now() >= s.expiresAt - this.marginMs) {
      const spent = s.refreshToken
      s.refreshToken = ''
      this.pending.set(tenant, this.refresh(spent).then(
        (next) => void this.sessions.set(tenant, next),
        (err: unknown) => void this.failures.push(`tenant ${tenant}: token refresh failed (${err instanceof Error ? err.message : String(err)})`),
      ).finally(() => this.pending.delete(tenant)))
    }
    return s.token
  }

  /** Resolves once no refresh is in flight. */
  async settled(): Promise<void> {
    await Promise.all([...this.pending.values()])
  }
}
