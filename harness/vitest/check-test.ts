import { beforeAll, inject, test, type TestContext } from 'vitest'
import { parseContract, type TargetContract } from '../core/contract.js'
import { normalizeNotes, type CheckDefinition, type CheckOutcome } from '../core/check.js'
import { capabilities } from '../core/topology.js'
import { isHarnessError } from '../core/errors.js'
import { isProbeSkipped } from '../core/skip.js'
import { CheckContext } from '../engine/context.js'
import { adapterFor } from '../engine/open-target.js'
import { newScope, type HttpAdapter } from '../adapters/http.js'
import type { CheckMeta } from './state.js'
import { addTraffic } from '../adapters/traffic.js'
import { registry } from '../../suites/index.js'
import './state.js'

let worker: { http: HttpAdapter; contract: TargetContract } | undefined

/**
 * One adapter and one parsed contract per worker, built from what the global setup provided. The
 * adapter adopts the setup's sessions and keeps the topology's actors' tokens current in place.
 */
function shared() {
  const audit = inject('tenantAudit')
  if (!worker) {
    const http = adapterFor(audit.profile, audit.baseUrl, audit.spent)
    http.sessions.load(audit.sessions ?? [])
    for (const actor of audit.topology.actors) http.sessions.bind(actor)
    worker = { http, contract: parseContract(audit.contract, audit.profile.vocabulary) }
  }
  return { audit, ...worker }
}

function contextFor(check: CheckDefinition<CheckContext>): CheckContext {
  const { audit, http, contract } = shared()
  return new CheckContext(check.id, audit.topology, contract, audit.profile, http,
    { seed: audit.seed, numRuns: audit.numRuns, path: audit.replayPath, secrets: audit.secrets, raceless: audit.raceless })
}

interface HeadStart { ctx: CheckContext; scope: ReturnType<typeof newScope>; result: unknown }

/** The head starts of this run's checks, by check id: begun once per worker, before the first suite's checks. */
let heads: Promise<Map<string, HeadStart>> | undefined

/**
 * Begins every selected check's `headStart`, one after another in registry order, and resolves once
 * all have finished (so the first suite's checks meet the same target every run). Each runs in a
 * context and request scope of its check's own; one that throws or finds nothing to start leaves the
 * check to do the work itself.
 */
function headStarts(): Promise<Map<string, HeadStart>> {
  return (heads ??= (async () => {
    const { audit, http } = shared()
    const out = new Map<string, HeadStart>()
    // Only where the run names its checks (`tenant-audit run`): under a plain `vitest -t` a head start could
    // create what no check removes.
    const selected = new Set(audit.checks ?? [])
    for (const check of registry.all.filter((c) => c.headStart && selected.has(c.id))) {
      const scope = newScope()
      // Made inside the scope: a context counts its requests in the scope it was made in.
      const ctx = await http.inScope(scope, async () => contextFor(check))
      const result = await http.inScope(scope, () => check.headStart!(ctx)).catch(() => undefined)
      out.set(check.id, { ctx, scope, result })
    }
    return out
  })())
}

/** Whether `check` must run with nothing else in flight, on this target. */
function alone(check: CheckDefinition<CheckContext>): boolean {
  const { audit, contract } = shared()
  return typeof check.exclusive === 'function' ? check.exclusive({ contract, profile: audit.profile, topology: audit.topology }) : check.exclusive === true
}

/** Whether `check` begins with the run's first suite (`CheckDefinition.early`) on this target: never one that runs alone. */
function isEarly(check: CheckDefinition<CheckContext>): boolean {
  const { audit, contract } = shared()
  const early = typeof check.early === 'function' ? check.early({ contract, profile: audit.profile, topology: audit.topology }) : check.early === true
  return early && !alone(check)
}

/** The verdicts of this run's early checks, by check id: begun once per worker, right after the head starts. */
let earlies: Map<string, Promise<Verdict>> | undefined

/**
 * Begins every selected early check (only where the run names its checks, as head starts), each in
 * a request scope of its own, all at once: the adapter's concurrency bound paces them with the rest.
 */
function earlyVerdicts(): Map<string, Promise<Verdict>> {
  return (earlies ??= (() => {
    const { audit, http } = shared()
    const selected = new Set(audit.checks ?? [])
    const out = new Map<string, Promise<Verdict>>()
    for (const check of registry.all.filter((c) => selected.has(c.id) && isEarly(c))) {
      const scope = newScope()
      const verdict = http.inScope(scope, () => verdictOf(check, scope, undefined))
      // Awaited by its test later: a failure before then is not an unhandled rejection.
      verdict.catch(() => undefined)
      out.set(check.id, verdict)
    }
    return out
  })())
}

/**
 * Declares a suite's checks: those that run side by side first, as one group (so the server is
 * never left waiting on the slowest of a small group between two checks that must run alone), then
 * each check that must run alone; each part in the registry's order (the report lists them so).
 */
export function checkTests(checks: readonly CheckDefinition<CheckContext>[]): void {
  beforeAll(async () => {
    await headStarts()
    earlyVerdicts()
  })
  for (const check of checks.filter((c) => !alone(c))) checkTest(check)
  for (const check of checks.filter((c) => alone(c))) checkTest(check)
}

/**
 * The only bridge from a check to Vitest: one test per check, a concurrent one (Vitest runs
 * consecutive concurrent tests together, at most `maxConcurrency` at once) unless the check is
 * `exclusive`: a sequential test, which Vitest starts only once the concurrent ones before it have
 * ended and finishes before any after it starts, so it runs alone. Each check runs in its own
 * request scope, so its request count and traffic are its own whatever runs beside it. The check's outcome travels on
 * `task.meta.tenantAudit` for the reporter; the test fails when there are findings (so a plain
 * `vitest` run shows red), is skipped when a capability is missing or a probe throws `ProbeSkipped`, and a harness fault (target
 * unreachable, budget exhausted) is recorded as status `error` and rethrown.
 */
function checkTest(check: CheckDefinition<CheckContext>): void {
  const declare = alone(check) ? test : test.concurrent
  declare(check.id, async (t) => {
    const { http } = shared()
    const scope = newScope()
    return http.inScope(scope, () => runCheck(check, t, scope))
  })
}

async function runCheck(check: CheckDefinition<CheckContext>, t: TestContext, scope: ReturnType<typeof newScope>): Promise<void> {
  const early = earlyVerdicts().get(check.id)
  // A check that runs alone has nothing in flight beside it: the early checks end first.
  if (!early && alone(check)) await Promise.allSettled(earlyVerdicts().values())
  const head = (await headStarts()).get(check.id)
  try {
    record(t, await (early ?? verdictOf(check, scope, head)))
  } finally {
    // What the head start created (a throwaway member) goes when the check ends, whatever its outcome.
    await head?.ctx.cleanup()
  }
}

/** What a check's run came to, kept until its test records it (an early check's comes before its test starts). Never rejects. */
interface Verdict {
  meta: CheckMeta
  /** Vitest's skip, with the reason. */
  skip?: string
  /** A harness fault (target unreachable, budget exhausted): rethrown by the test. */
  error?: unknown
}

async function verdictOf(check: CheckDefinition<CheckContext>, scope: ReturnType<typeof newScope>, head: HeadStart | undefined): Promise<Verdict> {
  const { audit, contract } = shared()
  const ctx = contextFor(check)
  ctx.headStart = head?.result
  const started = Date.now()
  const startedAt = new Date(started).toISOString()
  const base = { id: check.id, suite: check.suite, title: check.title, severity: check.severity, cwe: check.cwe, owasp: check.owasp }
  const meta = (outcome: CheckOutcome, status: CheckMeta['result']['status'], reason?: string): CheckMeta => ({
    // The head start's requests are the check's own: counted with them (its time is not: it overlapped other checks).
    result: { ...base, status, findings: outcome.findings.length, requests: ctx.requests + (head?.ctx.requests ?? 0), durationMs: Date.now() - started, reason, startedAt, notes: normalizeNotes(outcome.notes) },
    findings: outcome.findings,
    matrix: ctx.matrix.toJSON(),
    // A check's traffic and its head start's.
    traffic: addTraffic({ ...scope.traffic }, head?.scope.traffic),
  })
  const missing = (check.requires ?? []).filter((c) => !capabilities(audit.topology).has(c))
  if (missing.length > 0) {
    const reason = `the topology lacks: ${missing.join(', ')}`
    return { meta: meta({ findings: [] }, 'skipped', reason), skip: reason }
  }
  const inapplicable = check.applies?.({ contract, profile: audit.profile })
  if (inapplicable) return { meta: meta({ findings: [] }, 'skipped', inapplicable), skip: inapplicable }
  let outcome: CheckOutcome
  try {
    // The positive controls run before cleanup: a control may need the check's throwaway objects.
    outcome = await check.run(ctx).then((o) => ctx.controlled(o)).finally(() => ctx.cleanup())
  } catch (err) {
    // A request the harness cannot build (no schema-valid body) skips the check with the reason.
    if (isProbeSkipped(err)) return { meta: meta({ findings: [] }, 'skipped', err.message), skip: err.message }
    return { meta: meta({ findings: [] }, 'error', isHarnessError(err) ? `${err.code}: ${err.message}` : String((err as Error)?.stack ?? err)), error: err }
  }
  if (outcome.skipped) return { meta: meta(outcome, 'skipped', outcome.skipped), skip: outcome.skipped }
  // Findings that survive a failed control (leaks, 2xx to forbidden calls) still fail the check;
  // without findings, a failed control makes it inconclusive, never passed.
  const status = outcome.findings.length > 0 ? 'failed' : outcome.inconclusive ? 'inconclusive' : 'passed'
  return { meta: meta(outcome, status, outcome.inconclusive) }
}

/** Puts a verdict on the check's test: its meta for the reporter, then a skip, a rethrown fault, or a failure when there are findings. */
function record({ task, skip }: TestContext, v: Verdict): void {
  task.meta.tenantAudit = v.meta
  if (v.skip !== undefined) return skip(v.skip)
  if (v.error !== undefined) throw v.error
  const { findings } = v.meta
  if (findings.length > 0) {
    throw new Error(`${findings.length} finding(s):\n${findings.map((f) => `- ${f.message}`).join('\n')}`)
  }
}
