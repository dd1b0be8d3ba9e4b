import { fileURLToPath } from 'node:url'
import { loadProfile } from '../core/profile.js'
import { HarnessError, isHarnessError } from '../core/errors.js'
import type { Topology } from '../core/topology.js'
import { adapterFor, loadTargetContract } from './open-target.js'
import { planFor, DEFAULT_BOUNDS } from '../provision/plan.js'
import { provisionThroughPortal, type ProvisionResult } from '../provision/portal.js'
import { loadTenantsFile, provisionFromFixtures } from '../provision/fixtures.js'
import { describeCreated, teardown } from '../provision/teardown.js'
import { bootstrapCredentials, login } from '../provision/session.js'
import { handledInSetup } from '../audit/secrets.js'
import type { AuditSettings } from '../vitest/settings.js'
import type { ProvidedAudit, RunState } from '../vitest/state.js'

const REFERENCE_PROFILE = fileURLToPath(new URL('../../fixtures/targets/reference.yaml', import.meta.url))

export interface PreparedAudit {
  provided: ProvidedAudit
  state: RunState
  /** Removes everything the harness created and stops the embedded server; never throws. */
  cleanup(): Promise<void>
}

/** What an interrupt handler needs to undo a run that is still being prepared (or already running). */
export interface RunUndo {
  /** Idempotent: every call returns the one teardown (after the provisioning call in flight settles). */
  cleanup(): Promise<void>
  state: RunState
  /** What is not removed yet: teardown's failures so far, then the ledger's entries, newest first. */
  pending(): string[]
}

export interface PrepareControl {
  /** Fired by Ctrl-C: no new request is sent, except teardown's. */
  signal?: AbortSignal
  /** Called before the first request with what undoes the run so far. */
  onUndo?(undo: RunUndo): void
}

/** Why the race checks skip on the embedded server. */
export const EMBEDDED_RACELESS = 'the embedded reference server runs on PGlite, one transaction at a time: no race can show there; audit the reference server on real Postgres instead (tenant-audit serve --database-url postgres://…, then run --target fixtures/targets/reference.yaml)'

/**
 * Everything before the first check: open the target (or start the embedded reference server),
 * read and check its contract, provision the topology. A failure removes what was already created
 * and throws a HarnessError (exit 2) — never an empty "clean" audit.
 */
export async function prepareAudit(settings: AuditSettings, control: PrepareControl = {}): Promise<PreparedAudit> {
  const cleanups: (() => Promise<void>)[] = []
  let provisioning: Promise<unknown> | undefined
  let cleaning: Promise<void> | undefined
  // A write in flight when Ctrl-C came is let finish, so what it created is in the ledger before teardown reads it.
  const cleanup = () => (cleaning ??= (async () => {
    await provisioning?.catch(() => undefined)
    for (const fn of cleanups.splice(0).reverse()) await fn().catch(() => undefined)
  })())
  const state: RunState = {
    startedAt: Date.now(), seed: settings.TENANT_AUDIT_SEED, target: { name: '', baseUrl: '' }, faults: [],
    provisioningRequests: 0, secrets: [], topology: settings.TENANT_AUDIT_TOPOLOGY,
  }
  let topology: Topology | undefined
  control.onUndo?.({
    cleanup, state,
    pending: () => [...(state.teardown?.leftovers ?? []), ...[...(topology?.created ?? [])].reverse().map(describeCreated)],
  })
  try {
    const loaded = loadProfile(settings.TENANT_AUDIT_TARGET ?? REFERENCE_PROFILE)
    const profile = settings.TENANT_AUDIT_CONCURRENCY === undefined ? loaded.profile
      : { ...loaded.profile, budget: { ...loaded.profile.budget, concurrency: settings.TENANT_AUDIT_CONCURRENCY } }
    let baseUrl = settings.TENANT_AUDIT_BASE_URL ?? profile.baseUrl
    let raceless: string | undefined
    if (!settings.TENANT_AUDIT_TARGET) {
      const { startEmbedded } = await import('../cli/embedded.js')
      // The forgery suite's test issuer (KT): a fresh key the embedded server trusts, handed to the checks by environment.
      const { generateTestIssuer, DEFAULT_TEST_ISSUER_ENV } = await import('../forge/issuer.js')
      const testIssuer = await generateTestIssuer()
      process.env[profile.forgery.testIssuer?.privateJwkEnv ?? DEFAULT_TEST_ISSUER_ENV] = JSON.stringify(testIssuer.privateJwk)
      state.secrets.push(JSON.stringify(testIssuer.privateJwk), String(testIssuer.privateJwk.d))
      const server = await startEmbedded(settings.TENANT_AUDIT_FAULTS, [{ kid: testIssuer.kid, alg: testIssuer.alg, jwk: testIssuer.publicJwk }])
      cleanups.push(() => server.close())
      baseUrl = server.url
      process.env[profile.auth.bootstrap.usernameEnv] = server.username
      process.env[profile.auth.bootstrap.passwordEnv] = server.password
      state.faults = settings.TENANT_AUDIT_FAULTS.split(',').filter(Boolean)
      raceless = EMBEDDED_RACELESS
    }
    state.target = { name: profile.name, baseUrl }
    const http = adapterFor(profile, baseUrl)
    http.interruptWith(control.signal)
    cleanups.unshift(() => http.close())
    const { document, contract } = await loadTargetContract(http, profile, loaded.dir)
    const bounds = settings.TENANT_AUDIT_TOPOLOGY === 'small' ? { accounts: [2, 2] as [number, number], workspaces: [2, 2] as [number, number] } : DEFAULT_BOUNDS
    const track = (t: Topology) => void (topology = t)
    let result: ProvisionResult
    if (profile.tenants.mode === 'fixtures') {
      if (!profile.tenants.fixtures) throw new HarnessError('ERR_PROFILE_INVALID', 'tenants.mode is fixtures but tenants.fixtures names no file')
      const tenants = loadTenantsFile(profile.tenants.fixtures, loaded.dir)
      cleanups.push(async () => void (topology && (await teardown(http, topology, async () => '', (state.teardown = { removed: 0, leftovers: [] })))))
      result = await (provisioning = provisionFromFixtures(http, contract, profile, tenants, settings.TENANT_AUDIT_SEED, track))
    } else {
      // The embedded server is discarded whole, its database with it: nothing to delete through its API (a
      // login and a delete per account, and a wait of up to the login window when the last check left the
      // harness address locked out).
      if (settings.TENANT_AUDIT_TARGET) cleanups.push(async () => {
        if (!topology) return
        await teardown(http, topology, async () => {
          const c = bootstrapCredentials(profile)
          return login(http, profile, undefined, c.username, c.password)
        }, (state.teardown = { removed: 0, leftovers: [] }))
      })
      result = await (provisioning = provisionThroughPortal(http, contract, profile, planFor(settings.TENANT_AUDIT_SEED, bounds), settings.TENANT_AUDIT_SEED, track))
    }
    // Provisioning may have outlived the first tokens: the actors handed to the suites carry current ones.
    for (const actor of result.topology.actors) http.sessions.bind(actor)
    const sessions = http.sessions.export()
    const secrets = handledInSetup(profile, result.topology, sessions, [...state.secrets, ...result.secrets.list()])
    state.secrets = [...new Set([...state.secrets, ...result.secrets.list(), ...secrets.map((s) => s.value)])]
    state.provisioningRequests = http.sent
    state.traffic = http.traffic
    const provided: ProvidedAudit = {
      profile, baseUrl, contract: document, topology: result.topology, seed: settings.TENANT_AUDIT_SEED,
      numRuns: settings.TENANT_AUDIT_RUNS, replayPath: settings.TENANT_AUDIT_REPLAY_PATH, spent: http.sent,
      sessions, secrets, raceless,
    }
    return { provided, state, cleanup }
  } catch (err) {
    await cleanup()
    if (isHarnessError(err)) throw err
    throw new HarnessError('ERR_INTERNAL', (err as Error)?.message ?? String(err), { cause: err })
  }
}
