/**
 * Checks: named, registered units of audit (`access/cross-tenant-read`). A check's
 * id is its CLI name, its JUnit test name and its SARIF rule id, so its format is
 * enforced here, once.
 */
import { HarnessError } from './errors.js'
import { createFinding } from './finding.js'
import type { Finding, FindingInput } from './finding.js'
import type { Severity } from './severity.js'
import type { TargetContract } from './contract.js'
import type { TargetProfile } from './profile.js'
import type { Topology } from './topology.js'

/** What a check may look at before any request: the contract (vocabulary applied) and the profile. */
export interface CheckView {
  contract: TargetContract
  profile: TargetProfile
}

/** What `exclusive` decides on: the check's view and the provisioned topology. */
export type TargetView = CheckView & { topology: Topology }

/** The four suites; a check id's prefix names one of them. */
export type Suite = 'access' | 'forgery' | 'ratelimit' | 'audit'

/** Suites in their canonical (report) order. */
export const SUITES: readonly Suite[] = ['access', 'forgery', 'ratelimit', 'audit']

/** `suite/name`: lower-case suite, then lower-case kebab name. */
export const CHECK_ID_PATTERN = /^[a-z]+\/[a-z0-9-]+$/

/**
 * How a check ended. `error` means the harness could not run it (exit 2), not a finding.
 * `inconclusive`: the check ran, but a positive control failed (a genuine call the policy allows
 * was refused too, or a read-back that shows "nothing changed" was not served), so its refusals
 * prove nothing; it is never reported as `passed`.
 */
export type CheckStatus = 'passed' | 'failed' | 'inconclusive' | 'skipped' | 'error'

/** Every status, in report order. */
export const CHECK_STATUSES: readonly CheckStatus[] = ['passed', 'failed', 'inconclusive', 'skipped', 'error']

/** What `run` returns: findings (empty = passed) or a reason it was skipped. */
export interface CheckOutcome {
  findings: FindingInput[]
  /** Why the check did not apply, e.g. `target has no refresh tokens`. */
  skipped?: string | undefined
  /** Why the check's refusals prove nothing (a failed positive control); never set with `skipped`. */
  inconclusive?: string | undefined
  /**
   * What the check learned that a reader wants even when it passed (`accepted an access token
   * expired 2 s ago; refused 30 s`): short lines, never a secret. Carried to findings.json
   * `checks[].notes` and shown under the check in every human format.
   */
  notes?: string[] | undefined
}

/** At most this many notes per check, each at most {@link MAX_NOTE_LENGTH} characters: a note is a line, not a log. */
export const MAX_NOTES = 10
export const MAX_NOTE_LENGTH = 300

/** A check's notes as reports carry them: trimmed, non-empty, one line each, bounded; undefined when none. */
export function normalizeNotes(notes: readonly unknown[] | undefined): string[] | undefined {
  const lines = (notes ?? [])
    .filter((n): n is string => typeof n === 'string')
    .map((n) => n.replace(/\s+/g, ' ').trim())
    .filter((n) => n.length > 0)
    .slice(0, MAX_NOTES)
    .map((n) => (n.length > MAX_NOTE_LENGTH ? `${n.slice(0, MAX_NOTE_LENGTH - 1)}…` : n))
  return lines.length > 0 ? lines : undefined
}

/** A check as written in `suites/<suite>/<name>.check.ts`. */
export interface CheckDefinition<Ctx = unknown> {
  /** `suite/name`, e.g. `forgery/alg-none`. */
  id: string
  title: string
  severity: Severity
  cwe: number
  /** OWASP API Security Top 10 id, e.g. `API1:2023`. */
  owasp: string
  suite: Suite
  /** Target capabilities the check needs (`two-accounts`, `refresh-tokens`); missing → skipped. */
  requires?: string[] | undefined
  /**
   * Static precondition, asked by `inspect`/`--dry-run` and again at run time (so the reasons
   * match): a skip reason in the deployment's terms and the role's, or undefined when it applies.
   */
  applies?: ((view: CheckView) => string | undefined) | undefined
  /** Free-form references: fault catalogue ids, RFC sections. */
  docs?: string | undefined
  /**
   * Runs alone, with nothing else in flight, after its suite's other checks (which run side by side
   * as one group), in registry order with the suite's other lone checks. Set it on a check whose
   * probes other checks could disturb, or that would disturb theirs: it suspends an account, spends
   * a quota other checks' accounts live under, changes a seeded actor's role, or reads a whole trail
   * that must not move under it. A function decides per target, before anything runs (a check that
   * spends only accounts of its own where the target lets it make some, and provisioned ones
   * otherwise). Every other check runs concurrently with its neighbours (at most `budget.concurrency`
   * at once).
   */
  exclusive?: boolean | ((view: TargetView) => boolean) | undefined
  /**
   * Begins with the run's first suite, beside the checks of the suites before its own, instead of
   * when its suite starts; its test, in its own suite and place, only records what it found (the
   * report's order is unchanged). For a check whose probes nobody else's disturb and that disturbs
   * nobody's, and that spends most of its time waiting on the target's clock (a quota's Retry-After):
   * it works on objects of its own and judges nothing on how fast the target answers while others
   * load it. It never overlaps a check that runs alone: each `exclusive` check first waits for every
   * early one to end. A function decides per target, as `exclusive` does.
   */
  early?: boolean | ((view: TargetView) => boolean) | undefined
  /**
   * Work that only waits on the target's clock (a token held until it expires), begun when the run's
   * first suite starts instead of when the check does, so the wait passes while the suites before it
   * run. It finishes before any check of that first suite starts (what it creates is there for all of
   * them, every run alike: same seed, same requests). Its result reaches `run` as `ctx.headStart`;
   * undefined when it found nothing to start (the check then does the work itself). What it defers
   * is removed when the check ends.
   */
  headStart?: ((ctx: Ctx) => Promise<unknown>) | undefined
  run(ctx: Ctx): Promise<CheckOutcome>
}

/** One row of findings.json `checks`. */
export interface CheckResult {
  id: string
  suite: Suite
  title: string
  severity: Severity
  status: CheckStatus
  /** Number of findings this check produced. */
  findings: number
  /** Requests this check sent to the target. */
  requests: number
  durationMs: number
  /** Skip reason, inconclusive reason or harness error message. */
  reason?: string | undefined
  /** When the check started (ISO 8601), so a reader can place it on the run's time line. */
  startedAt?: string | undefined
  /** What the check learned, in short secret-free lines (see {@link CheckOutcome.notes}). */
  notes?: string[] | undefined
  // Additive to DESIGN §5: lets SARIF describe rules of checks that found nothing.
  cwe?: number | undefined
  owasp?: string | undefined
}

/**
 * Validates and returns a check definition unchanged. Called at module load, so
 * a malformed id fails the registry before any request is sent.
 * @throws HarnessError `ERR_REGISTRY` when the id is malformed or its prefix is not `suite`
 */
export function defineCheck<Ctx>(def: CheckDefinition<Ctx>): CheckDefinition<Ctx> {
  if (!CHECK_ID_PATTERN.test(def.id)) {
    throw new HarnessError('ERR_REGISTRY', `check id "${def.id}" must match ${String(CHECK_ID_PATTERN)}`)
  }
  const prefix = def.id.slice(0, def.id.indexOf('/'))
  if (prefix !== def.suite) {
    throw new HarnessError('ERR_REGISTRY', `check id "${def.id}" must start with its suite "${def.suite}/"`)
  }
  if (!(SUITES as readonly string[]).includes(def.suite)) {
    throw new HarnessError('ERR_REGISTRY', `check "${def.id}" names unknown suite "${def.suite}"`)
  }
  return def
}

/** Source file of a check by convention: `suites/<suite>/<name>.check.ts`. */
export function checkFilePath(checkId: string): string {
  const slash = checkId.indexOf('/')
  return `suites/${checkId.slice(0, slash)}/${checkId.slice(slash + 1)}.check.ts`
}

/**
 * Resolves a check's finding inputs into findings, numbering them from `firstSeq`.
 * Per-finding severity/title/CWE/OWASP override the check's defaults.
 */
export function resolveFindings(
  check: Pick<CheckDefinition, 'id' | 'title' | 'severity' | 'cwe' | 'owasp'>,
  inputs: readonly FindingInput[],
  firstSeq: number,
): Finding[] {
  return inputs.map((input, i) =>
    createFinding({
      ...input,
      seq: firstSeq + i,
      checkId: check.id,
      severity: input.severity ?? check.severity,
      title: input.title ?? check.title,
      cwe: input.cwe ?? check.cwe,
      owasp: input.owasp ?? check.owasp,
    }),
  )
}

/** Builds the findings.json row for a check from its definition and how it ran. */
export function toCheckResult(
  check: Pick<CheckDefinition, 'id' | 'suite' | 'title' | 'severity' | 'cwe' | 'owasp'>,
  run: { status: CheckStatus; findings: number; requests: number; durationMs: number; reason?: string | undefined; startedAt?: string | undefined; notes?: readonly string[] | undefined },
): CheckResult {
  const result: CheckResult = {
    id: check.id,
    suite: check.suite,
    title: check.title,
    severity: check.severity,
    status: run.status,
    findings: run.findings,
    requests: run.requests,
    durationMs: run.durationMs,
    cwe: check.cwe,
    owasp: check.owasp,
  }
  if (run.reason !== undefined) result.reason = run.reason
  if (run.startedAt !== undefined) result.startedAt = run.startedAt
  const notes = normalizeNotes(run.notes)
  if (notes !== undefined) result.notes = notes
  return result
}
