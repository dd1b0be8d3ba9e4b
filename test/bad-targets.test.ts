import { createServer, type Server } from 'node:http'
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CLI_TIMEOUT, runCli, tempOut } from './cli.js'

const dir = mkdtempSync(join(tmpdir(), 'ta-profiles-'))
function profile(name: string, body: string): string {
  const file = join(dir, `${name}.yaml`)
  writeFileSync(file, body)
  return file
}

/** A stand-in target that answers every request the same way. */
function stubServer(status: number, type: string, body: string): Promise<Server> {
  const server = createServer((_req, res) => res.writeHead(status, { 'content-type': type }).end(body))
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)))
}
const urlOf = (s: Server) => `http://127.0.0.1:${(s.address() as AddressInfo).port}`
const creds = { BOOTSTRAP_PRINCIPAL_EMAIL: 'auditor@example.com', BOOTSTRAP_PRINCIPAL_PASSWORD: 'not-a-real-password' }

/** Exit 2, exactly one line on stderr that says what is wrong, and never a report that could read "clean". */
async function expectHarnessError(args: string[], pattern: RegExp, env: Record<string, string> = creds) {
  const out = tempOut('bad')
  const res = await runCli([...args, '--out', out], env)
  const lines = res.stderr.split('\n').map((l) => l.trim()).filter(Boolean)
  expect(res.code, res.stderr).toBe(2)
  expect(lines, res.stderr).toHaveLength(1)
  expect(lines[0]).toMatch(pattern)
  expect(existsSync(join(out, 'findings.json'))).toBe(false)
}

describe('bad targets and bad input make the CLI exit 2 with one clear line', { timeout: CLI_TIMEOUT }, () => {
  let failing: Server
  let html: Server
  beforeAll(async () => {
    failing = await stubServer(500, 'application/json', '{"error":"boom"}')
    html = await stubServer(200, 'text/html', '<!doctype html><html><body>Login</body></html>')
  })
  afterAll(() => {
    failing.close()
    html.close()
  })

  it('an unreachable target', () =>
    expectHarnessError(['run', '--target', profile('unreachable', 'name: gone\nbaseUrl: http://127.0.0.1:1\n')], /cannot reach http:\/\/127\.0\.0\.1:1/))

  it('a target that answers 500 to everything', () =>
    expectHarnessError(['run', '--target', profile('failing', `name: failing\nbaseUrl: ${urlOf(failing)}\n`)], /answered 500/))

  it('a target that answers HTML', () =>
    expectHarnessError(['run', '--target', profile('html', `name: html\nbaseUrl: ${urlOf(html)}\n`)], /answered HTML, not an OpenAPI document/))

  it('a profile with a typo', () =>
    expectHarnessError(['run', '--target', profile('typo', 'name: typo\nbaseUrl: http://127.0.0.1:1\nbudgt:\n  maxRequests: 10\n')], /Unrecognized key: "budgt"/))

  it('a profile with a password written inline', () =>
    expectHarnessError(['run', '--target', profile('inline', 'name: x\nbaseUrl: http://127.0.0.1:1\nauth:\n  bootstrap:\n    passwordEnv: hunter2hunter2\n')], /environment variable NAME/))

  it('a missing profile file', () => expectHarnessError(['run', '--target', join(dir, 'nope.yaml')], /cannot read target profile/))

  it('an unknown seeded fault', () => expectHarnessError(['run', '--faults', 'no-such-fault'], /unknown fault: no-such-fault/))

  it('a bad --fail-on', () => expectHarnessError(['run', '--fail-on', 'severe'], /--fail-on takes one of/))

  it('--dry-run prints the plan and sends nothing', async () => {
    const res = await runCli(['run', '--target', profile('dry', 'name: dry\nbaseUrl: http://127.0.0.1:1\n'), '--dry-run', '--seed', '5'])
    expect(res.code, res.stderr).toBe(0)
    expect(res.stdout).toMatch(/dry run: nothing was sent/)
    expect(res.stdout).toMatch(/access\/policy-matrix/)
  })
})
