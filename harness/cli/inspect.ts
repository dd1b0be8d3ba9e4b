import { fileURLToPath } from 'node:url'
import { isHarnessError } from '../core/errors.js'
import { loadProfile } from '../core/profile.js'
import { adapterFor, loadTargetContract } from '../engine/open-target.js'
import { idParam } from '../provision/portal.js'
import { planFor, DEFAULT_BOUNDS, type TopologyPlan } from '../provision/plan.js'
import type { CheckDefinition } from '../core/check.js'
import { describeChecks, describeContract, plannedCapabilities } from './inspect-view.js'
import { INSPECT_HOOKS, type InspectedTarget } from './inspect-hooks.js'

const REFERENCE_PROFILE = fileURLToPath(new URL('../../fixtures/targets/reference.yaml', import.meta.url))

export interface InspectOptions { target?: string; faults?: string }

/**
 * Reads the profile and the contract (one GET, or none for a contract file; no provisioning, no
 * token) and returns the target with `close()`. Without a target profile, the embedded reference
 * server is started for the read and stopped by `close()`.
 */
export async function openForInspect(opts: InspectOptions): Promise<InspectedTarget & { close(): Promise<void> }> {
  const loaded = loadProfile(opts.target ?? REFERENCE_PROFILE)
  let baseUrl = process.env.TENANT_AUDIT_BASE_URL ?? loaded.profile.baseUrl
  let stop = async () => {}
  if (!opts.target) {
    const { startEmbedded } = await import('./embedded.js')
    const server = await startEmbedded(opts.faults ?? '')
    baseUrl = server.url
    stop = () => server.close()
  }
  const http = adapterFor(loaded.profile, baseUrl)
  try {
    const { document, contract } = await loadTargetContract(http, loaded.profile, loaded.dir)
    return { loaded, baseUrl, http, document, contract, close: async () => { await http.close(); await stop() } }
  } catch (err) {
    await http.close()
    await stop()
    throw err
  }
}

/** The lines `inspect` prints: target, vocabulary, hooks, then every selected check's verdict. */
export async function inspectLines(target: InspectedTarget, checks: readonly CheckDefinition<never>[], plan?: TopologyPlan): Promise<string[]> {
  const { profile } = target.loaded
  const { contract } = target
  const param = (role: 'account' | 'workspace', override?: string) => {
    try {
      return idParam(contract, role, override)
    } catch {
      return undefined
    }
  }
  const lines = [
    `target:   ${profile.name} (${target.baseUrl}), contract ${profile.contract}: ${contract.operations.length} operations, ${contract.annotated.length} annotated`,
    ...describeContract(contract, profile, { account: param('account', profile.pathParams.account), workspace: param('workspace', profile.pathParams.workspace) }),
  ]
  for (const hook of INSPECT_HOOKS) {
    try {
      lines.push(...(await hook(target)))
    } catch (err) {
      lines.push(`(${isHarnessError(err) ? err.message : String((err as Error)?.message ?? err)})`)
    }
  }
  const caps = profile.tenants.mode === 'fixtures' ? undefined : plannedCapabilities(contract, plan ?? planFor(1, DEFAULT_BOUNDS))
  lines.push(...describeChecks(checks, { contract, profile }, caps))
  return lines
}

/** `tenant-audit inspect`: prints what the harness understood of a target, before any audit request. */
export async function inspect(opts: InspectOptions & { suites?: string; checks?: string }): Promise<number> {
  const { registry } = await import('../../suites/index.js')
  const suites = opts.suites?.split(',').map((s) => s.trim()).filter(Boolean)
  const selected = registry.select({ suites, checks: opts.checks })
  const target = await openForInspect(opts)
  try {
    process.stdout.write((await inspectLines(target, selected)).join('\n') + '\n')
  } finally {
    await target.close()
  }
  return 0
}
