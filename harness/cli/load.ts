import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { HarnessError } from '../core/errors.js'
import { loadProfile, type TargetProfile } from '../core/profile.js'
import type { Topology } from '../core/topology.js'
import { adapterFor, loadTargetContract } from '../engine/open-target.js'
import { teardown } from '../provision/teardown.js'
import { bootstrapCredentials, login } from '../provision/session.js'
import { loadScenario, phaseWindows, type Scenario } from '../../fixtures/load/scenario.js'
import { assertLoopback, buildSchedule, runScenario, type LoadResult, type PreparedSession, type RefreshGrant } from '../../load/driver/index.js'
import { formatResult } from '../../load/driver/format.js'
import { k6Plan } from '../../load/driver/k6-lib.js'
import type { HttpAdapter } from '../adapters/http.js'
import { writeCreatedFile } from './load-cleanup.js'
import { findK6, k6ExitCode, k6RunArgs, K6_SCRIPT, readK6Result, runK6 } from './load-k6.js'
import { provisionLoadTenants, type LoadTenants } from './load-prepare.js'

export interface LoadOptions {
  engine?: string
  target?: string
  out?: string
}

const REFERENCE_PROFILE = fileURLToPath(new URL('../../fixtures/targets/reference.yaml', import.meta.url))
/** Logins per tenant at most: k6 gives each VU its own (a rotating refresh token serves one holder). */
const MAX_SESSIONS = 512

const say = (line: string) => process.stderr.write(`tenant-audit: ${line}\n`)

/** The target to load: a profile, or (without --target) the embedded reference server. */
async function openTarget(target: string | undefined): Promise<{ profile: TargetProfile; file: string | null; dir: string; baseUrl: string; embedded: boolean; close: () => Promise<void> }> {
  if (target) {
    const loaded = loadProfile(target)
    return { profile: loaded.profile, file: resolve(target), dir: loaded.dir, baseUrl: loaded.profile.baseUrl, embedded: false, close: async () => {} }
  }
  const loaded = loadProfile(REFERENCE_PROFILE)
  const { startEmbedded } = await import('./embedded.js')
  const server = await startEmbedded('')
  process.env[loaded.profile.auth.bootstrap.usernameEnv] = server.username
  process.env[loaded.profile.auth.bootstrap.passwordEnv] = server.password
  return { profile: loaded.profile, file: null, dir: loaded.dir, baseUrl: server.url, embedded: true, close: () => server.close() }
}

function outDir(s: Scenario, out: string | undefined): string {
  const dir = resolve(out ?? join('reports', 'load', s.name))
  mkdirSync(dir, { recursive: true })
  return dir
}

/** The scenario as JSON, defaults filled: what the k6 script `open()`s. Holds no secret. */
function writeScenarioJson(dir: string, s: Scenario & { file?: string }): string {
  const { file: _file, $schema: _schema, ...data } = s
  const path = join(dir, 'scenario.json')
  writeFileSync(path, JSON.stringify(data, null, 2) + '\n')
  return path
}

/** The tokens file: bearer and refresh tokens, so created fresh with mode 0600 (owner read/write only). */
export function writeTokensFile(dir: string, tenants: LoadTenants): string {
  const path = join(dir, 'tokens.json')
  rmSync(path, { force: true })
  writeFileSync(path, JSON.stringify(tenants.prepared, null, 2) + '\n', { mode: 0o600 })
  chmodSync(path, 0o600)
  return path
}

function k6Command(dir: string): string {
  const rel = (p: string) => relative(process.cwd(), p) || '.'
  return `k6 ${k6RunArgs(dir).map((a) => (a === K6_SCRIPT ? rel(a) : a)).join(' ')}`
}

/**
 * How many logins each tenant's load user needs: one when the first outlives the run (with five
 * minutes to start k6 after `load prepare`), else one per VU k6 may run, so no two VUs share a
 * rotating refresh token. The Node engine (one process) always needs one.
 */
function k6Sessions(s: Scenario): (first: PreparedSession) => number {
  const runMs = (phaseWindows(s).at(-1)?.end ?? 0) * 1000 + s.bounds.timeoutMs
  let told = false
  return (first) => {
    if (first.expiresAt - Date.now() >= runMs + 300_000) return 1
    const wanted = k6Plan.vuBound(s)
    if (told) return Math.min(wanted, MAX_SESSIONS)
    told = true
    say(`the run can outlive an access token: logging each tenant's load user in ${Math.min(wanted, MAX_SESSIONS)} times (one per k6 VU)`)
    if (wanted > MAX_SESSIONS) say(`k6 may run ${wanted} VUs: VUs past ${MAX_SESSIONS} share a login, and a shared refresh token is revoked at its second use`)
    return Math.min(wanted, MAX_SESSIONS)
  }
}

/** The refresh grant through the harness's adapter, for the Node engine. */
function refreshGrant(http: HttpAdapter, profile: TargetProfile): RefreshGrant {
  return async (refreshToken) => {
    const res = await http.send({
      method: 'POST', path: profile.auth.tokenEndpoint, headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken }).toString(),
    })
    const body = (res.json ?? {}) as { access_token?: unknown; refresh_token?: unknown; expires_in?: unknown }
    if (res.status !== 200 || typeof body.access_token !== 'string') throw new Error(`the token endpoint answered ${res.status}`)
    return {
      token: body.access_token,
      refreshToken: typeof body.refresh_token === 'string' ? body.refresh_token : '',
      expiresAt: typeof body.expires_in === 'number' ? Date.now() + body.expires_in * 1000 : Number.MAX_SAFE_INTEGER,
    }
  }
}

interface Opened { baseUrl: string; embedded: boolean; profileFile: string | null; refresh: RefreshGrant }

/**
 * Provisions under a cleanup that removes what was created when anything later fails, when the
 * run ends (unless `keep`), and on Ctrl-C.
 */
async function withTenants<T>(
  target: string | undefined, s: Scenario, keep: boolean, sessions: ((first: PreparedSession) => number) | undefined,
  use: (t: LoadTenants, opened: Opened) => Promise<T>,
): Promise<T> {
  const opened = await openTarget(target)
  const http = adapterFor(opened.profile, opened.baseUrl)
  let topology: Topology | undefined
  let tenants: LoadTenants | undefined
  let ok = false
  let cleaned: Promise<void> | undefined
  const cleanup = () => (cleaned ??= (async () => {
    if (topology && !(keep && ok)) {
      const root = tenants?.rootToken
      const left = await teardown(http, topology, async () => {
        if (root) return root
        // Provisioning failed before it returned its token: log in again to clean up.
        const c = bootstrapCredentials(opened.profile)
        return login(http, opened.profile, undefined, c.username, c.password)
      })
      if (left.leftovers.length) say(`could not remove: ${left.leftovers.join('; ')}`)
    }
    await http.close()
    await opened.close()
  })())
  const stop = () => void cleanup().finally(() => process.exit(130))
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
  try {
    const { contract } = await loadTargetContract(http, opened.profile, opened.dir)
    tenants = await provisionLoadTenants(http, contract, opened.profile, opened.baseUrl, s, Date.now() % 2_147_483_647, (t) => void (topology = t), sessions)
    const result = await use(tenants, { baseUrl: opened.baseUrl, embedded: opened.embedded, profileFile: opened.file, refresh: refreshGrant(http, opened.profile) })
    ok = true
    return result
  } finally {
    process.off('SIGINT', stop)
    process.off('SIGTERM', stop)
    await cleanup()
  }
}

/**
 * `tenant-audit load prepare SCENARIO`: provisions the scenario's tenants, sets their quotas, and
 * writes `scenario.json` and `tokens.json` (bearer and refresh tokens, mode 0600) for the k6 script.
 * The tenants stay (k6 runs later); `created.json` lists what `load cleanup` deletes afterwards.
 * Never prints a token.
 */
export async function loadPrepare(name: string, opts: LoadOptions): Promise<number> {
  const s = loadScenario(name)
  const dir = outDir(s, opts.out)
  await withTenants(opts.target, s, true, k6Sessions(s), async (tenants, opened) => {
    writeScenarioJson(dir, s)
    const tokens = writeTokensFile(dir, tenants)
    const created = writeCreatedFile(dir, {
      target: { profile: opened.embedded ? null : opened.profileFile, baseUrl: opened.baseUrl },
      created: tenants.topology.created.map((c) => ({ resource: c.resource, method: 'DELETE' as const, path: c.path })),
    })
    say(`prepared ${tenants.prepared.tenants.length} tenants of ${s.name} on ${opened.baseUrl}: ${tenants.prepared.tenants.map((t) => t.name).join(', ')}`)
    say(`wrote ${join(dir, 'scenario.json')}, ${created} and ${tokens} (bearer and refresh tokens, mode 0600: keep it private; \`load cleanup\` deletes it)`)
    if (opened.embedded) say('the embedded reference server stops with this command: to run k6, start one with `tenant-audit serve` and pass --target')
    else process.stdout.write(`${k6Command(dir)}\ntenant-audit load cleanup ${dir}\n`)
  })
  return 0
}

/**
 * The Node engine end to end: refuse a non-loopback target, provision, run, remove the tenants.
 * Without a target, the embedded reference server (started and stopped here).
 */
export async function runNodeEngine(s: Scenario, target: string | undefined): Promise<LoadResult> {
  if (target) {
    const { profile } = loadProfile(target)
    assertLoopback(profile.baseUrl)
    // The profile's request budget bounds load too (DESIGN §6), before anything is created.
    const planned = buildSchedule(s).length
    if (planned > profile.budget.maxRequests) {
      throw new HarnessError('ERR_USAGE', `${s.name} plans ${planned} requests, over the profile's budget.maxRequests (${profile.budget.maxRequests})`)
    }
  }
  return withTenants(target, s, false, undefined, async (tenants, opened) => {
    say(`running ${s.name}: ${s.phases.map((p) => `${p.name} ${p.seconds} s`).join(', ')} (at most ${s.bounds.maxRequests} requests)`)
    return runScenario(s, tenants.prepared, opened.refresh)
  })
}

/**
 * `--engine k6` with a k6 found: provisions, runs k6 on the prepared files (its output on stderr),
 * judges its summary with the script's own logic, removes the tenants and the tokens file.
 */
async function runK6Engine(s: Scenario, bin: string, dir: string, target: string | undefined): Promise<{ result: LoadResult; code: number }> {
  return withTenants(target, s, false, k6Sessions(s), async (tenants, opened) => {
    writeScenarioJson(dir, s)
    const tokens = writeTokensFile(dir, tenants)
    rmSync(join(dir, 'summary.json'), { force: true })
    const startedAt = new Date().toISOString()
    say(`running ${s.name} with ${bin}: ${s.phases.map((p) => `${p.name} ${p.seconds} s`).join(', ')}`)
    try {
      const exit = await runK6(bin, dir)
      const result = readK6Result(s, dir, { baseUrl: opened.baseUrl, startedAt }, exit)
      return { result, code: k6ExitCode(result, exit) }
    } finally {
      rmSync(tokens, { force: true })
    }
  })
}

/**
 * `tenant-audit load SCENARIO`: with the Node engine, provisions the tenants on a loopback target
 * (the embedded reference server without --target), runs the scenario, writes `result.json`,
 * removes the tenants, and exits 1 when a goal is not met. With `--engine k6`, the same with k6
 * when one is found (`K6_BINARY`, else `k6` on PATH; exit 1 also on a crossed k6 threshold), and
 * otherwise the commands to run it.
 */
export async function load(name: string, opts: LoadOptions): Promise<number> {
  const engine = opts.engine ?? 'node'
  if (engine !== 'node' && engine !== 'k6') throw new HarnessError('ERR_USAGE', `--engine takes node or k6, not ${engine}`)
  const s = loadScenario(name)
  if (engine === 'k6') {
    const dir = outDir(s, opts.out)
    const bin = findK6()
    if (bin) {
      const { result, code } = await runK6Engine(s, bin, dir, opts.target)
      writeFileSync(join(dir, 'result.json'), JSON.stringify(result, null, 2) + '\n')
      process.stdout.write(`${formatResult(result)}\nresult: ${join(dir, 'result.json')}\n`)
      return code
    }
    writeScenarioJson(dir, s)
    const target = opts.target ?? 'PROFILE.yaml'
    process.stdout.write([
      `# no k6 found (K6_BINARY, or k6 on PATH). Against a server you run (\`tenant-audit serve\`, or any deployment with a profile):`,
      `tenant-audit load prepare ${name} --target ${target} --out ${dir}`,
      k6Command(dir),
      `tenant-audit load cleanup ${dir}`,
      `# scale out: k6 run --execution-segment=0:1/2 … on one machine, 1/2:1 on another, or the k6-operator (README "Load testing")`,
      '',
    ].join('\n'))
    return 0
  }
  const dir = outDir(s, opts.out)
  const result = await runNodeEngine(s, opts.target)
  writeFileSync(join(dir, 'result.json'), JSON.stringify(result, null, 2) + '\n')
  process.stdout.write(`${formatResult(result)}\nresult: ${join(dir, 'result.json')}\n`)
  return result.goals.every((g) => g.met) ? 0 : 1
}
