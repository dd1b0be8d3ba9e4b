import { readdirSync, readFileSync, writeFileSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startThrowawayServer, type RunningServer } from '../reference-server/server.js'
import { parseFaults } from '../reference-server/faults/index.js'
import { CLI_TIMEOUT, runCli, tempOut } from './cli.js'

const ROOT_EMAIL = 'root@byo.test'
const ROOT_PASSWORD = 'PLANTED-root-secret-4711'
const userPassword = (n: number) => `PLANTED-user-secret-${n}-0815`

/**
 * "Bring your own tenants" against a running deployment (here: a reference server with a fault, so
 * there are findings with evidence), with passwords the test knows. No password, token or JWT may
 * appear in any report file.
 */
describe('fixtures mode and secrets', { timeout: CLI_TIMEOUT }, () => {
  let server: RunningServer
  const env: Record<string, string> = { BOOTSTRAP_PRINCIPAL_EMAIL: ROOT_EMAIL, BOOTSTRAP_PRINCIPAL_PASSWORD: ROOT_PASSWORD }
  const planted: string[] = [ROOT_PASSWORD]
  let profileFile = ''

  async function call(method: string, path: string, token: string | undefined, body: unknown) {
    const res = await fetch(server.url + path, { method, headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify(body) })
    const json = (await res.json()) as Record<string, string>
    if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`)
    return json
  }

  beforeAll(async () => {
    server = await startThrowawayServer({ faults: parseFaults('document-read-ignores-workspace'), bootstrap: { email: ROOT_EMAIL, password: ROOT_PASSWORD } })
    const root = (await call('POST', '/auth/token', undefined, { grant_type: 'password', username: ROOT_EMAIL, password: ROOT_PASSWORD })).access_token
    planted.push(root!)
    let n = 0
    const accounts = []
    for (const a of [0, 1]) {
      const account = await call('POST', '/portal/v1/accounts', root, { name: `byo-${a}` })
      const workspaces = []
      for (const w of [0, 1]) {
        const ws = await call('POST', `/portal/v1/accounts/${account.id}/workspaces`, root, { name: `byo-${a}${w}`, environment: 'staging' })
        const users = []
        for (const role of ['viewer', 'editor', 'admin', 'account_admin'] as const) {
          if (role === 'account_admin' && w > 0) continue
          const i = n++
          const password = userPassword(i)
          planted.push(password)
          const email = `byo-${i}@byo.test`
          await call('POST', `/portal/v1/accounts/${account.id}/workspaces/${ws.id}/users`, root, { email, password, role: role === 'account_admin' ? 'admin' : role, ...(role === 'account_admin' ? { accountRole: 'admin' } : {}) })
          env[`BYO_U${i}_EMAIL`] = email
          env[`BYO_U${i}_PASSWORD`] = password
          users.push({ role: role === 'account_admin' ? 'admin' : role, ...(role === 'account_admin' ? { accountRole: 'admin' } : {}), usernameEnv: `BYO_U${i}_EMAIL`, passwordEnv: `BYO_U${i}_PASSWORD` })
        }
        workspaces.push({ id: ws.id, users })
      }
      accounts.push({ id: account.id, workspaces })
    }
    const dir = mkdtempSync(join(tmpdir(), 'ta-byo-'))
    writeFileSync(join(dir, 'tenants.json'), JSON.stringify({ accounts }, null, 2))
    profileFile = join(dir, 'byo.yaml')
    writeFileSync(profileFile, `name: byo\nbaseUrl: ${server.url}\ntenants:\n  mode: fixtures\n  fixtures: tenants.json\nauth:\n  workspaceParam: workspace_id\n`)
  })
  afterAll(() => server?.close())

  it('audits existing tenants, finds the fault, and writes no secret anywhere', async () => {
    const out = tempOut('byo')
    const res = await runCli(['run', '--target', profileFile, '--checks', 'access/cross-tenant-read,access/policy-matrix', '--seed', '5', '--out', out], env)
    expect(res.code, res.stderr).toBe(1)
    const files = readdirSync(out)
    expect(files.sort()).toEqual(['findings.json', 'junit.xml', 'report.html', 'results.sarif', 'summary.md'])
    const report = JSON.parse(readFileSync(join(out, 'findings.json'), 'utf8')) as { findings: { evidence?: unknown }[] }
    expect(report.findings.some((f) => f.evidence)).toBe(true)
    for (const file of files) {
      const text = readFileSync(join(out, file), 'utf8')
      for (const secret of planted) expect(text.includes(secret), `${file} contains a planted secret`).toBe(false)
      expect(text, `${file} contains a JWT`).not.toMatch(/eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\./)
      expect(text, `${file} contains a bearer token`).not.toMatch(/Bearer (?!\$TOKEN|\[redacted|<redacted)[A-Za-z0-9_-]{12,}/)
    }
    expect(res.stderr + res.stdout).not.toMatch(/PLANTED-/)
  })

  it('removes exactly what it created: the seeded objects, not the tenants it was given', async () => {
    const root = (await call('POST', '/auth/token', undefined, { grant_type: 'password', username: ROOT_EMAIL, password: ROOT_PASSWORD })).access_token
    const accounts = await fetch(`${server.url}/portal/v1/accounts`, { headers: { authorization: `Bearer ${root}` } }).then((r) => r.json() as Promise<{ items: { name: string }[] }>)
    expect(accounts.items.map((a) => a.name).sort()).toEqual(['byo-0', 'byo-1'])
    // The editor of the first workspace sees no document and no note left over from the audit.
    const editor = (await call('POST', '/auth/token', undefined, { grant_type: 'password', username: env.BYO_U1_EMAIL, password: env.BYO_U1_PASSWORD })).access_token
    const me = (await fetch(`${server.url}/portal/v1/accounts`, { headers: { authorization: `Bearer ${editor}` } }))
    expect(me.status).toBe(403)
    const claims = JSON.parse(Buffer.from(editor!.split('.')[1]!, 'base64url').toString()) as { workspace_id: string }
    for (const resource of ['documents', 'notes']) {
      const list = await fetch(`${server.url}/app/v1/workspaces/${claims.workspace_id}/${resource}`, { headers: { authorization: `Bearer ${editor}` } }).then((r) => r.json() as Promise<{ items: unknown[] }>)
      expect(list.items, resource).toEqual([])
    }
  })
})
