/**
 * What `load prepare` hands to an engine: where the target is and, per scenario tenant, its ids,
 * a bearer token and the path each action calls. Written as the tokens file (mode 0600) for k6;
 * kept in memory by the Node engine. The token is a secret: it is never printed or reported.
 */
export interface PreparedTenant {
  name: string
  accountId: string
  workspaceId: string
  token: string
  /** Action (`documents.read`) → request path on the target's origin (including the base URL's path). */
  paths: Record<string, string>
}

export interface PreparedLoad {
  /** The target's origin (scheme, host, port); every path below is absolute on it. */
  baseUrl: string
  tenants: PreparedTenant[]
}
