import { readFile, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { HarnessError, isHarnessError } from '../core/errors.js'
import { inspectLines, openForInspect } from './inspect.js'
import { loadProfile } from '../core/profile.js'
import { parseAuditReport } from '../core/report-schema.js'
import { describeTraffic } from '../report/summary.js'
import { exitCode, onlyInconclusive, runPhases } from '../core/run-result.js'
import { render as renderJson } from '../report/json.js'
import { SEVERITIES, type Severity } from '../core/severity.js'
import { planFor, DEFAULT_BOUNDS } from '../provision/plan.js'
import { setPreparedAudit, setRunState } from '../vitest/state.js'
import { readSettings } from '../vitest/settings.js'
import { prepareAudit } from '../engine/prepare.js'
import { RunInterrupt } from '../engine/interrupt.js'
import { registry } from '../../suites/index.js'
import { parseFaults } from '../../reference-server/faults/index.js'

export interface RunOptions {
  target?: string
  faults?: string
  suites?: string
  checks?: string
  seed?: string
  runs?: string
  out?: string
  failOn?: string
  dryRun?: boolean
  topology?: string
  /** Most requests in flight at once; overrides the profile's `budget.concurrency`. */
  concurrency?: string
  /** Set by `replay`: fast-check path of one counterexample. */
  replayPath?: string
}

const CONFIG = fileURLToPath(new URL('../vitest/audit.config.ts', import.meta.url))
const ROOT = fileURLToPath(new URL('../..', import.meta.url))

function intOption(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined
  if (!/^-?\d+$/.test(value)) throw new HarnessError('ERR_USAGE', `--${name} takes a whole number, not "${value}"`)
  return Number(value)
}

/**
 * `tenant-audit run`: validates everything it can before sending a request, then drives the
 * suites through Vitest's Node API and returns 0 (clean), 1 (findings at or above --fail-on) or 2.
 */
export async function run(opts: RunOptions): Promise<number> {
  // Ctrl-C is handled from here on, in one place: see RunInterrupt (exit 130 after removing what was created).
  const interrupt = new RunInterrupt().install()
  try {
    return await runAudit(opts, interrupt)
  } catch (err) {
    // An interrupted run's errors are the interrupt's doing: its handler reports and exits.
    if (interrupt.fired) return await interrupt.exited
    throw err
  } finally {
    if (!interrupt.fired) interrupt.uninstall()
  }
}

async function runAudit(opts: RunOptions, interrupt: RunInterrupt): Promise<number> {
  const failOn = (opts.failOn ?? 'low') as Severity
  if (!SEVERITIES.includes(failOn)) throw new HarnessError('ERR_USAGE', `--fail-on takes one of ${SEVERITIES.join(', ')}`)
  if (opts.target && opts.faults) throw new HarnessError('ERR_USAGE', '--faults switches seeded faults on in the embedded reference server; it cannot apply to --target')
  const faults = parseFaults(opts.faults)
  const loaded = opts.target ? loadProfile(opts.target) : undefined
  const seed = intOption('seed', opts.seed) ?? Date.now() % 2_147_483_647
  const runs = intOption('runs', opts.runs) ?? 100
  const concurrency = intOption('concurrency', opts.concurrency)
  if (concurrency !== undefined && (concurrency < 1 || concurrency > 64)) throw new HarnessError('ERR_USAGE', `--concurrency takes a whole number from 1 to 64, not ${concurrency}`)
  const inFlight = concurrency ?? loaded?.profile.budget.concurrency ?? 8
  const suites = opts.suites?.split(',').map((s) => s.trim()).filter(Boolean)
  const selected = registry.select({ suites, checks: opts.checks })
  const out = resolve(opts.out ?? 'reports/latest')

  if (opts.dryRun) {
    const plan = planFor(seed, opts.topology === 'small' ? { accounts: [2, 2], workspaces: [2, 2] } : DEFAULT_BOUNDS)
    const users = plan.accounts.reduce((n, a) => n + a.workspaces.reduce((m, w) => m + w.users.length, 0), 0)
    // What `inspect` shows first (one contract read); an unreadable contract is one line, and the plan still follows.
    let inspected: string[] | undefined
    try {
      const target = await openForInspect({ target: loaded?.file, faults: faults.names.join(',') })
      try {
        inspected = await inspectLines(target, selected, plan)
      } finally {
        await target.close()
      }
    } catch (err) {
      if (!isHarnessError(err)) throw err
      process.stdout.write(`contract: not read (${err.message}); the checks below are the selection, not a verdict\n`)
    }
    if (inspected) process.stdout.write(inspected.join('\n') + '\n')
    const lines = [
      `target:   ${loaded ? `${loaded.profile.name} (${loaded.profile.baseUrl})` : `embedded reference server${faults.names.length ? ` with faults ${faults.names.join(', ')}` : ''}`}`,
      `seed:     ${seed}   runs per property: ${runs}`,
      `tenants:  ${loaded?.profile.tenants.mode === 'fixtures' ? `from ${loaded.profile.tenants.fixtures}` : `${plan.accounts.length} accounts, ${plan.accounts.map((a) => a.workspaces.length).join('+')} workspaces, ${users} users, ${plan.principals.length} principals (created, then removed)`}`,
      `budget:   ${loaded?.profile.budget.maxRequests ?? 50_000} requests${loaded?.profile.budget.requestsPerSecond ? `, at most ${loaded.profile.budget.requestsPerSecond}/s` : ''}, at most ${inFlight} in flight`,
      ...(inspected ? [] : [`checks:   ${selected.length}`, ...selected.map((c) => `  - ${c.id}  (${c.severity})`)]),
      `reports:  ${out}`,
      inspected ? 'dry run: only the contract was read; nothing was provisioned.' : 'dry run: nothing was sent.',
    ]
    process.stdout.write(lines.join('\n') + '\n')
    return 0
  }

  Object.assign(process.env, {
    TENANT_AUDIT_CLI: '1',
    TENANT_AUDIT_FAULTS: faults.names.join(','),
    TENANT_AUDIT_SEED: String(seed),
    TENANT_AUDIT_RUNS: String(runs),
    TENANT_AUDIT_OUT: out,
    TENANT_AUDIT_FAIL_ON: failOn,
    TENANT_AUDIT_TOPOLOGY: opts.topology === 'small' ? 'small' : 'default',
    TENANT_AUDIT_CONCURRENCY: String(inFlight),
  })
  if (loaded) process.env.TENANT_AUDIT_TARGET = loaded.file
  else delete process.env.TENANT_AUDIT_TARGET
  if (opts.replayPath) process.env.TENANT_AUDIT_REPLAY_PATH = opts.replayPath
  else delete process.env.TENANT_AUDIT_REPLAY_PATH
  setRunState(undefined)

  const quiet = process.env.CI === 'true'
  if (!quiet) process.stderr.write(`tenant-audit: auditing ${loaded ? loaded.profile.name : 'the embedded reference server'} (seed ${seed}, ${selected.length} checks)\n`)
  // Prepare before Vitest starts: a bad target or a failed provisioning is one line and exit 2.
  const timing = { prepareMs: Date.now(), vitestStart: 0, vitestEnd: 0, teardownMs: 0 }
  /** What Vitest itself reported going wrong (a worker lost, a suite file that failed), if anything. */
  let stopped: string | undefined
  const audit = await prepareAudit(readSettings(), { signal: interrupt.signal, onUndo: (undo) => interrupt.setUndo(undo) })
  timing.prepareMs = Date.now() - timing.prepareMs
  setRunState(audit.state)
  audit.provided.checks = selected.map((c) => c.id)
  setPreparedAudit(audit)
  try {
    const { startVitest } = await import('vitest/node')
    const filters = (suites ?? []).map((s) => join(ROOT, 'suites', s) + '/')
    const selectedIds = new Set(selected.map((c) => c.id))
    const pattern = opts.checks ? `^(${[...selectedIds].map((id) => id.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')).join('|')})$` : undefined
    // Vitest hands its instance to a plugin as it starts: an interrupt cancels the run and closes its workers.
    const plugin = {
      name: 'tenant-audit:interrupt',
      configureVitest({ vitest }: { vitest: import('vitest/node').Vitest }) {
        interrupt.onStop(() => (void vitest.cancelCurrentRun('keyboard-input'), vitest.close()))
      },
    }
    if (!interrupt.fired) {
      timing.vitestStart = Date.now()
      const vitest = await startVitest('test', filters, { config: CONFIG, root: ROOT, watch: false, testNamePattern: pattern, passWithNoTests: false, silent: true }, { plugins: [plugin] })
      stopped = vitestErrors(vitest)
      await vitest?.close()
      timing.vitestEnd = Date.now()
    }
  } finally {
    setPreparedAudit(undefined)
    timing.teardownMs = Date.now()
    await audit.cleanup()
    timing.teardownMs = Date.now() - timing.teardownMs
  }
  if (interrupt.fired) return await interrupt.exited
  const state = audit.state
  let text: string
  try {
    text = await readFile(join(out, 'findings.json'), 'utf8')
  } catch {
    throw new HarnessError('ERR_INTERNAL', `the audit wrote no report to ${out}`)
  }
  const report = parseAuditReport(text)
  // Every selected check leaves a result (passed, failed, skipped, inconclusive or error) unless the run itself
  // broke off (a worker that died, a suite file that failed to load): then what the report holds proves
  // nothing about the checks it lacks, and a report without findings must not read as clean.
  const reported = new Set(report.checks.map((c) => c.id))
  const missing = selected.filter((c) => !reported.has(c.id))
  if (missing.length > 0) {
    throw new HarnessError('ERR_INTERNAL', `the audit broke off: ${missing.length} of ${selected.length} checks never reported (first: ${missing[0]!.id})${stopped ? `; ${stopped}` : ''}; the partial report is in ${out}`)
  }
  // Where the wall time went (bench:audit prints it): added here, where teardown has been timed too.
  report.run.phases = runPhases(timing, report.checks)
  await writeFile(join(out, 'findings.json'), renderJson(report))
  const code = exitCode(report, failOn)
  const failed = report.checks.filter((c) => c.status === 'failed').length
  const errored = report.checks.filter((c) => c.status === 'error')
  const unsure = report.checks.filter((c) => c.status === 'inconclusive')
  const traffic = describeTraffic(report.run.traffic)
  process.stderr.write(
    `tenant-audit: ${report.checks.length} checks, ${failed} failed, ${unsure.length} inconclusive, ${report.findings.length} findings, ${report.run.requests} requests${traffic ? ` (${traffic})` : ''} in ${(report.run.durationMs / 1000).toFixed(1)} s; reports in ${out}\n`,
  )
  if (onlyInconclusive(report) && !errored.length) {
    process.stderr.write(`tenant-audit: nothing could be shown: ${unsure.length} check(s) inconclusive, none passed or failed; first: ${unsure[0]!.id}: ${(unsure[0]!.reason ?? '').split('\n')[0]}\n`)
  }
  for (const e of errored) process.stderr.write(`tenant-audit: ${e.id} could not run: ${(e.reason ?? '').split('\n')[0]}\n`)
  if (state.teardown?.leftovers.length) process.stderr.write(`tenant-audit: could not remove: ${state.teardown.leftovers.join('; ')}\n`)
  return code
}

/** The first error Vitest recorded outside the checks (an unhandled error, a suite file's own), in one line. */
function vitestErrors(vitest: import('vitest/node').Vitest | undefined): string | undefined {
  if (!vitest) return undefined
  const fileErrors = vitest.state.getFiles().flatMap((f) => f.result?.errors ?? [])
  const first = [...vitest.state.getUnhandledErrors(), ...fileErrors][0] as { message?: unknown } | undefined
  if (first === undefined) return undefined
  return `Vitest: ${String(first.message ?? first).split('\n')[0]}`
}
