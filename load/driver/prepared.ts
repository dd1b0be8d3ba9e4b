/**
 * What `load prepare` hands to an engine: where the target is and, per scenario tenant, its ids,
 * bearer tokens with their refresh tokens, and the path each action calls. Written as the tokens file (mode 0600) for k6;
 * kept in memory by the Node engine. Tokens are secrets: never printed or reported.
 */
/** One login: a secret access token, its rotating refresh token (`''`: none) and when the access token expires (epoch ms). */
export interface PreparedSession {
  token: string
  refreshToken: string
  expiresAt: number
}

export interface PreparedTenant {
  name: string
  accountId: string
  workspaceId: string
  /** The first session's access token. */
  token: string
  /** Independent logins of the tenant's load user (k6 gives each VU its own; the Node engine uses the first). */
  sessions?: PreparedSession[]
  /** Action (`documents.read`) → request path on the target's origin (including the base URL's path). */
  paths: Record<string, string>
}

export interface PreparedLoad {
  /** The target's origin (scheme, host, port); every path below is absolute on it. */
  baseUrl: string
  /** The token endpoint's absolute URL, for the refresh grant. */
  tokenUrl?: string
  tenants: PreparedTenant[]
}
