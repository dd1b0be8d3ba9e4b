/**
 * The shapes k6 reads and writes: the scenario's JSON rendering (`scenario.json`, written by
 * `tenant-audit load prepare` from fixtures/load/*.yaml, defaults filled), the tokens file, and the
 * result (`result.json`, the Node engine's shape). Mirrors fixtures/load/scenario.ts,
 * load/driver/prepared.ts and load/driver/summary.ts (k6 cannot load zod, hdr-histogram or Node types).
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

/** One login of a tenant's load user: an access token, its rotating refresh token, and when the access token expires (epoch ms). */
export interface PreparedSession { token: string; refreshToken: string; expiresAt: number }
export interface PreparedTenant { name: string; accountId: string; workspaceId: string; token: string; sessions?: PreparedSession[]; paths: Record<string, string> }
export interface Prepared { baseUrl: string; tokenUrl?: string; tenants: PreparedTenant[] }

/** The result, in the Node engine's `result.json` shape (load/driver/index.ts LoadResult). */
export interface Percentiles { count: number; p50: number | null; p95: number | null; p99: number | null }
export interface GroupSummary {
  tenant: string
  phase: string
  offeredRate: number
  scheduled: number
  ok: number
  throttled: number
  errors: number
  /** k6 counts answers as 2xx, 429 and other (`2xx`, `429`, `other`), not by exact status. */
  statuses: Record<string, number>
  dropped: number
  latency: Percentiles
  /** Not split by status in k6 (count only). */
  latencyOk: Percentiles
  latencyThrottled: Percentiles
  /** k6 measures no driver lateness: null. */
  lateP95Ms: number | null
}
export interface TenantSummary { tenant: string; quota: RateLimit | null; enforcedRate: number | null }
export interface Goal { tenant: string; name: string; met: boolean; detail: string }
export interface ThresholdResult { metric: string; expression: string; ok: boolean }
export interface K6LoadResult {
  schemaVersion: 1
  scenario: string
  engine: 'k6'
  target: { baseUrl: string }
  startedAt: string
  durationMs: number
  requests: { scheduled: number; sent: number; dropped: number }
  groups: GroupSummary[]
  tenants: TenantSummary[]
  goals: Goal[]
  /** The thresholds k6 evaluated itself (the always-true ones that only make k6 record a sub-metric are left out). */
  thresholds: ThresholdResult[]
}
