import type { TargetProfile } from '../core/profile.js'
import type { Topology } from '../core/topology.js'
import type { CheckResult } from '../core/check.js'
import type { FindingInput } from '../core/finding.js'
import type { MatrixCell } from '../core/run-result.js'
import type { SessionData } from '../adapters/sessions.js'
import type { TrafficStats } from '../adapters/traffic.js'
import type { HandledSecret } from '../audit/secrets.js'

/** What the global setup hands to the suites (through Vitest's provide/inject: plain data only). */
export interface ProvidedAudit {
  profile: TargetProfile
  baseUrl: string
  contract: unknown
  topology: Topology
  seed: number
  numRuns: number
  replayPath?: string
  /** Requests already spent on provisioning: the suites get the rest of the budget. */
  spent: number
  /** Every login's session, so the worker's adapter renews the same credentials (secrets: never logged). */
  sessions: SessionData[]
  /**
   * Secrets the setup handled beyond the sessions (ID tokens, the bootstrap password, the test
   * issuer's key), labelled, for audit/no-secrets (secrets: never logged). Optional for older callers.
   */
  secrets?: HandledSecret[]
  /** Why the target cannot show races (the embedded server on PGlite), or undefined. */
  raceless?: string
  /** The ids of the checks this run runs (`tenant-audit run`): their head starts begin with the first suite. None when undefined. */
  checks?: string[]
}

/** What one check leaves on its test's `task.meta`, for the reporter. */
export interface CheckMeta {
  result: Omit<CheckResult, 'findings'> & { findings: number }
  findings: FindingInput[]
  matrix: MatrixCell[]
  /** What the worker's adapter did while this check ran (throttling, renewals). */
  traffic?: TrafficStats
}

declare module 'vitest' {
  export interface ProvidedContext {
    tenantAudit: ProvidedAudit
  }
  interface TaskMeta {
    tenantAudit?: CheckMeta
  }
}

/** Run-level facts the global setup leaves for the reporter and the CLI (same main process). */
export interface RunState {
  startedAt: number
  seed: number
  target: { name: string; baseUrl: string }
  faults: string[]
  provisioningRequests: number
  topology?: 'default' | 'small'
  secrets: string[]
  error?: { code: string; message: string }
  teardown?: { removed: number; leftovers: string[] }
  /** Throttling and renewals during preparation (this process); the checks' own travel on task.meta. */
  traffic?: TrafficStats
}

const KEY = Symbol.for('tenant-audit.run-state')
const PREPARED = Symbol.for('tenant-audit.prepared')

/** The audit the CLI prepared before starting Vitest (same process), if any. */
export function preparedAudit(): import('../engine/prepare.js').PreparedAudit | undefined {
  return (globalThis as Record<symbol, never>)[PREPARED]
}

export function setPreparedAudit(audit: import('../engine/prepare.js').PreparedAudit | undefined): void {
  ;(globalThis as Record<symbol, unknown>)[PREPARED] = audit
}

export function runState(): RunState | undefined {
  return (globalThis as Record<symbol, RunState | undefined>)[KEY]
}

export function setRunState(state: RunState | undefined): void {
  ;(globalThis as Record<symbol, RunState | undefined>)[KEY] = state
}
