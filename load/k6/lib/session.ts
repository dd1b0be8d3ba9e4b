import exec from 'k6/execution'
import http from 'k6/http'
import type { Prepared, PreparedSession, PreparedTenant } from './types.ts'

// k6 provides console (its log goes to stderr); @types/k6 does not declare it.
declare const console: { error(message: string): void }

/** Refresh this long before the access token expires (a request in flight must not outlive it). */
const MARGIN_MS = 60_000

/**
 * Each tenant's current login, per VU (k6 module state is per VU). A VU takes its own session from
 * the tokens file (`load prepare` writes one per possible VU when the run can outlive a token), so
 * no two VUs ever present the same refresh token: a used one presented again is theft to the
 * target, which revokes the whole login.
 */
const current = new Map<string, PreparedSession>()

/** The bearer token for a tenant, refreshed first (refresh grant at the token endpoint) when it is about to expire. */
export function bearer(prepared: Prepared, tenant: PreparedTenant): string {
  let s = current.get(tenant.name)
  if (!s) {
    const pool = tenant.sessions ?? []
    const own = pool[(exec.vu.idInTest - 1) % Math.max(1, pool.length)]
    s = own ? { ...own } : { token: tenant.token, refreshToken: '', expiresAt: Number.POSITIVE_INFINITY }
    current.set(tenant.name, s)
  }
  if (s.refreshToken && prepared.tokenUrl && Date.now() >= s.expiresAt - MARGIN_MS) refresh(prepared.tokenUrl, tenant.name, s)
  return s.token
}

interface TokenAnswer { access_token?: unknown; refresh_token?: unknown; expires_in?: unknown }

function refresh(url: string, tenant: string, s: PreparedSession): void {
  // An object body is sent form-encoded (RFC 6749 §6). No tenant or phase tag: no tenant × phase figure counts it.
  const res = http.post(url, { grant_type: 'refresh_token', refresh_token: s.refreshToken }, { tags: { name: 'auth.refresh' } })
  let answer: TokenAnswer = {}
  try {
    if (res.status === 200 && typeof res.body === 'string') answer = JSON.parse(res.body) as TokenAnswer
  } catch {
    answer = {}
  }
  if (typeof answer.access_token === 'string' && typeof answer.refresh_token === 'string') {
    s.token = answer.access_token
    // Rotated: the old refresh token is spent; keep the new one for the next refresh.
    s.refreshToken = answer.refresh_token
    s.expiresAt = Date.now() + (typeof answer.expires_in === 'number' ? answer.expires_in : 900) * 1000
    return
  }
  // Never retried with the same (maybe spent) refresh token; the old access token serves until it expires.
  s.refreshToken = ''
  console.error(`tenant ${tenant}: the token refresh answered ${res.status}; requests go on with the current token until it expires`)
}
