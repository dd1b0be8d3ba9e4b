import { fileURLToPath } from 'node:url'
import type { TestProject } from 'vitest/node'
import { loadProfile } from '../core/profile.js'
import { HarnessError, isHarnessError } from '../core/errors.js'
import type { Topology } from '../core/topology.js'
import { adapterFor, loadTargetContract } from '../engine/open-target.js'
import { planFor, DEFAULT_BOUNDS } from '../provision/plan.js'
import { provisionThroughPortal, type ProvisionResult } from '../provision/portal.js'
import { loadTenantsFile, provisionFromFixtures } from '../provision/fixtures.js'
import { teardown } from '../provision/teardown.js'
import { bootstrapCredentials, login } from '../provision/session.js'
import { readSettings } from './settings.js'
import { setRunState, type RunState } from './state.js'
import './state.js'

const REFERENCE_PROFILE = fileURLToPath(new URL('../../fixtures/targets/reference.yaml', import.meta.url))

/**
 * Runs once per audit, in the main process: opens the target (or starts the embedded reference
 * server), reads its contract, provisions the topology and hands it to the suites. Its teardown
 * removes everything the harness created, also after a failure or Ctrl-C.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const settings = readSettings()
  const startedAt = Date.now()
  const cleanups: (() => Promise<void>)[] = []
  const state: RunState = { startedAt, seed: settings.TENANT_AUDIT_SEED, target: { name: '', baseUrl: '' }, faults: [], provisioningRequests: 0, secrets: [] }
  setRunState(state)
  let topology: Topology | undefined
  let http: ReturnType<typeof adapterFor> | undefined
  const cleanup = async () => {
    for (const fn of cleanups.splice(0).reverse()) await fn().catch(() => undefined)
  }
  const onSignal = () => void cleanup().finally(() => process.exit(130))
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  try {
    const loaded = loadProfile(settings.TENANT_AUDIT_TARGET ?? REFERENCE_PROFILE)
    const profile = loaded.profile
    let baseUrl = settings.TENANT_AUDIT_BASE_URL ?? profile.baseUrl
    if (!settings.TENANT_AUDIT_TARGET) {
      const { startEmbedded } = await import('../cli/embedded.js')
      const server = await startEmbedded(settings.TENANT_AUDIT_FAULTS)
      cleanups.push(() => server.close())
      baseUrl = server.url
      process.env[profile.auth.bootstrap.usernameEnv] = server.username
      process.env[profile.auth.bootstrap.passwordEnv] = server.password
      state.faults = settings.TENANT_AUDIT_FAULTS.split(',').filter(Boolean)
    }
    state.target = { name: profile.name, baseUrl }
    http = adapterFor(profile, baseUrl)
    const { document, contract } = await loadTargetContract(http, profile, loaded.dir)
    const plan = planFor(settings.TENANT_AUDIT_SEED, settings.TENANT_AUDIT_TOPOLOGY === 'small' ? { accounts: [2, 2], workspaces: [2, 2] } : DEFAULT_BOUNDS)
    const track = (t: Topology) => void (topology = t)
    const adapter = http
    let result: ProvisionResult
    if (profile.tenants.mode === 'fixtures') {
      if (!profile.tenants.fixtures) throw new HarnessError('ERR_PROFILE_INVALID', 'tenants.mode is fixtures but tenants.fixtures names no file')
      result = await provisionFromFixtures(http, contract, profile, loadTenantsFile(profile.tenants.fixtures, loaded.dir), settings.TENANT_AUDIT_SEED, track)
    } else {
      cleanups.push(async () => {
        if (!topology) return
        state.teardown = await teardown(adapter, topology, async () => {
          const c = bootstrapCredentials(profile)
          return login(adapter, profile, undefined, c.username, c.password)
        })
      })
      result = await provisionThroughPortal(http, contract, profile, plan, settings.TENANT_AUDIT_SEED, track)
    }
    if (profile.tenants.mode === 'fixtures') {
      cleanups.push(async () => void (state.teardown = await teardown(adapter, result.topology, async () => '')))
    }
    state.secrets = result.secrets.list()
    state.provisioningRequests = http.sent
    project.provide('tenantAudit', {
      profile, baseUrl, contract: document, topology: result.topology, seed: settings.TENANT_AUDIT_SEED,
      numRuns: settings.TENANT_AUDIT_RUNS, replayPath: settings.TENANT_AUDIT_REPLAY_PATH, spent: http.sent,
    })
  } catch (err) {
    state.error = isHarnessError(err) ? { code: err.code, message: err.message } : { code: 'ERR_INTERNAL', message: (err as Error).message }
    await cleanup()
    throw err
  }
  return async () => {
    await cleanup()
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
    await http?.close()
  }
}
