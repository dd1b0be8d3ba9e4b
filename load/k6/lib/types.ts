/**
 * The shapes k6 reads: the scenario's JSON rendering (`scenario.json`, written by
 * `tenant-audit load prepare` from fixtures/load/*.yaml, defaults filled) and the tokens file.
 * Mirrors fixtures/load/scenario.ts and load/driver/prepared.ts (k6 cannot load zod or Node types).
 */
export interface RateLimit { requestsPerSecond: number; burst: number }

export interface Tenant {
  name: string
  rateLimit?: RateLimit
  expect: {
    throttled: 'never' | 'some' | 'any'
    maxErrorRate?: number
    p95?: { baselinePhase?: string; phases?: string[]; ratio: number; slackMs: number; maxMs?: number }
    enforcedRate?: { tolerance: number }
  }
}

export interface Stream { tenant: string; phase: string; rate: number; action?: string }

export interface Scenario {
  name: string
  description: string
  action: string
  tenants: Tenant[]
  phases: { name: string; seconds: number }[]
  streams: Stream[]
  bounds: { maxRequests: number; maxInFlight: number; timeoutMs: number }
}

export interface PreparedTenant { name: string; accountId: string; workspaceId: string; token: string; paths: Record<string, string> }
export interface Prepared { baseUrl: string; tenants: PreparedTenant[] }
