import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { HarnessError } from '../core/errors.js'
import { loadProfile, type TargetProfile } from '../core/profile.js'
import type { Topology } from '../core/topology.js'
import { adapterFor, loadTargetContract } from '../engine/open-target.js'
import { teardown } from '../provision/teardown.js'
import { bootstrapCredentials, login } from '../provision/session.js'
import { loadScenario, type Scenario } from '../../fixtures/load/scenario.js'
import { assertLoopback, buildSchedule, runScenario, type LoadResult } from '../../load/driver/index.js'
import { formatResult } from '../../load/driver/format.js'
import { provisionLoadTenants, type LoadTenants } from './load-prepare.js'

export interface LoadOptions {
  engine?: string
  target?: string
  out?: string
}

const REFERENCE_PROFILE = fileURLToPath(new URL('../../fixtures/targets/reference.yaml', import.meta.url))
const K6_SCRIPT = fileURLToPath(new URL('../../load/k6/scenario.ts', import.meta.url))

const say = (line: string) => process.stderr.write(`tenant-audit: ${line}\n`)

/** The target to load: a profile, or (without --target) the embedded reference server. */
async function openTarget(target: string | undefined): Promise<{ profile: TargetProfile; dir: string; baseUrl: string; embedded: boolean; close: () => Promise<void> }> {
  if (target) {
    const loaded = loadProfile(target)
    return { profile: loaded.profile, dir: loaded.dir, baseUrl: loaded.profile.baseUrl, embedded: false, close: async () => {} }
  }
  const loaded = loadProfile(REFERENCE_PROFILE)
  const { startEmbedded } = await import('./embedded.js')
  const server = await startEmbedded('')
  process.env[loaded.profile.auth.bootstrap.usernameEnv] = server.username
  process.env[loaded.profile.auth.bootstrap.passwordEnv] = server.password
  return { profile: loaded.profile, dir: loaded.dir, baseUrl: server.url, embedded: true, close: () => server.close() }
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

/** The tokens file: bearer tokens, so created fresh with mode 0600 (owner read/write only). */
export function writeTokensFile(dir: string, tenants: LoadTenants): string {
  const path = join(dir, 'tokens.json')
  rmSync(path, { force: true })
  writeFileSync(path, JSON.stringify(tenants.prepared, null, 2) + '\n', { mode: 0o600 })
  chmodSync(path, 0o600)
  return path
}

function k6Command(dir: string): string {
  const rel = (p: string) => relative(process.cwd(), p) || '.'
  return `k6 run -e SCENARIO_FILE=${join(dir, 'scenario.json')} -e TOKENS_FILE=${join(dir, 'tokens.json')} -e OUT_DIR=${dir} ${rel(K6_SCRIPT)}`
}

/**
 * Provisions under a cleanup that removes what was created when anything later fails, when the
 * run ends (unless `keep`), and on Ctrl-C.
 */
async function withTenants<T>(target: string | undefined, s: Scenario, keep: boolean, use: (t: LoadTenants, baseUrl: string, embedded: boolean) => Promise<T>): Promise<T> {
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
    tenants = await provisionLoadTenants(http, contract, opened.profile, opened.baseUrl, s, Date.now() % 2_147_483_647, (t) => void (topology = t))
    const result = await use(tenants, opened.baseUrl, opened.embedded)
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
 * writes `scenario.json` and `tokens.json` (mode 0600) for the k6 script. The tenants stay (k6 runs
 * later); `created.json` lists what to delete afterwards. Never prints a token.
 */
export async function loadPrepare(name: string, opts: LoadOptions): Promise<number> {
  const s = loadScenario(name)
  const dir = outDir(s, opts.out)
  await withTenants(opts.target, s, true, async (tenants, baseUrl, embedded) => {
    writeScenarioJson(dir, s)
    const tokens = writeTokensFile(dir, tenants)
    writeFileSync(join(dir, 'created.json'), JSON.stringify(tenants.topology.created.map((c) => ({ resource: c.resource, method: 'DELETE', path: c.path })), null, 2) + '\n')
    say(`prepared ${tenants.prepared.tenants.length} tenants of ${s.name} on ${baseUrl}: ${tenants.prepared.tenants.map((t) => t.name).join(', ')}`)
    say(`wrote ${join(dir, 'scenario.json')}, ${join(dir, 'created.json')} and ${tokens} (bearer tokens, mode 0600: keep it private, delete it after the run)`)
    if (embedded) say('the embedded reference server stops with this command: to run k6, start one with `tenant-audit serve` and pass --target')
    else process.stdout.write(`${k6Command(dir)}\n`)
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
  return withTenants(target, s, false, async (tenants) => {
    say(`running ${s.name}: ${s.phases.map((p) => `${p.name} ${p.seconds} s`).join(', ')} (at most ${s.bounds.maxRequests} requests)`)
    return runScenario(s, tenants.prepared)
  })
}

/**
 * `tenant-audit load SCENARIO`: with the Node engine, provisions the tenants on a loopback target
 * (the embedded reference server without --target), runs the scenario, writes `result.json`,
 * removes the tenants, and exits 1 when a goal is not met. With `--engine k6`, writes the scenario
 * JSON and prints the commands to run k6 (not installed here).
 */
export async function load(name: string, opts: LoadOptions): Promise<number> {
  const engine = opts.engine ?? 'node'
  if (engine !== 'node' && engine !== 'k6') throw new HarnessError('ERR_USAGE', `--engine takes node or k6, not ${engine}`)
  const s = loadScenario(name)
  if (engine === 'k6') {
    const dir = outDir(s, opts.out)
    writeScenarioJson(dir, s)
    const target = opts.target ?? 'PROFILE.yaml'
    process.stdout.write([
      `# k6 is not run from here. Against a server you run (\`tenant-audit serve\`, or any deployment with a profile):`,
      `tenant-audit load prepare ${name} --target ${target} --out ${dir}`,
      k6Command(dir),
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
