/**
 * The seeded faults: named, deliberate defects that turn the reference server into known-bad targets.
 * Each one is a single guarded branch at the exact spot it breaks (grep for its name), and names the
 * checks that must catch it. `tenant-audit faults --json` prints this list.
 */
export type FaultSuite = 'access' | 'forgery' | 'ratelimit' | 'audit'

export type FaultNeed = 'postgres' | 'short-refresh-family'

export interface FaultSpec {
  readonly name: string
  readonly suite: FaultSuite
  readonly description: string
  /**
   * Check ids of which every one reports a finding when this fault is on (the self-audit runs them all
   * and requires each): a check is named here only where it catches the fault, never where it only might.
   */
  readonly detectedBy: readonly string[]
  /**
   * `postgres`: the fault shows only where transactions overlap (real Postgres, not the embedded PGlite); its self-audit is test/race.test.ts.
   * `short-refresh-family`: only on a server whose refresh-token families live seconds (the default 30 days cannot be waited out); its self-audit is test/refresh-family.test.ts.
   */
  readonly needs?: FaultNeed
  /**
   * The fault shows only in how long the password KDF takes (a timing oracle, a lock held while it
   * hashes, a race as wide as the hash): `startThrowawayServer` then hashes at THROWAWAY_COST, long
   * enough to time, instead of the embedded audit's cheaper EMBEDDED_COST.
   */
  readonly timedKdf?: true
}

import { ACCESS_FAULTS } from './access.js'
import { AUDIT_FAULTS } from './audit.js'
import { FORGERY_FAULTS } from './forgery.js'
import { RATELIMIT_FAULTS } from './ratelimit.js'

/** Every fault, one file per suite (so each suite's faults are added without touching the others). */
export const FAULTS = [...ACCESS_FAULTS, ...FORGERY_FAULTS, ...RATELIMIT_FAULTS, ...AUDIT_FAULTS] as const satisfies readonly FaultSpec[]

export type FaultName = (typeof FAULTS)[number]['name']

export function faultSpec(name: string): FaultSpec | undefined {
  return FAULTS.find((f) => f.name === name)
}
